"""Associative-embedding grouping on constructed candidates."""

from __future__ import annotations

import numpy as np
import pytest

from hand_pose_ros.core.grouping import group_candidates


def candidates(people_xy: np.ndarray, tags: np.ndarray, scores=None, k: int = 30, seed: int = 0):
    """Per-joint candidate arrays (J, k, ...) for people (P, J, 2) with per-person tags,
    shuffled within each joint so that order carries no information."""
    rng = np.random.default_rng(seed)
    people, joints = people_xy.shape[:2]
    scores = np.ones((people, joints)) if scores is None else np.asarray(scores, float)
    xy = np.zeros((joints, k, 2))
    score = np.full((joints, k), -1.0)
    tag = np.zeros((joints, k, 1))
    for j in range(joints):
        order = rng.permutation(people)
        xy[j, :people] = people_xy[order, j]
        score[j, :people] = scores[order, j]
        tag[j, :people, 0] = np.asarray(tags)[order] + rng.normal(0, 0.05, people)
    return xy, score, tag


def match_people(grouped_xy: np.ndarray, truth_xy: np.ndarray) -> np.ndarray:
    """Index of the grouped person equal to each truth person (all joints), -1 if none."""
    result = []
    for person in truth_xy:
        same = np.flatnonzero(np.all(np.abs(grouped_xy - person[None]) < 1e-9, axis=(1, 2)))
        result.append(same[0] if same.size else -1)
    return np.array(result)


@pytest.mark.parametrize("count", [2, 10])
def test_people_are_separated_by_their_tags(count):
    rng = np.random.default_rng(count)
    truth = rng.uniform(0, 100, (count, 17, 2))
    xy, score, tag = candidates(truth, tags=np.arange(count) * 3.0)
    grouped = group_candidates(xy, score, tag, 0.1, 1.0, 30)
    assert len(grouped) == count
    assert grouped.found.all()
    assert (match_people(grouped.xy, truth) >= 0).all()
    np.testing.assert_allclose(grouped.person_score, 1.0)


def test_spatially_interleaved_people_are_grouped_by_tag_not_position():
    base = np.random.default_rng(1).uniform(0, 100, (17, 2))
    truth = np.stack([base, base + 1.0])  # one pixel apart: only tags tell them apart
    xy, score, tag = candidates(truth, tags=[0.0, 2.0])
    grouped = group_candidates(xy, score, tag, 0.1, 1.0, 30)
    assert len(grouped) == 2 and (match_people(grouped.xy, truth) >= 0).all()


def test_tag_threshold_decides_between_joining_and_a_new_person():
    truth = np.zeros((1, 2, 2))
    xy, score, tag = candidates(truth, tags=[0.0])
    tag[1, 0, 0] = 0.6  # second joint's tag 0.6 away from the first's
    tag[0, 0, 0] = 0.0
    joined = group_candidates(xy, score, tag, 0.1, tag_threshold=1.0, max_people=30)
    split = group_candidates(xy, score, tag, 0.1, tag_threshold=0.5, max_people=30)
    assert len(joined) == 1 and joined.found.all()
    assert len(split) == 2 and split.found.sum() == 2


def test_detection_threshold_drops_weak_candidates():
    truth = np.random.default_rng(2).uniform(0, 50, (2, 17, 2))
    scores = np.ones((2, 17))
    scores[1] = 0.05  # the second person is below the threshold everywhere
    scores[0, 3] = 0.09  # and one joint of the first
    xy, score, tag = candidates(truth, tags=[0.0, 3.0], scores=scores)
    grouped = group_candidates(xy, score, tag, 0.1, 1.0, 30)
    assert len(grouped) == 1
    assert grouped.found[0].sum() == 16 and not grouped.found[0, 3]
    assert np.isnan(grouped.xy[0, 3]).all() and grouped.score[0, 3] == 0


def test_max_people_keeps_the_best_scoring_people():
    truth = np.random.default_rng(3).uniform(0, 50, (5, 17, 2))
    scores = np.linspace(0.5, 0.9, 5)[:, None] * np.ones((5, 17))
    xy, score, tag = candidates(truth, tags=np.arange(5) * 3.0, scores=scores)
    grouped = group_candidates(xy, score, tag, 0.1, 1.0, max_people=3)
    assert len(grouped) == 3
    np.testing.assert_allclose(grouped.person_score, [0.9, 0.8, 0.7], atol=1e-6)
    np.testing.assert_array_equal(match_people(grouped.xy, truth[::-1][:3]), [0, 1, 2])


def test_the_weaker_of_two_peaks_of_one_body_is_dropped_not_a_new_person():
    """Two wrist candidates whose tags both match one person (same rounded distance): the
    score picks the wrist, and the other is a second peak of that body, not a new person."""
    xy = np.array([[[10.0, 10.0], [0.0, 0.0]], [[20.0, 30.0], [24.0, 33.0]]])  # (J=2, K=2, 2)
    score = np.array([[0.9, -1.0], [0.5, 0.9]])
    tag = np.array([[[0.0], [0.0]], [[0.1], [0.3]]])
    grouped = group_candidates(xy, score, tag, 0.1, tag_threshold=1.0, max_people=30)
    assert len(grouped) == 1 and grouped.found.all()
    np.testing.assert_array_equal(grouped.xy[0, 1], [24.0, 33.0])


def test_multi_dimensional_tags_and_empty_input():
    truth = np.random.default_rng(4).uniform(0, 50, (3, 5, 2))
    xy, score, tag = candidates(truth, tags=[0.0, 3.0, 6.0], k=4)
    tag2 = np.concatenate([tag, -tag], axis=2)  # (J, k, 2)
    grouped = group_candidates(xy, score, tag2, 0.1, 1.0, 30)
    assert len(grouped) == 3 and grouped.mean_tag.shape == (3, 2)
    empty = group_candidates(xy, np.full_like(score, -1), tag2, 0.1, 1.0, 30)
    assert len(empty) == 0 and empty.xy.shape == (0, 5, 2)


def test_joint_order_is_respected():
    truth = np.random.default_rng(5).uniform(0, 50, (2, 4, 2))
    xy, score, tag = candidates(truth, tags=[0.0, 3.0], k=3)
    grouped = group_candidates(xy, score, tag, 0.1, 1.0, 30, joint_order=(3, 2, 1, 0))
    assert len(grouped) == 2 and (match_people(grouped.xy, truth) >= 0).all()


def test_joint_order_must_place_every_joint():
    truth = np.random.default_rng(6).uniform(0, 50, (2, 4, 2))
    xy, score, tag = candidates(truth, tags=[0.0, 3.0], k=3)
    for order in ((0, 1, 2), (0, 1, 2, 2)):
        with pytest.raises(ValueError, match="permutation"):
            group_candidates(xy, score, tag, 0.1, 1.0, 30, joint_order=order)
