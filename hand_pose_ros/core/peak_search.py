"""Joint candidates on heatmap stacks: the search map, max-pool NMS and the top k per joint.

The first, whole-map stage of bottom-up decoding (:class:`~hand_pose_ros.core.body_decoder.
BodyDecoder` does the rest). :class:`PeakSearch` describes one such search, so that a model
which carries it as graph nodes (``training.body.peak_outputs``) can say what it computed and
the decoder can tell whether that is what it needs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from hand_pose_ros.core.letterbox import bilinear_taps

PEAK_SEARCH_MODES: tuple[str, ...] = ("coarse", "fused", "fine")
"""Where peaks are searched, fastest first in numpy: the 1/4-scale heatmaps; their 1/4 grid
with the 1/2-scale heatmaps block-averaged in; the fully fused 1/2 grid (HigherHRNet's way,
which also keeps one joint of two people a couple of 1/4 pixels apart separate). Found joints
are placed on the fused 1/2 map either way. Validation AP of the shipped model (500 images): 0.108,
0.114, 0.115; decode at 10 people about 1.3, 1.4 and 2.3 ms searching in numpy, 0.9 ms for
"fused" with the shipped model's in-graph search (the fastest then)."""
DEFAULT_PEAK_SEARCH = "fused"


@dataclass(frozen=True)
class PeakSearch:
    """How joint candidates are found: local maxima (``nms_kernel_px`` window) of at least
    ``min_score`` on the ``mode`` map of stride ``stride``, the best ``per_joint`` of each joint.
    In-graph candidates serve a decoder whose search they cover (:meth:`covers`)."""

    mode: str  # one of PEAK_SEARCH_MODES
    stride: int  # of the search map, input pixels
    nms_kernel_px: int  # on the search map
    min_score: float
    per_joint: int

    def covers(self, needed: PeakSearch) -> bool:
        """Whether these candidates contain ``needed``'s: same map and window, a threshold no
        higher, at least as many per joint (candidates are sorted, so the first ones match)."""
        return (
            (self.mode, self.stride, self.nms_kernel_px)
            == (needed.mode, needed.stride, needed.nms_kernel_px)
            and self.min_score <= needed.min_score
            and self.per_joint >= needed.per_joint
        )

    def as_metadata(self) -> dict[str, Any]:
        """The ``outputs.peak_scores`` fields that describe an in-graph search."""
        return {
            "search": self.mode,
            "stride": self.stride,
            "nms_kernel_px": self.nms_kernel_px,
            "min_score": self.min_score,
            "per_joint": self.per_joint,
        }

    @classmethod
    def from_metadata(cls, spec: Mapping[str, Any]) -> PeakSearch:
        return cls(
            str(spec["search"]),
            int(spec["stride"]),
            int(spec["nms_kernel_px"]),
            float(spec["min_score"]),
            int(spec["per_joint"]),
        )


class Scratch:
    """Named arrays reused from call to call.

    Decoding allocates a few (J, H, W) float32 maps per frame (~1 MB each at 256x192); freshly
    allocated, every one costs page faults that take longer than the arithmetic on it.
    """

    def __init__(self) -> None:
        self._arrays: dict[str, np.ndarray] = {}
        self._flags: set[str] = set()

    def get(self, name: str, shape: tuple[int, ...], dtype: Any = np.float32) -> np.ndarray:
        array = self._arrays.get(name)
        if array is None or array.shape != shape or array.dtype != dtype:
            array = np.empty(shape, dtype)
            self._arrays[name] = array
            self._flags.discard(name + "_border")
        return array

    def get_flag(self, name: str) -> bool:
        """Whether ``set_flag(name)`` was called since the array it names was (re)allocated."""
        return name in self._flags

    def set_flag(self, name: str) -> None:
        self._flags.add(name)


def resize_maps(
    maps: np.ndarray, height: int, width: int, scratch: Scratch | None = None
) -> np.ndarray:
    """Bilinear resize (pixel-centre aware) of a (C, h, w) float32 stack to (C, height, width).

    With ``scratch`` the result lives in its "resized" array (overwritten by the next call).
    """
    if maps.shape[1:] == (height, width):
        return maps
    scratch = scratch or Scratch()
    channels = maps.shape[0]
    if (2 * height, 2 * width) == maps.shape[1:]:
        return _halve(maps, scratch)
    r0, r1, wy = bilinear_taps(maps.shape[1], height)
    c0, c1, wx = bilinear_taps(maps.shape[2], width)
    top = np.take(maps, r0, axis=1, out=scratch.get("rows_top", (channels, height, maps.shape[2])))
    bottom = np.take(
        maps, r1, axis=1, out=scratch.get("rows_bottom", (channels, height, maps.shape[2]))
    )
    bottom -= top
    bottom *= wy[:, None]
    top += bottom
    left = np.take(top, c0, axis=2, out=scratch.get("resized", (channels, height, width)))
    right = np.take(top, c1, axis=2, out=scratch.get("resized_right", (channels, height, width)))
    right -= left
    right *= wx
    left += right
    return left


