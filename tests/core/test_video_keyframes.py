"""Keyframe policy: start, interval, and a track losing confidence."""

from __future__ import annotations

import numpy as np
import pytest

from hand_pose_ros.core.video.keyframes import KeyframePolicy


def test_first_frame_then_every_interval() -> None:
    policy = KeyframePolicy(interval_frames=3, min_track_confidence=0.3)
    confident = np.array([0.9, 0.8])
    assert policy.reason(None, confident) == "start"
    assert [policy.reason(n, confident) for n in (1, 2, 3, 4)] == ["", "", "interval", "interval"]


def test_a_weak_track_forces_a_keyframe_but_no_tracks_do_not() -> None:
    policy = KeyframePolicy(interval_frames=10, min_track_confidence=0.3)
    assert policy.reason(1, np.array([0.9, 0.29])) == "low_confidence"
    assert policy.reason(1, np.array([])) == ""


@pytest.mark.parametrize("arguments", [(0, 0.3), (5, 1.5), (5, -0.1), (5, 0.3, 1.5)])
def test_invalid_policies_are_refused(arguments) -> None:
    with pytest.raises(ValueError):
        KeyframePolicy(*arguments)


def test_a_relative_confidence_drop_forces_a_keyframe_but_a_steady_low_one_does_not() -> None:
    policy = KeyframePolicy(interval_frames=10, min_track_confidence=0.0, confidence_drop_ratio=0.6)
    steady_partial = policy.reason(2, np.array([0.25, 0.9]), np.array([0.3, 0.95]))
    assert steady_partial == ""
    assert policy.reason(2, np.array([0.25, 0.5]), np.array([0.3, 0.95])) == "confidence_drop"
    assert policy.reason(1, np.array([0.2]), np.array([np.nan])) == ""  # no reference yet


def test_untracked_motion_forces_a_keyframe_after_the_gap_and_only_when_enabled() -> None:
    policy = KeyframePolicy(interval_frames=10, min_motion_cells=2, motion_gap_frames=3)
    confident = np.array([0.9])
    assert policy.reason(2, confident, untracked_motion_cells=5) == ""  # too soon
    assert policy.reason(3, confident, untracked_motion_cells=1) == ""  # too little
    assert policy.reason(3, confident, untracked_motion_cells=2) == "untracked_motion"
    assert policy.reason(3, np.array([]), untracked_motion_cells=2) == "untracked_motion"
    off = KeyframePolicy(interval_frames=10, min_motion_cells=0)
    assert off.reason(5, confident, untracked_motion_cells=100) == ""
