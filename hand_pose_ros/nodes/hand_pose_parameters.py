"""hand_pose_node's parameters: names, defaults, descriptions and value checks in one table.

The names are fixed by the spec (config/hand_pose_node.yaml and the launch file use the same
ones). rclpy checks types; the checks here cover values, so that a bad value is reported with
what was expected instead of surfacing later as an odd failure.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hand_pose_ros.core.depth_sampling import DEFAULT_FOREGROUND_BAND_M, DEFAULT_WINDOW_PX
from hand_pose_ros.core.hand_estimator import DEFAULT_PRESENCE_THRESHOLD

SHIPPED_MODEL_NAME = "hand_tiny_multitask.onnx"
RELIABILITY_CHOICES: tuple[str, ...] = ("best_effort", "reliable")

Check = Callable[[Any], "str | None"]
"""Returns None when a value is acceptable, else what was expected (for the log and reason)."""


def _non_negative(value: float) -> str | None:
    return None if value >= 0.0 else "a value >= 0"


def _positive(value: float) -> str | None:
    return None if value > 0.0 else "a value > 0"


def _at_least_one(value: int) -> str | None:
    return None if value >= 1 else "an integer >= 1"


def _unit_interval(value: float) -> str | None:
    return None if 0.0 <= value <= 1.0 else "a probability in [0, 1]"


def _reliability(value: str) -> str | None:
    return None if value in RELIABILITY_CHOICES else f"one of {list(RELIABILITY_CHOICES)}"


def _providers(value: list[str]) -> str | None:
    if len(value) == 0 or any(not name for name in value):
        return "a non-empty list of ONNX Runtime provider names, e.g. ['CPUExecutionProvider']"
    return None


@dataclass(frozen=True)
class ParameterSpec:
    """One declared parameter."""

    name: str
    default: Any
    description: str
    check: Check | None = None
    read_only: bool = False


MODEL_PARAMETERS: frozenset[str] = frozenset({"model", "providers", "intra_op_threads"})
"""Changing these would change keypoint_names/skeleton (read-only): restart the node instead."""

ESTIMATOR_PARAMETERS: frozenset[str] = frozenset(
    {"presence_threshold", "depth_window_px", "foreground_band_m"}
)
INPUT_QOS_PARAMETERS: frozenset[str] = frozenset({"input_reliability", "input_queue_depth"})

PARAMETER_SPECS: tuple[ParameterSpec, ...] = (
    ParameterSpec(
        "model",
        "",
        f"Path of the ONNX hand model; empty = the shipped models/{SHIPPED_MODEL_NAME}. "
        "Read-only: restart the node to load another model.",
        read_only=True,
    ),
    ParameterSpec(
        "providers",
        ["CPUExecutionProvider"],
        "ONNX Runtime execution providers in order of preference (read-only).",
        _providers,
        read_only=True,
    ),
    ParameterSpec(
        "intra_op_threads",
        1,
        "Threads ONNX Runtime may use inside one operator; 1 keeps latency predictable "
        "(read-only).",
        _at_least_one,
        read_only=True,
    ),
    ParameterSpec(
        "presence_threshold",
        DEFAULT_PRESENCE_THRESHOLD,
        "Minimum hand presence probability [0, 1] for a hand to be published.",
        _unit_interval,
    ),
    ParameterSpec(
        "depth_window_px",
        DEFAULT_WINDOW_PX,
        "Side (pixels, input resolution) of the square window sampled for a keypoint's depth.",
        _at_least_one,
    ),
    ParameterSpec(
        "foreground_band_m",
        DEFAULT_FOREGROUND_BAND_M,
        "Depth band (metres) above the nearest valid pixels in the window taken as the hand.",
        _positive,
    ),
    ParameterSpec(
        "use_projection_matrix",
        False,
        "true: intrinsics from CameraInfo P (rectified image); false: from K (raw image).",
    ),
    ParameterSpec(
        "input_reliability",
        "best_effort",
        "Input subscription reliability: 'best_effort' (sensor data, matches any publisher) "
        "or 'reliable'.",
        _reliability,
    ),
    ParameterSpec(
        "input_queue_depth",
        1,
        "Input subscription queue depth (messages); 1 = always process the newest frame.",
        _at_least_one,
    ),
    ParameterSpec(
        "publish_markers",
        True,
        "Publish skeleton markers (visualization_msgs/MarkerArray) on hands/markers.",
    ),
    ParameterSpec(
        "marker_lifetime_s",
        0.2,
        "Marker lifetime (seconds); a little longer than the frame period so nothing blinks.",
        _non_negative,
    ),
    ParameterSpec(
        "diagnostics_period_s",
        1.0,
        "Period (seconds) of the DiagnosticArray published on /diagnostics.",
        _positive,
    ),
    ParameterSpec(
        "log_throttle_s",
        5.0,
        "Minimum interval (seconds) between repeated log lines of the same kind.",
        _non_negative,
    ),
)

SPECS_BY_NAME: dict[str, ParameterSpec] = {spec.name: spec for spec in PARAMETER_SPECS}


def check_value(name: str, value: Any) -> str | None:
    """None if ``value`` is acceptable for parameter ``name``, else a sentence saying why not."""
    spec = SPECS_BY_NAME.get(name)
    if spec is None or spec.check is None:
        return None
    expected = spec.check(value)
    if expected is None:
        return None
    return f"parameter '{name}' = {value!r} is invalid: expected {expected}"
