"""render_frame: determinism, exact labels, artefact placement and scene statistics."""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest

from hand_pose_ros.core.skeletons import HAND_KEYPOINT_NAMES, HAND_KEYPOSES
from hand_pose_ros.synthetic import HandFrame, default_intrinsics, render_frame
from hand_pose_ros.synthetic.frames import VISIBLE_DEPTH_TOLERANCE_M, nearest_pixel
from hand_pose_ros.synthetic.tof_artefacts import MAX_RANGE_M, noise_sigma_m

SEEDS = range(40)


@cache
def frames() -> tuple[HandFrame, ...]:
    return tuple(render_frame(seed) for seed in SEEDS)


def _present_sides(frame: HandFrame):
    return [side for side in range(2) if frame.present[side]]


def test_same_seed_gives_bit_identical_frames() -> None:
    a, b = render_frame(1234, 96, 72), render_frame(1234, 96, 72)
    for name in ("depth_m", "clean_depth_m", "segmentation", "keypoints_uv", "keypoints_xyz_m",
                 "keypoint_depth_m", "visibility", "present", "keypose"):
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype == y.dtype
        assert x.tobytes() == y.tobytes(), name
    assert not np.array_equal(render_frame(1235, 96, 72).clean_depth_m, a.clean_depth_m)


def test_shapes_dtypes_and_intrinsics() -> None:
    frame = render_frame(7, 224, 172)
    assert frame.intrinsics == default_intrinsics(224, 172)
    assert frame.depth_m.shape == frame.clean_depth_m.shape == (172, 224)
    assert frame.depth_m.dtype == frame.clean_depth_m.dtype == np.float32
    assert frame.segmentation.dtype == np.uint8
    k = len(HAND_KEYPOINT_NAMES)
    assert frame.keypoints_uv.shape == (2, k, 2) and frame.keypoints_uv.dtype == np.float32
    assert frame.keypoints_xyz_m.shape == (2, k, 3) and frame.keypoints_xyz_m.dtype == np.float32
    assert frame.keypoint_depth_m.shape == (2, k) and frame.keypoint_depth_m.dtype == np.float32
    assert frame.visibility.shape == (2, k) and frame.visibility.dtype == np.uint8
    assert frame.present.shape == (2,) and frame.present.dtype == bool
    assert frame.keypose.shape == (2,) and frame.keypose.dtype == np.int64


def test_clean_depth_is_finite_everywhere_and_labels_are_in_range() -> None:
    for frame in frames():
        assert np.isfinite(frame.clean_depth_m).all()
        assert frame.clean_depth_m.min() > 0.0
        assert set(np.unique(frame.segmentation)) <= {0, 1, 2}
        assert set(np.unique(frame.visibility)) <= {0, 1, 2}


def test_absent_sides_are_nan_and_present_sides_complete() -> None:
    for frame in frames():
        for side in range(2):
            if frame.present[side]:
                assert np.isfinite(frame.keypoints_xyz_m[side]).all()
                assert np.isfinite(frame.keypoints_uv[side]).all()
                assert 0 <= frame.keypose[side] < len(HAND_KEYPOSES)
                assert int((frame.visibility[side] > 0).sum()) >= 5
            else:
                assert np.isnan(frame.keypoints_xyz_m[side]).all()
                assert np.isnan(frame.keypoints_uv[side]).all()
                assert np.isnan(frame.keypoint_depth_m[side]).all()
                assert (frame.visibility[side] == 0).all()
                assert frame.keypose[side] == -1


def test_keypoints_uv_is_the_projection_of_keypoints_xyz() -> None:
    for frame in frames():
        for side in _present_sides(frame):
            expected = frame.intrinsics.project(frame.keypoints_xyz_m[side])
            np.testing.assert_allclose(frame.keypoints_uv[side], expected, atol=1e-3)


def test_visible_keypoints_carry_the_clean_depth_and_own_segmentation() -> None:
    checked = 0
    for frame in frames():
        h, w = frame.clean_depth_m.shape
        for side in _present_sides(frame):
            pix = nearest_pixel(frame.keypoints_uv[side])
            in_frame = (pix[:, 0] >= 0) & (pix[:, 0] < w) & (pix[:, 1] >= 0) & (pix[:, 1] < h)
            np.testing.assert_array_equal(frame.visibility[side] > 0, in_frame)
            for k in np.flatnonzero(in_frame):
                u, v = pix[k]
                label = frame.keypoint_depth_m[side, k]
                if frame.visibility[side, k] == 2:
                    assert label == frame.clean_depth_m[v, u]  # exactly, not approximately
                    assert frame.segmentation[v, u] == side + 1
                    z = frame.keypoints_xyz_m[side, k, 2]
                    assert abs(label - z) <= VISIBLE_DEPTH_TOLERANCE_M
                    checked += 1
                else:
                    assert np.isnan(label)
                    own = frame.segmentation[v, u] == side + 1
                    near = abs(frame.clean_depth_m[v, u] - frame.keypoints_xyz_m[side, k, 2])
                    assert not (own and near <= VISIBLE_DEPTH_TOLERANCE_M)
    assert checked > 100


