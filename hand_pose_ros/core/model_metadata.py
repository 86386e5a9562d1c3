"""The self-description a hand_pose_ros ONNX file carries, and its validation.

Export writes one JSON document under the ``"hand_pose_ros"`` key of the ONNX ``metadata_props``;
the runtime trusts nothing about a model that is not in there. Validation happens once at load
time so that a wrong or foreign file fails with a message naming the problem, not with an
IndexError in the middle of decoding.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

METADATA_KEY = "hand_pose_ros"
HAND_POSE_TASK = "hand_pose_2.5d"
BODY_POSE_TASK = "body_pose_2d_ae"
VIDEO_POSE_TASK = "video_pose_dkd"
HAND_REFINER_TASK = "hand_keypoints_crop"
"""Second hand stage: keypoints of one hand from a crop around it (`core.hand_crops`)."""
REFINER_INPUT_NUMBERS: tuple[str, ...] = ("crop_margin", "depth_range_m", "reference_percentile")
REFINER_OUTPUT_ROLES: tuple[str, ...] = ("heatmaps", "keypoint_depth")
"""Refiner outputs, each (N, K, h, w) at the stated stride: heatmaps (required) and, if the
model has it, each keypoint's surface depth minus the crop's reference depth in units of
``input.depth_range_m``, meaningful where that keypoint's heatmap peaks."""
VIDEO_INPUT_ROLES: tuple[str, ...] = ("image", "previous_features", "boxes", "pose_maps")
VIDEO_OUTPUT_ROLES: tuple[str, ...] = ("features", "heatmaps")
VIDEO_ROI_KEYS: tuple[str, ...] = (
    "height_cells",
    "width_cells",
    "expand",
    "min_height_px",
    "pose_map_sigma_cells",
    "min_keypoint_score",
)
SUPPORTED_FORMAT_VERSIONS: tuple[int, ...] = (1,)
REQUIRED_OUTPUT_ROLES: tuple[str, ...] = ("heatmaps", "presence")
OPTIONAL_OUTPUT_ROLES: tuple[str, ...] = ("visibility", "segmentation", "keypose")
BODY_REQUIRED_OUTPUT_ROLES: tuple[str, ...] = ("heatmaps", "tags")
BODY_OPTIONAL_OUTPUT_ROLES: tuple[str, ...] = ("heatmaps_fine",)
BODY_PEAK_OUTPUT_ROLES: tuple[str, ...] = ("peak_scores", "peak_indices", "search_map")
"""Joint candidates searched inside the graph (all three or none): top-k local maxima per joint
of the search map, their flat indices into it, and the map itself."""
BODY_RESIZE_MODES: tuple[str, ...] = ("letterbox",)
BODY_COLOR_ORDERS: tuple[str, ...] = ("rgb",)
BODY_DECODING_DEFAULTS: dict[str, float | int] = {
    "max_people": 30,
    "detection_threshold": 0.1,
    "tag_threshold": 1.0,
    "nms_kernel_px": 5,
}
"""LitePose / associative-embedding decoding settings used where the metadata names none."""


class ModelLoadError(RuntimeError):
    """A model file cannot be used: the message says what is wrong and with which file."""


def parse_metadata(json_text: str, source: str) -> dict[str, Any]:
    """Parse and validate the metadata JSON; ``source`` names the file in error messages."""
    try:
        metadata = json.loads(json_text)
    except json.JSONDecodeError as error:
        raise ModelLoadError(
            f"{source}: the '{METADATA_KEY}' metadata is not valid JSON ({error})"
        ) from error
    validate_metadata(metadata, source)
    return metadata


def read_metadata(onnx_path: str | Path) -> dict[str, Any]:
    """Validated metadata of an ONNX file, read through an ONNX Runtime session.

    Loading the whole session is the price of not depending on the ``onnx`` package at run time;
    use :class:`~hand_pose_ros.core.model_runtime.OnnxModel` when you also want to run it.
    """
    from hand_pose_ros.core.model_runtime import create_session, metadata_from_session

    path = Path(onnx_path)
    return metadata_from_session(create_session(path), str(path))


def validate_task_metadata(metadata: Any, task: str, user: str) -> None:
    """Validate decoder metadata and refuse a model of another task, naming who needs which
    (`user`, e.g. "body decoder") so a wrong model file is obvious from the message."""
    validate_metadata(metadata, "decoder metadata")
    if metadata["task"] != task:
        raise ModelLoadError(
            f"model '{metadata['model_name']}' is a '{metadata['task']}' model; the {user} "
            f"needs a '{task}' model"
        )


