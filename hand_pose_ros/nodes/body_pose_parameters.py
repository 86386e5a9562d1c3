"""body_pose_node's parameters: names, defaults, descriptions and value checks in one table.

config/body_pose_node.yaml and launch/robot.launch.py use the same names. Decoding settings
default to "the model's own" (a negative value / 0), because a model file describes itself
(design.md section 2): the thresholds it was evaluated with are in its metadata.
"""

from __future__ import annotations

from typing import Any

from hand_pose_ros.core.body_estimator import (
    DEFAULT_BODY_BAND_M,
    DEFAULT_BODY_WINDOW_PX,
    DEFAULT_PERSON_DEPTH_BAND_M,
)
from hand_pose_ros.core.peak_search import DEFAULT_PEAK_SEARCH, PEAK_SEARCH_MODES
from hand_pose_ros.nodes.node_parameters import (
    INPUT_QOS_PARAMETERS,
    MODEL_PARAMETERS,
    ParameterSpec,
    at_least_one,
    check_spec_value,
    input_specs,
    model_specs,
    non_negative,
    one_of,
    output_specs,
    positive,
    specs_by_name,
)

__all__ = [
    "DEFAULT_MAX_STAMP_DIFFERENCE_S",
    "ESTIMATOR_PARAMETERS",
    "INPUT_QOS_PARAMETERS",
    "MODEL_PARAMETERS",
    "PARAMETER_SPECS",
    "SHIPPED_MODEL_NAME",
    "SPECS_BY_NAME",
    "SUBSCRIPTION_PARAMETERS",
    "check_value",
]

SHIPPED_MODEL_NAME = "body_litepose_xs.onnx"
DEFAULT_MAX_STAMP_DIFFERENCE_S = 0.02
"""Colour/depth pairing tolerance: well under a 30 Hz frame period (33 ms)."""


def _threshold_or_model(value: float) -> str | None:
    return None if value < 0.0 or value <= 1.0 else "a value in [0, 1], or negative for the model's"


def _positive_or_model(value: float) -> str | None:
    return None if value != 0.0 else "a value > 0, or negative for the model's"


ESTIMATOR_PARAMETERS: frozenset[str] = frozenset(
    {
        "flip_test",
        "detection_threshold",
        "tag_threshold",
        "max_people",
        "peak_search",
        "depth_window_px",
        "foreground_band_m",
        "person_depth_band_m",
    }
)
SUBSCRIPTION_PARAMETERS: frozenset[str] = INPUT_QOS_PARAMETERS | {"use_depth"}
"""Changing these re-creates the input subscriptions."""


PARAMETER_SPECS: tuple[ParameterSpec, ...] = (
    *model_specs("body", SHIPPED_MODEL_NAME),
    ParameterSpec(
        "use_depth",
        True,
        "Subscribe depth/image (registered to the colour image) and lift keypoints to 3D; "
        "false: colour only (x, y, z and depth are NaN, no CameraInfo needed).",
    ),
    ParameterSpec(
        "max_stamp_difference_s",
        DEFAULT_MAX_STAMP_DIFFERENCE_S,
        "Largest difference (seconds) between colour and depth header stamps that are paired; "
        "colour frames without depth that close are dropped as 'unsynchronised'.",
        non_negative,
    ),
    ParameterSpec(
        "flip_test",
        False,
        "Also run the horizontally flipped image and average the outputs (about twice the "
        "inference time, slightly more accurate).",
    ),
    ParameterSpec(
        "detection_threshold",
        -1.0,
        "Minimum keypoint heatmap score [0, 1] that starts a person; negative = the model's "
        "decoding.detection_threshold.",
        _threshold_or_model,
    ),
    ParameterSpec(
        "tag_threshold",
        -1.0,
        "Largest associative-embedding tag distance for a keypoint to join a person; negative "
        "= the model's decoding.tag_threshold.",
        _positive_or_model,
    ),
    ParameterSpec(
        "max_people",
        0,
        "Most people reported per frame; 0 = the model's decoding.max_people.",
        non_negative,
    ),
    ParameterSpec(
        "peak_search",
        DEFAULT_PEAK_SEARCH,
        "Where keypoint peaks are searched: 'fused' (the 1/4 grid with the 1/2-scale heatmaps "
        "averaged in; the most accurate on validation, and the fastest with a model that "
        "searches in its graph, as the shipped one does), 'coarse' (the 1/4-scale heatmaps "
        "only, searched in numpy: about 0.2 ms more per frame than that), 'fine' (the fused "
        "1/2-scale grid: about 1 ms more; also keeps one joint of two people a few pixels "
        "apart separate).",
        one_of(PEAK_SEARCH_MODES),
    ),
    ParameterSpec(
        "depth_window_px",
        DEFAULT_BODY_WINDOW_PX,
        "Side (pixels, depth image resolution) of the square window sampled for a keypoint's "
        "depth.",
        at_least_one,
    ),
    ParameterSpec(
        "foreground_band_m",
        DEFAULT_BODY_BAND_M,
        "Depth band (metres) above the nearest valid pixels in the window taken as the person.",
        positive,
    ),
    ParameterSpec(
        "person_depth_band_m",
        DEFAULT_PERSON_DEPTH_BAND_M,
        "A keypoint whose depth is further than this (metres) from its person's median keypoint "
        "depth (its window held only background) takes that median; 0 disables.",
        non_negative,
    ),
    *input_specs(),
    *output_specs("people/markers"),
)

SPECS_BY_NAME: dict[str, ParameterSpec] = specs_by_name(PARAMETER_SPECS)


def check_value(name: str, value: Any) -> str | None:
    """None if ``value`` is acceptable for parameter ``name``, else a sentence saying why not."""
    return check_spec_value(SPECS_BY_NAME, name, value)
