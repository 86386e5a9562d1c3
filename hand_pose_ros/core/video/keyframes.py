"""When to run the full multi-person model instead of propagating tracks with DKD."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class KeyframePolicy:
    """A keyframe on the first frame, every ``interval_frames`` frames (people entering the
    view are found there), and on the frame after any track's confidence falls below
    ``min_track_confidence`` or below ``confidence_drop_ratio`` times its confidence on the
    first propagated frame after its last keyframe (DKD is losing it, or it is being occluded).

    The relative test lets a person who is only partly in view (a low but steady confidence)
    be propagated without forcing a keyframe on every frame.

    Also a keyframe once ``min_motion_cells`` moving cells lie outside every track's box
    (:mod:`~hand_pose_ros.core.video.motion`; 0 = off), at least ``motion_gap_frames`` after
    the last keyframe: somebody untracked moved, a walker entering the view or a person the
    last keyframe missed. Each such keyframe also corrects the tracks' drift, which is why a
    longer interval pays for them.
    """

    interval_frames: int = 12
    min_track_confidence: float = 0.0
    confidence_drop_ratio: float = 0.6
    min_motion_cells: int = 2
    motion_gap_frames: int = 3

    def __post_init__(self) -> None:
        if self.interval_frames < 1:
            raise ValueError(f"interval_frames must be >= 1, got {self.interval_frames}")
        if not 0.0 <= self.min_track_confidence <= 1.0:
            raise ValueError("min_track_confidence must be in [0, 1]")
        if not 0.0 <= self.confidence_drop_ratio <= 1.0:
            raise ValueError("confidence_drop_ratio must be in [0, 1]")
        if self.min_motion_cells < 0 or self.motion_gap_frames < 1:
            raise ValueError("min_motion_cells must be >= 0 and motion_gap_frames >= 1")

    def reason(
        self,
        frames_since_keyframe: int | None,
        track_confidences: np.ndarray,
        reference_confidences: np.ndarray | None = None,
        untracked_motion_cells: int = 0,
    ) -> str:
        """Why this frame must be a keyframe, or '' when tracks can be propagated.

        ``frames_since_keyframe``: this frame's distance from the last keyframe (1 for the frame
        right after it), None before the first keyframe. ``reference_confidences``: each
        track's confidence on its first propagated frame (NaN where it has none yet).
        ``untracked_motion_cells``: the frame's count from
        :class:`~hand_pose_ros.core.video.motion.UntrackedMotion`."""
        if frames_since_keyframe is None:
            return "start"
        if frames_since_keyframe >= self.interval_frames:
            return "interval"
        confidences = np.asarray(track_confidences, np.float64)
        if confidences.size and float(confidences.min()) < self.min_track_confidence:
            return "low_confidence"
        if reference_confidences is not None and self.confidence_drop_ratio > 0:
            references = np.asarray(reference_confidences, np.float64)
            with np.errstate(invalid="ignore"):
                dropped = confidences < self.confidence_drop_ratio * references
            if dropped.any():
                return "confidence_drop"
        if (
            self.min_motion_cells
            and untracked_motion_cells >= self.min_motion_cells
            and frames_since_keyframe >= self.motion_gap_frames
        ):
            return "untracked_motion"
        return ""


DEFAULT_POLICY = KeyframePolicy()
