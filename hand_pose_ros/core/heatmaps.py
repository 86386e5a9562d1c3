"""Keypoint heatmaps: coordinate conventions, sub-pixel peak decoding, Gaussian targets.

Training renders its targets with :func:`render_gaussian_heatmaps` and the runtime decodes with
:func:`decode_peaks`, so the two agree by construction. Coordinates are (x, y) = (u, v) with pixel
centres at integers at every resolution; a pixel of a stride-s map covers s x s input pixels,
hence ``input_px = (heatmap_px + 0.5) * stride - 0.5``.
"""

from __future__ import annotations

import numpy as np

_LOG_FLOOR = 1e-10
"""Values below this are treated as "no signal" when taking logs for the Taylor refinement."""
_AXIS_STEP_LIMIT_PX = 0.5
_FULL_STEP_LIMIT_PX = 1.0
_ROW_OFFSETS = np.array([-1, -1, -1, 0, 0, 0, 1, 1, 1], dtype=np.intp)
_COLUMN_OFFSETS = np.array([-1, 0, 1, -1, 0, 1, -1, 0, 1], dtype=np.intp)
# Finite-difference weights over the row-major 3x3 neighbourhood (index 4 is the centre).
_DERIVATIVE_STENCILS = np.array(
    [
        [0, 0, 0, -0.5, 0, 0.5, 0, 0, 0],  # d/dx
        [0, -0.5, 0, 0, 0, 0, 0, 0.5, 0],  # d/dy
        [0, 0, 0, 1, -2, 1, 0, 0, 0],  # d2/dx2
        [0, 1, 0, 0, -2, 0, 0, 1, 0],  # d2/dy2
        [0.25, 0, -0.25, 0, 0, 0, -0.25, 0, 0.25],  # d2/dxdy
        [0, 0, 0, 0, 1, 0, 0, 0, 0],  # value
    ]
)


def rescale_px(xy: np.ndarray, scale: float | np.ndarray) -> np.ndarray:
    """Pixel coordinates at one resolution -> another that is ``scale`` times larger.

    ``scale`` is a scalar or per-axis (sx, sy); pixel-centre aware: (xy + 0.5) * scale - 0.5.
    """
    return (np.asarray(xy, dtype=np.float64) + 0.5) * np.asarray(scale, dtype=np.float64) - 0.5


def heatmap_to_input_px(xy: np.ndarray, stride: float | np.ndarray) -> np.ndarray:
    """Heatmap pixel coordinates -> network-input pixel coordinates."""
    return rescale_px(xy, stride)


def input_px_to_heatmap(xy: np.ndarray, stride: float | np.ndarray) -> np.ndarray:
    """Network-input pixel coordinates -> heatmap pixel coordinates (inverse of the above)."""
    return rescale_px(xy, 1.0 / np.asarray(stride, dtype=np.float64))


