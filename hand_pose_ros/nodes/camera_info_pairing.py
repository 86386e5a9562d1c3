"""The CameraInfo that goes with an image: its own (same stamp) when the camera sends one per
image, else the latest.

Drivers publish a CameraInfo with every image under the same stamp, but nothing orders the two
across topics (rclpy's EventsExecutor hands messages over as they arrive): an image can reach
the worker before its CameraInfo. The intrinsics rarely change, yet a frame whose CameraInfo
did (a new resolution, a broken calibration replaced) must be read with its own. A camera that
publishes its CameraInfo once, on its own clock or with stamp 0 sends none per image; the
latest then serves at once, without waiting.

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
        self._previous_image_s: float | None = None

    def add(self, info: Any, stamp_s: float) -> None:
        with self._arrived:
            self._infos.append((float(stamp_s), info))
            self._arrived.notify_all()

    def for_image(self, stamp_s: float) -> Any | None:
        """The CameraInfo stamped ``stamp_s``, else the latest (None: none has come).

        Waits, at most ``grace_s``, while there is none yet or the latest is older than the image
        but no older than the previous image (the camera stamps a CameraInfo per image, and this
        image's is on its way)."""
        deadline_s = time.monotonic() + self.grace_s
        with self._arrived:
            try:
                while True:
                    own = next((info for s, info in reversed(self._infos) if s == stamp_s), None)
                    if own is not None:
                        return own
                    latest = self._infos[-1] if self._infos else None
                    if latest is not None and not self._own_is_coming(latest[0], stamp_s):
                        return latest[1]
                    remaining_s = deadline_s - time.monotonic()
                    if remaining_s <= 0:
                        return latest[1] if latest is not None else None
                    self._arrived.wait(remaining_s)
            finally:
                self._previous_image_s = float(stamp_s)

    def _own_is_coming(self, latest_s: float, image_s: float) -> bool:
        """Whether to wait for the image's own CameraInfo: the latest is older than the image
        and kept pace with the images so far."""
        keeping_pace = self._previous_image_s is None or latest_s >= self._previous_image_s
        return latest_s < image_s and keeping_pace
