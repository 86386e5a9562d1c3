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
    """People after grouping, before refinement. Missing joints: ``slot`` -1, ``xy`` and
    ``tag`` NaN, ``score`` 0. ``xy`` is in the candidates' pixel frame."""

    xy: np.ndarray  # (P, J, 2) float64
    score: np.ndarray  # (P, J) float32
    tag: np.ndarray  # (P, J, D) float32
    slot: np.ndarray  # (P, J) intp: which of the joint's candidates the person holds, or -1

    def __len__(self) -> int:
        return int(self.xy.shape[0])

    @property
    def found(self) -> np.ndarray:
        """(P, J) bool: joints grouping gave the person."""
        return self.slot >= 0

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
    are matched in, a permutation of them. People are returned by descending mean keypoint
    score, capped at ``max_people``.
    """
    xy = np.asarray(xy, np.float64)
    score = np.asarray(score, np.float32)
    tag = np.asarray(tag, np.float32)
    if tag.ndim == 2:
        tag = tag[:, :, None]
    joints, _, tag_dim = tag.shape
    order = range(joints) if joint_order is None else tuple(joint_order)
    if sorted(order) != list(range(joints)):
        raise ValueError(f"joint_order must be a permutation of 0..{joints - 1}, got {order}")
    # The kept candidates in one flat list, grouped by joint (row-major): the loop below
    # slices it, so each joint costs a handful of array operations on a few elements.
    joint, slot = np.nonzero(score >= detection_threshold)
    start = np.searchsorted(joint, np.arange(joints + 1)).tolist()
    # Each candidate's tag with a trailing 1: summed per person, the last column counts.
    candidate_tag = np.ones((joint.size, tag_dim + 1))  # (N, D + 1)
    candidate_tag[:, :tag_dim] = tag[joint, slot]
    candidate_score = score[joint, slot, None]  # (N, 1)
    person = np.empty(joint.size, np.intp)
    tag_total = np.zeros((joint.size, tag_dim + 1))  # per person: tag sum, joint count
    people = 0
    for j in order:
        first, stop = start[j], start[j + 1]
        if first == stop:
            continue
        joint_tag = candidate_tag[first:stop, :tag_dim]
        target = [-1] * (stop - first)  # person of each candidate
        if people:
            mean = tag_total[:people, :tag_dim] / tag_total[:people, tag_dim:]
            if tag_dim == 1:  # the usual case, and a third of the work
                distance = np.abs(joint_tag - mean.T)
            else:
                distance = np.sqrt(np.square(joint_tag[:, None, :] - mean[None]).sum(axis=2))
            cost = np.round(distance) * TAG_DISTANCE_WEIGHT - candidate_score[first:stop]
            rows, columns = linear_sum_assignment(cost)
            pairs = zip(rows.tolist(), columns.tolist(), distance[rows, columns].tolist())
            for row, column, pair_distance in pairs:
                if pair_distance < tag_threshold:
                    target[row] = column
        for row, person_index in enumerate(target):
            if person_index < 0:  # unmatched or too far from every person: a new one
                target[row] = people
                people += 1
        index = np.array(target)  # fancy indexing with an array, not a list: 4x faster
        tag_total[index] += candidate_tag[first:stop]
        person[first:stop] = index
    out_xy = np.full((people, joints, 2), np.nan)
    out_score = np.zeros((people, joints), np.float32)
    out_tag = np.full((people, joints, tag_dim), np.nan, np.float32)
    out_slot = np.full((people, joints), -1, np.intp)
    out_xy[person, joint] = xy[joint, slot]
    out_score[person, joint] = score[joint, slot]
    out_tag[person, joint] = tag[joint, slot]
    out_slot[person, joint] = slot
    result = GroupedPeople(out_xy, out_score, out_tag, out_slot)
    ranking = np.argsort(-result.person_score, kind="stable")[:max_people]
    return GroupedPeople(
        result.xy[ranking], result.score[ranking], result.tag[ranking], result.slot[ranking]
    )
