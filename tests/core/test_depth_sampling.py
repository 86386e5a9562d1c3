"""Robust keypoint depth: holes, depth edges, flying pixels, borders."""

from __future__ import annotations

import numpy as np
import pytest

from hand_pose_ros.core.depth_sampling import (
    MIN_CLUSTER_SUPPORT,
    prefer_predicted_depth,
    sample_depth,
    snap_to_instance_depth,
)


def reference_sample(depth, u, v, window_px, band_m):
    """Plain-Python statement of the documented rule, one point at a time."""
    height, width = depth.shape
    if not (np.isfinite(u) and np.isfinite(v)):
        return np.nan
    cu, cv = int(np.floor(u + 0.5)), int(np.floor(v + 0.5))
    if not (0 <= cu < width and 0 <= cv < height):
        return np.nan
    r = window_px // 2
    values = sorted(
        float(depth[y, x])
        for y in range(cv - r, cv - r + window_px)
        for x in range(cu - r, cu - r + window_px)
        if 0 <= y < height and 0 <= x < width and np.isfinite(depth[y, x]) and depth[y, x] > 0
    )
    if not values:
        return np.nan

    def cluster_size(reference):
        return sum(reference <= d <= reference + band_m for d in values)

    needed = min(MIN_CLUSTER_SUPPORT, max(cluster_size(d) for d in values))
    for reference in values:
        cluster = [d for d in values if reference <= d <= reference + band_m]
        if len(cluster) >= needed:
            return float(np.median(cluster))
    raise AssertionError("unreachable")


def test_flat_surface():
    depth = np.full((20, 30), 0.5, np.float32)
    result = sample_depth(depth, np.array([[10.2, 7.7], [0.0, 0.0], [29.0, 19.0]]))
    assert result.dtype == np.float32 and result.shape == (3,)
    np.testing.assert_allclose(result, 0.5)


def test_nan_holes_are_ignored():
    rng = np.random.default_rng(5)
    depth = np.full((20, 20), 0.6, np.float32)
    depth[rng.random(depth.shape) < 0.7] = np.nan
    depth[10, 10] = np.nan  # the centre pixel itself is a hole
    depth[9, 11] = 0.6
    assert sample_depth(depth, np.array([[10.0, 10.0]]))[0] == pytest.approx(0.6)


def test_edge_with_background_behind_returns_foreground():
    # Finger edge: left of column 10 is the hand at 0.40 m (noisy), right is a wall 0.5 m behind.
    rng = np.random.default_rng(6)
    depth = np.full((30, 30), 0.90, np.float32)
    depth[:, :10] = 0.40 + rng.normal(0, 0.002, (30, 10))
    for u in (9.0, 10.0, 11.0):  # fg is the majority, half, minority of the 5x5 window
        assert sample_depth(depth, np.array([[u, 15.0]]), window_px=5)[0] == pytest.approx(
            0.40, abs=0.004
        )


def test_flying_pixels_and_a_lone_outlier_do_not_pull_the_estimate():
    depth = np.full((30, 30), 1.20, np.float32)
    depth[:, :12] = 0.50
    depth[:, 12] = 0.80  # flying pixels between hand and background
    depth[15, 11] = 0.10  # a single spurious near return
    assert sample_depth(depth, np.array([[12.0, 15.0]]))[0] == pytest.approx(0.50)


def test_image_border():
    depth = np.full((10, 10), 0.7, np.float32)
    depth[:, 0] = 0.3
    uv = np.array(
        [
            [0.0, 0.0],  # corner: 3x3 of the 5x5 window inside; 0.3 column is nearest
            [-0.4, 5.0],  # rounds to column 0: inside
            [-0.6, 5.0],  # rounds to column -1: outside
            [9.4, 9.4],  # inside
            [9.6, 2.0],  # outside
            [np.nan, 2.0],
        ]
    )
    result = sample_depth(depth, uv)
    np.testing.assert_allclose(result[:2], 0.3)
    assert np.isnan(result[2])
    assert result[3] == pytest.approx(0.7)
    assert np.isnan(result[4]) and np.isnan(result[5])


