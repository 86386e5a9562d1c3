"""Heatmap coordinate convention, Gaussian targets and sub-pixel peak decoding."""

from __future__ import annotations

import numpy as np
import pytest

from hand_pose_ros.core.heatmaps import (
    decode_peaks,
    heatmap_to_input_px,
    input_px_to_heatmap,
    render_gaussian_heatmaps,
    rescale_px,
    sample_maps,
)


def test_coordinate_convention():
    # Heatmap pixel 0 of a stride-2 map covers input pixels 0 and 1: its centre is input 0.5.
    np.testing.assert_allclose(heatmap_to_input_px(np.array([0.0, 0.0]), 2), [0.5, 0.5])
    np.testing.assert_allclose(heatmap_to_input_px(np.array([0.0, 3.0]), 4), [1.5, 13.5])
    # The image edges map onto each other: -0.5 stays -0.5, W - 0.5 -> W * stride - 0.5.
    np.testing.assert_allclose(heatmap_to_input_px(np.array([-0.5, 79.5]), 2), [-0.5, 159.5])
    # Per-axis scale, e.g. 160x120 network input -> 224x172 image.
    np.testing.assert_allclose(
        rescale_px(np.array([159.5, 119.5]), np.array([224 / 160, 172 / 120])), [223.5, 171.5]
    )


def test_coordinate_round_trip():
    rng = np.random.default_rng(2)
    xy = rng.uniform(-0.5, 100.0, (50, 2))
    for stride in (1, 2, 4, np.array([2.0, 3.0])):
        np.testing.assert_allclose(input_px_to_heatmap(heatmap_to_input_px(xy, stride), stride), xy)


def test_render_gaussian_heatmaps():
    xy = np.array([[10.0, 5.0], [3.3, 7.8], [1.0, 1.0], [np.nan, 2.0]])
    valid = np.array([True, True, False, True])
    maps = render_gaussian_heatmaps(xy, valid, 12, 16, sigma_px=1.5)
    assert maps.shape == (4, 12, 16)
    assert maps.dtype == np.float32
    assert maps[0, 5, 10] == pytest.approx(1.0)
    assert maps[0, 5, 10 + 3] == pytest.approx(np.exp(-9 / (2 * 1.5**2)), rel=1e-6)
    assert np.unravel_index(maps[1].argmax(), maps[1].shape) == (8, 3)  # nearest pixel
    assert not maps[2].any()  # invalid
    assert not maps[3].any()  # NaN centre


@pytest.mark.parametrize("sigma_px", [1.0, 1.5, 2.5])
def test_decode_recovers_sub_pixel_peaks(sigma_px):
    rng = np.random.default_rng(3)
    xy = np.column_stack([rng.uniform(2, 77, 42), rng.uniform(2, 57, 42)])
    maps = render_gaussian_heatmaps(xy, np.ones(42, bool), 60, 80, sigma_px)
    decoded, peak = decode_peaks(maps)
    assert np.abs(decoded - xy).max() < 0.05
    np.testing.assert_allclose(peak, 1.0, atol=0.01)


def test_decode_render_round_trip_with_amplitude_and_offset_grid():
    # Offsets across a whole pixel, including the +-0.5 extremes where argmax is ambiguous.
    offsets = np.linspace(-0.5, 0.5, 11)
    xy = np.array([[20 + dx, 30 + dy] for dx in offsets for dy in offsets])
    maps = 0.7 * render_gaussian_heatmaps(xy, np.ones(len(xy), bool), 60, 80, 1.5)
    decoded, peak = decode_peaks(maps)
    assert np.abs(decoded - xy).max() < 0.05
    np.testing.assert_allclose(peak, 0.7, atol=0.01)


def test_decode_correlated_gaussian_uses_the_cross_term():
    # An elongated, rotated blob: per-axis refinement alone would be biased.
    y, x = np.mgrid[0:40, 0:40].astype(np.float64)
    centre = np.array([18.37, 21.71])
    d = np.stack([x - centre[0], y - centre[1]], -1)
    precision = np.linalg.inv(np.array([[4.0, 2.4], [2.4, 2.5]]))
    blob = np.exp(-0.5 * np.einsum("...i,ij,...j->...", d, precision, d))
    decoded, _ = decode_peaks(blob[None].astype(np.float32))
    assert np.abs(decoded[0] - centre).max() < 0.05


def test_decode_degenerate_maps():
    maps = np.zeros((4, 10, 12), np.float32)
    maps[1] = -3.0  # logits-like negative map
    maps[2, 0, 0] = 0.9  # peak in a corner: no neighbours on two sides
    maps[2, 0, 1] = 0.5
    maps[2, 1, 0] = 0.5
    maps[3, 4, 6] = 0.8  # lone spike: refinement must stay within the pixel
    xy, peak = decode_peaks(maps)
    assert np.isfinite(xy).all() and np.isfinite(peak).all()
    assert peak[0] == 0.0 and peak[1] == -3.0
    np.testing.assert_allclose(xy[2], [0.0, 0.0])  # no refinement at the border
    assert np.abs(xy[3] - [6, 4]).max() <= 0.5
    assert peak[2] == pytest.approx(0.9)
    with pytest.raises(ValueError):
        decode_peaks(maps[0])


def test_decode_noisy_gaussian_stays_close():
    rng = np.random.default_rng(4)
    xy = np.column_stack([rng.uniform(5, 75, 42), rng.uniform(5, 55, 42)])
    maps = render_gaussian_heatmaps(xy, np.ones(42, bool), 60, 80, 1.5)
    maps += rng.normal(0, 0.02, maps.shape).astype(np.float32)
    decoded, peak = decode_peaks(maps)
    assert np.abs(decoded - xy).max() < 0.3
    assert np.all((peak > 0.9) & (peak < 1.2))


def test_sample_maps_reads_each_channel_bilinearly_at_its_own_position():
    ramp = np.add.outer(np.arange(6.0) * 10.0, np.arange(8.0))  # value = 10 y + x
    maps = np.stack([ramp, -ramp, ramp])
    xy = np.array([[2.25, 3.5], [7.0, 5.0], [-3.0, 9.0]])  # the last one is clamped to (0, 5)
    np.testing.assert_allclose(sample_maps(maps, xy), [37.25, -57.0, 50.0])
    single = np.full((1, 1, 1), 4.0)
    np.testing.assert_allclose(sample_maps(single, np.array([[0.3, -0.2]])), [4.0])
