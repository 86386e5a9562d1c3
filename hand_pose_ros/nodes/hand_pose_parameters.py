"""hand_pose_node's parameters: names, defaults, descriptions and value checks in one table.

The names are fixed by the spec (config/hand_pose_node.yaml and the launch file use the same
ones). rclpy checks types; the checks here cover values, so that a bad value is reported with
what was expected instead of surfacing later as an odd failure. Parameters every pose node has
come from nodes/node_parameters.py.
"""

from __future__ import annotations

from typing import Any

from hand_pose_ros.core.depth_sampling import (
    DEFAULT_FOREGROUND_BAND_M,
    DEFAULT_HAND_DEPTH_BAND_M,
    DEFAULT_PREDICTED_DEPTH_BAND_M,
    DEFAULT_WINDOW_PX,
)
from hand_pose_ros.core.hand_estimator import (
    DEFAULT_FIRST_CROP,
    DEFAULT_PRESENCE_THRESHOLD,
    DEFAULT_REFINER_PASSES,
    DEFAULT_SMOOTHING,
    FIRST_CROP_SOURCES,
)
from hand_pose_ros.core.hand_tracking import (
    DEFAULT_MAX_GAP_S,
    DEFAULT_MAX_TRACK_DEPTH_M,
    DEFAULT_MIN_TRACK_SCORE,
    DEFAULT_REDETECT_INTERVAL_FRAMES,
)
from hand_pose_ros.nodes.node_parameters import (
    INPUT_QOS_PARAMETERS,
    MODEL_PARAMETERS,
    RELIABILITY_CHOICES,
    ParameterSpec,
    at_least_one,
    check_spec_value,
    input_specs,
    model_specs,
    non_negative,
    one_of,
    output_specs,
    positive,
    smoothing_specs,
    specs_by_name,
    unit_interval,
)

__all__ = [
    "ESTIMATOR_PARAMETERS",
    "INPUT_QOS_PARAMETERS",
    "IN_BUDGET_REFINER_NAME",
    "LIGHTER_REFINER_NAME",
    "MODEL_PARAMETERS",
    "NO_REFINER",
    "PARAMETER_SPECS",
    "RELIABILITY_CHOICES",
    "SHIPPED_MODEL_NAME",
    "SHIPPED_REFINER_NAME",
    "SPECS_BY_NAME",
    "ParameterSpec",
    "check_value",
]

SHIPPED_MODEL_NAME = "hand_tiny_multitask.onnx"
SHIPPED_REFINER_NAME = "hand_refiner_wide2.onnx"
"""The default second stage: the most accurate shipped refiner (README, "Wearable")."""
LIGHTER_REFINER_NAME = "hand_refiner_wide.onnx"
"""The previous default: 1.5x the tiny refiner's widths, about 2 points of PCK behind."""
IN_BUDGET_REFINER_NAME = "hand_refiner_tiny.onnx"
"""The refiner of the in-budget pair: a third of the default one's FLOPs, behind
hand_slim_multitask."""
NO_REFINER = "none"
"""``refiner_model`` value that runs the first stage only."""

ESTIMATOR_PARAMETERS: frozenset[str] = frozenset(
    {
        "presence_threshold",
        "refiner_passes",
        "refiner_first_crop",
        "depth_window_px",
        "foreground_band_m",
        "hand_depth_band_m",
        "predicted_depth_band_m",
        "redetect_interval_frames",
        "min_track_score",
        "max_track_gap_s",
        "max_track_depth_m",
        "smoothing",
        "smoothing_min_cutoff_hz",
        "smoothing_speed_coefficient",
        "smoothing_derivative_cutoff_hz",
    }
)

