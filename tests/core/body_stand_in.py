"""Body (associative-embedding) stand-in models and constructed network outputs, torch-free.

``render_body_outputs`` draws what a well-trained LitePose would output for people whose
keypoints (network-input pixels) and tags are known: Gaussian heatmaps at 1/4 and 1/2 and, per
joint, a tag map holding the tag of the person whose Gaussian is strongest there.
``build_body_model`` writes a real ONNX file (onnx.helper) whose outputs are such constants, so
OnnxModel, BodyEstimator and node tests run ONNX Runtime without trained weights. Importable
from other test folders as ``tests.core.body_stand_in``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from hand_pose_ros.core.heatmaps import input_px_to_heatmap, render_gaussian_heatmaps
from hand_pose_ros.core.skeletons import (
    COCO_KEYPOINT_NAMES,
    COCO_OKS_SIGMAS,
    COCO_SKELETON_EDGES,
    flip_permutation,
)

OPSET = 17
INPUT_HEIGHT = 192
INPUT_WIDTH = 256
COARSE_STRIDE = 4
FINE_STRIDE = 2
SIGMA_PX = 2.0


def body_metadata(
    height: int = INPUT_HEIGHT, width: int = INPUT_WIDTH, tag_dim: int = 1, fine: bool = True
) -> dict[str, Any]:
    """Metadata per the body model file contract (COCO-17 layout)."""
    names = list(COCO_KEYPOINT_NAMES)
    outputs: dict[str, Any] = {
        "heatmaps": {"name": "heatmaps_s4", "stride": COARSE_STRIDE},
        "tags": {"name": "tags_s4", "stride": COARSE_STRIDE, "tag_dim": tag_dim},
    }
    if fine:
        outputs["heatmaps_fine"] = {"name": "heatmaps_s2", "stride": FINE_STRIDE}
    return {
        "format_version": 1,
        "task": "body_pose_2d_ae",
        "model_name": "test_body_model",
        "architecture": {"family": "litepose", "size": "XS", "kernel_size": 7, "head": "fusion"},
        "keypoint_names": names,
        "skeleton": [list(edge) for edge in COCO_SKELETON_EDGES],
        "flip_index": list(flip_permutation(names)),
        "oks_sigmas": list(COCO_OKS_SIGMAS),
        "input": {
            "name": "image",
            "layout": "NCHW",
            "height": height,
            "width": width,
            "channels": 3,
            "color_order": "rgb",
            "scale": 1.0 / 255.0,
            "mean": [0.485, 0.456, 0.406],
            "std": [0.229, 0.224, 0.225],
            "resize": "letterbox",
            "pad_value": 0,
        },
        "outputs": outputs,
        "heatmap_sigma_px": SIGMA_PX,
        "decoding": {
            "max_people": 30,
            "detection_threshold": 0.1,
            "tag_threshold": 1.0,
            "nms_kernel_px": 5,
        },
        "keypoint_depth_offsets_m": [0.05] * len(names),
        "training": {"note": "test fixture, not trained"},
        "metrics": {},
    }


def render_body_outputs(
    keypoints_px: np.ndarray,
    tags: np.ndarray,
    visible: np.ndarray | None = None,
    height: int = INPUT_HEIGHT,
    width: int = INPUT_WIDTH,
    peak: float | np.ndarray = 1.0,
    tag_dim: int = 1,
) -> dict[str, np.ndarray]:
    """One sample's outputs (batch axis removed) for people at known places.

    ``keypoints_px`` (P, J, 2) network-input pixels, ``tags`` (P,) or (P, tag_dim) per-person
    tag, ``visible`` (P, J) bool (default all), ``peak`` scalar or (P, J) heatmap peak height.
    Heatmaps are the per-pixel maximum over people (sigma 2 px at each scale).
    """
    keypoints = np.asarray(keypoints_px, np.float64)
    people, joints = keypoints.shape[:2]
    visible = np.ones((people, joints), bool) if visible is None else np.asarray(visible, bool)
    person_tags = np.asarray(tags, np.float32).reshape(people, -1)
    if person_tags.shape[1] == 1 and tag_dim > 1:
        person_tags = np.repeat(person_tags, tag_dim, axis=1)
    peaks = np.broadcast_to(np.asarray(peak, np.float32), (people, joints))
    result: dict[str, np.ndarray] = {}
    for key, stride in (("heatmaps_s4", COARSE_STRIDE), ("heatmaps_s2", FINE_STRIDE)):
        h, w = height // stride, width // stride
        maps = np.zeros((people, joints, h, w), np.float32)
        for p in range(people):
            xy = input_px_to_heatmap(keypoints[p], stride)
            maps[p] = (
                render_gaussian_heatmaps(xy, visible[p], h, w, SIGMA_PX) * peaks[p, :, None, None]
            )
        # Far tails underflow to float32 denormals, which make every numpy op on the map
        # ~50x slower; a network's outputs never hold them, so flush them to zero.
        maps[maps < 1e-6] = 0.0
        result[key] = maps.max(axis=0) if people else np.zeros((joints, h, w), np.float32)
        if stride == COARSE_STRIDE:
            owner = maps.argmax(axis=0) if people else np.zeros((joints, h, w), np.intp)
            tag_maps = np.zeros((joints, tag_dim, h, w), np.float32)
            for d in range(tag_dim):
                column = person_tags[:, d] if people else np.zeros(1, np.float32)
                tag_maps[:, d] = column[owner]
            # Channel layout (J * tag_dim): joint-major, as export writes it.
            result["tags_s4"] = tag_maps.reshape(joints * tag_dim, h, w)
    return result


def build_body_model(
    path: Path,
    metadata: dict[str, Any] | None = None,
    outputs: dict[str, np.ndarray] | None = None,
    input_hw: tuple[int, int] | None = None,
    input_channels: int = 3,
    raw_metadata: str | None = None,
    flip_outputs: dict[str, np.ndarray] | None = None,
    selector: tuple[float, float] = (0.0, 1.0),
) -> Path:
    """Write an ONNX body model whose outputs are constants (broadcast over the batch).

    ``outputs`` maps the metadata's output names to one sample's arrays (default: no people).
    ``input_hw`` / ``input_channels`` override the graph input to fake a mismatch;
    ``raw_metadata`` replaces the metadata JSON text (for invalid-metadata tests).
    With ``flip_outputs`` the graph blends: outputs = flip + w * (outputs - flip), where w maps
    the mean of the input's first channel in its first column from ``selector`` (low, high)
    to (0, 1): an image with a bright left edge gives ``outputs``, its mirror ``flip_outputs``
    (a flip test sees both from one model).
    """
    meta = metadata if metadata is not None else body_metadata()
    spec_in = meta["input"]
    height, width = input_hw or (spec_in["height"], spec_in["width"])
    joints = len(meta["keypoint_names"])
    if outputs is None:
        outputs = {}
    nodes = [
        helper.make_node("ReduceMean", [spec_in["name"]], ["mean4"], axes=[1, 2, 3], keepdims=1),
        helper.make_node("Mul", ["mean4", "zero"], ["zero4"]),  # (N,1,1,1) zeros
    ]
    initializers = [numpy_helper.from_array(np.array(0.0, np.float32), "zero")]
    if flip_outputs is not None:
        low, high = selector
        initializers += [
            numpy_helper.from_array(np.array([0, 0], np.int64), "col_start"),
            numpy_helper.from_array(np.array([1, 1], np.int64), "col_end"),
            numpy_helper.from_array(np.array([1, 3], np.int64), "col_axes"),
            numpy_helper.from_array(np.array(low, np.float32), "low"),
            numpy_helper.from_array(np.array(1.0 / (high - low), np.float32), "inv_range"),
        ]
        nodes += [
            helper.make_node(
                "Slice", [spec_in["name"], "col_start", "col_end", "col_axes"], ["column"]
            ),
            helper.make_node("ReduceMean", ["column"], ["column_mean"], axes=[1, 2, 3]),
            helper.make_node("Sub", ["column_mean", "low"], ["shifted"]),
            helper.make_node("Mul", ["shifted", "inv_range"], ["weight"]),  # (N,1,1,1)
        ]
    graph_outputs = []
    for role, spec in meta["outputs"].items():
        stride = spec["stride"]
        channels = joints * spec.get("tag_dim", 1) if role == "tags" else joints
        shape = (channels, spec_in["height"] // stride, spec_in["width"] // stride)
        name = spec["name"]
        const = np.asarray(outputs.get(name, np.zeros(shape, np.float32)), np.float32)
        if flip_outputs is None:
            initializers.append(numpy_helper.from_array(const[None], f"{name}_const"))
            nodes.append(helper.make_node("Add", [f"{name}_const", "zero4"], [name]))
        else:
            flip = np.asarray(flip_outputs.get(name, np.zeros(shape, np.float32)), np.float32)
            initializers.append(numpy_helper.from_array(flip[None], f"{name}_flip"))
            initializers.append(numpy_helper.from_array((const - flip)[None], f"{name}_diff"))
            nodes.append(helper.make_node("Mul", ["weight", f"{name}_diff"], [f"{name}_blend"]))
            nodes.append(helper.make_node("Add", [f"{name}_flip", f"{name}_blend"], [name]))
        graph_outputs.append(
            helper.make_tensor_value_info(name, TensorProto.FLOAT, ["N", *const.shape])
        )
    graph = helper.make_graph(
        nodes,
        "test_body_model",
        [
            helper.make_tensor_value_info(
                spec_in["name"], TensorProto.FLOAT, ["N", input_channels, height, width]
            )
        ],
        graph_outputs,
        initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8
    text = raw_metadata if raw_metadata is not None else json.dumps(meta)
    helper.set_model_props(model, {"hand_pose_ros": text})
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


POSE_TEMPLATE = np.array(
    [
        [0.50, 0.10], [0.55, 0.08], [0.45, 0.08], [0.60, 0.10], [0.40, 0.10],
        [0.70, 0.25], [0.30, 0.25], [0.80, 0.40], [0.20, 0.40], [0.85, 0.55],
        [0.15, 0.55], [0.62, 0.55], [0.38, 0.55], [0.63, 0.75], [0.37, 0.75],
        [0.64, 0.95], [0.36, 0.95],
    ]
)  # fmt: skip
"""A person facing the camera in a unit box (COCO order; the person's left on image right)."""


def grid_people(
    count: int,
    height: int = INPUT_HEIGHT,
    width: int = INPUT_WIDTH,
    columns: int = 5,
    jitter_px: float = 2.0,
    seed: int = 0,
) -> np.ndarray:
    """(count, 17, 2) network-input keypoints of people standing side by side on a grid."""
    rng = np.random.default_rng(seed)
    rows = -(-count // columns)
    cell_w, cell_h = width / min(count, columns), height / rows
    people = []
    for index in range(count):
        origin = np.array([(index % columns) * cell_w, (index // columns) * cell_h])
        size = np.array([cell_w, cell_h]) * 0.8
        keypoints = origin + 0.1 * np.array([cell_w, cell_h]) + POSE_TEMPLATE * size
        people.append(keypoints + rng.uniform(-jitter_px, jitter_px, keypoints.shape))
    return np.array(people).reshape(count, len(POSE_TEMPLATE), 2)
