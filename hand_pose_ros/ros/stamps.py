"""ROS message stamps as float seconds, the unit the pairing and caching code compares in."""

from __future__ import annotations

from std_msgs.msg import Header


def stamp_seconds(header: Header) -> float:
    """A header's stamp in seconds (float64 keeps nanoseconds for about 100 days of epoch time
    to within a microsecond, more than any pairing tolerance needs)."""
    return float(header.stamp.sec) + float(header.stamp.nanosec) * 1e-9
