"""Where the refiner's first crop of a hand is cut around, on the shipped models and rendered
frames: "both" keeps, hand by hand, whichever of the mask's and the keypoints' crops the
refiner scores higher."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hand_pose_ros.core.hand_estimator import FIRST_CROP_SOURCES, HandEstimator
from hand_pose_ros.core.model_runtime import OnnxModel
from hand_pose_ros.synthetic import render_frame

MODELS = Path(__file__).resolve().parents[2] / "hand_pose_ros" / "models"
SEEDS = (4, 7, 8)
"""Frames where the keypoints' crop scores higher for three hands and the mask's for two, each
by at least 0.03 of mean score."""


@pytest.fixture(scope="module")
def models() -> tuple[OnnxModel, OnnxModel]:
    return (OnnxModel(MODELS / "hand_tiny_multitask.onnx"),
            OnnxModel(MODELS / "hand_refiner_wide2.onnx"))


def test_both_keeps_per_hand_the_crop_the_refiner_scores_higher(models) -> None:
    first, refiner = models
    estimators = {source: HandEstimator(first, refiner=refiner, first_crop=source)
                  for source in FIRST_CROP_SOURCES}
    kept_keypoints_crop = []
    for seed in SEEDS:
        frame = render_frame(seed, 160, 120)
        found = {
            source: {hand.side: hand for hand in
                     estimator.estimate(frame.depth_m, frame.intrinsics).hands}
            for source, estimator in estimators.items()
        }
        assert found["both"].keys() == found["segmentation"].keys() == found["keypoints"].keys()
        for side, hand in found["both"].items():
            mask, keypoints = found["segmentation"][side], found["keypoints"][side]
            better = keypoints if keypoints.score.mean() > mask.score.mean() else mask
            np.testing.assert_allclose(hand.uv_px, better.uv_px, atol=1e-3)
            np.testing.assert_allclose(hand.score, better.score, atol=1e-4)
            np.testing.assert_allclose(hand.depth_m, better.depth_m, atol=1e-4)
            kept_keypoints_crop.append(better is keypoints)
    assert kept_keypoints_crop.count(True) == 3 and kept_keypoints_crop.count(False) == 2


def test_later_passes_crop_around_the_kept_keypoints(models) -> None:
    first, refiner = models
    frame = render_frame(7, 160, 120)
    once = HandEstimator(first, refiner=refiner, first_crop="both")
    twice = HandEstimator(first, refiner=refiner, first_crop="both", refiner_passes=2)
    hands_once = once.estimate(frame.depth_m, frame.intrinsics).hands
    hands_twice = twice.estimate(frame.depth_m, frame.intrinsics).hands
    assert [hand.side for hand in hands_once] == [hand.side for hand in hands_twice] == [0, 1]
    again = once.refiner.refine(frame.depth_m, [(hand.uv_px, hand.side) for hand in hands_once])
    for row, hand in enumerate(hands_twice):
        np.testing.assert_allclose(hand.uv_px, again.uv_px[row], atol=1e-3)
