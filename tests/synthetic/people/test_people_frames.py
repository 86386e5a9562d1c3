"""render_people_frame: determinism, shapes, exact labels, left/right, scene statistics."""

from __future__ import annotations

from functools import cache

import numpy as np

from hand_pose_ros.core.skeletons import COCO_KEYPOINT_NAMES
from hand_pose_ros.synthetic.people import PeopleFrame, default_intrinsics, render_people_frame
from hand_pose_ros.synthetic.people.frames import render_scene
from hand_pose_ros.synthetic.people.labels import nearest_pixel
from hand_pose_ros.synthetic.people.poses import POSE_KINDS
from hand_pose_ros.synthetic.people.scene import (
    CHECKS,
    NOISE,
    PLAIN,
    STRIPES,
    PeopleScene,
    make_person,
    sample_camera,
    sample_lighting,
    sample_room,
    sample_scene,
)

SEEDS = range(24)
KP = {name: i for i, name in enumerate(COCO_KEYPOINT_NAMES)}
FIELDS = (
    "color",
    "depth_mm",
    "keypoints_uv",
    "keypoints_xyz",
    "visibility",
    "instance_map",
    "boxes_xywh",
    "areas_px",
    "track_ids",
)


@cache
def frames() -> tuple[PeopleFrame, ...]:
    return tuple(render_people_frame(seed, 160, 120, depth_artefacts=False) for seed in SEEDS)


def test_same_seed_gives_bit_identical_frames() -> None:
    a, b = render_people_frame(42, 96, 72), render_people_frame(42, 96, 72)
    for name in FIELDS:
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype == y.dtype and x.shape == y.shape, name
        assert x.tobytes() == y.tobytes(), name
    assert a.intrinsics == b.intrinsics
    assert not np.array_equal(render_people_frame(43, 96, 72).color, a.color)


def test_shapes_dtypes_and_intrinsics() -> None:
    frame = render_people_frame(5, 128, 96)
    p = frame.keypoints_uv.shape[0]
    assert p >= 1
    assert frame.intrinsics == default_intrinsics(128, 96)
    assert abs(np.rad2deg(2 * np.arctan(64 / frame.intrinsics.fx)) - 69.0) < 1e-6
    assert frame.color.shape == (96, 128, 3) and frame.color.dtype == np.uint8
    assert frame.depth_mm.shape == (96, 128) and frame.depth_mm.dtype == np.uint16
    assert frame.instance_map.shape == (96, 128) and frame.instance_map.dtype == np.int16
    assert frame.keypoints_uv.shape == (p, 17, 2) and frame.keypoints_uv.dtype == np.float64
    assert frame.keypoints_xyz.shape == (p, 17, 3) and frame.keypoints_xyz.dtype == np.float64
    assert frame.visibility.shape == (p, 17) and frame.visibility.dtype == np.uint8
    assert frame.boxes_xywh.shape == (p, 4) and frame.areas_px.shape == (p,)
    np.testing.assert_array_equal(frame.track_ids, np.arange(p))
    assert set(np.unique(frame.visibility)) <= {0, 1, 2}
    assert (frame.depth_mm == 0).any() and (frame.depth_mm > 0).mean() > 0.8


def test_keypoints_project_to_their_pixels() -> None:
    for frame in frames():
        uv = frame.intrinsics.project(frame.keypoints_xyz)
        labelled = frame.visibility > 0
        np.testing.assert_allclose(frame.keypoints_uv[labelled], uv[labelled], atol=1e-9)


def test_visible_keypoints_lie_on_their_person_at_their_depth() -> None:
    checked = 0
    for frame in frames():
        h, w = frame.instance_map.shape
        depth_m = frame.depth_mm / 1000.0
        for p in range(frame.keypoints_uv.shape[0]):
            pix = nearest_pixel(frame.keypoints_uv[p])
            for k in np.flatnonzero(frame.visibility[p] == 2):
                u, v = pix[k]
                assert 0 <= u < w and 0 <= v < h
                assert frame.instance_map[v, u] == p
                # The surface seen is at most a body-part radius in front of the joint.
                in_front = frame.keypoints_xyz[p, k, 2] - depth_m[v, u]
                assert -0.06 <= in_front <= 0.35, (k, in_front)
                checked += 1
            outside = frame.visibility[p] == 0
            inside = (
                (pix[:, 0] >= 0)
                & (pix[:, 0] < w)
                & (pix[:, 1] >= 0)
                & (pix[:, 1] < h)
                & (frame.keypoints_xyz[p, :, 2] > 0)
            )
            np.testing.assert_array_equal(outside, ~inside)
    assert checked > 500


