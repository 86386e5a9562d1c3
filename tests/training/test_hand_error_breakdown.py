"""The per-hand error breakdown: it agrees with the metrics the README reports, and its groups
account for every miss."""

from __future__ import annotations

import numpy as np
import pytest

from hand_pose_ros.core.hand_metrics import HandMetrics, pck_threshold_px
from hand_pose_ros.nodes.hand_pose_node import shipped_model_path
from hand_pose_ros.nodes.hand_pose_parameters import SHIPPED_REFINER_NAME
from hand_pose_ros.synthetic import render_frame
from training.hand.data import split_seeds
from training.hand.error_breakdown import HandOutcome, breakdown, hand_outcomes
from training.hand.evaluate import load_estimator

FRAMES = 12


def outcome(visible: int, hits: int, label_crop_hits: int) -> HandOutcome:
    return HandOutcome(visible=visible, hits=hits, label_crop_hits=label_crop_hits,
                       detected=hits > 0, side_swapped=False, occluded_share=0.2,
                       both_hands=False)


def test_pck_threshold_is_a_tenth_of_the_longer_side_of_the_label_box() -> None:
    labels = np.array([[10.0, 20.0], [50.0, 30.0], [np.nan, np.nan], [30.0, 45.0]])
    assert pck_threshold_px(labels) == pytest.approx(4.0)


def test_groups_split_at_their_bounds_and_account_for_every_miss() -> None:
    outcomes = [outcome(10, 2, 5), outcome(10, 3, 6), outcome(10, 8, 9), outcome(10, 9, 9),
                outcome(20, 20, 19)]
    result = breakdown(outcomes)
    assert [result[g]["hands"] for g in ("placed_wrongly", "partly_right", "right")] == [1, 2, 2]
    assert result["pck@0.1"] == pytest.approx(42 / 60)
    assert result["pck@0.1_label_crops"] == pytest.approx(48 / 60)
    lost = sum(result[g]["pck_points_lost"] for g in ("placed_wrongly", "partly_right", "right"))
    assert lost == pytest.approx(100.0 * (1.0 - 42 / 60))
    assert result["partly_right"]["pck@0.1_label_crops"] == pytest.approx(15 / 20)
    assert result["placed_wrongly"]["missed"] == 0


@pytest.fixture(scope="module")
def shipped_estimator():
    return load_estimator(shipped_model_path(),
                          shipped_model_path().with_name(SHIPPED_REFINER_NAME))


def test_pipeline_hits_match_the_reported_metric(shipped_estimator) -> None:
    metrics = HandMetrics()
    outcomes = []
    for seed in split_seeds("validation", FRAMES):
        frame = render_frame(seed, 160, 120)
        metrics.add_hands(shipped_estimator.estimate(frame.depth_m, frame.intrinsics).hands,
                          frame)
        outcomes += hand_outcomes(shipped_estimator, frame)
    result = breakdown(outcomes)
    summary = metrics.summary()
    assert result["visible_keypoints"] == summary["visible_keypoints"]
    assert result["pck@0.1"] == pytest.approx(summary["pck@0.1"])
    assert all(not o.side_swapped for o in outcomes if o.hits >= 0.9 * o.visible)


def test_a_missed_hand_loses_all_its_points_but_keeps_its_label_crop(shipped_estimator) -> None:
    frame = next(f for f in (render_frame(s, 160, 120) for s in split_seeds("validation", 50))
                 if f.present.any())
    found = hand_outcomes(shipped_estimator, frame)
    threshold = shipped_estimator.presence_threshold
    shipped_estimator.presence_threshold = 1.01  # above any sigmoid: no hand is reported
    try:
        missed = hand_outcomes(shipped_estimator, frame)
    finally:
        shipped_estimator.presence_threshold = threshold
    assert [o.detected for o in missed] == [False] * len(found)
    assert [o.hits for o in missed] == [0] * len(found)
    assert [o.label_crop_hits for o in missed] == [o.label_crop_hits for o in found]
