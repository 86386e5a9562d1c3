"""ROS message stamps as float seconds, the unit the pairing and caching code compares in."""

from __future__ import annotations

from std_msgs.msg import Header


def stamp_seconds(header: Header) -> float:
    """A header's stamp in seconds: float64 resolves today's epoch times to about 0.2 us, far
    finer than any pairing tolerance."""
    return float(header.stamp.sec) + float(header.stamp.nanosec) * 1e-9
