"""HandSequence: deterministic random access and smooth motion."""

from __future__ import annotations

import itertools

import numpy as np

from hand_pose_ros.core.skeletons import HAND_KEYPOSES
from hand_pose_ros.synthetic import HandSequence


def test_random_access_is_deterministic() -> None:
    a = HandSequence(5, 96, 72)
    late = a.frame(40)
    for i in (3, 0, 17):
        a.frame(i)
    again = HandSequence(5, 96, 72).frame(40)
    for name in ("depth_m", "clean_depth_m", "segmentation", "keypoints_xyz_m", "visibility"):
        assert getattr(late, name).tobytes() == getattr(again, name).tobytes(), name
        assert getattr(a.frame(40), name).tobytes() == getattr(late, name).tobytes(), name


def test_motion_is_smooth_and_hands_stay_mostly_in_view() -> None:
    for seed in range(4):
        sequence = HandSequence(seed, 64, 48, fps=30.0)
        frames = [sequence.frame(i) for i in range(0, 90)]
        present = np.array([f.present for f in frames])
        assert present.any(axis=1).mean() > 0.5
        for previous, current in itertools.pairwise(frames):
            both = previous.present & current.present
            for side in np.flatnonzero(both):
                step = np.linalg.norm(current.keypoints_xyz_m[side]
                                      - previous.keypoints_xyz_m[side], axis=1)
                assert step.max() < 0.03  # < 0.9 m/s at 30 fps, even mid keypose change
        keyposes = {int(k) for f in frames for k in f.keypose if k >= 0}
        assert keyposes <= set(range(len(HAND_KEYPOSES)))


def test_things_actually_move_and_keyposes_change() -> None:
    sequence = HandSequence(2, 64, 48, fps=30.0)
    first, later = sequence.frame(0), sequence.frame(45)
    side = int(np.flatnonzero(first.present)[0])
    assert later.present[side]
    assert np.linalg.norm(later.keypoints_xyz_m[side, 0] - first.keypoints_xyz_m[side, 0]) > 0.005
    changes = {int(sequence.frame(i).keypose[side]) for i in range(0, 600, 15)} - {-1}
    assert len(changes) >= 2
