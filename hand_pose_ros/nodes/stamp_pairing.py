"""Pair colour and depth images by header stamp (message_filters is not installable here).

Drivers publish a registered depth image with the same (or a nearly the same) stamp as its
colour image, but the two arrive in either order. The pairer keeps a few recent depth images
and at most a few colour frames waiting for their depth; a colour frame is paired with the
depth image nearest in stamp within a tolerance. A colour frame that can no longer be paired
(the depth stream has moved past it, or newer colour frames pushed it out) is reported as
unpaired with the reason, so the node can count and log it: nothing is lost silently. A colour
frame now and then without its depth (a lost message, a slower depth stream) is NO_DEPTH; a run
of them while depth images keep arriving means the stamps do not line up: UNSYNCHRONISED.

Pure Python, no ROS: stamps are float seconds.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

DEPTH_HISTORY = 8
"""Recent depth images kept for pairing (a few frame periods at 30 Hz)."""
PENDING_COLORS = 2
"""Colour frames that may wait for their depth image; older ones are reported unpaired."""

SYSTEMATIC_FAILURES = 3
"""Colour frames in a row without a depth partner, while depth arrives, that mean the stamps
are out of step (rather than a depth image lost now and then)."""

UNSYNCHRONISED = "unsynchronised"
NO_DEPTH = "no_depth"


@dataclass
class Paired:
    """A colour frame and the depth image nearest to it in stamp."""

    color: Any
    depth: Any
    difference_s: float  # depth stamp - colour stamp


@dataclass
class Unpaired:
    """A colour frame that will never be paired; ``reason`` is UNSYNCHRONISED or NO_DEPTH."""

    color: Any
    reason: str
    message: str


@dataclass
class _Stamped:
    item: Any
    stamp_s: float


class StampPairer:
    """Pairs colour with depth by stamp within ``max_difference_s``."""

    def __init__(
        self,
        max_difference_s: float,
        depth_history: int = DEPTH_HISTORY,
        pending_colors: int = PENDING_COLORS,
    ) -> None:
        if max_difference_s < 0:
            raise ValueError(f"max_difference_s must be >= 0, got {max_difference_s}")
        self.max_difference_s = float(max_difference_s)
        self._depths: deque[_Stamped] = deque(maxlen=max(1, depth_history))
        self._pending: deque[_Stamped] = deque()
        self._pending_limit = max(1, pending_colors)
        self._depth_seen = False
        self._failures_in_a_row = 0
        self._depths_since_pair = 0

    def clear(self) -> None:
        self._depths.clear()
        self._pending.clear()

    @property
    def pending_colors(self) -> int:
        return len(self._pending)

    # ------------------------------------------------------------------ inputs
    def add_color(self, color: Any, stamp_s: float) -> list[Paired | Unpaired]:
        """A new colour frame: paired now, left waiting, or (if hopeless) reported unpaired."""
        events: list[Paired | Unpaired] = []
        best = self._nearest_depth(stamp_s)
        if best is not None and abs(best.stamp_s - stamp_s) <= self.max_difference_s:
            events.extend(self._give_up(self._pending, "a newer colour frame was paired"))
            self._pending.clear()
            self._consume_depth(best)
            events.append(self._paired(color, best.item, best.stamp_s - stamp_s))
            return events
        newest_depth_s = max((d.stamp_s for d in self._depths), default=None)
        if newest_depth_s is not None and newest_depth_s > stamp_s + self.max_difference_s:
            # Depth images arrive in stamp order: none can come for this colour frame any more.
            events.append(self._unpaired(_Stamped(color, stamp_s), "the depth stream is ahead"))
            return events
        self._pending.append(_Stamped(color, stamp_s))
        while len(self._pending) > self._pending_limit:
            oldest = self._pending.popleft()
            events.append(self._unpaired(oldest, "newer colour frames arrived first"))
        return events

    def add_depth(self, depth: Any, stamp_s: float) -> list[Paired | Unpaired]:
        """A new depth image: pairs the waiting colour frame nearest to it, if any is close."""
        self._depth_seen = True
        self._depths_since_pair += 1
        entry = _Stamped(depth, stamp_s)
        self._depths.append(entry)
        events: list[Paired | Unpaired] = []
        if not self._pending:
            return events
        candidates = [c for c in self._pending if abs(c.stamp_s - stamp_s) <= self.max_difference_s]
        if candidates:
            match = min(candidates, key=lambda c: abs(c.stamp_s - stamp_s))
            older = [c for c in self._pending if c.stamp_s < match.stamp_s]
            events.extend(self._give_up(older, "a newer colour frame was paired"))
            self._pending = deque(
                c for c in self._pending if c.stamp_s > match.stamp_s and c is not match
            )
            self._consume_depth(entry)
            events.append(self._paired(match.item, depth, stamp_s - match.stamp_s))
            return events
        hopeless = [c for c in self._pending if c.stamp_s < stamp_s - self.max_difference_s]
        if hopeless:
            events.extend(self._give_up(hopeless, "the depth stream is ahead"))
            self._pending = deque(c for c in self._pending if c not in hopeless)
        return events

    # ------------------------------------------------------------------ helpers
    def _nearest_depth(self, stamp_s: float) -> _Stamped | None:
        if not self._depths:
            return None
        return min(self._depths, key=lambda d: abs(d.stamp_s - stamp_s))

    def _consume_depth(self, used: _Stamped) -> None:
        """A depth image pairs once; older ones cannot serve newer colour frames better."""
        self._depths = deque(
            (d for d in self._depths if d.stamp_s > used.stamp_s), maxlen=self._depths.maxlen
        )

    def _give_up(self, entries, why: str) -> list[Unpaired]:
        return [self._unpaired(entry, why) for entry in entries]

    def _paired(self, color: Any, depth: Any, difference_s: float) -> Paired:
        self._failures_in_a_row = 0
        self._depths_since_pair = 0
        return Paired(color, depth, difference_s)

    def _unpaired(self, entry: _Stamped, why: str) -> Unpaired:
        self._failures_in_a_row += 1
        if not self._depth_seen:
            return Unpaired(
                entry.item,
                NO_DEPTH,
                "no depth image received yet (use_depth is true: is the depth topic remapped "
                "to the registered depth stream?)",
            )
        nearest = self._nearest_depth(entry.stamp_s)
        nearest_text = (
            f"nearest depth stamp differs by {abs(nearest.stamp_s - entry.stamp_s):.3f} s"
            if nearest is not None
            else "no recent depth image"
        )
        if self._failures_in_a_row >= SYSTEMATIC_FAILURES and self._depths_since_pair > 0:
            return Unpaired(
                entry.item,
                UNSYNCHRONISED,
                f"colour frame at stamp {entry.stamp_s:.3f} s has no depth image within "
                f"max_stamp_difference_s = {self.max_difference_s:g} s ({nearest_text}; {why}), "
                f"{self._failures_in_a_row} colour frames in a row while depth images arrive: "
                "are colour and depth from one synchronised camera (or is the tolerance too "
                "small)?",
            )
        return Unpaired(
            entry.item,
            NO_DEPTH,
            f"no depth image within max_stamp_difference_s = {self.max_difference_s:g} s of the "
            f"colour frame at stamp {entry.stamp_s:.3f} s ({nearest_text}; {why}): a depth "
            "image was lost, or the depth stream is slower than colour",
        )
