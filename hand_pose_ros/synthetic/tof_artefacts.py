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
    np.subtract(depth[:, 2:], depth[:, :-2], out=gu[:, 1:-1])
    np.subtract(depth[2:, :], depth[:-2, :], out=gv[1:-1, :])
    # dz per metre of lateral offset = (dz / pixel) * fx / z: independent of the resolution.
    gu *= 0.5 * fx
    gv *= 0.5 * fy
    return np.hypot(gu, gv) / depth


def apply_tof_artefacts(clean_depth_m: np.ndarray, object_map: np.ndarray,
                        dark_object_ids: tuple[int, ...], fx: float, fy: float,
                        rng: np.random.Generator) -> np.ndarray:
    """float32 depth with artefacts, NaN = missing return.

    One uniform draw per pixel decides dropout against the largest applicable probability
    (random, edge invalidation, grazing, dark material, long range); the rarer effects are
    evaluated only on the pixels they concern.
    """
    h, w = clean_depth_m.shape
    f32 = np.float32
    depth = clean_depth_m.astype(f32)
    # Frame-level parameters first (resolution independent draws).
    dropout_rate = f32(rng.uniform(0.01, 0.03))
    flying_rate = f32(rng.uniform(0.3, 0.8))
    edge_invalid_rate = f32(rng.uniform(0.1, 0.4))
    grazing_tan = f32(GRAZING_TAN * rng.uniform(0.8, 1.3))

    lo, hi = _neighbour_extremes(depth)
    edge = (hi - lo) > DISCONTINUITY_M
    noisy = depth + rng.standard_normal((h, w), dtype=f32) * noise_sigma_m(depth)
    drop_u = rng.random((h, w), dtype=f32)
    missing = drop_u < dropout_rate

    flat_noisy, flat_missing, flat_u = noisy.reshape(-1), missing.reshape(-1), drop_u.reshape(-1)
    # Depth discontinuities: invalidated, or mixed pixels between the near and far surface.
    e = np.flatnonzero(edge)
    draws = rng.random((2, e.size), dtype=f32)
    fly = e[draws[0] < flying_rate]
    lo_f, hi_f = lo.reshape(-1)[fly], hi.reshape(-1)[fly]
    flat_noisy[fly] = lo_f + draws[1][draws[0] < flying_rate] * (hi_f - lo_f)
    flat_missing[e] |= flat_u[e] < edge_invalid_rate
    # Grazing incidence on continuous surfaces (edges are handled above).
    slope = _slope_tan(depth, fx, fy).reshape(-1)
    g = np.flatnonzero((slope > grazing_tan) & ~edge.reshape(-1))
    p_grazing = np.minimum(f32(0.95), f32(0.3) + f32(0.15) * (slope[g] - grazing_tan))
    flat_missing[g] |= flat_u[g] < p_grazing
    # Weak returns at long range, nothing beyond the maximum range.
    flat_depth = depth.reshape(-1)
    far = np.flatnonzero(flat_depth > 2.8)
    p_far = np.minimum((flat_depth[far] - f32(2.8)) / f32(MAX_RANGE_M - 2.8), f32(1.0)) * 0.5
    flat_missing[far] |= (flat_u[far] < p_far) | (flat_depth[far] > MAX_RANGE_M)
    if dark_object_ids:
        lut = np.zeros(max(int(object_map.max()), *dark_object_ids) + 1, bool)
        lut[list(dark_object_ids)] = True
        missing |= lut[object_map] & (drop_u < 0.85)
    noisy[missing] = np.nan
    return noisy
