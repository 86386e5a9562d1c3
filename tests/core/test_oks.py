"""Object keypoint similarity and greedy matching on hand-computed cases."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hand_pose_ros.core.oks import match_by_oks, object_keypoint_similarity, oks_matrix
from hand_pose_ros.core.skeletons import COCO_OKS_SIGMAS


def test_hand_computed_values():
    truth = np.array([[10.0, 10.0], [20.0, 20.0]])
    sigmas = np.array([0.1, 0.05])
    vis = np.array([2, 1])
    # exp(-d^2 / (2 * area * (2 sigma)^2)): area 100 -> keypoint 0: d=2 -> e = 4/8 = 0.5;
    # keypoint 1: d=1 -> e = 1 / (2 * 100 * 0.01) = 0.5.
    pred = truth + np.array([[2.0, 0.0], [0.0, 1.0]])
    assert object_keypoint_similarity(pred, truth, vis, 100.0, sigmas) == pytest.approx(
        math.exp(-0.5)
    )
    assert object_keypoint_similarity(truth, truth, vis, 100.0, sigmas) == pytest.approx(1.0)
    pred = truth + np.array([[2.0, 0.0], [0.0, 0.0]])
    assert object_keypoint_similarity(pred, truth, vis, 100.0, sigmas) == pytest.approx(
        (math.exp(-0.5) + 1.0) / 2
    )


def test_unlabelled_and_missing_keypoints():
    truth = np.array([[10.0, 10.0], [20.0, 20.0]])
    sigmas = np.array([0.1, 0.1])
    far = truth + [[0.0, 0.0], [500.0, 0.0]]
    assert object_keypoint_similarity(far, truth, [2, 0], 50.0, sigmas) == 1.0
    nan_pred = np.array([[10.0, 10.0], [np.nan, np.nan]])
    assert object_keypoint_similarity(nan_pred, truth, [2, 2], 50.0, sigmas) == 0.5
    assert math.isnan(object_keypoint_similarity(truth, truth, [0, 0], 50.0, sigmas))


def test_matrix_matches_pairwise_values():
    rng = np.random.default_rng(0)
    truth = rng.uniform(0, 200, (3, 17, 2))
    pred = truth[[2, 0]] + rng.normal(0, 3, (2, 17, 2))
    vis = rng.integers(0, 3, (3, 17))
    areas = np.array([900.0, 2500.0, 1600.0])
    matrix = oks_matrix(pred, truth, vis, areas, COCO_OKS_SIGMAS)
    assert matrix.shape == (2, 3)
    for p in range(2):
        for t in range(3):
            assert matrix[p, t] == pytest.approx(
                object_keypoint_similarity(pred[p], truth[t], vis[t], areas[t], COCO_OKS_SIGMAS)
            )


def test_greedy_matching_by_score_and_threshold():
    truth = np.array([[[0.0, 0.0]], [[10.0, 0.0]]])
    sigmas = [0.1]
    areas = [100.0, 100.0]
    vis = [[2], [2]]
    # Prediction 0 sits between both truths, prediction 1 on truth 0; the higher score wins.
    pred = np.array([[[3.0, 0.0]], [[0.0, 0.0]]])
    matches = match_by_oks(pred, truth, vis, areas, sigmas, pred_scores=[0.9, 0.5], min_oks=0.0)
    assert [(m.pred_index, m.truth_index) for m in matches] == [(0, 0), (1, 1)]
    matches = match_by_oks(pred, truth, vis, areas, sigmas, pred_scores=[0.5, 0.9], min_oks=0.0)
    assert [(m.pred_index, m.truth_index) for m in matches] == [(1, 0), (0, 1)]
    assert matches[0].oks == pytest.approx(1.0)
    strict = match_by_oks(pred, truth, vis, areas, sigmas, pred_scores=[0.5, 0.9], min_oks=0.5)
    assert [(m.pred_index, m.truth_index) for m in strict] == [(1, 0)]
    assert match_by_oks(np.zeros((0, 1, 2)), truth, vis, areas, sigmas) == []