def test_instance_map_boxes_and_areas_agree() -> None:
    for frame in frames():
        p = frame.keypoints_uv.shape[0]
        assert frame.instance_map.min() >= -1 and frame.instance_map.max() == p - 1
        for i in range(p):
            v, u = np.nonzero(frame.instance_map == i)
            assert frame.areas_px[i] == u.size > 0
            np.testing.assert_allclose(
                frame.boxes_xywh[i], [u.min() - 0.5, v.min() - 0.5, np.ptp(u) + 1, np.ptp(v) + 1]
            )


def _single_person_frame(yaw: float, seed: int = 3) -> PeopleFrame:
    """One standing person 3 m in front of the camera with the given yaw."""
    rng = np.random.default_rng(seed)
    camera, room = sample_camera(rng), sample_room(rng)
    person = make_person(rng, np.array([3.0, 0.0]), yaw, kind="standing")
    scene = PeopleScene(camera, room, [], sample_lighting(rng, room), [person])
    return render_scene(scene, default_intrinsics(320, 240), rng, depth_artefacts=False)


def test_person_facing_the_camera_has_their_left_on_the_image_right() -> None:
    for seed in range(4):
        frame = _single_person_frame(np.pi, seed)  # facing -x: towards the camera
        uv, vis = frame.keypoints_uv[0], frame.visibility[0]
        for name in ("shoulder", "hip", "eye", "ear"):
            assert uv[KP[f"left_{name}"], 0] > uv[KP[f"right_{name}"], 0], name
        for name in (
            "nose",
            "left_eye",
            "right_eye",
            "left_shoulder",
            "right_shoulder",
            "left_hip",
            "right_hip",
        ):
            assert vis[KP[name]] == 2, name


def test_person_facing_away_hides_the_face_and_mirrors_left_right() -> None:
    frame = _single_person_frame(0.0)  # facing +x: away from the camera
    uv, vis = frame.keypoints_uv[0], frame.visibility[0]
    assert uv[KP["left_shoulder"], 0] < uv[KP["right_shoulder"], 0]
    assert (vis[:3] == 1).all()  # nose and eyes are on the far side of the head
    assert vis[KP["left_shoulder"]] == 2 and vis[KP["right_hip"]] == 2


def test_people_counts_distances_and_occlusion() -> None:
    counts = np.array(
        [render_people_frame(seed, 96, 72).keypoints_uv.shape[0] for seed in range(100, 160)]
    )
    assert (counts == 1).sum() >= 6
    assert ((counts >= 2) & (counts <= 4)).sum() >= 6
    assert (counts >= 5).sum() >= 6
    assert counts.max() <= 10
    occluded = total = 0
    for frame in frames():
        labelled = frame.visibility > 0
        occluded += (frame.visibility == 1).sum()
        total += labelled.sum()
        hips = frame.keypoints_xyz[:, 11:13, 2].mean(axis=1)
        assert ((hips > 0.5) & (hips < 7.5)).all()
    assert 0.05 < occluded / total < 0.6


def test_scene_is_resolution_independent() -> None:
    small, large = render_people_frame(9, 128, 96), render_people_frame(9, 256, 192)
    if small.keypoints_xyz.shape == large.keypoints_xyz.shape:
        np.testing.assert_allclose(small.keypoints_xyz, large.keypoints_xyz)
        np.testing.assert_allclose(small.keypoints_uv * 2 + 0.5, large.keypoints_uv, atol=1e-6)


def test_scenes_vary_bodies_poses_cameras_and_clothing() -> None:
    heights, kinds, cameras, patterns = [], set(), [], set()
    for seed in range(60):
        scene = sample_scene(np.random.default_rng(seed))
        cameras.append(scene.camera.position[2])
        for person in scene.people:
            heights.append(person.shape.height_m)
            kinds.add(person.kind)
            patterns.update(m.pattern for m in person.clothing.part_materials)
    assert min(heights) < 1.4 and max(heights) > 1.8  # children and tall adults
    assert kinds == set(POSE_KINDS)
    assert min(cameras) < 0.7 and max(cameras) > 1.5
    assert patterns == {PLAIN, STRIPES, CHECKS, NOISE}
