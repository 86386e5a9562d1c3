"""Tracking hands between first-stage runs: the policy alone, then the shipped models on a
synthetic sequence with ground truth."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from hand_pose_ros.core.hand_estimator import HandEstimator
from hand_pose_ros.core.hand_metrics import HandJitter, HandMetrics
from hand_pose_ros.core.hand_tracking import HandTrackingSettings, HandTracks
from hand_pose_ros.core.model_runtime import OnnxModel
from hand_pose_ros.core.one_euro import OneEuroSettings
from hand_pose_ros.synthetic import HandSequence

MODELS = Path(__file__).resolve().parents[2] / "hand_pose_ros" / "models"
FRAME_PERIOD_S = 1.0 / 30.0
WIDTH, HEIGHT = 224, 172


@dataclass
class Hand:
    """A hand as tracking and the metrics read it (`core.hand_metrics.DetectedHand`)."""

    side: int
    uv_px: np.ndarray
    score: np.ndarray
    depth_m: np.ndarray = dataclasses.field(default_factory=lambda: np.full(21, 0.4))
    xyz_m: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros((21, 3)))


def _hand(score: float = 0.8, depth_m: float = 0.4) -> Hand:
    return Hand(side=1, uv_px=np.zeros((21, 2)), score=np.full(21, score),
                depth_m=np.full(21, depth_m))


# ---------------------------------------------------------------------------- policy
def test_first_stage_runs_every_interval_frames_while_hands_are_tracked() -> None:
    tracks = HandTracks(HandTrackingSettings(redetect_interval_frames=3))
    due = []
    for frame in range(7):
        time_s = frame * FRAME_PERIOD_S
        due.append(tracks.due_for_detection(time_s))
        tracks.update([_hand()], time_s, detected=due[-1])
    assert due == [True, False, False, True, False, False, True]


def test_no_hands_a_gap_or_a_stamp_going_back_means_detection() -> None:
    tracks = HandTracks(HandTrackingSettings(redetect_interval_frames=10, max_gap_s=0.1))
    assert tracks.due_for_detection(0.0)  # nothing tracked yet
    tracks.update([], 0.0, detected=True)
    assert tracks.due_for_detection(0.03)  # nothing found: look again
    tracks.update([_hand()], 0.03, detected=True)
    assert not tracks.due_for_detection(0.06)
    assert not tracks.due_for_detection(None)  # no stamp: the interval alone decides
    assert tracks.due_for_detection(0.2)  # 0.17 s gap
    assert tracks.due_for_detection(0.0)  # stamp went back (a bag restarted)


def test_interval_one_detects_every_frame() -> None:
    tracks = HandTracks(HandTrackingSettings(redetect_interval_frames=1))
    tracks.update([_hand()], 0.0, detected=True)
    assert tracks.due_for_detection(FRAME_PERIOD_S)


def test_a_hand_with_low_scores_is_lost_and_tracked_hands_are_copies() -> None:
    tracks = HandTracks(HandTrackingSettings(min_track_score=0.3))
    assert tracks.lost([_hand(0.8), _hand(0.2)])
    assert not tracks.lost([_hand(0.8), _hand(0.31)])
    stored = _hand()
    tracks.update([stored], 0.0, detected=True)
    copy = tracks.hands_to_track()[0]
    copy.uv_px = np.ones((21, 2))
    assert copy is not stored and not stored.uv_px.any()


def test_a_hand_beyond_arms_reach_is_lost_whatever_its_scores() -> None:
    tracks = HandTracks(HandTrackingSettings(max_depth_m=1.2))
    assert tracks.lost([_hand(), _hand(0.9, depth_m=3.0)])
    assert not tracks.lost([_hand(0.9, depth_m=1.1)])
    far_keypoints = _hand(0.9)
    far_keypoints.depth_m[:8] = 3.0  # fewer than half: the median is still on the hand
    assert not tracks.lost([far_keypoints])
    # A refiner without depth output predicts none: the rule cannot apply.
    assert not tracks.lost([_hand(0.9, depth_m=float("nan"))])
    assert not HandTracks(HandTrackingSettings(max_depth_m=float("inf"))).lost([_hand(depth_m=9.0)])


@pytest.mark.parametrize(
    "settings",
    [
        {"redetect_interval_frames": 0},
        {"max_depth_m": 0.0},
        {"min_track_score": 1.5},
        {"min_track_score": -0.1},
        {"max_gap_s": -1.0},
    ],
)
def test_settings_are_checked(settings: dict) -> None:
    with pytest.raises(ValueError):
        HandTrackingSettings(**settings)


# ---------------------------------------------------------------------------- shipped models
@pytest.fixture(scope="module")
def models() -> tuple[OnnxModel, OnnxModel]:
    return (
        OnnxModel(MODELS / "hand_tiny_multitask.onnx"),
        OnnxModel(MODELS / "hand_refiner_wide2.onnx"),
    )


def _run(estimator: HandEstimator, sequence: HandSequence, frames: int):
    """Per frame: (estimate, ground truth), frames at 30 Hz stamps."""
    results = []
    for index in range(frames):
        truth = sequence.frame(index)
        estimate = estimator.estimate(
            truth.depth_m.astype(np.float32), truth.intrinsics, index * FRAME_PERIOD_S
        )
        results.append((estimate, truth))
    return results


def test_tracked_frames_skip_the_first_stage_and_stay_accurate(models) -> None:
    """On a clip, tracking runs the first stage on about one frame in the interval and places
    keypoints as well as running both stages on every frame (validation sequences:
    docs/studies/hand.md, "Tracking")."""
    first, refiner = models
    sequence = HandSequence(800_000, width=WIDTH, height=HEIGHT)
    tracking = HandEstimator(first, refiner=refiner, tracking=HandTrackingSettings(4))
    every_frame = HandEstimator(first, refiner=refiner)
    tracked_metrics, per_frame_metrics = HandMetrics(), HandMetrics()
    detected = []
    for estimate, truth in _run(tracking, sequence, 60):
        detected.append(estimate.detected)
        tracked_metrics.add_hands(estimate.hands, truth)
        if not estimate.detected:
            assert estimate.inference_s == 0.0 and estimate.refine_s > 0.0
        per_frame = every_frame.estimate(truth.depth_m.astype(np.float32), truth.intrinsics)
        per_frame_metrics.add_hands(per_frame.hands, truth)
    assert detected[0]
    assert 0.2 <= np.mean(detected) <= 0.5, detected
    runs_of_tracked = "".join("d" if d else "t" for d in detected).split("d")
    assert max(len(run) for run in runs_of_tracked) <= 3
    tracked, per_frame = tracked_metrics.summary(), per_frame_metrics.summary()
    assert tracked["visible_keypoints"] > 500
    assert tracked["pck@0.1"] >= per_frame["pck@0.1"] - 0.03, (tracked, per_frame)
    assert tracked["presence_accuracy"] >= per_frame["presence_accuracy"] - 0.05


def test_a_hand_that_disappears_is_lost_and_the_frame_detected_again(models) -> None:
    first, refiner = models
    sequence = HandSequence(800_000, width=WIDTH, height=HEIGHT)
    estimator = HandEstimator(first, refiner=refiner, tracking=HandTrackingSettings(4))
    truth = sequence.frame(0)
    assert estimator.estimate(truth.depth_m.astype(np.float32), truth.intrinsics, 0.0).hands
    wall = np.full((HEIGHT, WIDTH), 1.5, np.float32)  # the hands are gone: only a wall
    result = estimator.estimate(wall, truth.intrinsics, FRAME_PERIOD_S)
    assert result.detected and result.hands == []


def test_a_frame_of_another_size_is_detected(models) -> None:
    """Tracked and smoothed pixels belong to one image size: a frame of another size (a stream
    switched resolution) is detected and not smoothed with the earlier ones, even where the
    hand would still be under the old crops."""
    first, refiner = models
    estimator = HandEstimator(first, refiner=refiner, tracking=HandTrackingSettings(4),
                              smoothing=OneEuroSettings())
    sequence = HandSequence(800_000, width=WIDTH, height=HEIGHT)
    truth = sequence.frame(0)
    assert estimator.estimate(truth.depth_m.astype(np.float32), truth.intrinsics, 0.0).hands
    following = sequence.frame(1)
    padded = np.full((HEIGHT + 40, WIDTH + 40), np.nan, np.float32)  # the same view, padded
    padded[:HEIGHT, :WIDTH] = following.depth_m
    intrinsics = dataclasses.replace(following.intrinsics, width=WIDTH + 40, height=HEIGHT + 40)
    result = estimator.estimate(padded, intrinsics, FRAME_PERIOD_S)
    unsmoothed = HandEstimator(first, refiner=refiner).estimate(padded, intrinsics)
    assert result.detected
    for hand, fresh in zip(result.hands, unsmoothed.hands, strict=True):
        np.testing.assert_allclose(hand.uv_px, fresh.uv_px)  # a filter restarts at its input


def test_without_a_refiner_every_frame_is_detected(models) -> None:
    first, _ = models
    estimator = HandEstimator(first, tracking=HandTrackingSettings(4))
    assert estimator.tracks is None
    sequence = HandSequence(800_000, width=WIDTH, height=HEIGHT)
    assert all(estimate.detected for estimate, _ in _run(estimator, sequence, 5))


def test_tracked_hands_get_one_refiner_pass_whatever_refiner_passes_says(
    models, monkeypatch
) -> None:
    first, refiner = models
    estimator = HandEstimator(first, refiner=refiner, refiner_passes=2,
                              tracking=HandTrackingSettings(4))
    runs: list[bool] = []
    original = refiner.run
    monkeypatch.setattr(refiner, "run", lambda crops: runs.append(True) or original(crops))
    sequence = HandSequence(800_000, width=WIDTH, height=HEIGHT)
    detected = []
    for index in range(4):
        truth = sequence.frame(index)
        estimate = estimator.estimate(
            truth.depth_m.astype(np.float32), truth.intrinsics, index * FRAME_PERIOD_S
        )
        assert estimate.hands
        assert len(runs) == (2 if estimate.detected else 1), estimate.detected
        detected.append(estimate.detected)
        runs.clear()
    assert detected == [True, False, False, False]


# ---------------------------------------------------------------------------- smoothing
@dataclass
class _Truth:
    keypoints_uv: np.ndarray
    visibility: np.ndarray
    present: np.ndarray


def _frame_truth(uv_right: np.ndarray) -> _Truth:
    uv = np.full((2, 21, 2), np.nan)
    uv[1] = uv_right
    visibility = np.zeros((2, 21), int)
    visibility[1] = 2
    return _Truth(uv, visibility, np.array([False, True]))


def test_jitter_is_the_second_difference_of_visible_keypoints() -> None:
    jitter = HandJitter()
    base = np.zeros((21, 2))
    for step, offset in enumerate([0.0, 1.0, 2.0, 3.0]):  # steady motion, shaky prediction
        truth = _frame_truth(base + offset)
        shake = 0.5 if step % 2 else -0.5
        jitter.add_hands([Hand(side=1, uv_px=base + offset + shake, score=np.ones(21))], truth)
    summary = jitter.summary()
    assert summary["truth_acceleration_px"] == pytest.approx(0.0)
    assert summary["jitter_px"] == pytest.approx(2.0 * np.sqrt(2.0))  # |(+-2, +-2)|
    jitter.end_clip()
    jitter.add_hands([], _frame_truth(base))  # a new clip: no difference across clips
    assert len(jitter.predicted_px) == 2


def test_smoothing_steadies_keypoints_and_tracking_crops_stay_raw(models) -> None:
    first, refiner = models
    sequence = HandSequence(800_000, width=WIDTH, height=HEIGHT)
    raw = HandEstimator(first, refiner=refiner, tracking=HandTrackingSettings(4))
    smooth = HandEstimator(first, refiner=refiner, tracking=HandTrackingSettings(4),
                           smoothing=OneEuroSettings(3.0, 0.1))
    raw_jitter, smooth_jitter = HandJitter(), HandJitter()
    for index in range(30):
        truth = sequence.frame(index)
        depth = truth.depth_m.astype(np.float32)
        time_s = index * FRAME_PERIOD_S
        raw_hands = raw.estimate(depth, truth.intrinsics, time_s).hands
        smooth_hands = smooth.estimate(depth, truth.intrinsics, time_s).hands
        raw_jitter.add_hands(raw_hands, truth)
        smooth_jitter.add_hands(smooth_hands, truth)
        # The same crops, so the same raw keypoints underneath: tracking does not lag.
        for kept_raw, kept_by_smooth in zip(raw.tracks._hands, smooth.tracks._hands):
            np.testing.assert_allclose(kept_raw.uv_px, kept_by_smooth.uv_px)
        if index == 0:  # a filter starts at its first sample
            np.testing.assert_allclose(smooth_hands[0].uv_px, raw_hands[0].uv_px)
    assert smooth_jitter.summary()["jitter_px"] < 0.8 * raw_jitter.summary()["jitter_px"]
