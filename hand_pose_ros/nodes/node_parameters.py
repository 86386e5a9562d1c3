"""Parameter tables shared by the pose nodes: one spec per parameter, value checks, common specs.

Each node lists its parameters as ParameterSpec rows (name, default, description, check); the
shared node base declares them, reports wrongly typed or invalid values instead of failing, and
rejects invalid runtime changes with the same sentence. Parameters every pose node has (model
loading, input QoS, markers, diagnostics, logging) are built here so their names and
descriptions cannot drift apart between nodes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from hand_pose_ros.core.one_euro import OneEuroSettings

RELIABILITY_CHOICES: tuple[str, ...] = ("best_effort", "reliable")

Check = Callable[[Any], "str | None"]
"""Returns None when a value is acceptable, else what was expected (for the log and reason)."""


def non_negative(value: float) -> str | None:
    return None if value >= 0.0 else "a value >= 0"


def positive(value: float) -> str | None:
    return None if value > 0.0 else "a value > 0"


def at_least_one(value: int) -> str | None:
    return None if value >= 1 else "an integer >= 1"


def unit_interval(value: float) -> str | None:
    return None if 0.0 <= value <= 1.0 else "a probability in [0, 1]"


def one_of(choices: Iterable[str]) -> Check:
    """A check that accepts exactly the given strings."""
    allowed = tuple(choices)

    def check(value: str) -> str | None:
        return None if value in allowed else f"one of {list(allowed)}"

    return check


reliability = one_of(RELIABILITY_CHOICES)


def providers(value: list[str]) -> str | None:
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

INPUT_QOS_PARAMETERS: frozenset[str] = frozenset({"input_reliability", "input_queue_depth"})


def model_specs(model_kind: str, shipped_model_name: str) -> tuple[ParameterSpec, ...]:
    """model, providers, intra_op_threads (all read-only: they fix keypoint_names)."""
    return (
        ParameterSpec(
            "model",
            "",
            f"Path of the ONNX {model_kind} model; empty = the shipped "
            f"models/{shipped_model_name}, a bare file name = that file in the shipped models/. "
            "Read-only: restart the node to load another model.",
            read_only=True,
        ),
        ParameterSpec(
            "providers",
            ["CPUExecutionProvider"],
            "ONNX Runtime execution providers in order of preference (read-only).",
            providers,
            read_only=True,
        ),
        ParameterSpec(
            "intra_op_threads",
            1,
            "Threads ONNX Runtime may use inside one operator; 1 keeps latency predictable "
            "(read-only).",
            at_least_one,
            read_only=True,
        ),
    )


def input_specs() -> tuple[ParameterSpec, ...]:
    """Intrinsics source and the input subscriptions' QoS."""
    return (
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
            reliability,
        ),
        ParameterSpec(
            "input_queue_depth",
            1,
            "Input subscription queue depth (messages); 1 = always process the newest frame.",
            at_least_one,
        ),
    )


def output_specs(markers_topic: str) -> tuple[ParameterSpec, ...]:
    """Markers, diagnostics and logging."""
    return (
        ParameterSpec(
            "publish_markers",
            True,
            f"Publish skeleton markers (visualization_msgs/MarkerArray) on {markers_topic}.",
        ),
        ParameterSpec(
            "marker_lifetime_s",
            0.2,
            "Marker lifetime (seconds); a little longer than the frame period so nothing blinks.",
            non_negative,
        ),
        ParameterSpec(
            "diagnostics_period_s",
            1.0,
            "Period (seconds) of the DiagnosticArray published on /diagnostics.",
            positive,
        ),
        ParameterSpec(
            "log_throttle_s",
            5.0,
            "Minimum interval (seconds) between repeated log lines of the same kind.",
            non_negative,
        ),
    )


def smoothing_specs(
    enabled: bool, defaults: OneEuroSettings, what: str
) -> tuple[ParameterSpec, ...]:
    """smoothing, smoothing_min_cutoff_hz, smoothing_speed_coefficient and
    smoothing_derivative_cutoff_hz: the One-Euro filter of ``what``."""
    return (
        ParameterSpec("smoothing", enabled, f"One-Euro smoothing of {what}."),
        ParameterSpec(
            "smoothing_min_cutoff_hz",
            defaults.min_cutoff_hz,
            "One-Euro cutoff at rest (Hz): lower smooths still keypoints more.",
            positive,
        ),
        ParameterSpec(
            "smoothing_speed_coefficient",
            defaults.speed_coefficient,
            "One-Euro cutoff increase per px/s of keypoint speed (input-image pixels): higher "
            "lags less on fast motion.",
            non_negative,
        ),
        ParameterSpec(
            "smoothing_derivative_cutoff_hz",
            defaults.derivative_cutoff_hz,
            "One-Euro cutoff (Hz) of the speed estimate.",
            positive,
        ),
    )


def smoothing_settings(value_of: Callable[[str], Any]) -> OneEuroSettings | None:
    """The One-Euro settings the smoothing_* parameters ask for (``value_of`` reads a
    parameter), or None with smoothing off."""
    if not value_of("smoothing"):
        return None
    return OneEuroSettings(
        float(value_of("smoothing_min_cutoff_hz")),
        float(value_of("smoothing_speed_coefficient")),
        float(value_of("smoothing_derivative_cutoff_hz")),
    )


def specs_by_name(specs: Iterable[ParameterSpec]) -> dict[str, ParameterSpec]:
    return {spec.name: spec for spec in specs}


def check_spec_value(specs: Mapping[str, ParameterSpec], name: str, value: Any) -> str | None:
    """None if ``value`` is acceptable for parameter ``name``, else a sentence saying why not."""
    spec = specs.get(name)
    if spec is None or spec.check is None:
        return None
    expected = spec.check(value)
    if expected is None:
        return None
    return f"parameter '{name}' = {value!r} is invalid: expected {expected}"
