"""Nearest-neighbour resizing and the network input contract."""

from __future__ import annotations

import numpy as np
import pytest

from hand_pose_ros.core.preprocess import make_network_input, resize_nearest

SPEC = {
    "name": "depth",
    "layout": "NCHW",
    "height": 120,
    "width": 160,
    "units": "m",
    "clip_max_m": 2.0,
    "scale": 0.5,
    "invalid_value": 0.0,
}


def reference_resize(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Per pixel: copy the source pixel that contains the target pixel's centre."""
    out = np.empty((height, width, *image.shape[2:]), image.dtype)
    source_h, source_w = image.shape[:2]
    for r in range(height):
        for c in range(width):
            # Centre of target pixel (r, c) in source pixel-edge coordinates.
            y = (r + 0.5) * source_h / height
            x = (c + 0.5) * source_w / width
            out[r, c] = image[min(int(y), source_h - 1), min(int(x), source_w - 1)]
    return out


@pytest.mark.parametrize(
    ("source", "target"),
    [((4, 4), (2, 2)), ((2, 3), (4, 6)), ((172, 224), (120, 160)), ((7, 5), (3, 11))],
)
def test_resize_nearest_matches_pixel_centre_reference(source, target):
    image = np.arange(source[0] * source[1], dtype=np.float32).reshape(source)
    np.testing.assert_array_equal(resize_nearest(image, *target), reference_resize(image, *target))


def test_resize_nearest_picks_centre_pixels():
    image = np.arange(16, dtype=np.float32).reshape(4, 4)
    # 4 -> 2: target centres 0.5, 1.5 map to source 1.0, 3.0 -> pixels 1 and 3.
    np.testing.assert_array_equal(resize_nearest(image, 2, 2), [[5, 7], [13, 15]])
    np.testing.assert_array_equal(resize_nearest(np.array([[1.0, 2.0]]), 1, 4), [[1, 1, 2, 2]])


def test_resize_nearest_keeps_nan_invalid_and_invents_no_values():
    rng = np.random.default_rng(0)
    image = rng.uniform(0.3, 3.0, (172, 224)).astype(np.float32)
    image[rng.random(image.shape) < 0.2] = np.nan
    small = resize_nearest(image, 120, 160)
    assert small.shape == (120, 160)
    finite = small[np.isfinite(small)]
    assert np.isin(finite, image[np.isfinite(image)]).all()
    # Every NaN in the output comes from a NaN source pixel, and vice versa.
    np.testing.assert_array_equal(np.isnan(small), np.isnan(reference_resize(image, 120, 160)))


def test_resize_nearest_same_size_and_channels():
    image = np.zeros((5, 6, 3), np.uint8)
    assert resize_nearest(image, 5, 6) is image
    assert resize_nearest(image, 10, 12).shape == (10, 12, 3)
    with pytest.raises(ValueError):
        resize_nearest(image, 0, 3)


def test_make_network_input_follows_the_contract():
    depth = np.full((120, 160), 1.0, np.float32)
    depth[0, :5] = [np.nan, 0.0, -1.0, np.inf, 3.0]
    depth[1, 0] = 0.4
    net = make_network_input(depth, SPEC)
    assert net.shape == (1, 1, 120, 160)
    assert net.dtype == np.float32
    np.testing.assert_array_equal(net[0, 0, 0, :5], [0.0, 0.0, 0.0, 0.0, 1.0])  # 3 m clipped at 2
    assert net[0, 0, 1, 0] == np.float32(0.2)
    assert net[0, 0, 5, 5] == np.float32(0.5)


def test_make_network_input_resizes_and_reuses_buffer():
    rng = np.random.default_rng(1)
    depth = rng.uniform(0.2, 2.5, (172, 224)).astype(np.float32)
    depth[rng.random(depth.shape) < 0.1] = np.nan
    spec = dict(SPEC, invalid_value=-1.0, scale=1.0)
    buffer = np.empty((1, 1, 120, 160), np.float32)
    net = make_network_input(depth, spec, out=buffer)
    assert net is buffer
    resized = reference_resize(depth, 120, 160)
    expected = np.where(np.isnan(resized), -1.0, np.minimum(resized, 2.0))
    np.testing.assert_array_equal(net[0, 0], expected.astype(np.float32))
    with pytest.raises(ValueError, match="2-D"):
        make_network_input(depth[None], spec)
    with pytest.raises(ValueError, match="out must be"):
        make_network_input(depth, spec, out=np.empty((1, 1, 60, 80), np.float32))
