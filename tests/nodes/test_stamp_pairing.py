"""Colour/depth pairing by stamp: pairs in either arrival order, reports what can never pair."""

from __future__ import annotations

import pytest

from hand_pose_ros.nodes.stamp_pairing import (
    NO_DEPTH,
    SYSTEMATIC_FAILURES,
    UNSYNCHRONISED,
    Paired,
    StampPairer,
    Unpaired,
)

TOLERANCE_S = 0.02


def _pairs(events) -> list[tuple[str, str]]:
    return [(e.color, e.depth) for e in events if isinstance(e, Paired)]


def _unpaired(events) -> list[tuple[str, str]]:
    return [(e.color, e.reason) for e in events if isinstance(e, Unpaired)]


def test_depth_first_then_colour_pairs_at_once() -> None:
    pairer = StampPairer(TOLERANCE_S)
    assert pairer.add_depth("d1", 1.000) == []
    events = pairer.add_color("c1", 1.005)
    assert _pairs(events) == [("c1", "d1")]
    assert events[0].difference_s == pytest.approx(-0.005)


def test_colour_first_waits_for_its_depth() -> None:
    pairer = StampPairer(TOLERANCE_S)
    assert pairer.add_color("c1", 1.0) == []
    assert pairer.pending_colors == 1
    assert _pairs(pairer.add_depth("d1", 1.0)) == [("c1", "d1")]
    assert pairer.pending_colors == 0


def test_nearest_depth_in_stamp_wins() -> None:
    pairer = StampPairer(0.05)
    for name, stamp in (("d0", 0.96), ("d1", 1.00), ("d2", 1.03)):
        pairer.add_depth(name, stamp)
    assert _pairs(pairer.add_color("c", 1.01)) == [("c", "d1")]
    # d1 and everything older is used up; d2 can still serve the next colour frame.
    assert _pairs(pairer.add_color("c2", 1.04)) == [("c2", "d2")]


def test_a_depth_image_pairs_only_once() -> None:
    pairer = StampPairer(TOLERANCE_S)
    pairer.add_depth("d1", 1.0)
    assert _pairs(pairer.add_color("c1", 1.0)) == [("c1", "d1")]
    assert pairer.add_color("c1b", 1.01) == []  # waits for a new depth image
    assert pairer.pending_colors == 1


def test_a_lost_depth_image_is_reported_as_no_depth() -> None:
    pairer = StampPairer(TOLERANCE_S)
    pairer.add_depth("d", 2.0)
    events = pairer.add_color("old", 1.0)  # its own depth image never came
    assert _unpaired(events) == [("old", NO_DEPTH)]
    assert "1.000 s" in events[0].message and "max_stamp_difference_s" in events[0].message


def test_waiting_colour_is_reported_when_a_later_depth_arrives() -> None:
    pairer = StampPairer(TOLERANCE_S)
    assert pairer.add_color("c", 1.0) == []
    assert _unpaired(pairer.add_depth("d", 1.5)) == [("c", NO_DEPTH)]
    assert pairer.pending_colors == 0


@pytest.mark.parametrize("offset_s", [0.5, -0.5])
def test_stamps_out_of_step_are_reported_as_unsynchronised(offset_s: float) -> None:
    """Depth keeps arriving but never within the tolerance: after a few frames it is an error."""
    pairer = StampPairer(TOLERANCE_S)
    reasons = []
    for i in range(8):
        stamp = 1.0 + i / 30.0
        for event in [*pairer.add_depth(f"d{i}", stamp + offset_s), *pairer.add_color(i, stamp)]:
            assert not isinstance(event, Paired)
            reasons.append(event.reason)
    assert reasons[: SYSTEMATIC_FAILURES - 1] == [NO_DEPTH] * (SYSTEMATIC_FAILURES - 1)
    assert set(reasons[SYSTEMATIC_FAILURES - 1 :]) == {UNSYNCHRONISED}
    assert len(reasons) >= 5
    # Back in step: pairs again, and the next lone miss is a warning-level NO_DEPTH again.
    assert _pairs(pairer.add_depth("ok", 5.0) + pairer.add_color("ok", 5.0)) == [("ok", "ok")]
    pairer.add_depth("d", 7.0)
    assert _unpaired(pairer.add_color("lone", 6.0)) == [("lone", NO_DEPTH)]


def test_without_any_depth_old_colour_frames_are_reported_as_no_depth() -> None:
    pairer = StampPairer(TOLERANCE_S, pending_colors=2)
    assert pairer.add_color("c1", 1.0) == []
    assert pairer.add_color("c2", 1.1) == []
    assert _unpaired(pairer.add_color("c3", 1.2)) == [("c1", NO_DEPTH)]


def test_pairing_a_newer_colour_gives_up_older_waiting_ones() -> None:
    pairer = StampPairer(TOLERANCE_S, pending_colors=3)
    pairer.add_depth("d0", 0.9)
    pairer.add_color("c1", 1.0)
    pairer.add_color("c2", 1.1)
    events = pairer.add_depth("d2", 1.1)
    assert _pairs(events) == [("c2", "d2")]
    assert _unpaired(events) == [("c1", NO_DEPTH)]


def test_every_colour_frame_ends_paired_or_reported() -> None:
    """A jittery stream with every third depth image missing: nothing disappears silently."""
    pairer = StampPairer(0.01)
    outcomes: dict[str, str] = {}
    for i in range(60):
        stamp = i / 30.0
        for event in pairer.add_color(f"c{i}", stamp):
            outcomes[event.color] = "paired" if isinstance(event, Paired) else event.reason
        if i % 3 != 2:
            for event in pairer.add_depth(f"d{i}", stamp + (0.004 if i % 2 else -0.004)):
                outcomes[event.color] = "paired" if isinstance(event, Paired) else event.reason
    settled = len(outcomes) + pairer.pending_colors
    assert settled == 60
    assert sum(v == "paired" for v in outcomes.values()) == 40


def test_negative_tolerance_is_rejected() -> None:
    with pytest.raises(ValueError):
        StampPairer(-0.1)
