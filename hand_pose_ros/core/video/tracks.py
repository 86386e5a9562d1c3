"""Track identities: OKS association of keyframe detections with tracks, birth and death.

A track keeps its raw pose (what DKD propagates from) and a One-Euro smoothed copy (what is
published). Association is one Hungarian assignment on OKS between the tracks' latest poses and
the keyframe's detections, so ids stay stable as long as people do not jump between keyframes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment

from hand_pose_ros.core.oks import oks_matrix
from hand_pose_ros.core.one_euro import DEFAULT_SMOOTHING, OneEuroFilter, OneEuroSettings

BOX_AREA_FRACTION = 0.53
"""A person's segment area is about this fraction of their keypoint box (COCO's ratio)."""


@dataclass(frozen=True)
class TrackingSettings:
    min_association_oks: float = 0.05
    """A detection continues a track only at this OKS or more."""
    min_birth_score: float = 0.05
    """A detection unmatched to any track starts one when its person score is at least this."""
    max_keyframe_misses: int = 2
    """A track no keyframe confirmed this many times in a row ends."""
    min_keypoint_score: float = 0.1
    """Keypoints below this score do not count for OKS or a track's extent."""
    max_duplicate_oks: float = 0.9
    """Two tracks this similar (OKS) follow one person: the younger one ends."""
    min_propagated_score: float = 0.25
    """A joint DKD propagates with a lower score stays where it was (its score is kept, so
    the track's confidence still shows the loss): a weak peak is more often a wrong one."""


DEFAULT_TRACKING = TrackingSettings()


@dataclass
class Track:
    track_id: int
    uv_px: np.ndarray  # (J, 2) raw pose, source image pixels
    score: np.ndarray  # (J,)
    smoother: OneEuroFilter | None
    smoothed_uv_px: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    keyframe_misses: int = 0
    age_frames: int = 0
    reference_confidence: float = float("nan")
    """Confidence on the first propagated frame after the last keyframe (NaN until then)."""

    @property
    def confidence(self) -> float:
        """Mean keypoint score: how sure the tracker still is about this person."""
        return float(np.mean(self.score)) if self.score.size else 0.0

    def update(self, uv_px: np.ndarray, score: np.ndarray, time_s: float) -> None:
        self.uv_px, self.score = np.asarray(uv_px, np.float64), np.asarray(score, np.float32)
        self.smoothed_uv_px = (
            self.uv_px.copy() if self.smoother is None else self.smoother(self.uv_px, time_s)
        )
        self.age_frames += 1


def pose_areas_px2(uv_px: np.ndarray, score: np.ndarray, min_score: float) -> np.ndarray:
    """(P,) OKS scale of each pose: a fraction of its confident keypoints' box area."""
    uv = np.asarray(uv_px, np.float64)
    use = (np.asarray(score) >= min_score) & np.isfinite(uv).all(axis=-1)
    big = np.where(use[..., None], uv, np.nan)
    areas = np.zeros(len(uv))
    for i in range(len(uv)):
        if use[i].sum() >= 2:
            extent = np.nanmax(big[i], axis=0) - np.nanmin(big[i], axis=0)
            areas[i] = BOX_AREA_FRACTION * extent[0] * extent[1]
    return np.maximum(areas, 1.0)


