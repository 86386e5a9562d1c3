"""When to run the full multi-person model instead of propagating tracks with DKD."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class KeyframePolicy:
    """A keyframe on the first frame, every ``interval_frames`` frames (people entering the
    view are found there), and on the frame after any track's confidence falls below
    ``min_track_confidence`` (DKD has lost it or it is being occluded)."""

    interval_frames: int = 10
    min_track_confidence: float = 0.3

    def __post_init__(self) -> None:
        if self.interval_frames < 1:
            raise ValueError(f"interval_frames must be >= 1, got {self.interval_frames}")
        if not 0.0 <= self.min_track_confidence <= 1.0:
            raise ValueError("min_track_confidence must be in [0, 1]")

    def reason(self, frames_since_keyframe: int | None, track_confidences: np.ndarray) -> str:
        """Why this frame must be a keyframe, or '' when tracks can be propagated.

        ``frames_since_keyframe``: this frame's distance from the last keyframe (1 for the frame
        right after it), None before the first keyframe."""
        if frames_since_keyframe is None:
            return "start"
        if frames_since_keyframe >= self.interval_frames:
            return "interval"
        confidences = np.asarray(track_confidences, np.float64)
        if confidences.size and float(confidences.min()) < self.min_track_confidence:
            return "low_confidence"
        return ""


DEFAULT_POLICY = KeyframePolicy()