def decode_peaks(heatmaps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sub-pixel maximum of every channel of a (C, H, W) heatmap stack.

    Returns ``xy`` (C, 2) float64 in heatmap pixels and ``peak`` (C,) float64.

    Integer argmax, then one Newton step on the log heatmap using the 3x3 neighbourhood
    (gradient and Hessian by central differences). The log of a Gaussian is quadratic, so for
    Gaussian-shaped peaks (isotropic or not) the step lands on the true centre. The step is
    clamped to +-1 px per axis (+-0.5 px when only the separable per-axis fallback applies, as
    for an isotropic peak the centre lies within the argmax pixel), and skipped along an axis at
    the map border or where the curvature is not negative. ``peak`` is the Taylor-interpolated
    value at the refined position (never below the sampled maximum), so a perfect unit Gaussian
    reads ~1.0 wherever its centre falls between pixels.
    """
    if heatmaps.ndim != 3:
        raise ValueError(f"heatmaps must be (C, H, W), got shape {heatmaps.shape}")
    channels, height, width = heatmaps.shape
    flat = heatmaps.reshape(channels, height * width)
    index = np.argmax(flat, axis=1)
    y, x = np.divmod(index, width)

    # 3x3 neighbourhood as flat offsets. On a map border the neighbours along that axis collapse
    # onto the centre, which zeroes that axis' gradient and curvature: no step along it.
    step_x = ((x > 0) & (x < width - 1)).astype(np.intp)
    step_y = ((y > 0) & (y < height - 1)) * width
    neighbours = index[:, None] + (
        step_y[:, None] * _ROW_OFFSETS + step_x[:, None] * _COLUMN_OFFSETS
    )  # (C, 9) in row-major 3x3 order
    patch = np.take_along_axis(flat, neighbours, axis=1).astype(np.float64)
    peak_sampled = patch[:, 4].copy()
    logs = np.log(np.maximum(patch, _LOG_FLOOR, out=patch), out=patch)  # (C, 9)
    # Central differences as one small matrix product.
    derivatives = _DERIVATIVE_STENCILS @ logs.T  # (6, C)
    gradient, diagonal = derivatives[0:2], derivatives[2:4]  # (gx, gy), (hxx, hyy)
    hxy, centre = derivatives[4], derivatives[5]
    det = diagonal[0] * diagonal[1] - hxy * hxy
    full = (diagonal[0] < 0) & (det > 0)  # negative definite Hessian

    # Full Newton step delta = -H^-1 g; otherwise a separable step along each axis that still
    # curves downwards (a flat or upward-curving axis gets -g / -inf = 0).
    newton = (hxy * gradient[::-1] - diagonal[::-1] * gradient) / np.where(full, det, 1.0)
    separable = -gradient / np.where(diagonal < 0, diagonal, -np.inf)
    step = np.where(full, newton, separable)  # (2, C): dx, dy
    # Along one axis the argmax pixel is the nearest to the centre (|step| <= 0.5). A tilted,
    # elongated peak can sit up to about a pixel off its argmax, so the full step gets +-1.
    limit = np.where(full, _FULL_STEP_LIMIT_PX, _AXIS_STEP_LIMIT_PX)
    step = np.minimum(np.maximum(step, -limit), limit)

    # Second-order Taylor value at the step (exact for a Gaussian); a channel whose maximum is
    # not positive (no signal, or logits) keeps its sampled value.
    quadratic = (diagonal * step * step).sum(axis=0) + 2.0 * hxy * step[0] * step[1]
    log_peak = np.minimum(centre + (gradient * step).sum(axis=0) + 0.5 * quadratic, 50.0)
    peak = np.where(
        peak_sampled > _LOG_FLOOR, np.maximum(np.exp(log_peak), peak_sampled), peak_sampled
    )
    xy = np.column_stack([x + step[0], y + step[1]])
    return xy, peak


def sample_maps(maps: np.ndarray, xy: np.ndarray) -> np.ndarray:
    """(C,) value of each channel of (C, H, W) maps at that channel's own (C, 2) position in
    map pixels: bilinear, positions clamped to the map. Reads a per-keypoint regression map
    (the refiner's keypoint depth) where that keypoint's heatmap peaks."""
    channels, height, width = maps.shape
    x = np.clip(xy[:, 0], 0.0, width - 1.0)
    y = np.clip(xy[:, 1], 0.0, height - 1.0)
    x0 = np.minimum(x.astype(np.intp), max(width - 2, 0))
    y0 = np.minimum(y.astype(np.intp), max(height - 2, 0))
    x1, y1 = np.minimum(x0 + 1, width - 1), np.minimum(y0 + 1, height - 1)
    fx, fy = x - x0, y - y0
    channel = np.arange(channels)
    top = maps[channel, y0, x0] * (1.0 - fx) + maps[channel, y0, x1] * fx
    bottom = maps[channel, y1, x0] * (1.0 - fx) + maps[channel, y1, x1] * fx
    return top * (1.0 - fy) + bottom * fy


def render_gaussian_heatmaps(
    xy_heatmap_px: np.ndarray,
    valid: np.ndarray,
    height: int,
    width: int,
    sigma_px: float,
) -> np.ndarray:
    """(C, H, W) float32 Gaussian targets with continuous peak 1.0 at each sub-pixel centre.

    Channels where ``valid`` is False or the centre is not finite are all zeros. Separable: an
    outer product of 1-D Gaussians per channel, so a batch of targets costs little.
    """
    xy = np.asarray(xy_heatmap_px, dtype=np.float64).reshape(-1, 2)
    keep = np.asarray(valid, dtype=bool).reshape(-1) & np.isfinite(xy).all(axis=1)
    centres = np.where(keep[:, None], xy, 0.0)
    inv_two_sigma_sq = 1.0 / (2.0 * float(sigma_px) ** 2)
    gx = np.exp(-((np.arange(width) - centres[:, :1]) ** 2) * inv_two_sigma_sq)  # (C, W)
    gy = np.exp(-((np.arange(height) - centres[:, 1:]) ** 2) * inv_two_sigma_sq)  # (C, H)
    gy *= keep[:, None]
    return (gy[:, :, None] * gx[:, None, :]).astype(np.float32)
