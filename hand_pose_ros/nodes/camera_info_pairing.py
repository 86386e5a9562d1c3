"""The CameraInfo that goes with an image: its own (same stamp) when the camera sends one per
image, else the latest.

Drivers publish a CameraInfo with every image under the same stamp, but nothing orders the two
across topics (rclpy's EventsExecutor hands messages over as they arrive): an image can reach
the worker before its CameraInfo. The intrinsics rarely change, yet a frame whose CameraInfo
did (a new resolution, a broken calibration replaced) must be read with its own. A camera that
publishes its CameraInfo once, on its own clock or with stamp 0 sends none per image: after
its first image has waited in vain, the latest serves at once.

Pure Python (the messages are opaque, stamps are float seconds); the node's worker asks, the
executor's callback adds.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Any

INFO_HISTORY = 8
"""Recent CameraInfo messages kept for pairing (a few frame periods at 30 Hz)."""


class CameraInfoPairing:
    """Recent CameraInfo messages by stamp; ``for_image`` waits up to ``grace_s`` for one."""

    def __init__(self, grace_s: float, history: int = INFO_HISTORY) -> None:
        self.grace_s = float(grace_s)
        self._infos: deque[tuple[float, Any]] = deque(maxlen=max(1, history))
        self._arrived = threading.Condition()
        self._stamps_match = True  # until an image misses its own CameraInfo

    def add(self, info: Any, stamp_s: float) -> None:
        with self._arrived:
            self._infos.append((float(stamp_s), info))
            self._arrived.notify_all()

    def for_image(self, stamp_s: float) -> Any | None:
        """The CameraInfo stamped ``stamp_s``, else the latest (None: none has come).

        Waits, at most ``grace_s``, while none has come, or while the latest is older than the
        image and the camera's CameraInfo stamps have matched its images' so far. An image
        that misses its own (stamps offset from the images', a static CameraInfo, a lost
        message) stops the waiting until one is paired again: a camera without a CameraInfo
        per image costs one grace period, not one per frame."""
        deadline_s = time.monotonic() + self.grace_s
        with self._arrived:
            while True:
                own = next((info for s, info in reversed(self._infos) if s == stamp_s), None)
                if own is not None:
                    self._stamps_match = True
                    return own
                latest = self._infos[-1] if self._infos else None
                may_come = latest is None or (self._stamps_match and latest[0] < stamp_s)
                remaining_s = deadline_s - time.monotonic()
                if not may_come or remaining_s <= 0:
                    if latest is None:
                        return None
                    self._stamps_match = False
                    return latest[1]
                self._arrived.wait(remaining_s)