def validate_metadata(metadata: Any, source: str) -> None:
    """Raise ModelLoadError naming the first field that breaks the model file contract."""

    def fail(message: str) -> ModelLoadError:
        return ModelLoadError(f"{source}: invalid '{METADATA_KEY}' metadata: {message}")

    if not isinstance(metadata, dict):
        raise fail(f"expected a JSON object, got {type(metadata).__name__}")
    version = metadata.get("format_version")
    if version not in SUPPORTED_FORMAT_VERSIONS:
        raise fail(
            f"format_version {version!r} is not supported (supported: "
            f"{list(SUPPORTED_FORMAT_VERSIONS)}); a newer hand_pose_ros may read it"
        )
    for key in ("task", "model_name"):
        if not isinstance(metadata.get(key), str) or not metadata[key]:
            raise fail(f"'{key}' must be a non-empty string")

    names = _string_list(metadata, "keypoint_names", fail)
    skeleton = metadata.get("skeleton")
    if not isinstance(skeleton, list) or not all(
        isinstance(edge, list)
        and len(edge) == 2
        and all(_is_int(i) and 0 <= i < len(names) for i in edge)
        for edge in skeleton
    ):
        raise fail(f"'skeleton' must be a list of [i, j] pairs indexing the {len(names)} keypoints")
    sigma = metadata.get("heatmap_sigma_px", 1.0)
    if not _is_number(sigma) or sigma <= 0:
        raise fail("'heatmap_sigma_px' must be a positive number")
    if metadata["task"] == BODY_POSE_TASK:
        _validate_body(metadata, len(names), fail)
    elif metadata["task"] == VIDEO_POSE_TASK:
        _validate_video(metadata, fail)
    elif metadata["task"] == HAND_REFINER_TASK:
        _validate_refiner(metadata, fail)
    else:  # The hand contract, also for unknown tasks: a node then rejects the task by name.
        _validate_hand(metadata, fail)


def _validate_hand(metadata: dict, fail) -> None:
    _string_list(metadata, "sides", fail)
    if "keyposes" in metadata:
        _string_list(metadata, "keyposes", fail)
    _validate_input(metadata.get("input"), fail)
    _validate_outputs(metadata, fail)


def _validate_refiner(metadata: dict, fail) -> None:
    """The hand_keypoints_crop contract: square relative-depth crops, one heatmap per keypoint."""
    sides = _string_list(metadata, "sides", fail)
    spec = metadata.get("input")
    _validate_input_tensor(spec, fail)
    _validate_input_size(spec, fail)
    if spec["height"] != spec["width"]:
        raise fail("'input' crops must be square (height == width)")
    for key in REFINER_INPUT_NUMBERS:
        if not _is_number(spec.get(key)) or spec[key] <= 0:
            raise fail(f"'input.{key}' must be a positive number")
    if spec["reference_percentile"] > 100:
        raise fail("'input.reference_percentile' must be at most 100")
    if not _is_number(spec.get("invalid_value")):
        raise fail("'input.invalid_value' must be a number")
    if spec.get("mirrored_side") not in sides:
        raise fail(f"'input.mirrored_side' must be one of the sides {sides}")
    outputs = _required_outputs(metadata.get("outputs"), REFINER_OUTPUT_ROLES[:1], fail)
    for role in REFINER_OUTPUT_ROLES:
        if role in outputs:
            _validate_output_spec(role, outputs[role], fail, strided=True)
    strides = {outputs[role]["stride"] for role in REFINER_OUTPUT_ROLES if role in outputs}
    if len(strides) > 1:
        raise fail("'outputs.keypoint_depth.stride' must equal the heatmaps' stride")


def _validate_input_tensor(spec: Any, fail) -> None:
    """What every model input needs: an object with a name, in NCHW layout."""
    if not isinstance(spec, dict):
        raise fail("'input' must be an object")
    if not isinstance(spec.get("name"), str) or not spec["name"]:
        raise fail("'input.name' must be a non-empty string")
    if spec.get("layout", "NCHW") != "NCHW":
        raise fail(f"'input.layout' {spec.get('layout')!r} is not supported (only 'NCHW')")


def _validate_input_size(spec: dict, fail) -> None:
    for key in ("height", "width"):
        if not _is_int(spec.get(key)) or spec[key] <= 0:
            raise fail(f"'input.{key}' must be a positive integer")


def _validate_input(spec: Any, fail) -> None:
    _validate_input_tensor(spec, fail)
    if spec.get("units", "m") != "m":
        raise fail(f"'input.units' {spec.get('units')!r} is not supported (only 'm')")
    _validate_input_size(spec, fail)
    for key in ("clip_max_m", "scale"):
        if not _is_number(spec.get(key)) or spec[key] <= 0:
            raise fail(f"'input.{key}' must be a positive number")
    if not _is_number(spec.get("invalid_value")):
        raise fail("'input.invalid_value' must be a number")


