"""Letterbox geometry, bilinear resizing and the body network input."""

from __future__ import annotations

import time

import numpy as np
import pytest

from hand_pose_ros.core.body_preprocess import make_body_input
from hand_pose_ros.core.letterbox import Letterbox
from tests.core.body_stand_in import body_metadata


@pytest.mark.parametrize(
    ("source", "resized", "pad"),
    [
        ((480, 640), (192, 256), (0, 0)),  # same 4:3 aspect
        ((720, 1280), (144, 256), (48, 0)),  # wide: pad at the bottom
        ((640, 480), (192, 144), (0, 112)),  # portrait: pad on the right
        ((192, 256), (192, 256), (0, 0)),
        ((100, 100), (192, 192), (0, 64)),  # upscale
    ],
)
def test_fit(source, resized, pad):
    box = Letterbox.fit(*source, 192, 256)
    assert (box.resized_height, box.resized_width) == resized
    assert (box.pad_bottom, box.pad_right) == pad


@pytest.mark.parametrize("source", [(480, 640), (720, 1280), (640, 480), (37, 91)])
def test_coordinates_round_trip_and_corners_map_to_corners(source):
    box = Letterbox.fit(*source, 192, 256)
    uv = np.random.default_rng(0).uniform(-1, max(source), (50, 2))
    np.testing.assert_allclose(box.to_source(box.to_network(uv)), uv, atol=1e-9)
    # The outer edges of the source (-0.5 and size - 0.5) are the edges of the resized part.
    edges = np.array([[-0.5, -0.5], [source[1] - 0.5, source[0] - 0.5]])
    expected = np.array([[-0.5, -0.5], [box.resized_width - 0.5, box.resized_height - 0.5]])
    np.testing.assert_allclose(box.to_network(edges), expected, atol=1e-9)


def test_apply_pads_right_and_bottom_and_keeps_constant_images():
    image = np.full((720, 1280, 3), 77, np.uint8)
    out = Letterbox.fit(720, 1280, 192, 256).apply(image, pad_value=5)
    assert out.shape == (192, 256, 3) and out.dtype == np.uint8
    assert (out[:144] == 77).all() and (out[144:] == 5).all()


def test_bilinear_keeps_linear_ramps_and_a_bright_pixel_lands_where_mapped():
    x = np.arange(640, dtype=np.float32)
    ramp = np.broadcast_to(x, (480, 640)).copy()
    box = Letterbox.fit(480, 640, 192, 256)
    resized = box.resize(ramp)
    # A linear function of the source coordinate is reproduced exactly away from the border.
    u_source = box.to_source(np.stack([np.arange(256.0), np.zeros(256)], -1))[:, 0]
    np.testing.assert_allclose(resized[10, 2:-2], u_source[2:-2], atol=1e-3)
    # A blob's centre of mass moves with to_network.
    image = np.zeros((480, 640), np.float32)
    image[200:210, 300:310] = 1.0
    small = box.resize(image)
    rows, cols = np.nonzero(small > 0)
    weights = small[rows, cols]
    centre = np.array([np.average(cols, weights=weights), np.average(rows, weights=weights)])
    np.testing.assert_allclose(centre, box.to_network(np.array([304.5, 204.5])), atol=0.05)


def test_wrong_image_size_is_rejected():
    with pytest.raises(ValueError, match="this letterbox is for 640x480"):
        Letterbox.fit(480, 640, 192, 256).apply(np.zeros((100, 100, 3), np.uint8))
    with pytest.raises(ValueError, match="positive"):
        Letterbox.fit(0, 640, 192, 256)


def test_body_input_normalises_per_channel_and_pads_with_the_raw_pad_value():
    spec = body_metadata()["input"]
    spec["pad_value"] = 128
    rgb = np.zeros((720, 1280, 3), np.uint8)
    rgb[..., 0], rgb[..., 1], rgb[..., 2] = 255, 0, 51
    tensor, box = make_body_input(rgb, spec)
    assert tensor.shape == (1, 3, 192, 256) and tensor.dtype == np.float32
    mean, std = np.array(spec["mean"]), np.array(spec["std"])
    expected = (np.array([255, 0, 51]) / 255.0 - mean) / std
    np.testing.assert_allclose(
        tensor[0, :, :144].reshape(3, -1).T, np.tile(expected, (144 * 256, 1)), rtol=1e-5
    )
    pad = (128 / 255.0 - mean) / std
    np.testing.assert_allclose(tensor[0, :, 144:].reshape(3, -1).T - pad, 0, atol=1e-5)
    assert box.pad_bottom == 48


def test_body_input_rejects_non_rgb():
    with pytest.raises(ValueError, match=r"\(H, W, 3\) RGB"):
        make_body_input(np.zeros((480, 640), np.uint8), body_metadata()["input"])


def test_preprocess_640x480_is_fast():
    spec = body_metadata()["input"]
    rgb = np.random.default_rng(0).integers(0, 256, (480, 640, 3), np.uint8)
    out, box = make_body_input(rgb, spec)
    times = []
    for _ in range(30):
        start = time.perf_counter()
        make_body_input(rgb, spec, box, out)
        times.append(time.perf_counter() - start)
    # ~0.5 ms on one idle core; the bound leaves room for a loaded CI machine.
    assert np.median(times) < 4e-3