def _halve(maps: np.ndarray, scratch: Scratch) -> np.ndarray:
    """Exact bilinear /2 (pixel-centre aware): each output pixel samples the centre of a 2x2
    block, i.e. the block's mean. Row pairs are summed first (whole contiguous rows), then
    column pairs of that half-height stack: two passes over the input instead of four strided
    ones. Scratch arrays: no per-call allocation."""
    channels, height, width = maps.shape
    rows = np.add(
        maps[:, 0::2], maps[:, 1::2], out=scratch.get("halved_rows", (channels, height // 2, width))
    )
    out = scratch.get("resized", (channels, height // 2, width // 2))
    np.add(rows[..., 0::2], rows[..., 1::2], out=out)
    out *= 0.25
    return out


def max_pool(maps: np.ndarray, kernel_px: int, scratch: Scratch | None = None) -> np.ndarray:
    """Same-size max filter over a (C, H, W) stack with a square odd kernel.

    Separable, on a copy padded with -inf; along each axis a window of k is built by doubling
    (windows of 1, 2, 4, ... then two overlapping ones), ~log2(k) + 1 passes per axis.
    With ``scratch`` the result lives in its scratch arrays (overwritten by the next call).
    """
    scratch = scratch or Scratch()
    half = kernel_px // 2
    channels, height, width = maps.shape
    padded_shape = (channels, height + 2 * half, width + 2 * half)
    padded = scratch.get("pool_padded", padded_shape, maps.dtype)
    if not scratch.get_flag("pool_padded_border"):
        padded.fill(-np.inf)
        scratch.set_flag("pool_padded_border")
    padded[:, half : half + height, half : half + width] = maps
    rows = _window_max(padded, kernel_px, axis=1, scratch=scratch, name="pool_rows")
    return _window_max(rows, kernel_px, axis=2, scratch=scratch, name="pool_cols")


def _window_max(
    values: np.ndarray, kernel_px: int, axis: int, scratch: Scratch, name: str
) -> np.ndarray:
    """out[i] = max(values[i : i + k]) along ``axis`` (length shrinks by k - 1)."""

    def along(array: np.ndarray, start: int, stop: int) -> np.ndarray:
        index = [slice(None)] * array.ndim
        index[axis] = slice(start, stop)
        return array[tuple(index)]

    window, current = 1, values
    while 2 * window <= kernel_px:
        length = current.shape[axis] - window
        shape = list(current.shape)
        shape[axis] = length
        doubled = scratch.get(f"{name}_{2 * window}", tuple(shape), values.dtype)
        np.maximum(along(current, 0, length), along(current, window, window + length), out=doubled)
        window, current = 2 * window, doubled
    if window == kernel_px:
        return current
    length = values.shape[axis] - kernel_px + 1
    shape = list(current.shape)
    shape[axis] = length
    out = scratch.get(f"{name}_out", tuple(shape), values.dtype)
    shift = kernel_px - window
    np.maximum(along(current, 0, length), along(current, shift, shift + length), out=out)
    return out


def top_candidates(
    maps: np.ndarray, kernel_px: int, threshold: float, k: int, scratch: Scratch | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Local maxima >= threshold, the k best per channel.

    Returns ``y``, ``x`` (C, k) int and ``score`` (C, k) float32; unused slots score -1.
    """
    channels, height, width = maps.shape
    scratch = scratch or Scratch()
    pooled = max_pool(maps, kernel_px, scratch)
    # A pixel is a local maximum at or above the threshold iff it reaches both its pooled
    # value and the threshold: one whole-map comparison against their maximum.
    np.maximum(pooled, threshold, out=pooled)
    peak = np.greater_equal(maps, pooled, out=scratch.get("peak", maps.shape, bool))
    above = np.flatnonzero(peak)
    joint, rest = np.divmod(above, height * width)
    y, x = np.divmod(rest, width)
    value = maps.reshape(-1)[above]
    # By joint, then by descending value: one sort key, as joint steps exceed any value range
    # (flatnonzero lists peaks by joint already; a stable sort keeps ties in that order).
    span = float(value.max() - value.min()) + 1.0 if value.size else 1.0
    order = np.argsort(joint * span - value, kind="stable")
    joint, y, x, value = joint[order], y[order], x[order], value[order]
    first = np.searchsorted(joint, np.arange(channels))
    rank = np.arange(joint.size) - first[joint]
    keep = rank < k
    out_y = np.zeros((channels, k), np.intp)
    out_x = np.zeros((channels, k), np.intp)
    out_score = np.full((channels, k), -1.0, np.float32)
    out_y[joint[keep], rank[keep]] = y[keep]
    out_x[joint[keep], rank[keep]] = x[keep]
    out_score[joint[keep], rank[keep]] = value[keep]
    return out_y, out_x, out_score