PARAMETER_SPECS: tuple[ParameterSpec, ...] = (
    *model_specs("hand", SHIPPED_MODEL_NAME),
    ParameterSpec(
        "refiner_model",
        "",
        "Path of the ONNX hand refiner (task hand_keypoints_crop) that re-estimates each found "
        f"hand's keypoints on a crop around it; empty = the shipped models/{SHIPPED_REFINER_NAME}"
        f", a bare file name = that file in the shipped models/ ({LIGHTER_REFINER_NAME}: 58% "
        f"of the compute, {IN_BUDGET_REFINER_NAME}: 29%), '{NO_REFINER}' = the first model's "
        "keypoints only. Read-only.",
        read_only=True,
    ),
    ParameterSpec(
        "presence_threshold",
        DEFAULT_PRESENCE_THRESHOLD,
        "Minimum hand presence probability [0, 1] for a hand to be published.",
        unit_interval,
    ),
    ParameterSpec(
        "refiner_passes",
        DEFAULT_REFINER_PASSES,
        "Refiner runs per hand on a frame where the first model ran (count); each crops "
        "around the previous keypoints. A tracked hand gets one. Ignored without a refiner.",
        at_least_one,
    ),
    ParameterSpec(
        "refiner_first_crop",
        DEFAULT_FIRST_CROP,
        "What the refiner's first crop of a hand is cut around: 'segmentation' (the box of the "
        "hand's mask from the first model; its keypoints where the model has no mask or the "
        "mask is empty), 'keypoints' (the box of the first model's keypoints), or 'both' "
        "(each, keeping the keypoints the refiner scores higher: one more refiner run per "
        "hand on a frame where the first model ran).",
        one_of(FIRST_CROP_SOURCES),
    ),
    ParameterSpec(
        "depth_window_px",
        DEFAULT_WINDOW_PX,
        "Side (pixels, input resolution) of the square window sampled for a keypoint's depth.",
        at_least_one,
    ),
    ParameterSpec(
        "foreground_band_m",
        DEFAULT_FOREGROUND_BAND_M,
        "Depth band (metres) above the nearest valid pixels in the window taken as the hand.",
        positive,
    ),
    ParameterSpec(
        "hand_depth_band_m",
        DEFAULT_HAND_DEPTH_BAND_M,
        "A keypoint whose sampled depth is further than this (metres) from its hand's median "
        "keypoint depth (its window held only background) takes that median; 0 disables.",
        non_negative,
    ),
    ParameterSpec(
        "predicted_depth_band_m",
        DEFAULT_PREDICTED_DEPTH_BAND_M,
        "A keypoint whose sampled depth is further than this (metres) from the refiner's "
        "predicted depth for it (the window caught another finger or the background) takes "
        "the prediction; 0 = predictions only. Ignored without a refiner depth output.",
        non_negative,
    ),
    ParameterSpec(
        "redetect_interval_frames",
        DEFAULT_REDETECT_INTERVAL_FRAMES,
        "The first model runs at least every this many frames (count); in between, each hand "
        "is tracked by the refiner alone on a crop around its previous keypoints, and presence, "
        "visibility and keypose are those of the last first-model frame. 1 = both models on "
        "every frame. Ignored without a refiner.",
        at_least_one,
    ),
    ParameterSpec(
        "min_track_score",
        DEFAULT_MIN_TRACK_SCORE,
        "A tracked hand whose mean keypoint score [0, 1] falls below this is lost, and the "
        "first model runs on that frame.",
        unit_interval,
    ),
    ParameterSpec(
        "max_track_gap_s",
        DEFAULT_MAX_GAP_S,
        "Longest time (seconds, by header stamps) between two frames over which hands are "
        "tracked; after a longer gap, or a stamp going backwards, the first model runs.",
        non_negative,
    ),
    ParameterSpec(
        "max_track_depth_m",
        DEFAULT_MAX_TRACK_DEPTH_M,
        "A tracked hand whose median keypoint depth (metres, the refiner's prediction) lies "
        "beyond this is lost, and the first model runs on that frame: a wearer's hands are "
        "within arm's reach, so such a track has slid onto the background. A large value "
        "turns the rule off.",
        positive,
    ),
    *smoothing_specs(
        True, DEFAULT_SMOOTHING,
        "each hand's keypoints over the stream's stamps, before their depth is sampled",
    ),
    *input_specs(),
    *output_specs("hands/markers"),
)

SPECS_BY_NAME: dict[str, ParameterSpec] = specs_by_name(PARAMETER_SPECS)


def check_value(name: str, value: Any) -> str | None:
    """None if ``value`` is acceptable for parameter ``name``, else a sentence saying why not."""
    return check_spec_value(SPECS_BY_NAME, name, value)
