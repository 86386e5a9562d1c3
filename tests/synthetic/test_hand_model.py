"""Hand model: anatomy, joint limits, keyposes and left = mirror image of right."""

from __future__ import annotations

import numpy as np
import pytest

from hand_pose_ros.core.skeletons import HAND_KEYPOINT_NAMES, HAND_KEYPOSES
from hand_pose_ros.synthetic import default_intrinsics
from hand_pose_ros.synthetic import hand_kinematics as hk
from hand_pose_ros.synthetic.frames import render_scene
from hand_pose_ros.synthetic.scene import Background, Scene, place_hand

NAME = {name: i for i, name in enumerate(HAND_KEYPOINT_NAMES)}


def _bone(keypoints: np.ndarray, a: str, b: str) -> float:
    return float(np.linalg.norm(keypoints[NAME[a]] - keypoints[NAME[b]]))


@pytest.mark.parametrize("seed", range(5))
def test_bone_lengths_are_adult_sized(seed: int) -> None:
    rng = np.random.default_rng(seed)
    shape = hk.sample_hand_shape(rng)
    assert 0.85 <= shape.scale <= 1.15
    k = hk.forward_kinematics(shape, hk.sample_pose(int(rng.integers(5)), rng))
    s = shape.scale
    for finger in ("index", "middle", "ring", "little"):
        assert 0.06 * s < _bone(k, "wrist", f"{finger}_mcp") < 0.1 * s
        assert 0.028 * s < _bone(k, f"{finger}_mcp", f"{finger}_pip") < 0.05 * s
        assert 0.015 * s < _bone(k, f"{finger}_pip", f"{finger}_dip") < 0.032 * s
        assert 0.012 * s < _bone(k, f"{finger}_dip", f"{finger}_tip") < 0.022 * s
    assert 0.035 * s < _bone(k, "thumb_cmc", "thumb_mcp") < 0.05 * s
    # Palm: about 80 mm across the knuckles (centres plus finger radii), 85 mm long.
    knuckles = _bone(k, "index_mcp", "little_mcp") + 0.0185 * s
    assert 0.06 * s < knuckles < 0.085 * s


def test_fingertip_keypoint_is_one_radius_inside_the_tip() -> None:
    shape = hk.nominal_hand_shape()
    radii = shape.segment_radii_m[:, 2]
    assert ((radii > 0.006) & (radii < 0.01)).all()
    prims = hk.hand_primitives(shape, hk.forward_kinematics(shape, hk.prototype_pose(0)),
                               np.array([0.0, -1.0, 0.0]))
    tips = hk.forward_kinematics(shape, hk.prototype_pose(0))[[4, 8, 12, 16, 20]]
    # Each tip is the end point of a capsule whose radius is the tip radius.
    for tip, radius in zip(tips, radii):
        match = np.flatnonzero(np.linalg.norm(prims.capsule_b - tip, axis=1) < 1e-12)
        assert match.size == 1 and prims.capsule_radius[match[0]] == pytest.approx(radius)


def test_sampled_poses_respect_joint_limits() -> None:
    rng = np.random.default_rng(3)
    for _ in range(50):
        keypose = int(rng.integers(len(HAND_KEYPOSES)))
        pose = hk.sample_pose(keypose, rng, jitter_deg=40.0)
        clipped = hk.clip_to_limits(pose)
        np.testing.assert_allclose(pose.flexion_rad, clipped.flexion_rad)
        np.testing.assert_allclose(pose.abduction_rad, clipped.abduction_rad)


def test_keyposes_differ_in_the_expected_fingers() -> None:
    shape = hk.nominal_hand_shape()

    def reach(keypose: str) -> np.ndarray:
        k = hk.forward_kinematics(shape, hk.prototype_pose(HAND_KEYPOSES.index(keypose)))
        return np.linalg.norm(k[[8, 12, 16, 20]], axis=1)  # fingertip to wrist

    open_palm, fist, point, victory = (reach(p) for p in ("open_palm", "fist", "point", "victory"))
    assert (open_palm > 0.13).all() and (fist < 0.1).all()
    assert point[0] > 0.13 and (point[1:] < 0.1).all()
    assert (victory[:2] > 0.13).all() and (victory[2:] < 0.1).all()
    pinch = hk.forward_kinematics(shape, hk.prototype_pose(HAND_KEYPOSES.index("pinch")))
    assert np.linalg.norm(pinch[4] - pinch[8]) < 0.025  # thumb tip meets index tip


def _single_hand_frame(side: int, seed: int):
    rng = np.random.default_rng(seed)
    shape = hk.sample_hand_shape(rng)
    keypose = int(rng.integers(len(HAND_KEYPOSES)))
    pose = hk.sample_pose(keypose, rng)
    sign = 1.0 if side == 1 else -1.0
    wrist = np.array([sign * 0.04, 0.05, 0.35])
    elbow = np.array([sign * 0.15, 0.3, 0.15])
    hand = place_hand(side, keypose, shape, pose, wrist, elbow, np.array([0.0, 0.8, 0.6]),
                      supination_rad=1.0, wrist_flex_rad=0.2, wrist_deviation_rad=0.1)
    background = Background(np.array([[0.0, 0.0, 1.0]]), np.array([1.0]), [None], np.array([0]))
    scene = Scene(np.eye(3), background, [hand], ())
    return hand, render_scene(scene, default_intrinsics(160, 120), np.random.default_rng(0))


@pytest.mark.parametrize("seed", range(3))
def test_left_hand_is_the_mirror_image_of_the_right(seed: int) -> None:
    right_hand, right = _single_hand_frame(1, seed)
    left_hand, left = _single_hand_frame(0, seed)
    mirror = np.array([-1.0, 1.0, 1.0])
    np.testing.assert_allclose(left_hand.keypoints_xyz_m, right_hand.keypoints_xyz_m * mirror,
                               atol=1e-12)
    # Images: the principal point is centred, so mirroring x flips the columns.
    flipped = right.clean_depth_m[:, ::-1]
    assert np.mean(np.abs(left.clean_depth_m - flipped) < 1e-4) > 0.995
    assert np.mean((left.segmentation == 1) == (right.segmentation[:, ::-1] == 2)) > 0.995
    assert (left.segmentation == 1).sum() > 100
    # Chirality really differs: the mirrored right hand is not a rotated copy of itself.
    k = right_hand.keypoints_xyz_m
    det = np.linalg.det(np.stack([k[5] - k[0], k[17] - k[0], k[1] - k[0]]))
    kl = left_hand.keypoints_xyz_m
    det_left = np.linalg.det(np.stack([kl[5] - kl[0], kl[17] - kl[0], kl[1] - kl[0]]))
    assert np.sign(det) == -np.sign(det_left) != 0