def _required_outputs(outputs: Any, roles: tuple[str, ...], fail) -> dict:
    """The 'outputs' object, refused unless it is one and names every required role."""
    if not isinstance(outputs, dict):
        raise fail("'outputs' must be an object")
    for role in roles:
        if role not in outputs:
            raise fail(f"'outputs.{role}' is required")
    return outputs


def _validate_output_spec(role: str, spec: Any, fail, strided: bool) -> None:
    """One output's description: an object with a name, and a stride for spatial outputs."""
    if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
        raise fail(f"'outputs.{role}' must be an object with a string 'name'")
    if strided and (not _is_int(spec.get("stride")) or spec["stride"] <= 0):
        raise fail(f"'outputs.{role}.stride' must be a positive integer")


def _validate_outputs(metadata: dict, fail) -> None:
    outputs = _required_outputs(metadata.get("outputs"), REQUIRED_OUTPUT_ROLES, fail)
    for role, spec in outputs.items():
        if role not in REQUIRED_OUTPUT_ROLES + OPTIONAL_OUTPUT_ROLES:
            continue  # Unknown roles are tolerated: a newer export may add outputs we ignore.
        _validate_output_spec(role, spec, fail, strided=role in ("heatmaps", "segmentation"))
    if "segmentation" in outputs:
        classes = outputs["segmentation"].get("classes")
        if not isinstance(classes, list) or not classes:
            raise fail("'outputs.segmentation.classes' must be a non-empty list")
    if "keypose" in outputs and "keyposes" not in metadata:
        raise fail("a 'keypose' output needs the 'keyposes' name list")


def _validate_body(metadata: dict, joint_count: int, fail) -> None:
    """The body_pose_2d_ae contract: RGB letterbox input, AE outputs, flip and OKS tables."""
    flip_index = metadata.get("flip_index")
    if (
        not isinstance(flip_index, list)
        or len(flip_index) != joint_count
        or not all(_is_int(i) and 0 <= i < joint_count for i in flip_index)
        or any(flip_index[j] != i for i, j in enumerate(flip_index))
    ):
        raise fail(
            f"'flip_index' must list, for each of the {joint_count} keypoints, the index of its "
            f"mirror keypoint (a permutation that is its own inverse)"
        )
    _number_list(metadata.get("oks_sigmas"), "oks_sigmas", joint_count, fail, positive=True)
    if "keypoint_depth_offsets_m" in metadata:
        _number_list(
            metadata["keypoint_depth_offsets_m"], "keypoint_depth_offsets_m", joint_count, fail
        )
    _validate_body_input(metadata.get("input"), fail)
    _validate_body_outputs(metadata.get("outputs"), fail)
    decoding = metadata.get("decoding", {})
    if not isinstance(decoding, dict):
        raise fail("'decoding' must be an object")
    for key in ("max_people", "nms_kernel_px"):
        if key in decoding and (not _is_int(decoding[key]) or decoding[key] < 1):
            raise fail(f"'decoding.{key}' must be a positive integer")
    if "nms_kernel_px" in decoding and decoding["nms_kernel_px"] % 2 == 0:
        raise fail("'decoding.nms_kernel_px' must be odd (a window centred on the pixel)")
    threshold = decoding.get("detection_threshold", 0.0)
    if not _is_number(threshold) or not 0.0 <= threshold <= 1.0:
        raise fail("'decoding.detection_threshold' must be a number in [0, 1]")
    tag_threshold = decoding.get("tag_threshold", 1.0)
    if not _is_number(tag_threshold) or tag_threshold <= 0:
        raise fail("'decoding.tag_threshold' must be a positive number")


def _validate_body_input(spec: Any, fail) -> None:
    _validate_input_tensor(spec, fail)
    _validate_input_size(spec, fail)
    if spec.get("channels") != 3:
        raise fail(f"'input.channels' must be 3 (RGB), got {spec.get('channels')!r}")
    if spec.get("color_order", "rgb") not in BODY_COLOR_ORDERS:
        raise fail(
            f"'input.color_order' {spec.get('color_order')!r} is not supported "
            f"(supported: {list(BODY_COLOR_ORDERS)})"
        )
    if spec.get("resize", "letterbox") not in BODY_RESIZE_MODES:
        raise fail(
            f"'input.resize' {spec.get('resize')!r} is not supported "
            f"(supported: {list(BODY_RESIZE_MODES)})"
        )
    if not _is_number(spec.get("scale")) or spec["scale"] <= 0:
        raise fail("'input.scale' must be a positive number")
    _number_list(spec.get("mean"), "input.mean", 3, fail)
    _number_list(spec.get("std"), "input.std", 3, fail, positive=True)
    if not _is_number(spec.get("pad_value", 0)):
        raise fail("'input.pad_value' must be a number (raw pixel value, before normalisation)")


