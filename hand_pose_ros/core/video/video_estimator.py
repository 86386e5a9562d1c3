"""Colour stream -> tracked people: LitePose on keyframes, DKD propagation in between.

The one video path the node, the runner and training evaluation share. Per frame it either runs
the full multi-person model (:class:`~hand_pose_ros.core.body_estimator.BodyEstimator`) and
associates its detections with the tracks, or propagates every track with the DKD graph from
the previous frame's features and pose; both keep the DKD features of the frame for the next
one. Keypoints are One-Euro smoothed per track and lifted to 3D like the body pipeline's.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from hand_pose_ros.core.body_estimator import (
    BodyEstimator,
    BodyPeople,
    check_depth_input,
)
from hand_pose_ros.core.body_preprocess import make_body_input
from hand_pose_ros.core.camera import Intrinsics
from hand_pose_ros.core.letterbox import Letterbox
from hand_pose_ros.core.model_metadata import ModelLoadError
from hand_pose_ros.core.video.dkd_model import DkdModel
from hand_pose_ros.core.video.keyframes import DEFAULT_POLICY, KeyframePolicy
from hand_pose_ros.core.video.one_euro import DEFAULT_SMOOTHING, OneEuroSettings
from hand_pose_ros.core.video.rois import decode_roi_heatmaps, person_boxes, render_pose_maps
from hand_pose_ros.core.video.tracks import DEFAULT_TRACKING, TrackingSettings, TrackSet

DEFAULT_LOST_CONFIDENCE = 0.1
"""A propagated track whose mean keypoint score falls below this has lost its person."""
NOMINAL_FRAME_PERIOD_S = 1.0 / 30.0
"""Frame spacing assumed for smoothing when the caller gives no timestamps."""


@dataclass
class TrackedPeople:
    """One frame's tracked people (by ascending track id) and what the frame cost."""

    people: BodyPeople  # uv_px smoothed; person_score = track confidence
    track_ids: np.ndarray  # (P,) int64, stable across frames
    keyframe_reason: str  # '' for a propagated frame
    macs: int  # multiply-accumulates this frame cost (counted on the exported graphs)

    @property
    def is_keyframe(self) -> bool:
        return bool(self.keyframe_reason)

    def __len__(self) -> int:
        return len(self.track_ids)


