"""body_pose_node end to end over real DDS in one process.

Plumbing (cloud layout, colour encodings, depth pairing and scaling, colour-only mode, markers,
debug image, diagnostics, parameters) uses a stand-in ONNX model whose people are known exactly;
the node's output must equal the core BodyEstimator's on the same frame (the node adds nothing
and loses nothing). Accuracy against synthetic ground truth uses the shipped model.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from diagnostic_msgs.msg import DiagnosticStatus
from rclpy.parameter import Parameter
from visualization_msgs.msg import Marker

from hand_pose_ros.core.body_estimator import BodyEstimator
from hand_pose_ros.core.model_runtime import OnnxModel
from hand_pose_ros.core.skeletons import COCO_KEYPOINT_NAMES, COCO_SKELETON_EDGES
from hand_pose_ros.nodes.body_pose_node import peak_search_details, shipped_model_path
from hand_pose_ros.nodes.body_pose_parameters import PARAMETER_SPECS
from hand_pose_ros.ros.image_conversions import (
    color_image_to_rgb,
    depth_image_to_metres,
    metres_to_depth_image,
)
from hand_pose_ros.runner.harness import RgbdHarness
from tests.nodes import body_frames as bf
from tests.nodes import node_checks

WAIT_S = 5.0
MARKER_LIFETIME_S = 0.25
_next_index = node_checks.frame_indices()


@pytest.fixture(scope="module")
def harness(ros_context, body_stand_in_model: Path) -> Iterator[RgbdHarness]:
    model = body_stand_in_model
    with node_checks.observed_harness(RgbdHarness, model, ros_context, MARKER_LIFETIME_S) as h:
        yield h


@pytest.fixture(scope="module")
def core_estimator(body_stand_in_model: Path) -> BodyEstimator:
    return BodyEstimator(OnnxModel(body_stand_in_model))


def _run(harness: RgbdHarness, color, depth=None, info=None):
    return node_checks.keypoints_for(harness, color, depth, info, wait_s=WAIT_S)


def _by_instance(cloud, field: str) -> np.ndarray:
    values = getattr(cloud, field)
    people = int(cloud.instance.max()) + 1 if len(cloud) else 0
    return values.reshape(people, bf.JOINTS, *values.shape[1:])


# ---------------------------------------------------------------------------- keypoints
@pytest.mark.parametrize("encoding", ["rgb8", "bgr8", "rgba8", "bgra8", "mono8"])
def test_cloud_equals_the_core_estimate(
    harness: RgbdHarness, core_estimator: BodyEstimator, encoding: str
) -> None:
    color, depth, info = bf.rgbd_frame(_next_index(), encoding)
    cloud = _run(harness, color, depth, info).cloud
    assert len(cloud) == bf.PEOPLE * bf.JOINTS  # every person publishes all keypoints
    np.testing.assert_array_equal(cloud.instance, np.repeat(np.arange(bf.PEOPLE), bf.JOINTS))
    np.testing.assert_array_equal(cloud.keypoint, np.tile(np.arange(bf.JOINTS), bf.PEOPLE))
    expected = core_estimator.estimate(
        color_image_to_rgb(color), depth_image_to_metres(depth), bf.intrinsics()
    )
    np.testing.assert_allclose(_by_instance(cloud, "uv_px"), expected.uv_px, atol=1e-3)
    np.testing.assert_allclose(_by_instance(cloud, "score"), expected.score, atol=1e-5)
    np.testing.assert_allclose(
        _by_instance(cloud, "depth_m"), expected.depth_m, atol=1e-5, equal_nan=True
    )
    np.testing.assert_allclose(
        _by_instance(cloud, "xyz_m"), expected.xyz_m, atol=1e-5, equal_nan=True
    )
    # Sanity against the scene: people about 2 m away, back-projected with the intrinsics.
    finite = np.isfinite(cloud.depth_m)
    assert finite.mean() > 0.9
    assert np.all((cloud.depth_m[finite] > 1.9) & (cloud.depth_m[finite] < 2.3))
    np.testing.assert_allclose(
        cloud.xyz_m[finite],
        bf.intrinsics().back_project(cloud.uv_px[finite], cloud.xyz_m[finite, 2]),
        atol=1e-4,
    )


def test_people_are_where_the_model_put_them(harness: RgbdHarness) -> None:
    """Network pixels -> source pixels: 320x240 is the 256x192 input scaled by 1.25."""
    cloud = _run(harness, *bf.rgbd_frame(_next_index())).cloud
    uv = _by_instance(cloud, "uv_px")
    expected = (bf.stand_in_people_network_px() + 0.5) * (bf.WIDTH / bf.INPUT_WIDTH) - 0.5
    order = np.argsort(uv[:, 0, 0])  # detection order is by score, not position
    np.testing.assert_allclose(uv[order], expected, atol=0.6)


def test_header_is_copied_from_the_colour_image(harness: RgbdHarness) -> None:
    color, depth, info = bf.rgbd_frame(_next_index())
    result = _run(harness, color, depth, info)
    assert result.frame_id == bf.FRAME_ID


def test_depth_of_another_resolution_with_the_same_aspect_is_scaled(
    harness: RgbdHarness, core_estimator: BodyEstimator
) -> None:
    small = bf.plane_depth_m(bf.WIDTH // 2, bf.HEIGHT // 2)
    color, depth, info = bf.rgbd_frame(_next_index(), depth_m=small)
    cloud = _run(harness, color, depth, info).cloud
    expected = core_estimator.estimate(
        color_image_to_rgb(color), depth_image_to_metres(depth), bf.intrinsics()
    )
    np.testing.assert_allclose(
        _by_instance(cloud, "xyz_m"), expected.xyz_m, atol=1e-5, equal_nan=True
    )
    assert np.isfinite(cloud.xyz_m).all(axis=1).mean() > 0.9


def test_32fc1_depth_and_small_stamp_offsets_pair(harness: RgbdHarness) -> None:
    color, depth, info = bf.rgbd_frame(_next_index(), depth_encoding="32FC1", depth_offset_s=0.01)
    cloud = _run(harness, color, depth, info).cloud
    assert np.isfinite(cloud.xyz_m).all(axis=1).mean() > 0.9


def test_colour_only_mode_needs_no_depth_and_no_camera_info(
    ros_context, body_stand_in_model: Path
) -> None:
    parameters = {"model": str(body_stand_in_model), "use_depth": False}
    with RgbdHarness(parameters, context=ros_context) as colour_only:
        assert colour_only.node._depth_sub is None
        assert colour_only.wait_for_connections()
        color, _, _ = bf.rgbd_frame(_next_index())
        cloud = _run(colour_only, color).cloud
        assert len(cloud) == bf.PEOPLE * bf.JOINTS
        assert np.isnan(cloud.xyz_m).all() and np.isnan(cloud.depth_m).all()
        assert np.isfinite(cloud.uv_px).all()


# ---------------------------------------------------------------------------- markers
def test_markers_per_person_then_deleteall_when_a_person_vanishes(harness: RgbdHarness) -> None:
    color, depth, info = bf.rgbd_frame(_next_index())
    cloud = _run(harness, color, depth, info).cloud
    markers = node_checks.markers_for(harness, color, WAIT_S)
    assert {(m.ns, m.type) for m in markers if m.action == Marker.ADD} == {
        ("people/0", Marker.LINE_LIST),
        ("people/0", Marker.SPHERE_LIST),
        ("people/1", Marker.LINE_LIST),
        ("people/1", Marker.SPHERE_LIST),
    }
    for marker in markers:
        assert marker.header.frame_id == bf.FRAME_ID
        lifetime_s = marker.lifetime.sec + marker.lifetime.nanosec * 1e-9
        assert lifetime_s == pytest.approx(MARKER_LIFETIME_S)
        if marker.type == Marker.SPHERE_LIST:
            person = int(marker.ns.split("/")[1])
            xyz = _by_instance(cloud, "xyz_m")[person]
            xyz = xyz[np.isfinite(xyz).all(axis=1)]
            points = np.array([[p.x, p.y, p.z] for p in marker.points])
            np.testing.assert_allclose(points, xyz, atol=1e-6)

    node = harness.node
    assert node.set_parameters([Parameter("max_people", value=1)])[0].successful
    try:
        color, depth, info = bf.rgbd_frame(_next_index())
        assert len(_run(harness, color, depth, info).cloud) == bf.JOINTS
        markers = node_checks.markers_for(harness, color, WAIT_S)
        assert ("people/1", Marker.DELETEALL) in {(m.ns, m.action) for m in markers}
        assert ("people/0", Marker.DELETEALL) not in {(m.ns, m.action) for m in markers}
    finally:
        assert node.set_parameters([Parameter("max_people", value=0)])[0].successful
    assert len(_run(harness, *bf.rgbd_frame(_next_index())).cloud) == bf.PEOPLE * bf.JOINTS


# ---------------------------------------------------------------------------- debug image
def test_debug_image_shows_skeletons_over_the_colour_image(harness: RgbdHarness) -> None:
    color, depth, info = bf.rgbd_frame(_next_index())
    cloud = _run(harness, color, depth, info).cloud
    size = (bf.WIDTH, bf.HEIGHT)
    picture = node_checks.debug_picture_for(harness, color, size, bf.FRAME_ID, WAIT_S)
    node_checks.assert_joints_drawn(picture, cloud, instances=bf.PEOPLE)
    # Away from the skeletons the picture is the colour image itself.
    np.testing.assert_array_equal(picture[-5:, -5:], bf.color_rgb()[-5:, -5:])


def test_debug_image_is_not_built_without_subscribers(
    ros_context, body_stand_in_model: Path
) -> None:
    with RgbdHarness({"model": str(body_stand_in_model)}, context=ros_context) as quiet:
        assert quiet.wait_for_connections()
        built = []
        quiet.node.debug_image_pub.publish = built.append  # would be called if built
        _run(quiet, *bf.rgbd_frame(_next_index()))
        assert built == []


# ---------------------------------------------------------------------------- diagnostics
def test_diagnostics_report_rate_latency_and_model(harness: RgbdHarness) -> None:
    for _ in range(3):
        _run(harness, *bf.rgbd_frame(_next_index()))
    status, values = node_checks.latest_diagnostics(harness, WAIT_S)
    assert status.name == f"{harness.node.get_fully_qualified_name()}: body pose"
    assert status.hardware_id == "test_body_model"
    assert values["model"] == "test_body_model"
    assert int(values["frames_processed"]) >= 3
    assert 0 < float(values["processing_latency_p50_ms"]) < 2000
    assert values["people_last_frame"] == "2"
    for key in ("input_rate_hz", "frames_dropped_unsynchronised", "frames_dropped_no_depth"):
        assert key in values
    if int(values["frames_dropped"]) == 0:
        assert status.level == DiagnosticStatus.OK


# ---------------------------------------------------------------------------- parameters
def test_parameters_have_descriptions_and_model_layout_is_read_only(
    harness: RgbdHarness,
) -> None:
    node_checks.assert_model_layout_parameters(
        harness.node,
        PARAMETER_SPECS,
        COCO_KEYPOINT_NAMES,
        COCO_SKELETON_EDGES,
        read_only=(("keypoint_names", ["x"]), ("skeleton", [0, 1]), ("model", "/x.onnx")),
    )


# ---------------------------------------------------------------------------- accuracy
@pytest.mark.skipif(
    not shipped_model_path().exists(),
    reason=f"no shipped body model yet at {shipped_model_path()} (training has not exported it)",
)
def test_shipped_model_through_the_node_matches_core_and_finds_people(ros_context) -> None:
    _check_model_against_ground_truth(ros_context, shipped_model_path(), frames=8)


def _check_model_against_ground_truth(ros_context, model_path: Path, frames: int) -> dict:
    """On synthetic RGB-D frames with ground truth: the node's clouds equal the core
    estimator's, and the people found are where the ground truth says (OKS-matched)."""
    from hand_pose_ros.ros.camera_info import intrinsics_to_camera_info
    from hand_pose_ros.ros.image_conversions import numpy_to_image
    from hand_pose_ros.runner.robot import predicted_people
    from hand_pose_ros.runner.robot_metrics import PeopleMetrics
    from hand_pose_ros.synthetic.people import render_people_frame

    estimator = BodyEstimator(OnnxModel(model_path))
    metrics = PeopleMetrics()
    parameters = {"model": "" if model_path == shipped_model_path() else str(model_path)}
    with RgbdHarness(parameters, context=ros_context) as running:
        assert running.node.estimator is not None, running.node.model_error
        assert running.wait_for_connections()
        for seed in range(900_000, 900_000 + frames):
            truth = render_people_frame(seed, 640, 480)
            stamp_header = bf.header(_next_index())
            color = numpy_to_image(truth.color, "rgb8", stamp_header)
            depth_m = np.where(truth.depth_mm > 0, truth.depth_mm / 1000.0, np.nan)
            depth = metres_to_depth_image(depth_m, "16UC1", stamp_header)
            info = intrinsics_to_camera_info(truth.intrinsics, stamp_header)
            result = _run(running, color, depth, info)
            expected = estimator.estimate(
                truth.color, depth_image_to_metres(depth), truth.intrinsics
            )
            uv, xyz, score, _ = predicted_people(result, bf.JOINTS)
            np.testing.assert_allclose(uv, expected.uv_px, atol=1e-3)
            metrics.add(uv, xyz, score.mean(axis=1) if len(score) else np.zeros(0), truth)
    summary = metrics.summary()
    assert summary["truth_people"] >= frames
    if model_path == shipped_model_path():
        # Floors at or just under what the shipped model measures on these 8 fixed frames
        # (mean OKS 0.461, recall 0.50, median 3D error 48 mm): a regression anywhere between
        # the image message and the published cloud shows here. Retraining moves them.
        assert summary["mean_oks"] >= 0.44, summary
        assert summary["recall@oks0.5"] >= 0.5, summary
        assert summary["median_3d_error_mm_1_4m"] <= 60.0, summary
    return summary


