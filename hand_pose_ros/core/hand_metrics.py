"""Accuracy of 2.5D hand keypoints against synthetic ground truth.

One implementation serves training evaluation and the built-in runner, so the figures in the
model card and the ones `make demo` prints are computed the same way.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from hand_pose_ros.core.camera import Intrinsics

VISIBLE = 2
"""Visibility label of a keypoint that is in frame and not occluded."""
OCCLUDED = 1
"""Visibility label of an in-frame keypoint hidden by something nearer the camera."""

PCK_FRACTION_OF_BOX = 0.1
"""PCK threshold as a fraction of the hand's 2D bounding-box size (longer side)."""


def pck_threshold_px(keypoints_uv: np.ndarray) -> float:
    """PCK distance of one hand: `PCK_FRACTION_OF_BOX` of the longer side of the box around its
    (K, 2) labelled keypoints, out-of-frame ones included, so a hand's threshold does not shrink
    as it leaves the image."""
    extent = np.nanmax(keypoints_uv, axis=0) - np.nanmin(keypoints_uv, axis=0)
    return PCK_FRACTION_OF_BOX * float(np.max(extent))


class DetectedHand(Protocol):
    """What a metric reads of a detection; `core.hand_estimator.HandKeypoints` satisfies it."""

    side: int
    uv_px: np.ndarray  # (K, 2)
    xyz_m: np.ndarray  # (K, 3)


class HandGroundTruth(Protocol):
    """The labels a metric needs; `hand_pose_ros.synthetic.HandFrame` satisfies it."""

    keypoints_uv: np.ndarray  # (2, K, 2)
    keypoints_xyz_m: np.ndarray  # (2, K, 3) joint centres
    keypoint_depth_m: np.ndarray  # (2, K) surface depth at the keypoint, NaN where not visible
    visibility: np.ndarray  # (2, K)
    present: np.ndarray  # (2,)
    intrinsics: Intrinsics


@dataclass
class HandMetrics:
    """Accumulates per-frame results; `summary()` gives the reported figures."""

    pixel_errors: list[np.ndarray] = field(default_factory=list)
    pck_thresholds_px: list[np.ndarray] = field(default_factory=list)
    surface_errors_m: list[np.ndarray] = field(default_factory=list)
    joint_errors_m: list[np.ndarray] = field(default_factory=list)
    presence_correct: int = 0
    presence_total: int = 0
    frames: int = 0

    def add(
        self,
        predicted_uv: np.ndarray,
        predicted_xyz_m: np.ndarray,
        predicted_present: np.ndarray,
        truth: HandGroundTruth,
    ) -> None:
        """Add one frame. Predictions are (2, K, ...) arrays; NaN rows where a side is not detected.

        Visible keypoints of present hands count; a hand the model missed counts as a miss for
        PCK (infinite pixel error) and is left out of the 3D error, which needs a prediction.
        """
        self.frames += 1
        predicted_present = np.asarray(predicted_present, dtype=bool)
        self.presence_correct += int(np.sum(predicted_present == truth.present))
        self.presence_total += predicted_present.size
        for side in np.flatnonzero(truth.present):
            visible = truth.visibility[side] == VISIBLE
            if not visible.any():
                continue
            uv_true = truth.keypoints_uv[side]
            if predicted_present[side]:
                errors = np.linalg.norm(predicted_uv[side][visible] - uv_true[visible], axis=-1)
                errors = np.where(np.isfinite(errors), errors, np.inf)
                surface_true = truth.intrinsics.back_project(
                    uv_true[visible], truth.keypoint_depth_m[side][visible]
                )
                xyz = predicted_xyz_m[side][visible]
                self.surface_errors_m.append(np.linalg.norm(xyz - surface_true, axis=-1))
                self.joint_errors_m.append(
                    np.linalg.norm(xyz - truth.keypoints_xyz_m[side][visible], axis=-1)
                )
            else:
                errors = np.full(int(visible.sum()), np.inf)
            self.pixel_errors.append(errors)
            self.pck_thresholds_px.append(np.full(errors.shape, pck_threshold_px(uv_true)))

    def add_hands(self, hands: Iterable[DetectedHand], truth: HandGroundTruth) -> None:
        """Add one frame from the estimator's detections (at most one per side)."""
        self.add(*_by_side(hands, truth.keypoints_uv.shape[1]), truth)

    def summary(self) -> dict[str, float | int]:
        """Figures as reported in the README and model card (NaN where nothing was measured)."""
        pixel_errors = _concat(self.pixel_errors)
        thresholds = _concat(self.pck_thresholds_px)
        surface = _concat(self.surface_errors_m)
        joint = _concat(self.joint_errors_m)
        finite_surface = surface[np.isfinite(surface)]
        finite_joint = joint[np.isfinite(joint)]
        return {
            "frames": self.frames,
            "visible_keypoints": int(pixel_errors.size),
            "pck@0.1": _mean(pixel_errors <= thresholds),
            "median_2d_error_px": _median(pixel_errors),
            "mean_3d_error_mm": _mean(finite_surface) * 1000.0,
            "median_3d_error_mm": _median(finite_surface) * 1000.0,
            "mean_3d_error_to_joint_centre_mm": _mean(finite_joint) * 1000.0,
            "depth_coverage": finite_surface.size / surface.size if surface.size else float("nan"),
            "presence_accuracy": (
                self.presence_correct / self.presence_total if self.presence_total else float("nan")
            ),
        }


