"""The whole-map stage of body decoding against references: max-pool NMS, map resizing."""

from __future__ import annotations

import numpy as np
from scipy.ndimage import maximum_filter

from hand_pose_ros.core.letterbox import bilinear_taps
from hand_pose_ros.core.peak_search import max_pool, resize_maps


def test_building_blocks_match_references():
    maps = np.random.default_rng(9).random((4, 12, 16)).astype(np.float32)
    for kernel in (1, 3, 5, 7):
        expected = maximum_filter(maps, size=(1, kernel, kernel), mode="nearest")
        np.testing.assert_array_equal(max_pool(maps, kernel), expected)
    small = maps[:, :4, :6]  # every row window clipped at 5 and 7, some column windows too
    for kernel in (3, 5, 7):
        expected = maximum_filter(small, size=(1, kernel, kernel), mode="nearest")
        np.testing.assert_array_equal(max_pool(small, kernel), expected)
    for size in ((6, 8), (26, 34), (20, 30)):
        r0, r1, wy = bilinear_taps(12, size[0])
        c0, c1, wx = bilinear_taps(16, size[1])
        rows = maps[:, r0] * (1 - wy[:, None]) + maps[:, r1] * wy[:, None]
        expected = rows[:, :, c0] * (1 - wx) + rows[:, :, c1] * wx
        np.testing.assert_allclose(resize_maps(maps, *size), expected, atol=1e-6)