def test_present_hands_have_segmentation_pixels() -> None:
    for frame in frames():
        for side in range(2):
            pixels = int((frame.segmentation == side + 1).sum())
            if frame.visibility[side].max() == 2:
                assert pixels > 0
            if not frame.present[side]:
                # A hand with < 5 keypoints in view may still show a few fingers, never much.
                assert pixels < frame.segmentation.size // 4


def test_hand_surface_is_in_front_of_the_joint_centres() -> None:
    """Visible joints lie inside the hand: the surface depth is a little nearer than the joint."""
    for frame in frames():
        for side in _present_sides(frame):
            visible = frame.visibility[side] == 2
            if not visible.any():
                continue  # e.g. hidden behind the other arm
            gap = frame.keypoints_xyz_m[side, visible, 2] - frame.keypoint_depth_m[side, visible]
            # Pixel rounding can land a fingertip label on the far side of its rim.
            assert np.median(gap) > 0.002
            assert gap.max() <= VISIBLE_DEPTH_TOLERANCE_M


def test_artefacts_only_where_expected() -> None:
    for frame in frames()[:12]:
        depth, clean = frame.depth_m, frame.clean_depth_m
        finite = np.isfinite(depth)
        assert not finite[clean > MAX_RANGE_M].any()
        missing = 1.0 - finite[clean <= MAX_RANGE_M].mean()
        assert 0.005 < missing < 0.5
        padded = np.pad(clean, 1, mode="edge")
        h, w = clean.shape
        windows = np.stack([padded[dv:dv + h, du:du + w] for dv in range(3) for du in range(3)])
        lo, hi = windows.min(axis=0), windows.max(axis=0)
        sigma = noise_sigma_m(clean)
        near_clean = np.abs(depth - clean) <= 6.0 * sigma
        flying = (depth >= lo - 1e-4) & (depth <= hi + 1e-4) & (hi - lo > 0.02)
        assert (near_clean | flying)[finite].all()
        # Noise is real and roughly of the specified size on smooth surfaces.
        smooth = finite & (hi - lo < 0.01)
        ratio = np.abs(depth - clean)[smooth] / sigma[smooth]
        assert 0.5 < np.median(ratio) < 1.0  # median |N(0,1)| = 0.674


def test_hand_count_statistics_and_sides() -> None:
    counts = np.bincount([int(f.present.sum()) for f in frames()], minlength=3)
    fractions = counts / counts.sum()
    assert fractions[0] < 0.3 and fractions[1] > 0.2 and fractions[2] > 0.25
    wrist_u = {0: [], 1: []}
    for frame in frames():
        for side in _present_sides(frame):
            wrist_u[side].append(frame.keypoints_uv[side, 0, 0] - frame.intrinsics.cx)
    assert np.median(wrist_u[0]) < 0.0 < np.median(wrist_u[1])  # left hands mostly on the left
    distances = [np.linalg.norm(f.keypoints_xyz_m[s, 0]) for f in frames() for s in
                 _present_sides(f)]
    assert min(distances) >= 0.14 and max(distances) <= 0.85
    occluded = sum(int((f.visibility == 1).sum()) for f in frames())
    assert occluded > 50  # self-occlusion happens


def test_scene_is_resolution_independent() -> None:
    small, large = render_frame(11, 224, 172), render_frame(11, 640, 480)
    np.testing.assert_array_equal(small.keypoints_xyz_m, large.keypoints_xyz_m)
    np.testing.assert_array_equal(small.keypose, large.keypose)
    sides = _present_sides(small)
    assert sides
    # The same hand pixels, up to rasterisation at the silhouette.
    ratio = large.intrinsics.fx / small.intrinsics.fx
    for side in sides:
        area_small = (small.segmentation == side + 1).sum() * ratio**2
        area_large = (large.segmentation == side + 1).sum()
        assert area_large == pytest.approx(area_small, rel=0.15)
    # The clean depth agrees along the same viewing directions.
    v, u = np.mgrid[0:172:7, 0:224:7]
    ks, kl = small.intrinsics, large.intrinsics
    u_large = np.round((u - ks.cx) / ks.fx * kl.fx + kl.cx).astype(int)
    v_large = np.round((v - ks.cy) / ks.fy * kl.fy + kl.cy).astype(int)
    inside = (v_large >= 0) & (v_large < 480)
    diff = np.abs(small.clean_depth_m[v, u] - large.clean_depth_m[v_large.clip(0, 479), u_large])
    assert (diff[inside] < 0.01).mean() > 0.95
