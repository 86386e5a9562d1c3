"""core.drawing: depth colormap and skeleton drawing used by the debug image and the runner."""

from __future__ import annotations

import numpy as np

from hand_pose_ros.core.drawing import (
    depth_to_rgb,
    draw_lines,
    draw_points,
    draw_skeleton,
    instance_color,
    upscale,
)


def test_depth_colormap_invalid_is_black_and_near_is_brighter() -> None:
    depth = np.tile(np.linspace(0.3, 2.0, 50, dtype=np.float32), (20, 1))
    depth[5, 5] = np.nan
    depth[6, 6] = 0.0
    depth[7, 7] = np.inf
    for rgb in (depth_to_rgb(depth), depth_to_rgb(depth, near_m=0.3, far_m=2.0)):
        assert rgb.shape == (20, 50, 3) and rgb.dtype == np.uint8
        for row, col in ((5, 5), (6, 6), (7, 7)):
            assert tuple(rgb[row, col]) == (0, 0, 0)
        brightness = rgb[0].astype(int).sum(axis=1)
        assert np.all(np.diff(brightness) <= 0) and brightness[0] > brightness[-1] + 300


def test_depth_colormap_of_an_empty_image_is_black() -> None:
    assert not depth_to_rgb(np.full((4, 4), np.nan, np.float32)).any()


def test_lines_cover_their_pixels_and_skip_non_finite_ends() -> None:
    image = np.zeros((10, 10, 3), np.uint8)
    draw_lines(image, [[1, 1], [np.nan, 0]], [[8, 1], [5, 5]], (255, 0, 0))
    painted = np.argwhere(image[..., 0] == 255)
    assert sorted(map(tuple, painted)) == [(1, c) for c in range(1, 9)]
    diagonal = np.zeros((10, 10, 3), np.uint8)
    draw_lines(diagonal, [[0, 0]], [[9, 9]], (0, 255, 0))
    assert np.all(diagonal[np.arange(10), np.arange(10), 1] == 255)
    assert (diagonal[..., 1] == 255).sum() == 10


def test_drawing_outside_the_image_is_clipped() -> None:
    image = np.zeros((10, 10, 3), np.uint8)
    draw_lines(image, [[-50, 5]], [[1e9, 5]], (1, 2, 3), thickness_px=3)
    draw_points(image, [[-3, -3], [12, 4], [5, 5]], (9, 9, 9), radius_px=2)
    assert np.all(image[4:7, :, 0] >= 1)
    assert tuple(image[5, 5]) == (9, 9, 9)


def test_skeleton_scales_into_an_upscaled_picture() -> None:
    image = upscale(np.zeros((8, 8, 3), np.uint8), 4)
    assert image.shape == (32, 32, 3)
    uv = np.array([[1.0, 1.0], [6.0, 1.0], [np.nan, np.nan]])
    draw_skeleton(image, uv, [(0, 1), (1, 2)], instance_color(1), joint_radius_px=0, scale=4)
    row = int((1 + 0.5) * 4 - 0.5 + 0.5)
    assert np.all(image[row, 6:26] == instance_color(1))
    assert instance_color(0) != instance_color(1) and instance_color(7) == instance_color(1)
