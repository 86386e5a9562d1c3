"""Untracked motion: a cheap sign that somebody no track covers is moving in view.

Between keyframes only tracked people are followed: a person who walks in, or whom the last
keyframe missed, is found at the next keyframe at the earliest. Differencing two frames (a
small grey copy of the network input, after undoing the camera's own pan or tilt: the shift
that best aligns the two frames' row and column brightness profiles) shows where the picture
changed. Changed cells outside every track's box mean somebody untracked moved, and that
warrants a keyframe (:class:`~hand_pose_ros.core.video.keyframes.KeyframePolicy`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

SUBSAMPLE = 2
"""Network-input pixels per grey pixel along each axis."""


@dataclass(frozen=True)
class MotionSettings:
    """What counts as motion; ``min_change`` was chosen on the validation sequences (0.10
    costs more keyframes than the compute budget allows, 0.15 finds fewer people)."""

    cell_px: int = 8
    """Side of a motion cell in network-input pixels (a multiple of SUBSAMPLE)."""
    min_change: float = 0.12
    """Mean absolute brightness change (0-1 scale) over a cell that counts as motion."""
    max_shift_px: tuple[int, int] = (8, 4)
    """Largest camera shift (x, y) in network-input pixels undone between two frames."""

    def __post_init__(self) -> None:
        if self.cell_px < SUBSAMPLE or self.cell_px % SUBSAMPLE:
            raise ValueError(f"cell_px must be a positive multiple of {SUBSAMPLE}")
        if self.min_change <= 0.0:
            raise ValueError("min_change must be > 0")


DEFAULT_MOTION = MotionSettings()


class UntrackedMotion:
    """Counts the moving cells outside the tracks' boxes, frame after frame."""

    def __init__(self, input_spec: dict[str, Any], settings: MotionSettings = DEFAULT_MOTION):
        self.settings = settings
        std = np.asarray(input_spec["std"], np.float32)
        # network input = (pixel * scale - mean) / std, so pixel * scale = input * std + mean
        self._grey_weights = std / 3.0
        self._grey_offset = float(np.mean(input_spec["mean"]))
        self._previous: np.ndarray | None = None

    def reset(self) -> None:
        self._previous = None

    def grey(self, network_input: np.ndarray) -> np.ndarray:
        """(h, w) brightness 0-1 of a (1, 3, H, W) network input, SUBSAMPLE times smaller."""
        pixels = network_input[0, :, ::SUBSAMPLE, ::SUBSAMPLE]
        return np.tensordot(self._grey_weights, pixels, axes=1) + self._grey_offset

    def update(self, network_input: np.ndarray, boxes_px: np.ndarray) -> int:
        """Moving cells since the previous call that lie outside every (x0, y0, x1, y1) box
        (network-input pixels); 0 on the first frame."""
        grey = self.grey(network_input)
        previous, self._previous = self._previous, grey
        if previous is None or previous.shape != grey.shape:
            return 0
        dx, dy = (
            _best_shift(previous.mean(axis=axis), grey.mean(axis=axis), limit // SUBSAMPLE)
            for axis, limit in (
                (0, self.settings.max_shift_px[0]),
                (1, self.settings.max_shift_px[1]),
            )
        )
        height, width = grey.shape
        change = np.zeros_like(grey)  # 0 where the shifted frames do not overlap
        (rows_now, rows_before), (cols_now, cols_before) = _overlap(height, dy), _overlap(width, dx)
        now = (rows_now, cols_now)
        np.abs(grey[now] - previous[rows_before, cols_before], out=change[now])
        cell = self.settings.cell_px // SUBSAMPLE
        rows, cols = height // cell, width // cell
        cells = (
            change[: rows * cell, : cols * cell].reshape(rows, cell, cols, cell).mean(axis=(1, 3))
        )
        moving = cells >= self.settings.min_change
        for x0, y0, x1, y1 in np.asarray(boxes_px, np.float64).reshape(-1, 4):
            if np.isfinite([x0, y0, x1, y1]).all():
                c0, r0 = (max(0, int(v // self.settings.cell_px)) for v in (x0, y0))
                c1, r1 = (int(np.ceil(v / self.settings.cell_px)) for v in (x1, y1))
                moving[r0:r1, c0:c1] = False
        return int(moving.sum())


def _overlap(length: int, shift: int) -> tuple[slice, slice]:
    """Where an axis of ``length`` pixels overlaps itself moved by ``shift``: the slice of the
    current frame and the slice of the previous one that line up (current[i + shift] with
    previous[i])."""
    return (
        slice(max(0, shift), length + min(0, shift)),
        slice(max(0, -shift), length + min(0, -shift)),
    )


def _best_shift(previous: np.ndarray, current: np.ndarray, limit: int) -> int:
    """The shift s in [-limit, limit] minimising the mean |current[i + s] - previous[i]| of
    two 1-D brightness profiles: how far the picture moved along that axis."""
    errors = []
    for shift in range(-limit, limit + 1):
        now, before = _overlap(len(current), shift)
        errors.append(np.abs(current[now] - previous[before]).mean())
    return int(np.argmin(errors)) - limit
