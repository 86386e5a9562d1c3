"""Associative-embedding grouping: joint candidates -> people, by their embedding tags.

Bottom-up models predict every joint of every person at once plus a tag per joint; joints of one
person carry similar tags. Joints are taken one type at a time in a fixed order; the candidates
of that type are matched to the people found so far by the Hungarian method on tag distance
(rounded, so the heatmap score breaks ties between equally close people), a match further than
``tag_threshold`` starts a new person, as does every unmatched candidate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

TAG_DISTANCE_WEIGHT = 100.0
"""Cost per unit of rounded tag distance; the (<= 1) heatmap score is subtracted from it, so
score only decides between people at the same rounded distance."""


@dataclass
class GroupedPeople:
    """People after grouping, before refinement. Missing joints: ``found`` False, ``xy`` and
    ``tag`` NaN, ``score`` 0. ``xy`` is in the candidates' pixel frame."""

    xy: np.ndarray  # (P, J, 2) float64
    score: np.ndarray  # (P, J) float32
    tag: np.ndarray  # (P, J, D) float32
    found: np.ndarray  # (P, J) bool

    def __len__(self) -> int:
        return int(self.xy.shape[0])

    @property
    def mean_tag(self) -> np.ndarray:
        """(P, D) mean tag over each person's found joints."""
        count = np.maximum(self.found.sum(axis=1), 1)[:, None]
        return np.where(self.found[:, :, None], self.tag, 0.0).sum(axis=1) / count

    @property
    def person_score(self) -> np.ndarray:
        """(P,) mean keypoint score, missing joints counting 0."""
        return self.score.mean(axis=1) if len(self) else np.zeros(0, np.float32)


def group_candidates(
    xy: np.ndarray,
    score: np.ndarray,
    tag: np.ndarray,
    detection_threshold: float,
    tag_threshold: float,
    max_people: int,
    joint_order: Sequence[int] | None = None,
) -> GroupedPeople:
    """Group per-joint candidates into at most ``max_people`` people.

    ``xy`` (J, K, 2), ``score`` (J, K), ``tag`` (J, K, D): the top K candidates of each joint
    (pad unused slots with a score below the threshold, e.g. -1). Candidates with score <
    ``detection_threshold`` are ignored. ``joint_order`` (default 0..J-1) is the order joints
    are matched in. People are returned by descending mean keypoint score, capped at
    ``max_people``.
    """
    xy = np.asarray(xy, np.float64)
    score = np.asarray(score, np.float32)
    tag = np.asarray(tag, np.float32)
    if tag.ndim == 2:
        tag = tag[:, :, None]
    joints, _, tag_dim = tag.shape
    order = range(joints) if joint_order is None else joint_order
    keep = score >= detection_threshold
    capacity = int(keep.sum())
    tag_sum = np.zeros((capacity, tag_dim), np.float64)
    tag_count = np.zeros(capacity, np.int64)
    candidate_joint, candidate_slot = np.nonzero(keep)  # row-major: grouped by joint
    slots_of_joint = np.split(candidate_slot, np.cumsum(keep.sum(axis=1))[:-1])
    person_of = np.full(keep.shape, -1, np.intp)  # (J, K): person of each kept candidate
    people = 0
    for j in order:
        rows = slots_of_joint[j]
        if rows.size == 0:
            continue
        joint_tags = tag[j, rows]
        if people == 0:
            target = np.arange(rows.size)
        else:
            mean = tag_sum[:people] / tag_count[:people, None]
            if tag_dim == 1:  # the usual case, and a third of the work
                distance = np.abs(joint_tags - mean.T)
            else:
                distance = np.sqrt(np.square(joint_tags[:, None, :] - mean[None]).sum(axis=2))
            cost = np.round(distance) * TAG_DISTANCE_WEIGHT - score[j, rows, None]
            row_index, column_index = linear_sum_assignment(cost)
            target = np.full(rows.size, -1, np.intp)
            close = distance[row_index, column_index] < tag_threshold
            target[row_index[close]] = column_index[close]
            new = target < 0
            target[new] = people + np.arange(int(new.sum()))
        people = max(people, int(target.max()) + 1)
        tag_sum[target] += joint_tags
        tag_count[target] += 1
        person_of[j, rows] = target
    person = person_of[candidate_joint, candidate_slot]
    joint, slot = candidate_joint, candidate_slot
    out_xy = np.full((people, joints, 2), np.nan)
    out_score = np.zeros((people, joints), np.float32)
    out_tag = np.full((people, joints, tag_dim), np.nan, np.float32)
    found = np.zeros((people, joints), bool)
    out_xy[person, joint] = xy[joint, slot]
    out_score[person, joint] = score[joint, slot]
    out_tag[person, joint] = tag[joint, slot]
    found[person, joint] = True
    result = GroupedPeople(out_xy, out_score, out_tag, found)
    ranking = np.argsort(-result.person_score, kind="stable")[:max_people]
    return GroupedPeople(
        result.xy[ranking], result.score[ranking], result.tag[ranking], result.found[ranking]
    )