def _validate_body_outputs(outputs: Any, fail) -> None:
    outputs = _required_outputs(outputs, BODY_REQUIRED_OUTPUT_ROLES, fail)
    for role in BODY_REQUIRED_OUTPUT_ROLES + BODY_OPTIONAL_OUTPUT_ROLES + BODY_PEAK_OUTPUT_ROLES:
        if role in outputs:
            _validate_output_spec(role, outputs[role], fail, strided=True)
    tags = outputs["tags"]
    if not _is_int(tags.get("tag_dim", 1)) or tags.get("tag_dim", 1) < 1:
        raise fail("'outputs.tags.tag_dim' must be a positive integer")
    if tags["stride"] != outputs["heatmaps"]["stride"]:
        raise fail(
            f"'outputs.tags.stride' ({tags['stride']}) must equal 'outputs.heatmaps.stride' "
            f"({outputs['heatmaps']['stride']}): tags are read at heatmap peaks"
        )
    _validate_body_peak_outputs(outputs, fail)


def _validate_body_peak_outputs(outputs: dict, fail) -> None:
    present = [role for role in BODY_PEAK_OUTPUT_ROLES if role in outputs]
    if not present:
        return
    if len(present) != len(BODY_PEAK_OUTPUT_ROLES):
        raise fail(f"'outputs' must name all of {list(BODY_PEAK_OUTPUT_ROLES)} or none")
    if len({outputs[role]["stride"] for role in BODY_PEAK_OUTPUT_ROLES}) != 1:
        raise fail(f"'outputs' {list(BODY_PEAK_OUTPUT_ROLES)} must share one stride")
    search = outputs["peak_scores"]
    if not isinstance(search.get("search"), str):
        raise fail("'outputs.peak_scores.search' must name the map peaks were searched on")
    for key in ("per_joint", "nms_kernel_px"):
        if not _is_int(search.get(key)) or search[key] < 1:
            raise fail(f"'outputs.peak_scores.{key}' must be a positive integer")
    if search["nms_kernel_px"] % 2 == 0:
        raise fail("'outputs.peak_scores.nms_kernel_px' must be odd")
    if not _is_number(search.get("min_score")):
        raise fail("'outputs.peak_scores.min_score' must be a number")


def _validate_video(metadata: dict, fail) -> None:
    """The video_pose_dkd contract: the body's RGB letterbox input plus tracking state.

    ``inputs``/``outputs`` map each role to its graph name; ``features`` says the shape of the
    state carried from frame to frame; ``roi`` the grid the person heatmaps live on.
    """
    _validate_body_input(metadata.get("input"), fail)
    for section, roles in (("inputs", VIDEO_INPUT_ROLES), ("outputs", VIDEO_OUTPUT_ROLES)):
        names = metadata.get(section)
        if not isinstance(names, dict) or not all(
            isinstance(names.get(role), str) and names[role] for role in roles
        ):
            raise fail(f"'{section}' must map each of {list(roles)} to a graph name")
    features = metadata.get("features")
    if not isinstance(features, dict) or not all(
        _is_int(features.get(key)) and features[key] > 0 for key in ("channels", "stride")
    ):
        raise fail("'features' must give positive integers 'channels' and 'stride'")
    roi = metadata.get("roi")
    if not isinstance(roi, dict) or not all(
        _is_number(roi.get(key)) and roi[key] >= 0 for key in VIDEO_ROI_KEYS
    ):
        raise fail(f"'roi' must give non-negative numbers {list(VIDEO_ROI_KEYS)}")
    for key in ("height_cells", "width_cells"):
        if not _is_int(roi[key]) or roi[key] < 3:
            raise fail(f"'roi.{key}' must be an integer >= 3")
    if roi["expand"] < 1.0:
        raise fail("'roi.expand' must be >= 1 (the box covers the pose)")


def _number_list(value: Any, key: str, length: int, fail, positive: bool = False) -> list[float]:
    """A list of ``length`` finite numbers (all > 0 when ``positive``)."""
    kind = "positive numbers" if positive else "finite numbers"
    if (
        not isinstance(value, list)
        or len(value) != length
        or not all(_is_number(v) and math.isfinite(v) and (v > 0 or not positive) for v in value)
    ):
        raise fail(f"'{key}' must be a list of {length} {kind}")
    return value


def _string_list(metadata: dict, key: str, fail) -> list[str]:
    value = metadata.get(key)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value) or not value:
        raise fail(f"'{key}' must be a non-empty list of strings")
    return value


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