def _by_side(
    hands: Iterable[DetectedHand], keypoint_count: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(2, K, 2) uv and (2, K, 3) xyz, NaN for sides not detected, and (2,) presence."""
    uv = np.full((2, keypoint_count, 2), np.nan)
    xyz = np.full((2, keypoint_count, 3), np.nan)
    present = np.zeros(2, dtype=bool)
    for hand in hands:
        uv[hand.side], xyz[hand.side], present[hand.side] = hand.uv_px, hand.xyz_m, True
    return uv, xyz, present


def _concat(chunks: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(chunks) if chunks else np.zeros(0)


def _mean(values: np.ndarray) -> float:
    return float(np.mean(values)) if values.size else float("nan")


def _median(values: np.ndarray) -> float:
    return float(np.median(values)) if values.size else float("nan")


@dataclass
class HandJitter:
    """How much a stream's keypoints shake: the mean length (pixels) of each keypoint's second
    difference over three consecutive frames, for the predictions and for the labels (the true
    motion's own acceleration, the floor a perfect estimate would show). Keypoints count where
    they are labelled visible and predicted in all three frames."""

    predicted_px: list[np.ndarray] = field(default_factory=list)
    truth_px: list[np.ndarray] = field(default_factory=list)
    _recent: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=list)

    def add_hands(self, hands: Iterable[DetectedHand], truth: HandGroundTruth) -> None:
        """Add the next frame of the clip from the estimator's hands (at most one per side)."""
        self.add(_by_side(hands, truth.keypoints_uv.shape[1])[0], truth)

    def add(self, predicted: np.ndarray, truth: HandGroundTruth) -> None:
        """Add the next frame of the clip: (2, K, 2) keypoints, NaN where a side is missing."""
        visible = (truth.visibility == VISIBLE) & truth.present[:, None]
        self._recent = [*self._recent[-2:], (predicted, truth.keypoints_uv, visible)]
        if len(self._recent) < 3:
            return
        (p0, t0, v0), (p1, t1, v1), (p2, t2, v2) = self._recent
        counted = v0 & v1 & v2 & np.isfinite(p0 + p1 + p2).all(axis=-1)
        self.predicted_px.append(np.linalg.norm((p2 - 2 * p1 + p0)[counted], axis=-1))
        self.truth_px.append(np.linalg.norm((t2 - 2 * t1 + t0)[counted], axis=-1))

    def end_clip(self) -> None:
        """The next frame starts another clip."""
        self._recent = []

    def summary(self) -> dict[str, float]:
        return {
            "jitter_px": _mean(_concat(self.predicted_px)),
            "truth_acceleration_px": _mean(_concat(self.truth_px)),
        }
