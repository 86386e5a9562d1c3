"""Hand tracking between detections: on most frames of a stream only the refiner runs.

A hand moves little between two depth frames (30-90 Hz), so the previous frame's refined
keypoints give a crop at least as good as the first stage's mask, and the first stage need not
run on every frame, as in MediaPipe Hands (a palm detector only when tracking needs one). The
first stage still runs every ``redetect_interval_frames`` frames (a hand that came into view is
found there; presence, visibility and keypose are refreshed there), on a frame where a tracked
hand is lost (its keypoint scores fall below ``min_track_score``: it left the view or was
covered; or its depth is beyond ``max_depth_m``: the crop slid onto the background), and after a
gap of more than ``max_gap_s`` in the stream.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Protocol

import numpy as np

DEFAULT_REDETECT_INTERVAL_FRAMES = 4
"""First-stage runs at least every this many frames: a new hand waits at most this many - 1
frames; chosen on validation sequences (see docs/studies/hand.md, "Tracking")."""
DEFAULT_MIN_TRACK_SCORE = 0.3
"""Mean keypoint score (clipped heatmap peak) below which a tracked hand counts as lost."""
DEFAULT_MAX_GAP_S = 0.25
"""Longest time between two frames over which hands are tracked (dropped frames, a paused
stream): after a longer gap the hand may be anywhere."""
DEFAULT_MAX_TRACK_DEPTH_M = 1.2
"""Median keypoint depth (metres, the refiner's prediction) beyond which a tracked hand is lost:
a wearer's hands are within arm's reach, so a track that far has slid onto the background,
where its keypoint scores can stay high. Set from that reach, not fitted; on the validation
clips it changes nothing beyond noise (docs/studies/hand.md, "Tracking")."""
TRACKED_REFINER_PASSES = 1
"""Refiner runs per tracked hand, whatever ``refiner_passes`` says for first-stage frames: a
second pass recuts a crop around the first pass's keypoints, and a tracked hand's crop is
already cut around keypoints. Validation clips, in-budget pair (two passes on first-stage
frames): 80.7% / 25.1 mm with one pass on tracked frames, 80.8% / 25.2 mm with two."""


class TrackedHand(Protocol):
    """What tracking reads and writes of a hand (`core.hand_estimator.HandKeypoints`)."""

    side: int
    uv_px: np.ndarray
    score: np.ndarray
    depth_m: np.ndarray  # the refiner's predicted keypoint depths, NaN without that output


@dataclass(frozen=True)
class HandTrackingSettings:
    """When the first stage runs again; see the module docstring."""

    redetect_interval_frames: int = DEFAULT_REDETECT_INTERVAL_FRAMES
    min_track_score: float = DEFAULT_MIN_TRACK_SCORE
    max_gap_s: float = DEFAULT_MAX_GAP_S
    max_depth_m: float = DEFAULT_MAX_TRACK_DEPTH_M

    def __post_init__(self) -> None:
        if self.redetect_interval_frames < 1:
            raise ValueError(
                f"redetect_interval_frames must be >= 1, got {self.redetect_interval_frames}"
            )
        if not 0.0 <= self.min_track_score <= 1.0:
            raise ValueError(f"min_track_score must be in [0, 1], got {self.min_track_score}")
        if self.max_gap_s < 0.0:
            raise ValueError(f"max_gap_s must be >= 0, got {self.max_gap_s}")
        if not self.max_depth_m > 0.0:
            raise ValueError(f"max_depth_m must be > 0 (inf: no limit), got {self.max_depth_m}")


class HandTracks:
    """The hands of the previous frame and how long ago the first stage last ran."""

    def __init__(self, settings: HandTrackingSettings) -> None:
        self.settings = settings
        self._hands: list[TrackedHand] = []
        self._frames_since_detection = 0
        self._last_time_s: float | None = None

    def due_for_detection(self, time_s: float | None) -> bool:
        """Whether the first stage must run on a frame taken at ``time_s`` (seconds, any
        epoch; None: the gap rule is not applied)."""
        if not self._hands:
            return True
        if self._frames_since_detection >= self.settings.redetect_interval_frames:
            return True
        if time_s is None or self._last_time_s is None:
            return False
        return not 0.0 <= time_s - self._last_time_s <= self.settings.max_gap_s

    def hands_to_track(self) -> list[TrackedHand]:
        """Copies of the previous frame's hands, to be refined on the new frame."""
        return [dataclasses.replace(hand) for hand in self._hands]  # type: ignore[type-var]

    def lost(self, hands: list[TrackedHand]) -> bool:
        """Whether a tracked hand's mean keypoint score fell below ``min_track_score`` or its
        median predicted depth lies beyond ``max_depth_m`` (never, without predicted depths)."""
        return any(
            float(np.mean(hand.score)) < self.settings.min_track_score
            or _median_depth_m(hand) > self.settings.max_depth_m
            for hand in hands
        )

    def update(self, hands: list[TrackedHand], time_s: float | None, detected: bool) -> None:
        """Remember the hands found on the frame at ``time_s``."""
        self._hands = list(hands)
        self._frames_since_detection = 1 if detected else self._frames_since_detection + 1
        self._last_time_s = time_s


def _median_depth_m(hand: TrackedHand) -> float:
    """Median of a hand's finite predicted keypoint depths; NaN (never beyond) without any."""
    finite = hand.depth_m[np.isfinite(hand.depth_m)]
    return float(np.median(finite)) if finite.size else float("nan")
