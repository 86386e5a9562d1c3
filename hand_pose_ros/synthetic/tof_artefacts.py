"""Time-of-flight sensor artefacts applied to a clean depth render.

Modelled effects (all on top of the exact render, never on the labels):
- range-dependent Gaussian noise, sigma_m = 0.001 + 0.0025 * d^2;
- flying (mixed) pixels at depth discontinuities: values between the foreground and background;
- missing returns: random dropout, grazing incidence, low-reflectivity objects and dark patches,
  weak returns at long range and nothing beyond the maximum range.
Patch positions are drawn in normalised image coordinates, so they land on the same part of the
scene at any resolution; per-pixel draws necessarily depend on the resolution.
"""

from __future__ import annotations

import numpy as np

MAX_RANGE_M = 4.0
NOISE_BASE_M = 0.001
NOISE_QUADRATIC_PER_M = 0.0025
DISCONTINUITY_M = 0.04
GRAZING_TAN = 3.0  # tan(~72 deg) between the surface normal and the ray


def noise_sigma_m(depth_m: np.ndarray) -> np.ndarray:
    """Standard deviation of the range noise at each depth."""
    return NOISE_BASE_M + NOISE_QUADRATIC_PER_M * np.square(depth_m)


def _neighbour_extremes(depth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """3x3 minimum and maximum of an image (edge pixels use their existing neighbours)."""
    padded = np.pad(depth, 1, mode="edge")
    h, w = depth.shape
    lo = depth.copy()
    hi = depth.copy()
    for dv in range(3):
        for du in range(3):
            if dv == 1 and du == 1:
                continue
            view = padded[dv:dv + h, du:du + w]
            np.minimum(lo, view, out=lo)
            np.maximum(hi, view, out=hi)
    return lo, hi


def _slope_tan(depth: np.ndarray, fx: float, fy: float) -> np.ndarray:
    """|tan| of the surface tilt against the view direction, from depth differences."""
    gu = np.zeros_like(depth)
    gv = np.zeros_like(depth)
    gu[:, 1:-1] = 0.5 * (depth[:, 2:] - depth[:, :-2])
    gv[1:-1, :] = 0.5 * (depth[2:, :] - depth[:-2, :])
    # dz per metre of lateral offset = (dz / pixel) * fx / z: independent of the resolution.
    return np.hypot(gu * fx, gv * fy) / depth


def apply_tof_artefacts(clean_depth_m: np.ndarray, object_map: np.ndarray,
                        dark_object_ids: tuple[int, ...], fx: float, fy: float,
                        rng: np.random.Generator) -> np.ndarray:
    """float32 depth with artefacts, NaN = missing return."""
    h, w = clean_depth_m.shape
    depth = clean_depth_m.astype(np.float32)
    # Frame-level parameters first (resolution independent draws).
    dropout_rate = rng.uniform(0.01, 0.03)
    flying_rate = rng.uniform(0.3, 0.8)
    edge_invalid_rate = rng.uniform(0.1, 0.4)
    grazing_tan = GRAZING_TAN * rng.uniform(0.8, 1.3)

    lo, hi = _neighbour_extremes(depth)
    edge = (hi - lo) > DISCONTINUITY_M
    slope = _slope_tan(depth, fx, fy)

    noisy = depth + rng.standard_normal((h, w), dtype=np.float32) * noise_sigma_m(depth)
    # Mixed pixels: a blend of the near and far surfaces seen by the same pixel.
    mix = rng.random((h, w), dtype=np.float32)
    flying = edge & (rng.random((h, w), dtype=np.float32) < flying_rate)
    noisy = np.where(flying, lo + mix * (hi - lo), noisy)

    drop_u = rng.random((h, w), dtype=np.float32)
    p_drop = np.full((h, w), dropout_rate, np.float32)
    p_drop = np.where(edge, np.maximum(p_drop, edge_invalid_rate), p_drop)
    p_drop = np.where(slope > grazing_tan,
                      np.minimum(0.95, 0.3 + 0.15 * (slope - grazing_tan)), p_drop)
    far_weak = np.clip((depth - 2.8) / (MAX_RANGE_M - 2.8), 0.0, 1.0) * 0.5
    p_drop = np.maximum(p_drop, far_weak)
    if dark_object_ids:
        dark = np.isin(object_map, np.asarray(dark_object_ids))
        p_drop = np.where(dark, np.maximum(p_drop, 0.85), p_drop)
    missing = (drop_u < p_drop) | (depth > MAX_RANGE_M)
    return np.where(missing, np.float32(np.nan), noisy).astype(np.float32)
