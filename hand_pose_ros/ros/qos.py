"""QoS for camera inputs: sensor-data style so a busy node never queues behind the camera."""

from __future__ import annotations

import operator

from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy

_RELIABILITY_BY_NAME = {
    "best_effort": ReliabilityPolicy.BEST_EFFORT,
    "reliable": ReliabilityPolicy.RELIABLE,
}


def input_qos(reliability: str = "best_effort", depth: int = 1) -> QoSProfile:
    """Keep-last, volatile profile with a small queue.

    Best effort (the default) matches both best-effort and reliable publishers; "reliable" is
    for recordings or links where every frame must arrive. A depth of 1 means a slow callback
    always sees the newest frame and older ones are dropped by the middleware.
    """
    key = reliability.strip().lower() if isinstance(reliability, str) else reliability
    if key not in _RELIABILITY_BY_NAME:
        raise ValueError(
            f"unknown reliability {reliability!r}; expected one of {sorted(_RELIABILITY_BY_NAME)}"
        )
    try:
        queue_depth = operator.index(depth)
    except TypeError:
        queue_depth = 0
    if isinstance(depth, bool) or queue_depth < 1:
        raise ValueError(f"queue depth must be an integer >= 1, got {depth!r}")
    return QoSProfile(
        history=HistoryPolicy.KEEP_LAST,
        depth=queue_depth,
        reliability=_RELIABILITY_BY_NAME[key],
        durability=DurabilityPolicy.VOLATILE,
    )