class TrackSet:
    """The live tracks; ids are never reused within one TrackSet."""

    def __init__(
        self,
        oks_sigmas: np.ndarray,
        settings: TrackingSettings = DEFAULT_TRACKING,
        smoothing: OneEuroSettings | None = DEFAULT_SMOOTHING,
    ) -> None:
        self.oks_sigmas = np.asarray(oks_sigmas, np.float64)
        self.settings = settings
        self.smoothing = smoothing
        self.tracks: list[Track] = []
        self._next_id = 0

    def __len__(self) -> int:
        return len(self.tracks)

    def reset(self) -> None:
        self.tracks = []

    def associate(
        self,
        uv_px: np.ndarray,
        score: np.ndarray,
        person_score: np.ndarray,
        time_s: float,
        predicted: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> None:
        """Take a keyframe's detections: matched ones continue their track, confident
        unmatched ones start a track, tracks left unmatched too often end.

        ``predicted``: every track's pose (T, J, 2) and scores (T, J) propagated to this
        frame. Detections are then matched against where people are now rather than where
        they were a frame ago, and a track the detector missed follows its prediction."""
        settings = self.settings
        matched_tracks: set[int] = set()
        matched_detections: set[int] = set()
        if self.tracks and len(uv_px):
            similarity = self._oks_to_tracks(uv_px, predicted)  # (D, T)
            rows, cols = linear_sum_assignment(-similarity)
            for d, t in zip(rows, cols):
                if similarity[d, t] >= settings.min_association_oks:
                    uv, s = uv_px[d], score[d]
                    if predicted is not None:  # joints the detector missed: the prediction's
                        weak = (s < settings.min_keypoint_score) & (predicted[1][t] > s)
                        uv = np.where(weak[:, None], predicted[0][t], uv)
                        s = np.where(weak, predicted[1][t], s)
                    self.tracks[t].update(uv, s, time_s)
                    self.tracks[t].keyframe_misses = 0
                    self.tracks[t].reference_confidence = float("nan")
                    matched_tracks.add(int(t))
                    matched_detections.add(int(d))
        survivors = []
        for index, track in enumerate(self.tracks):
            if index not in matched_tracks:
                track.keyframe_misses += 1
                if track.keyframe_misses >= settings.max_keyframe_misses:
                    continue
                if predicted is not None:
                    self._follow(track, predicted[0][index], predicted[1][index], time_s)
            survivors.append(track)
        self.tracks = survivors
        for d in range(len(uv_px)):
            if d not in matched_detections and person_score[d] >= settings.min_birth_score:
                self._birth(uv_px[d], score[d], time_s)
        self.suppress_duplicates()

    def _oks_to_tracks(
        self, uv_px: np.ndarray, track_poses: tuple[np.ndarray, np.ndarray] | None = None
    ) -> np.ndarray:
        """(P, T) OKS of poses (P, J, 2) against every live track (its latest pose, or
        ``track_poses``), the track as the truth: its confident keypoints count, scaled by
        its own extent; 0 where undefined."""
        min_score = self.settings.min_keypoint_score
        track_uv, track_score = track_poses or (
            np.stack([t.uv_px for t in self.tracks]),
            np.stack([t.score for t in self.tracks]),
        )
        visible = (track_score >= min_score).astype(np.uint8)
        areas = pose_areas_px2(track_uv, track_score, min_score)
        return np.nan_to_num(oks_matrix(uv_px, track_uv, visible, areas, self.oks_sigmas), nan=0.0)

    def _birth(self, uv_px: np.ndarray, score: np.ndarray, time_s: float) -> None:
        smoother = OneEuroFilter(self.smoothing) if self.smoothing is not None else None
        track = Track(self._next_id, np.asarray(uv_px, np.float64), score, smoother)
        track.update(uv_px, score, time_s)
        self._next_id += 1
        self.tracks.append(track)

    def propagate(self, uv_px: np.ndarray, score: np.ndarray, time_s: float) -> None:
        """Between keyframes: every track's new pose, in track order."""
        for track, uv, s in zip(self.tracks, uv_px, score):
            self._follow(track, uv, s, time_s)
            if np.isnan(track.reference_confidence):
                track.reference_confidence = track.confidence

    def _follow(self, track: Track, uv_px: np.ndarray, score: np.ndarray, time_s: float) -> None:
        """Move a track to its DKD prediction, but for joints predicted too weakly."""
        held = np.asarray(score) < self.settings.min_propagated_score
        track.update(np.where(held[:, None], track.uv_px, uv_px), score, time_s)

    def suppress_duplicates(self) -> None:
        """End the younger of any two tracks on one person (propagation can pull two tracks
        onto the same body, and a split detection can start a second one)."""
        if len(self.tracks) < 2:
            return
        similarity = self._oks_to_tracks(np.stack([t.uv_px for t in self.tracks]))
        ended: set[int] = set()
        for younger in range(1, len(self.tracks)):  # tracks are in order of birth
            older = [o for o in range(younger) if o not in ended]
            if older and similarity[younger, older].max() >= self.settings.max_duplicate_oks:
                ended.add(younger)
        self.tracks = [t for i, t in enumerate(self.tracks) if i not in ended]

    def drop_lost(self, min_confidence: float) -> None:
        """End tracks DKD has lost (confidence under ``min_confidence``) or merged."""
        self.tracks = [t for t in self.tracks if t.confidence >= min_confidence]
        self.suppress_duplicates()
