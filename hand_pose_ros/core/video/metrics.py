"""Video pose metrics: PCK@alpha of the box size, identity switches and jitter.

Accumulated frame by frame against labelled people with stable ids (synthetic sequences,
Penn Action / JHMDB style data). Each frame's predictions are matched one-to-one to the labelled
people by Hungarian assignment on OKS; a labelled person without a match counts all its
keypoints as misses, so dropping people is not rewarded.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment

from hand_pose_ros.core.oks import oks_matrix

MIN_MATCH_OKS = 0.1
"""Below this OKS a prediction is not the same person at all."""
MIN_VISIBLE_KEYPOINTS = 5
MIN_BOX_HEIGHT_PX = 32.0
"""Labelled people with fewer visible keypoints or a smaller visible box are not scored."""


@dataclass
class _PersonHistory:
    frame: int
    uv: np.ndarray  # (J, 2) prediction matched to this person in that frame
    visible: np.ndarray  # (J,) bool


@dataclass
class VideoPoseMetrics:
    """Call :meth:`add_frame` for every frame of a sequence, :meth:`end_sequence` between
    sequences, :meth:`summary` at the end."""

    oks_sigmas: np.ndarray
    alpha: float = 0.2
    correct: int = 0
    scored: int = 0
    frames: int = 0
    id_switches: int = 0
    matched_person_frames: int = 0
    acceleration_px: list[float] = field(default_factory=list)
    acceleration_truth_px: list[float] = field(default_factory=list)
    macs: list[int] = field(default_factory=list)
    keyframes: int = 0
    _last_id: dict[int, int] = field(default_factory=dict)
    _history: dict[int, list[_PersonHistory]] = field(default_factory=dict)
    _truth_history: dict[int, list[_PersonHistory]] = field(default_factory=dict)

    def add_frame(
        self,
        pred_uv: np.ndarray,
        pred_ids: np.ndarray | None,
        truth_uv: np.ndarray,
        truth_visibility: np.ndarray,
        truth_ids: np.ndarray,
        truth_boxes_xywh: np.ndarray,
        macs: int = 0,
        keyframe: bool = True,
    ) -> None:
        """One frame: predictions (P, J, 2) with track ids (or None for per-frame models),
        labels (T, J, 2), COCO visibility (T, J), label ids (T,), visible boxes (T, 4)."""
        self.frames += 1
        self.macs.append(int(macs))
        self.keyframes += int(keyframe)
        visible = np.asarray(truth_visibility) == 2
        heights = np.asarray(truth_boxes_xywh, np.float64).reshape(-1, 4)[:, 3]
        scored = (visible.sum(axis=1) >= MIN_VISIBLE_KEYPOINTS) & (heights >= MIN_BOX_HEIGHT_PX)
        matches = self._match(pred_uv, truth_uv, truth_visibility, truth_boxes_xywh)
        for t in np.flatnonzero(scored):
            box_size = float(np.max(truth_boxes_xywh[t, 2:]))
            self.scored += int(visible[t].sum())
            p = matches.get(int(t))
            if p is None:
                continue
            self.matched_person_frames += 1
            error = np.linalg.norm(pred_uv[p] - truth_uv[t], axis=-1)
            self.correct += int(((error <= self.alpha * box_size) & visible[t]).sum())
            person = int(truth_ids[t])
            if pred_ids is not None:
                previous = self._last_id.get(person)
                if previous is not None and previous != int(pred_ids[p]):
                    self.id_switches += 1
                self._last_id[person] = int(pred_ids[p])
            self._add_history(self._history, person, pred_uv[p], visible[t], self.acceleration_px)
            self._add_history(
                self._truth_history, person, truth_uv[t], visible[t], self.acceleration_truth_px
            )

    def _match(self, pred_uv, truth_uv, truth_visibility, boxes_xywh) -> dict[int, int]:
        if not len(pred_uv) or not len(truth_uv):
            return {}
        areas = np.maximum(boxes_xywh[:, 2] * boxes_xywh[:, 3], 1.0)
        similarity = np.nan_to_num(
            oks_matrix(pred_uv, truth_uv, truth_visibility, areas, self.oks_sigmas), nan=0.0
        )
        rows, cols = linear_sum_assignment(-similarity)
        return {int(t): int(p) for p, t in zip(rows, cols) if similarity[p, t] >= MIN_MATCH_OKS}

    def _add_history(self, store, person, uv, visible, out: list[float]) -> None:
        """Second differences of a person's keypoints over three consecutive frames."""
        frame = self.frames
        history = [h for h in store.get(person, []) if h.frame >= frame - 2]
        history.append(_PersonHistory(frame, np.asarray(uv, np.float64), visible))
        store[person] = history
        if len(history) == 3 and history[0].frame == frame - 2:
            both = history[0].visible & history[1].visible & history[2].visible
            acceleration = history[2].uv - 2 * history[1].uv + history[0].uv
            out.extend(np.linalg.norm(acceleration[both], axis=-1).tolist())

    def end_sequence(self) -> None:
        self._last_id.clear()
        self._history.clear()
        self._truth_history.clear()

    def summary(self) -> dict[str, float]:
        return {
            f"pck@{self.alpha:g}": self.correct / max(1, self.scored),
            "scored_keypoints": self.scored,
            "frames": self.frames,
            "id_switches": self.id_switches,
            "id_switches_per_100_frames": 100.0 * self.id_switches / max(1, self.frames),
            "jitter_px": float(np.mean(self.acceleration_px)) if self.acceleration_px else 0.0,
            "truth_acceleration_px": (
                float(np.mean(self.acceleration_truth_px)) if self.acceleration_truth_px else 0.0
            ),
            "mean_macs_per_frame": float(np.mean(self.macs)) if self.macs else 0.0,
            "keyframe_ratio": self.keyframes / max(1, self.frames),
        }
