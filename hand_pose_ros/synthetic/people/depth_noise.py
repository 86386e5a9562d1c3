"""Stereo-camera-like depth artefacts on a clean render (labels never see them).

- range noise, sigma_m = 0.0005 + 0.001 * z^2 (a few mm at 1-2 m, ~2.5 cm at 5 m), then
  millimetre quantisation;
- missing returns (0): beyond the maximum range, a band at depth discontinuities (occlusion
  shadow of the stereo pair, on the far side of an edge), sparse speckle and a few blobs
  (textureless or dark patches). Blob positions are drawn in normalised image coordinates.
"""

from __future__ import annotations

import numpy as np

MAX_RANGE_M = 9.0
NOISE_BASE_M = 0.0005
NOISE_QUADRATIC_PER_M = 0.001
EDGE_JUMP_M = 0.1


def noise_sigma_m(depth_m: np.ndarray) -> np.ndarray:
    return NOISE_BASE_M + NOISE_QUADRATIC_PER_M * np.square(depth_m)


def clean_depth_mm(depth_m: np.ndarray) -> np.ndarray:
    """Exact depth in millimetres (0 beyond the uint16 range)."""
    mm = np.rint(depth_m * 1000.0)
    return np.where((mm > 0) & (mm < 65535), mm, 0).astype(np.uint16)


def apply_depth_artefacts(depth_m: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """(H, W) float32 metres -> (H, W) uint16 millimetres with noise and missing returns."""
    h, w = depth_m.shape
    z = depth_m + rng.standard_normal((h, w), dtype=np.float32) * noise_sigma_m(depth_m)
    missing = depth_m > MAX_RANGE_M
    # Occlusion shadow: pixels whose left neighbour (2 px) is much nearer lose their return.
    shift = max(1, w // 160)
    jump = np.zeros((h, w), bool)
    jump[:, shift:] = depth_m[:, shift:] - depth_m[:, :-shift] > EDGE_JUMP_M
    missing |= jump & (rng.random((h, w), dtype=np.float32) < 0.7)
    missing |= rng.random((h, w), dtype=np.float32) < rng.uniform(0.001, 0.01)
    vv, uu = None, None
    for _ in range(int(rng.integers(0, 4))):
        cu, cv = rng.uniform(0, w), rng.uniform(0, h)
        ru, rv = rng.uniform(0.01, 0.06) * w, rng.uniform(0.01, 0.06) * w
        if vv is None:
            vv, uu = np.mgrid[0:h, 0:w].astype(np.float32)
        missing |= ((uu - cu) / ru) ** 2 + ((vv - cv) / rv) ** 2 < 1.0
    out = clean_depth_mm(z)
    out[missing] = 0
    return out
