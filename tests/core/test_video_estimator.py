"""VideoEstimator with the shipped models on a synthetic RGB-D sequence: the keyframe schedule,
what each frame costs, depth lifting, and a new stream when the image size changes."""

from __future__ import annotations

import numpy as np
import pytest

from hand_pose_ros.core.body_estimator import BodyEstimator
from hand_pose_ros.core.model_runtime import OnnxModel
from hand_pose_ros.core.video.dkd_model import DkdModel
from hand_pose_ros.core.video.keyframes import KeyframePolicy
from hand_pose_ros.core.video.video_estimator import VideoEstimator
from hand_pose_ros.nodes.body_pose_node import shipped_model_path
from hand_pose_ros.nodes.pose_node_base import shipped_model_path as packaged_model
from hand_pose_ros.nodes.video_pose_parameters import SHIPPED_VIDEO_MODEL_NAME
from hand_pose_ros.synthetic.people import PeopleSequence

VIDEO_MODEL = packaged_model(SHIPPED_VIDEO_MODEL_NAME)
pytestmark = pytest.mark.skipif(
    not (VIDEO_MODEL.exists() and shipped_model_path().exists()),
    reason="the shipped body and DKD models are produced by `make body-model video-model`",
)
FPS = 15.0


@pytest.fixture(scope="module")
def frames() -> list:
    return list(PeopleSequence(3000300, 8, width=320, height=240))


def _tracker(interval: int, min_confidence: float = 0.0) -> VideoEstimator:
    return VideoEstimator(
        BodyEstimator(OnnxModel(shipped_model_path())),
        DkdModel(VIDEO_MODEL),
        KeyframePolicy(
            interval_frames=interval, min_track_confidence=min_confidence, min_motion_cells=0
        ),
    )


def _depth_m(frame) -> np.ndarray:
    return np.where(frame.depth_mm > 0, frame.depth_mm / 1000.0, np.nan).astype(np.float32)


def test_keyframes_follow_the_interval_and_each_frame_reports_its_cost(frames) -> None:
    tracker = _tracker(interval=3)
    results = [
        tracker.estimate(f.color, _depth_m(f), f.intrinsics, i / FPS) for i, f in enumerate(frames)
    ]
    assert [r.keyframe_reason for r in results] == [
        "start",
        "",
        "",
        "interval",
        "",
        "",
        "interval",
        "",
    ]
    dkd = tracker.dkd
    for previous, result in zip([None, *results], results):
        # Every track entering the frame is propagated, even one lost in it; on a keyframe as
        # well (association uses the predictions), and then the full model runs too.
        people = max(1, len(previous.track_ids) if previous else 0)
        propagation = dkd.macs_per_frame + people * dkd.macs_per_person
        full = tracker.body_macs if result.is_keyframe else 0
        assert result.macs == full + propagation
    assert len(results[1].track_ids) > 0  # the sequence has people; DKD carries them on
    # Depth given: tracked keypoints on a person are lifted where the depth image has returns.
    lifted = results[2].people.xyz_m
    assert np.isfinite(lifted).all(axis=-1).mean() > 0.5
    finite = np.isfinite(lifted[..., 2])
    assert np.all((lifted[..., 2][finite] > 0.3) & (lifted[..., 2][finite] < 10.0))


def test_ended_ids_never_come_back_and_a_new_image_size_starts_a_new_stream(frames) -> None:
    tracker = _tracker(interval=2)
    ended: set[int] = set()
    previous: set[int] = set()
    for i, frame in enumerate(frames[:6]):
        ids = tracker.estimate(frame.color, time_s=i / FPS).track_ids.tolist()
        assert ids == sorted(ids)  # published by ascending id
        assert not set(ids) & ended
        ended |= previous - set(ids)
        previous = set(ids)
    smaller = frames[6].color[::2, ::2].copy()
    assert tracker.estimate(smaller, time_s=6 / FPS).keyframe_reason == "start"


def test_depth_without_intrinsics_or_of_another_aspect_is_refused(frames) -> None:
    tracker = _tracker(interval=2)
    frame = frames[0]
    with pytest.raises(ValueError, match="intrinsics"):
        tracker.estimate(frame.color, _depth_m(frame))
    with pytest.raises(ValueError, match="aspect"):
        tracker.estimate(frame.color, _depth_m(frame)[:, :200], frame.intrinsics)


def test_untracked_motion_outside_the_tracks_makes_a_keyframe_and_a_still_picture_does_not(
    frames,
) -> None:
    tracker = VideoEstimator(
        BodyEstimator(OnnxModel(shipped_model_path())),
        DkdModel(VIDEO_MODEL),
        KeyframePolicy(interval_frames=50, min_motion_cells=2, motion_gap_frames=3),
    )
    still = frames[0].color
    reasons = [tracker.estimate(still, time_s=i / FPS).keyframe_reason for i in range(5)]
    assert reasons == ["start", "", "", "", ""]
    # People are tracked; their boxes lie below the top quarter, where the square moves.
    assert len(tracker.tracks)
    reasons = []
    for step in range(4):
        moving = still.copy()
        left = 20 + 12 * step  # a white square sliding along the top of the picture
        moving[4:28, left : left + 24] = 255
        reasons.append(tracker.estimate(moving, time_s=(5 + step) / FPS).keyframe_reason)
    assert "untracked_motion" in reasons
