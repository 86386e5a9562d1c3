"""Video metrics on constructed sequences: PCK, identity switches, jitter, cost."""

from __future__ import annotations

import numpy as np
import pytest

from hand_pose_ros.core.video.metrics import VideoPoseMetrics

JOINTS = 17
SIGMAS = np.full(JOINTS, 0.07)


def _truth(frames: int = 6):
    rng = np.random.default_rng(0)
    base = np.stack([[100.0, 200.0], [400.0, 200.0]])[:, None, :] + rng.uniform(
        -1, 1, (2, JOINTS, 2)
    ) * [30.0, 90.0]
    motion = np.arange(frames)[:, None, None, None] * np.array([3.0, 0.0])  # 3 px / frame
    uv = base[None] + motion
    visibility = np.full((2, JOINTS), 2, np.uint8)
    boxes = np.array([[70.0, 110.0, 60.0, 180.0], [370.0, 110.0, 60.0, 180.0]])
    return uv, visibility, np.array([7, 9]), boxes


def _metrics(uv_pred_per_frame, ids_per_frame, truth) -> dict:
    uv, visibility, ids, boxes = truth
    metrics = VideoPoseMetrics(SIGMAS)
    for frame, (pred, pred_ids) in enumerate(zip(uv_pred_per_frame, ids_per_frame)):
        metrics.add_frame(
            pred, pred_ids, uv[frame], visibility, ids, boxes, macs=10, keyframe=frame == 0
        )
    metrics.end_sequence()
    return metrics.summary()


def test_perfect_tracking_scores_full_pck_no_switches_and_the_true_acceleration() -> None:
    truth = _truth()
    summary = _metrics(truth[0], [np.array([0, 1])] * 6, truth)
    assert summary["pck@0.2"] == 1.0
    assert summary["id_switches"] == 0
    assert summary["jitter_px"] == pytest.approx(0.0, abs=1e-9)  # constant velocity
    assert summary["keyframe_ratio"] == pytest.approx(1 / 6)
    assert summary["mean_macs_per_frame"] == 10


def test_swapped_ids_count_as_switches_and_noise_as_jitter() -> None:
    truth = _truth()
    rng = np.random.default_rng(1)
    noisy = truth[0] + rng.normal(0, 2.0, truth[0].shape)
    ids = [np.array([0, 1])] * 3 + [np.array([1, 0])] * 3
    summary = _metrics(noisy, ids, truth)
    assert summary["id_switches"] == 2  # both people change id once
    assert summary["jitter_px"] > 3.0  # |n1 - 2 n2 + n3| of 2 px noise is about 4.9 px
    assert summary["pck@0.2"] == 1.0


def test_a_missed_person_counts_all_its_keypoints_wrong() -> None:
    truth = _truth(frames=2)
    only_first = [p[:1] for p in truth[0]]
    summary = _metrics(only_first, [np.array([0])] * 2, truth)
    assert summary["pck@0.2"] == pytest.approx(0.5)


def test_far_off_predictions_match_nobody() -> None:
    truth = _truth(frames=1)
    summary = _metrics([truth[0][0] + 500.0], [np.array([0, 1])], truth)
    assert summary["pck@0.2"] == 0.0