def test_end_to_end_against_synthetic_ground_truth(ros_context, tmp_path: Path) -> None:
    """A rendered RGB-D frame and a model that outputs exactly its people (heatmaps and tags
    drawn from the ground truth in network pixels): whatever the node gets wrong on the way
    (letterbox mapping, pixel convention, depth pairing, intrinsics, lifting) shows up as
    OKS below 1 or 3D error against the ground-truth joint centres. Peaks are searched on the
    fine grid, where this frame's overlapping people keep every joint apart (on the default
    coarse grid two of them share a peak: test_body_decoder covers that trade)."""
    from hand_pose_ros.core.letterbox import Letterbox
    from hand_pose_ros.ros.camera_info import intrinsics_to_camera_info
    from hand_pose_ros.ros.image_conversions import numpy_to_image
    from hand_pose_ros.runner.robot import predicted_people
    from hand_pose_ros.runner.robot_metrics import PeopleMetrics
    from hand_pose_ros.synthetic.people import render_people_frame
    from tests.core.body_stand_in import body_metadata, build_body_model, render_body_outputs

    truth = render_people_frame(3, 640, 480)  # six people, 1.5-3.1 m away, some occluded
    labelled = truth.visibility > 0
    letterbox = Letterbox.fit(480, 640, bf.INPUT_HEIGHT, bf.INPUT_WIDTH)
    outputs = render_body_outputs(
        letterbox.to_network(truth.keypoints_uv), np.arange(len(labelled)) * 2.0, labelled
    )
    model = build_body_model(tmp_path / "truth.onnx", body_metadata(), outputs)
    parameters = {"model": str(model), "peak_search": "fine"}
    with RgbdHarness(parameters, context=ros_context) as running:
        assert running.wait_for_connections()
        stamp_header = bf.header(_next_index())
        color = numpy_to_image(truth.color, "rgb8", stamp_header)
        depth = numpy_to_image(truth.depth_mm, "16UC1", stamp_header)
        info = intrinsics_to_camera_info(truth.intrinsics, stamp_header)
        result = _run(running, color, depth, info)
    uv, xyz, score, _ = predicted_people(result, bf.JOINTS)
    assert len(uv) == len(labelled)
    metrics = PeopleMetrics()
    metrics.add(uv, xyz, score.mean(axis=1), truth)
    summary = metrics.summary()
    assert summary["recall@oks0.5"] == 1.0, summary
    assert summary["mean_oks"] > 0.99, summary  # measured 0.9999
    assert summary["oks_ap"] > 0.99, summary
    assert summary["depth_coverage_1_4m"] > 0.9, summary  # measured 1.0
    # Surface depth + the model's fixed 5 cm offset vs joint centres: measured median 32 mm.
    assert summary["median_3d_error_mm_1_4m"] < 60.0, summary


@pytest.mark.skipif(not shipped_model_path().exists(), reason="no shipped body model")
def test_ready_line_says_where_peaks_are_searched() -> None:
    model = OnnxModel(shipped_model_path())
    assert peak_search_details(BodyEstimator(model)) == (
        ", peak search 'fused' in the model's graph"
    )
    for estimator in (
        BodyEstimator(model, flip_test=True),  # averaged maps: the graph's peaks do not apply
        BodyEstimator(model, peak_search="coarse"),
    ):
        assert peak_search_details(estimator).endswith("in numpy")
