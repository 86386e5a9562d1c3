"""How frames move through a node: a one-slot hand-off and the counters diagnostics report.

The subscription callback only drops the newest frame into the slot and returns, so the
executor keeps draining the middleware; a worker thread takes the frame out. When the worker is
still busy and a newer frame arrives, the older waiting frame is replaced and counted: the node
never queues behind the camera, and every loss is visible.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import numpy as np

T = TypeVar("T")

LATENCY_WINDOW_FRAMES = 1000
"""How many recent per-frame latencies the percentiles are computed over."""


class LatestMailbox(Generic[T]):
    """Holds at most one item; putting a new one displaces (and returns) the waiting one."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._item: T | None = None
        self._closed = False

    def put(self, item: T) -> T | None:
        """Store ``item``; returns the displaced older item, or None if the slot was empty."""
        with self._condition:
            displaced = self._item
            self._item = item
            self._condition.notify()
        return displaced

    def take(self, timeout_s: float | None = None) -> T | None:
        """Wait for an item and remove it; None on timeout or once closed."""
        with self._condition:
            if self._item is None and not self._closed:
                self._condition.wait(timeout_s)
            item, self._item = self._item, None
            return item

    def close(self) -> None:
        """Wake any waiting taker; later takes return what is left, then None."""
        with self._condition:
            self._closed = True
            self._condition.notify_all()

    @property
    def closed(self) -> bool:
        return self._closed


@dataclass
class StatsSnapshot:
    """What happened since the previous snapshot, plus totals since start."""

    period_s: float
    received: int
    processed: int
    dropped: dict[str, int]
    total_received: int
    total_processed: int
    total_dropped: dict[str, int]
    latency_p50_s: float
    latency_p90_s: float
    inference_p50_s: float

    @property
    def input_rate_hz(self) -> float:
        return self.received / self.period_s if self.period_s > 0 else 0.0


@dataclass
class FrameStats:
    """Thread-safe frame counters and recent latencies (receipt -> outputs published)."""

    _lock: threading.Lock = field(default_factory=threading.Lock)
    received: int = 0
    processed: int = 0
    dropped: Counter = field(default_factory=Counter)
    latencies_s: deque = field(default_factory=lambda: deque(maxlen=LATENCY_WINDOW_FRAMES))
    inference_s: deque = field(default_factory=lambda: deque(maxlen=LATENCY_WINDOW_FRAMES))
    _last_snapshot_time: float = field(default_factory=time.monotonic)
    _last_received: int = 0
    _last_processed: int = 0
    _last_dropped: Counter = field(default_factory=Counter)

    def count_received(self) -> None:
        with self._lock:
            self.received += 1

    def count_drop(self, reason: str) -> None:
        with self._lock:
            self.dropped[reason] += 1

    def count_processed(self, latency_s: float, inference_s: float) -> None:
        with self._lock:
            self.processed += 1
            self.latencies_s.append(latency_s)
            self.inference_s.append(inference_s)

    def drop_counts(self) -> dict[str, int]:
        with self._lock:
            return dict(self.dropped)

    def snapshot(self) -> StatsSnapshot:
        """Counts since the last snapshot (for rates and WARN levels) and running totals."""
        now = time.monotonic()
        with self._lock:
            period_dropped = self.dropped - self._last_dropped
            snapshot = StatsSnapshot(
                period_s=now - self._last_snapshot_time,
                received=self.received - self._last_received,
                processed=self.processed - self._last_processed,
                dropped=dict(period_dropped),
                total_received=self.received,
                total_processed=self.processed,
                total_dropped=dict(self.dropped),
                latency_p50_s=_percentile(self.latencies_s, 50.0),
                latency_p90_s=_percentile(self.latencies_s, 90.0),
                inference_p50_s=_percentile(self.inference_s, 50.0),
            )
            self._last_snapshot_time = now
            self._last_received = self.received
            self._last_processed = self.processed
            self._last_dropped = Counter(self.dropped)
        return snapshot


def _percentile(values: deque, q: float) -> float:
    """Percentile of the finite values (NaN: a frame where that stage did not run)."""
    finite = np.fromiter(values, dtype=np.float64)
    finite = finite[np.isfinite(finite)]
    return float(np.percentile(finite, q)) if finite.size else float("nan")
