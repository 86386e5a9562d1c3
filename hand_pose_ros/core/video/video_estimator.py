"""Colour stream -> tracked people: LitePose on keyframes, DKD propagation in between.

The one video path the node, the runner and training evaluation share. Every frame the DKD graph
propagates each track from the previous frame's features and pose (and keeps this frame's
features for the next one). On a keyframe the full multi-person model
(:class:`~hand_pose_ros.core.body_estimator.BodyEstimator`) also runs and its detections are
associated with those predictions; otherwise the predictions are the tracks' new poses. Which
frames are keyframes is the policy's call, fed with the tracks' confidences and the untracked
motion of the frame. Keypoints are One-Euro smoothed per track and lifted to 3D like the body
pipeline's.
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
from hand_pose_ros.core.one_euro import DEFAULT_SMOOTHING, OneEuroSettings
from hand_pose_ros.core.video.dkd_model import DkdModel
from hand_pose_ros.core.video.keyframes import DEFAULT_POLICY, KeyframePolicy
from hand_pose_ros.core.video.motion import DEFAULT_MOTION, MotionSettings, UntrackedMotion
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
        motion: MotionSettings = DEFAULT_MOTION,
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
        self.motion = UntrackedMotion(dkd.input_spec, motion)
        self._features: np.ndarray | None = None
        self._frames_since_keyframe: int | None = None
        self._frame_index = 0

    def reset(self) -> None:
        """Forget every track (a new stream, or the image size changed)."""
        self.tracks.reset()
        self.motion.reset()
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
        poses, boxes = self._track_boxes(letterbox)
        motion_cells = self.motion.update(network_input, boxes)
        reason = self.policy.reason(
            None if since is None else since + 1, confidences, references, motion_cells
        )
        previous = self._features if self._features is not None else self.dkd.zero_features()
        predicted, macs = self._predict(network_input, previous, poses, boxes, letterbox)
        if reason:
            detections = self.body.estimate(rgb)
            self.tracks.associate(
                detections.uv_px, detections.score, detections.person_score, time_s, predicted
            )
            self._frames_since_keyframe = 0
            macs += self.body_macs
        else:
            if predicted is not None:
                self.tracks.propagate(*predicted, time_s)
                self.tracks.drop_lost(self.lost_confidence)
            self._frames_since_keyframe = since + 1
        tracked = time.perf_counter()
        people = self._people(depth_m, intrinsics)
        # inference_s: the frame's model work (keyframe model or DKD, decoding, association),
        # under the key the pose nodes report as inference time.
        people.timings = {"inference_s": tracked - start, "lift_s": time.perf_counter() - tracked}
        ids = np.array([t.track_id for t in self.tracks.tracks], np.int64)
        return TrackedPeople(people, ids, reason, int(macs))

    def _track_boxes(
        self, letterbox: Letterbox
    ) -> tuple[tuple[np.ndarray, np.ndarray] | None, np.ndarray]:
        """The tracks' latest poses in network-input pixels (T, J, 2) with scores (T, J), None
        without tracks, and their DKD regions (T, 4)."""
        tracks = self.tracks.tracks
        if not tracks:
            return None, np.zeros((0, 4), np.float32)
        uv_net = letterbox.to_network(np.stack([t.uv_px for t in tracks]))
        score = np.stack([t.score for t in tracks])
        return (uv_net, score), person_boxes(uv_net, score, self.dkd.roi)

    def _predict(
        self,
        network_input: np.ndarray,
        previous: np.ndarray,
        poses: tuple[np.ndarray, np.ndarray] | None,
        boxes: np.ndarray,
        letterbox: Letterbox,
    ) -> tuple[tuple[np.ndarray, np.ndarray] | None, int]:
        """Every track's pose (T, J, 2) source pixels and scores (T, J) propagated by DKD to
        this frame (None without tracks), and the MACs that cost; keeps the frame's features."""
        spec = self.dkd.roi
        pose_maps = None if poses is None else render_pose_maps(*poses, boxes, spec)
        self._features, heatmaps = self.dkd.step(network_input, previous, boxes, pose_maps)
        macs = self.dkd.macs_per_frame + max(1, len(boxes)) * self.dkd.macs_per_person
        if poses is None:
            return None, macs
        xy_net, new_score = decode_roi_heatmaps(heatmaps, boxes, spec)
        return (letterbox.to_source(xy_net), new_score), macs

    def _people(self, depth_m: np.ndarray | None, intrinsics: Intrinsics | None) -> BodyPeople:
        tracks = self.tracks.tracks
        joints = len(self.keypoint_names)
        uv = np.stack([t.smoothed_uv_px for t in tracks]) if tracks else np.zeros((0, joints, 2))
        score = np.stack([t.score for t in tracks]) if tracks else np.zeros((0, joints), np.float32)
        confidence = np.array([t.confidence for t in tracks], np.float32)
        depth, xyz = self.body.lift(uv, depth_m, intrinsics)
        return BodyPeople(uv, score.astype(np.float32), confidence, depth, xyz)
