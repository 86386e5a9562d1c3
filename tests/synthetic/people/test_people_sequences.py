"""PeopleSequence: random access, stable track ids, smooth motion, entering and leaving."""

from __future__ import annotations

import itertools
from functools import cache

import numpy as np
import pytest

from hand_pose_ros.synthetic.people.sequences import PeopleSequence

FPS = 15.0
MAX_KEYPOINT_STEP_M = 0.5  # a fast walker's swinging foot moves ~0.35 m per frame at 15 fps
N_FRAMES = 150


@cache
def sequence(seed: int) -> PeopleSequence:
    return PeopleSequence(seed, N_FRAMES, 64, 48, fps=FPS)


def test_frames_are_random_access_and_deterministic() -> None:
    a = PeopleSequence(3, 40, 80, 60)
    late = a.frame(30)
    early = a.frame(2)
    b = PeopleSequence(3, 40, 80, 60)
    for x, y in ((late, b.frame(30)), (early, b.frame(2))):
        assert x.color.tobytes() == y.color.tobytes()
        assert x.depth_mm.tobytes() == y.depth_mm.tobytes()
        np.testing.assert_array_equal(x.track_ids, y.track_ids)
        np.testing.assert_array_equal(x.keypoints_xyz, y.keypoints_xyz)
    assert len(a) == 40 and sum(1 for _ in PeopleSequence(3, 3, 32, 24)) == 3
    with pytest.raises(IndexError):
        a.frame(40)


def test_motion_is_smooth_for_persistent_tracks() -> None:
    moved = 0.0
    for seed in range(3):
        seq = sequence(seed)
        previous = None
        for i in range(0, N_FRAMES, 2):  # every other frame keeps the test fast
            scene, ids = seq.scene(i)
            keypoints = {int(t): p.body.keypoints for t, p in zip(ids, scene.people)}
            if previous is not None:
                for track, xyz in keypoints.items():
                    if track in previous:
                        step = np.linalg.norm(xyz - previous[track], axis=1).max()
                        assert step <= 2 * MAX_KEYPOINT_STEP_M, (seed, i, track, step)
                        moved = max(moved, step)
            previous = keypoints
    assert moved > 0.05  # people do move


def test_consecutive_rendered_frames_keep_ids_and_move_little() -> None:
    seq = sequence(7)
    frames = [seq.frame(i) for i in range(40, 52)]
    for a, b in itertools.pairwise(frames):
        for k, track in enumerate(b.track_ids):
            j = np.flatnonzero(a.track_ids == track)
            if j.size:
                step = np.linalg.norm(b.keypoints_xyz[k] - a.keypoints_xyz[j[0]], axis=1)
                assert step.max() <= MAX_KEYPOINT_STEP_M
        assert len(set(b.track_ids.tolist())) == len(b.track_ids)


def test_people_enter_and_leave() -> None:
    entered = left = False
    for seed in range(8):
        seq = PeopleSequence(seed, 300, 32, 24, fps=FPS)
        starts = [t.start_s for t in seq.tracks]
        ends = [t.end_s for t in seq.tracks]
        entered |= any(0.0 < s < seq.duration_s for s in starts)
        left |= any(e < seq.duration_s for e in ends)
        ids = [t.track_id for t in seq.tracks]
        assert ids == list(range(len(ids)))
    assert entered and left
