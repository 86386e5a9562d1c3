"""diagnostic_msgs builders: one status per node, values as KeyValue strings."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from numbers import Integral, Real

import numpy as np
from builtin_interfaces.msg import Time
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from std_msgs.msg import Header

_LEVELS = {
    DiagnosticStatus.OK: "OK",
    DiagnosticStatus.WARN: "WARN",
    DiagnosticStatus.ERROR: "ERROR",
    DiagnosticStatus.STALE: "STALE",
}
FLOAT_SIGNIFICANT_DIGITS = 6


def format_value(value: str | float | int | bool) -> str:
    """Readable text for a diagnostic value: ints exact, floats to 6 significant digits.

    Large floats are written whole (no exponent); NaN and infinities as nan / inf / -inf.
    """
    if isinstance(value, str):
        return value
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, Integral):
        return str(int(value))
    if isinstance(value, Real):
        number = float(value)
        if math.isnan(number):
            return "nan"
        if math.isinf(number):
            return "inf" if number > 0 else "-inf"
        if abs(number) >= 10**FLOAT_SIGNIFICANT_DIGITS:
            return f"{number:.0f}"  # large values (byte counts, ...) without an exponent
        return f"{number:.{FLOAT_SIGNIFICANT_DIGITS}g}"
    raise TypeError(
        f"diagnostic value {value!r} of type {type(value).__name__} is not str, int or float"
    )


def _level_byte(level: bytes | int) -> bytes:
    """DiagnosticStatus.level is a ROS byte: accept the message constants or 0..3."""
    if isinstance(level, (bytes, bytearray)):
        candidate = bytes(level)
    elif isinstance(level, Integral) and not isinstance(level, bool) and 0 <= int(level) <= 255:
        candidate = bytes([int(level)])
    else:
        candidate = b""
    if candidate not in _LEVELS:
        raise ValueError(
            f"diagnostic level {level!r} is not one of OK, WARN, ERROR, STALE (0, 1, 2, 3)"
        )
    return candidate


def diagnostic_status(
    name: str,
    hardware_id: str,
    level: bytes | int,
    message: str,
    values: Mapping[str, str | float | int],
) -> DiagnosticStatus:
    """DiagnosticStatus with values as KeyValue pairs in the mapping's order."""
    return DiagnosticStatus(
        level=_level_byte(level),
        name=name,
        message=message,
        hardware_id=hardware_id,
        values=[KeyValue(key=str(key), value=format_value(value)) for key, value in values.items()],
    )


def diagnostic_array(stamp: Time, statuses: Sequence[DiagnosticStatus]) -> DiagnosticArray:
    """DiagnosticArray for /diagnostics (frame_id stays empty: diagnostics are not spatial)."""
    return DiagnosticArray(
        header=Header(stamp=Time(sec=stamp.sec, nanosec=stamp.nanosec)), status=list(statuses)
    )