def test_all_invalid_gives_nan():
    depth = np.full((10, 10), np.nan, np.float32)
    depth[0, :] = 0.0  # zero is invalid too
    depth[1, :] = -1.0
    depth[2, :] = np.inf
    assert np.isnan(sample_depth(depth, np.array([[5.0, 1.0], [5.0, 7.0]]))).all()


def test_empty_and_bad_arguments():
    depth = np.ones((5, 5), np.float32)
    assert sample_depth(depth, np.zeros((0, 2))).shape == (0,)
    with pytest.raises(ValueError):
        sample_depth(depth[None], np.zeros((1, 2)))
    with pytest.raises(ValueError):
        sample_depth(depth, np.zeros((1, 2)), window_px=0)


@pytest.mark.parametrize("window_px", [1, 3, 5, 6])
def test_matches_reference_on_random_scenes(window_px):
    rng = np.random.default_rng(7 + window_px)
    depth = rng.choice([0.35, 0.5, 1.1], size=(24, 32)).astype(np.float32)
    depth += rng.normal(0, 0.01, depth.shape).astype(np.float32)
    depth[rng.random(depth.shape) < 0.3] = np.nan
    uv = rng.uniform(-2, 34, (200, 2))
    result = sample_depth(depth, uv, window_px, 0.03)
    expected = [reference_sample(depth, u, v, window_px, 0.03) for u, v in uv]
    np.testing.assert_allclose(result, np.array(expected, np.float32), rtol=1e-6)


def test_a_keypoint_off_its_hand_takes_the_hand_depth():
    # Five keypoints on a hand about 0.4 m away, one on the wall behind, one with no depth.
    depth = np.array([0.40, 0.42, 0.39, 0.45, 0.41, 1.30, np.nan], np.float32)
    snapped = snap_to_instance_depth(depth, 0.12)
    median = np.nanmedian(depth)  # 0.415: the wall sample moves it by half a keypoint only
    np.testing.assert_array_equal(snapped[:5], depth[:5])
    assert snapped[5] == pytest.approx(median) and np.isnan(snapped[6])
    assert snapped.dtype == np.float32
    np.testing.assert_array_equal(snap_to_instance_depth(depth, 0.0), depth)  # disabled
    nothing = np.full(3, np.nan, np.float32)
    assert np.isnan(snap_to_instance_depth(nothing, 0.12)).all()


def test_people_are_snapped_each_to_their_own_median():
    depth = np.array([[2.0, 2.1, 1.9, 6.0], [4.0, 4.2, np.nan, 0.5], [np.nan] * 4], np.float32)
    snapped = snap_to_instance_depth(depth, 0.5)
    np.testing.assert_allclose(snapped[0], [2.0, 2.1, 1.9, 2.05], rtol=1e-6)
    np.testing.assert_allclose(snapped[1], [4.0, 4.2, np.nan, 4.0], rtol=1e-6)
    assert np.isnan(snapped[2]).all()


def test_a_prediction_overrules_samples_off_its_surface_and_fills_holes():
    sampled = np.array([[0.40, 0.47, np.nan, 0.41, 0.90]], np.float32)
    predicted = np.array([[0.41, 0.42, 0.43, np.nan, 0.44]], np.float32)
    fused = prefer_predicted_depth(sampled, predicted, 0.02)
    # Kept: within the band; replaced: 5 cm off, missing, a wall; no prediction: kept.
    np.testing.assert_allclose(fused, [[0.40, 0.42, 0.43, 0.41, 0.44]], rtol=1e-6)
    assert fused.dtype == np.float32
    only_predicted = prefer_predicted_depth(sampled, predicted, 0.0)
    np.testing.assert_allclose(only_predicted, [[0.41, 0.42, 0.43, 0.41, 0.44]], rtol=1e-6)