class VideoEstimator:
    """Tracks people through a stream of RGB frames (one ``estimate`` call per frame)."""

    def __init__(
        self,
        body: BodyEstimator,
        dkd: DkdModel,
        policy: KeyframePolicy = DEFAULT_POLICY,
        tracking: TrackingSettings = DEFAULT_TRACKING,
        smoothing: OneEuroSettings | None = DEFAULT_SMOOTHING,
        lost_confidence: float = DEFAULT_LOST_CONFIDENCE,
    ) -> None:
        if tuple(body.keypoint_names) != tuple(dkd.keypoint_names):
            raise ModelLoadError(
                f"the DKD model '{dkd.name}' tracks {len(dkd.keypoint_names)} keypoints "
                f"{list(dkd.keypoint_names)[:3]}... but the keyframe model '{body.model.name}' "
                f"detects {list(body.keypoint_names)[:3]}...: both must use one keypoint layout"
            )
        self.body, self.dkd, self.policy = body, dkd, policy
        self.lost_confidence = float(lost_confidence)
        self.tracks = TrackSet(body.model.metadata["oks_sigmas"], tracking, smoothing)
        self.keypoint_names = body.keypoint_names
        self.skeleton = body.skeleton
        self.body_macs = int(body.model.metadata.get("complexity", {}).get("macs", 0))
        self._input = np.empty((1, 3, dkd.input_height, dkd.input_width), np.float32)
        self._letterbox: Letterbox | None = None
        self._features: np.ndarray | None = None
        self._frames_since_keyframe: int | None = None
        self._frame_index = 0

    def reset(self) -> None:
        """Forget every track (a new stream, or the image size changed)."""
        self.tracks.reset()
        self._features = None
        self._frames_since_keyframe = None

    def _letterbox_for(self, height: int, width: int) -> Letterbox:
        box = self._letterbox
        if box is None or (box.source_height, box.source_width) != (height, width):
            if box is not None:
                self.reset()
            box = Letterbox.fit(height, width, self.dkd.input_height, self.dkd.input_width)
            self._letterbox = box
        return box

    def estimate(
        self,
        rgb: np.ndarray,
        depth_m: np.ndarray | None = None,
        intrinsics: Intrinsics | None = None,
        time_s: float | None = None,
    ) -> TrackedPeople:
        """Tracked people in the next (H, W, 3) uint8 RGB frame; depth and intrinsics as for
        :meth:`BodyEstimator.estimate`; ``time_s`` is the frame's time for smoothing."""
        if rgb.ndim != 3 or rgb.shape[2] != 3:
            raise ValueError(f"expected an (H, W, 3) RGB image, got shape {rgb.shape}")
        check_depth_input(rgb.shape[0], rgb.shape[1], depth_m, intrinsics)
        if time_s is None:
            time_s = self._frame_index * NOMINAL_FRAME_PERIOD_S
        self._frame_index += 1
        start = time.perf_counter()
        letterbox = self._letterbox_for(*rgb.shape[:2])
        network_input, _ = make_body_input(rgb, self.dkd.input_spec, letterbox, self._input)
        confidences = np.array([t.confidence for t in self.tracks.tracks])
        references = np.array([t.reference_confidence for t in self.tracks.tracks])
        since = self._frames_since_keyframe
        reason = self.policy.reason(None if since is None else since + 1, confidences, references)
        previous = self._features if self._features is not None else self.dkd.zero_features()
        if reason:
            detections = self.body.estimate(rgb)
            self._features, _ = self.dkd.step(network_input, previous, np.zeros((0, 4)), None)
            self.tracks.associate(
                detections.uv_px, detections.score, detections.person_score, time_s
            )
            self._frames_since_keyframe = 0
            macs = self.body_macs + self.dkd.macs_per_frame + self.dkd.macs_per_person
        else:
            macs = self._propagate(network_input, previous, letterbox, time_s)
            self._frames_since_keyframe = since + 1
        tracked = time.perf_counter()
        people = self._people(depth_m, intrinsics)
        # inference_s: the frame's model work (keyframe model or DKD, decoding, association),
        # under the key the pose nodes report as inference time.
        people.timings = {"inference_s": tracked - start, "lift_s": time.perf_counter() - tracked}
        ids = np.array([t.track_id for t in self.tracks.tracks], np.int64)
        return TrackedPeople(people, ids, reason, int(macs))

    def _propagate(
        self, network_input: np.ndarray, previous: np.ndarray, letterbox: Letterbox, time_s: float
    ) -> int:
        tracks = self.tracks.tracks
        spec = self.dkd.roi
        if tracks:
            uv_net = letterbox.to_network(np.stack([t.uv_px for t in tracks]))
            score = np.stack([t.score for t in tracks])
            boxes = person_boxes(uv_net, score, spec)
            pose_maps = render_pose_maps(uv_net, score, boxes, spec)
        else:
            boxes, pose_maps = np.zeros((0, 4), np.float32), None
        self._features, heatmaps = self.dkd.step(network_input, previous, boxes, pose_maps)
        if tracks:
            xy_net, new_score = decode_roi_heatmaps(heatmaps, boxes, spec)
            self.tracks.propagate(letterbox.to_source(xy_net), new_score, time_s)
            self.tracks.drop_lost(self.lost_confidence)
        return self.dkd.macs_per_frame + max(1, len(tracks)) * self.dkd.macs_per_person

    def _people(self, depth_m: np.ndarray | None, intrinsics: Intrinsics | None) -> BodyPeople:
        tracks = self.tracks.tracks
        joints = len(self.keypoint_names)
        uv = np.stack([t.smoothed_uv_px for t in tracks]) if tracks else np.zeros((0, joints, 2))
        score = np.stack([t.score for t in tracks]) if tracks else np.zeros((0, joints), np.float32)
        confidence = np.array([t.confidence for t in tracks], np.float32)
        depth, xyz = self.body.lift(uv, depth_m, intrinsics)
        return BodyPeople(uv, score.astype(np.float32), confidence, depth, xyz)
