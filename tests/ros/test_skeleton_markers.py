"""Skeleton MarkerArray: ids, types, colours, lifetime, and what is left out for missing depth."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rclpy.serialization import deserialize_message, serialize_message
from std_msgs.msg import Header
from visualization_msgs.msg import Marker, MarkerArray

from hand_pose_ros.core.skeletons import HAND_KEYPOINT_NAMES, HAND_SKELETON_EDGES
from hand_pose_ros.ros import (
    delete_all_markers,
    delete_instance_markers,
    marker_ids,
    skeleton_markers,
)

KEYPOINT_COUNT = len(HAND_KEYPOINT_NAMES)
EDGES = [tuple(edge) for edge in HAND_SKELETON_EDGES]


def header() -> Header:
    result = Header(frame_id="depth_optical")
    result.stamp.sec, result.stamp.nanosec = 42, 7
    return result


def hand_xyz(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.column_stack(
        [rng.uniform(-0.1, 0.1, (KEYPOINT_COUNT, 2)), rng.uniform(0.2, 0.6, KEYPOINT_COUNT)]
    )


def points_array(marker: Marker) -> np.ndarray:
    return np.array([[p.x, p.y, p.z] for p in marker.points]).reshape(-1, 3)


def test_one_line_list_and_one_sphere_list_per_instance():
    left, right = hand_xyz(0), hand_xyz(1)
    array = skeleton_markers(header(), [(0, left), (1, right)], EDGES, "hands", 0.2)
    assert [(m.id, m.type, m.action) for m in array.markers] == [
        (0, Marker.LINE_LIST, Marker.ADD),
        (1, Marker.SPHERE_LIST, Marker.ADD),
        (2, Marker.LINE_LIST, Marker.ADD),
        (3, Marker.SPHERE_LIST, Marker.ADD),
    ]
    bones, joints = array.markers[2], array.markers[3]
    np.testing.assert_allclose(points_array(bones), right[np.array(EDGES).reshape(-1)])
    np.testing.assert_allclose(points_array(joints), right)
    for marker in array.markers:
        assert marker.ns == "hands"
        assert marker.header.frame_id == "depth_optical"
        assert (marker.header.stamp.sec, marker.header.stamp.nanosec) == (42, 7)
        assert (marker.lifetime.sec, marker.lifetime.nanosec) == (0, 200_000_000)
        assert marker.pose.orientation.w == 1.0
        colour = np.array([marker.color.r, marker.color.g, marker.color.b])
        assert np.all((colour >= 0) & (colour <= 1)) and marker.color.a == 1.0
    assert bones.scale.x == pytest.approx(0.006)
    assert (joints.scale.x, joints.scale.y, joints.scale.z) == (0.012, 0.012, 0.012)
    left_colour = array.markers[0].color
    assert (left_colour.r, left_colour.g, left_colour.b) != (
        bones.color.r,
        bones.color.g,
        bones.color.b,
    )


def test_custom_sizes_and_long_lifetime():
    array = skeleton_markers(
        header(),
        [(5, hand_xyz(2))],
        EDGES,
        "people",
        1.75,
        joint_diameter_m=0.05,
        bone_width_m=0.02,
    )
    bones, joints = array.markers
    assert (bones.id, joints.id) == marker_ids(5) == (10, 11)
    assert bones.scale.x == 0.02 and joints.scale.z == 0.05
    assert (bones.lifetime.sec, bones.lifetime.nanosec) == (1, 750_000_000)


def test_missing_depth_leaves_joints_and_their_bones_out():
    xyz = hand_xyz(3)
    xyz[4] = np.nan  # thumb tip
    xyz[9, 2] = np.inf  # one non-finite coordinate is enough
    bones, joints = skeleton_markers(header(), [(1, xyz)], EDGES, "hands", 0.2).markers
    finite = np.ones(KEYPOINT_COUNT, bool)
    finite[[4, 9]] = False
    kept_edges = [e for e in EDGES if finite[e[0]] and finite[e[1]]]
    assert len(kept_edges) < len(EDGES)
    np.testing.assert_allclose(points_array(bones), xyz[np.array(kept_edges).reshape(-1)])
    np.testing.assert_allclose(points_array(joints), xyz[finite])


def test_instance_without_any_depth_deletes_its_markers():
    xyz = np.full((KEYPOINT_COUNT, 3), np.nan)
    array = skeleton_markers(header(), [(1, xyz)], EDGES, "hands", 0.2)
    assert [(m.id, m.action, len(m.points)) for m in array.markers] == [
        (2, Marker.DELETE, 0),
        (3, Marker.DELETE, 0),
    ]


@settings(max_examples=40, deadline=None)
@given(
    instance_id=st.integers(0, 10_000),
    finite_mask=st.lists(st.booleans(), min_size=KEYPOINT_COUNT, max_size=KEYPOINT_COUNT),
)
def test_markers_never_contain_non_finite_points(instance_id, finite_mask):
    xyz = hand_xyz(instance_id)
    xyz[~np.array(finite_mask)] = np.nan
    array = skeleton_markers(header(), [(instance_id, xyz)], EDGES, "hands", 0.1)
    bones, joints = array.markers
    assert (bones.id, joints.id) == (2 * instance_id, 2 * instance_id + 1)
    for marker in array.markers:
        assert np.isfinite(points_array(marker)).all()
        assert marker.action == (Marker.ADD if marker.points else Marker.DELETE)
    assert len(bones.points) % 2 == 0
    assert len(joints.points) == sum(finite_mask)
    again = skeleton_markers(header(), [(instance_id, xyz)], EDGES, "hands", 0.1)
    assert again == array  # deterministic, colours included
    deserialize_message(serialize_message(array), MarkerArray)


def test_delete_helpers():
    (marker,) = delete_all_markers(header(), "hands").markers
    assert marker.action == Marker.DELETEALL and marker.ns == "hands"
    assert marker.header.frame_id == "depth_optical"
    deleted = delete_instance_markers(header(), "people", [3, 0])
    assert [(m.id, m.action, m.ns) for m in deleted.markers] == [
        (6, Marker.DELETE, "people"),
        (7, Marker.DELETE, "people"),
        (0, Marker.DELETE, "people"),
        (1, Marker.DELETE, "people"),
    ]


def test_header_is_copied():
    source = header()
    array = skeleton_markers(source, [(0, hand_xyz(4))], EDGES, "hands", 0.2)
    source.frame_id = "changed"
    assert array.markers[0].header.frame_id == "depth_optical"


@pytest.mark.parametrize(
    ("instances", "edges", "lifetime_s"),
    [
        ([(0, np.zeros((21, 2)))], EDGES, 0.2),  # not (K, 3)
        ([(0, hand_xyz(0))], [(0, 21)], 0.2),  # edge beyond the keypoints
        ([(0, hand_xyz(0))], [(-1, 2)], 0.2),
        ([(-1, hand_xyz(0))], EDGES, 0.2),  # ids must map to valid int32 marker ids
        ([(2**30, hand_xyz(0))], EDGES, 0.2),
        ([(0, hand_xyz(0))], EDGES, -0.1),
        ([(0, hand_xyz(0))], EDGES, float("nan")),
    ],
)
def test_invalid_input_is_rejected(instances, edges, lifetime_s):
    with pytest.raises(ValueError):
        skeleton_markers(header(), instances, edges, "hands", lifetime_s)
