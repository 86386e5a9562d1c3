"""Robust depth at keypoints: the nearest surface in a small window, never a single pixel.

A keypoint on a finger edge has the wall behind it in half of its window, ToF sensors drop
returns (NaN) and smear edges (flying pixels between foreground and background). The hand is
the nearest thing in the window, so the estimate is the median of the nearest cluster of valid
samples: robust to holes, to background, to flying pixels behind the hand and to a lone noisy
sample in front of it.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

DEFAULT_WINDOW_PX = 3
"""Window side in input pixels: a finger is a few pixels wide at ToF resolutions. Chosen on the
validation split with the refined keypoints (3 against 5: 19.7 against 21.2 mm mean 3D error
from samples alone, 17.1 against 17.4 mm with the refiner's predicted depth)."""

DEFAULT_FOREGROUND_BAND_M = 0.03
"""Depths this close to the nearest surface count as that surface (a finger's thickness)."""

DEFAULT_HAND_DEPTH_BAND_M = 0.12
"""Largest distance (metres) of a keypoint's depth from its hand's median keypoint depth: about
the depth extent of a hand; chosen on the validation split (0.05 / 0.08 / 0.12 tried)."""

DEFAULT_PREDICTED_DEPTH_BAND_M = 0.02
"""Largest distance (metres) of a sampled keypoint depth from the refiner's predicted depth for
the sample to be kept; farther, the prediction replaces it (see `prefer_predicted_depth`)."""

MIN_CLUSTER_SUPPORT = 2
"""Samples that must agree (within the band) on the nearest surface; 1 lone sample is noise."""


@lru_cache(maxsize=16)
def checked_sampling_settings(window_px: int, foreground_band_m: float) -> tuple[int, float]:
    """Validate an estimator's depth window and foreground band at construction, so a bad
    setting fails there and not on the first frame; returns them as (int, float)."""
    if window_px < 1:
        raise ValueError(f"depth_window_px must be >= 1, got {window_px}")
    if foreground_band_m <= 0:
        raise ValueError(f"foreground_band_m must be > 0, got {foreground_band_m}")
    return int(window_px), float(foreground_band_m)


def _window_offsets(window_px: int, width: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row, column and flat-index offsets of a window's pixels (row-major), for an image width."""
    steps = np.arange(window_px, dtype=np.intp) - window_px // 2
    rows = np.repeat(steps, window_px)
    cols = np.tile(steps, window_px)
    flat = rows * width + cols
    for array in (rows, cols, flat):
        array.flags.writeable = False  # Shared through the cache.
    return rows, cols, flat


def sample_depth(
    depth_m: np.ndarray,
    uv_px: np.ndarray,
    window_px: int = DEFAULT_WINDOW_PX,
    foreground_band_m: float = DEFAULT_FOREGROUND_BAND_M,
) -> np.ndarray:
    """Depth (N,) float32 metres at (N, 2) pixel positions (u, v) of a (H, W) depth image.

    The window is ``window_px`` x ``window_px`` pixels centred on the nearest pixel
    ``round(u), round(v)`` (clipped at the image border). Valid samples are finite and > 0.
    The reference is the smallest valid depth with at least ``MIN_CLUSTER_SUPPORT`` samples
    (itself included) in [reference, reference + ``foreground_band_m``] (or the smallest one if
    no cluster reaches that size), i.e. a low percentile that ignores a single outlier; the
    result is the median of the samples in that interval. NaN where uv is not finite, its
    pixel is outside the image, or the window holds no valid sample. Vectorised over points
    (one sort and one searchsorted for all windows).
    """
    if depth_m.ndim != 2:
        raise ValueError(f"depth image must be 2-D (H, W), got shape {depth_m.shape}")
    if window_px < 1:
        raise ValueError(f"window_px must be >= 1, got {window_px}")
    uv = np.asarray(uv_px, dtype=np.float64).reshape(-1, 2)
    count = uv.shape[0]
    result = np.full(count, np.nan, dtype=np.float32)
    if count == 0:
        return result
    height, width = depth_m.shape
    centre = np.floor(uv + 0.5)
    # NaN compares False, so non-finite uv is "outside" too.
    inside = ((centre >= 0) & (centre < (width, height))).all(axis=1)
    if not inside.all():
        if not inside.any():
            return result
        centre = centre[inside]
    cu = centre[:, 0].astype(np.intp)
    cv = centre[:, 1].astype(np.intp)
    n = len(cu)

    row_offsets, col_offsets, flat_offsets = _window_offsets(window_px, width)
    half = window_px // 2
    flat_depth = depth_m.reshape(-1)  # a view for the usual contiguous image
    if (
        cu.min() >= half
        and cv.min() >= half
        and cu.max() < width - half
        and cv.max() < height - half
    ):  # Every window lies inside the image: plain gather.
        samples = flat_depth.take((cv * width + cu)[:, None] + flat_offsets)  # (n, w*w)
        valid = (samples > 0) & (samples < np.inf)  # NaN compares False: invalid
    else:  # Some window crosses the border: its outside pixels are not samples.
        rows = cv[:, None] + row_offsets
        cols = cu[:, None] + col_offsets
        in_image = (rows >= 0) & (rows < height) & (cols >= 0) & (cols < width)
        samples = flat_depth.take(np.where(in_image, rows * width + cols, 0))
        valid = in_image & (samples > 0) & (samples < np.inf)
    # Invalid samples become +inf so that they sort after every valid one.
    ordered = np.sort(np.where(valid, samples, np.inf), axis=1).astype(np.float64)
    valid_count = np.count_nonzero(valid, axis=1)
    has_any = valid_count > 0
    if not has_any.any():
        return result
    size = ordered.shape[1]
    position = np.arange(size)
    is_sample = position < valid_count[:, None]

    # support[i] = number of samples in [ordered[i], ordered[i] + band]: "samples <= ordered[i]
    # + band" minus the i before it. One searchsorted over all rows at once: rows are laid end
    # to end with gaps wider than any value + band, invalid samples parked at top + 1.
    band = float(foreground_band_m)
    top = float(np.max(samples, where=valid, initial=0.0)) + band
    row_gap = top + 2.0 + band
    keys = (np.minimum(ordered, top + 1.0) + (np.arange(n) * row_gap)[:, None]).ravel()
    below = np.searchsorted(keys, keys + band, side="right").reshape(n, size)
    support = np.where(is_sample, below - (np.arange(n) * size)[:, None] - position, 0)
    # Where no two samples agree (every cluster a singleton) the nearest sample is taken.
    needed = np.minimum(MIN_CLUSTER_SUPPORT, support.max(axis=1))
    reference = np.argmax(support >= np.maximum(needed, 1)[:, None], axis=1)  # smallest such

    rows_index = np.arange(n)
    cluster_size = np.maximum(support[rows_index, reference], 1)
    lower = reference + (cluster_size - 1) // 2
    upper = reference + cluster_size // 2
    median = 0.5 * (ordered[rows_index, lower] + ordered[rows_index, upper])
    result[inside] = np.where(has_any, median, np.nan)
    return result


def prefer_predicted_depth(
    sampled_m: np.ndarray, predicted_m: np.ndarray, band_m: float
) -> np.ndarray:
    """Sampled keypoint depths, each replaced by the predicted one (same shape) where that is
    known and the sample is missing or more than ``band_m`` from it.

    The sample measures the surface under the keypoint, the prediction (the refiner's, from the
    whole crop) knows which surface the keypoint belongs to: a keypoint placed a pixel off a
    finger samples the finger next to it or the wall, which the prediction catches. ``band_m``
    0 keeps only predictions; NaN predictions keep the samples.
    """
    with np.errstate(invalid="ignore"):
        replace = np.isfinite(predicted_m) & ~(np.abs(sampled_m - predicted_m) <= band_m)
    return np.where(replace, predicted_m, sampled_m).astype(sampled_m.dtype)


def snap_to_instance_depth(depth_m: np.ndarray, band_m: float) -> np.ndarray:
    """Keypoint depths (..., K) of instances (a hand, a person: the last axis), each more than
    ``band_m`` from its instance's median replaced by that median.

    A 2D estimate that falls off a finger or a limb puts the whole sampling window on the
    background, which no window statistic can tell from the body part; the instance's other
    keypoints can. Missing depths (NaN) stay missing. ``band_m`` <= 0 leaves the depths as they
    are.
    """
    if band_m <= 0 or depth_m.size == 0:
        return depth_m
    # Median over the finite depths by one sort (NaN sorts last): np.nanmedian costs ~100 us
    # per call on arrays this small. An instance without depth gets NaN, which changes nothing.
    ordered = np.sort(depth_m, axis=-1)
    count = np.isfinite(depth_m).sum(axis=-1, keepdims=True)
    lower = np.take_along_axis(ordered, np.maximum((count - 1) // 2, 0), axis=-1)
    upper = np.take_along_axis(ordered, count // 2, axis=-1)
    median = 0.5 * (lower + upper)
    return np.where(np.abs(depth_m - median) > band_m, median, depth_m).astype(depth_m.dtype)
