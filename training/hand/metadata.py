"""The model-file contract as export writes it: metadata built from the package's tables."""

from __future__ import annotations

from hand_pose_ros.core.model_metadata import (
    HAND_POSE_TASK,
    HAND_REFINER_TASK,
    REFINER_OUTPUT_ROLES,
)
from hand_pose_ros.core.skeletons import (
    HAND_KEYPOINT_NAMES,
    HAND_KEYPOSES,
    HAND_SIDES,
    HAND_SKELETON_EDGES,
)
from training.hand.data import HEATMAP_SIGMA_PX, INPUT_SPEC, OUTPUT_STRIDE
from training.hand.refiner_data import REFINER_INPUT_SPEC, REFINER_STRIDE

SEGMENTATION_CLASSES = ("background", "left", "right")


def output_spec(roles: tuple[str, ...]) -> dict[str, dict]:
    spec: dict[str, dict] = {role: {"name": role} for role in roles}
    for role in ("heatmaps", "segmentation"):
        if role in spec:
            spec[role]["stride"] = OUTPUT_STRIDE
    if "segmentation" in spec:
        spec["segmentation"]["classes"] = list(SEGMENTATION_CLASSES)
    return spec


def build_metadata(model_name: str, roles: tuple[str, ...], training: dict) -> dict:
    """Metadata of a first-stage hand model (task hand_pose_2.5d) with the given outputs."""
    return {
        **_hand_layout(HAND_POSE_TASK, model_name),
        "keyposes": list(HAND_KEYPOSES),
        "input": dict(INPUT_SPEC),
        "outputs": output_spec(roles),
        "training": training,
        "metrics": {},
    }


def build_refiner_metadata(model_name: str, training: dict) -> dict:
    """Metadata of a hand refiner (task hand_keypoints_crop)."""
    return {
        **_hand_layout(HAND_REFINER_TASK, model_name),
        "input": dict(REFINER_INPUT_SPEC),
        "outputs": {
            role: {"name": role, "stride": REFINER_STRIDE} for role in REFINER_OUTPUT_ROLES
        },
        "training": training,
        "metrics": {},
    }


def _hand_layout(task: str, model_name: str) -> dict:
    """What both hand stages declare alike: the keypoints, skeleton, sides and target width."""
    return {
        "format_version": 1,
        "task": task,
        "model_name": model_name,
        "keypoint_names": list(HAND_KEYPOINT_NAMES),
        "skeleton": [list(edge) for edge in HAND_SKELETON_EDGES],
        "sides": list(HAND_SIDES),
        "heatmap_sigma_px": HEATMAP_SIGMA_PX,
    }
