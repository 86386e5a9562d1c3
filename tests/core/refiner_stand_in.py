"""A constructed hand refiner (task hand_keypoints_crop) built with onnx.helper: a real ONNX
Runtime session whose heatmaps (and keypoint depth maps) are constants chosen by the test."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from hand_pose_ros.core.skeletons import HAND_KEYPOINT_NAMES, HAND_SIDES, HAND_SKELETON_EDGES

OPSET = 17

def refiner_metadata(size: int = 32, stride: int = 4, depth: bool = False) -> dict[str, Any]:
    """hand_keypoints_crop metadata per the model file contract (with the optional
    keypoint_depth output when ``depth``)."""
    return {
        "format_version": 1,
        "task": "hand_keypoints_crop",
        "model_name": "test_hand_refiner",
        "keypoint_names": list(HAND_KEYPOINT_NAMES),
        "skeleton": [list(edge) for edge in HAND_SKELETON_EDGES],
        "sides": list(HAND_SIDES),
        "input": {
            "name": "hand_crop",
            "layout": "NCHW",
            "height": size,
            "width": size,
            "units": "m",
            "crop_margin": 1.5,
            "depth_range_m": 0.15,
            "reference_percentile": 20.0,
            "invalid_value": 1.0,
            "mirrored_side": "left",
        },
        "outputs": {
            "heatmaps": {"name": "heatmaps", "stride": stride},
            **({"keypoint_depth": {"name": "keypoint_depth", "stride": stride}} if depth else {}),
        },
        "heatmap_sigma_px": 1.5,
        "training": {},
        "metrics": {},
    }


def build_refiner_model(
    path: Path,
    metadata: dict[str, Any],
    heatmaps: np.ndarray,
    keypoint_depth: np.ndarray | None = None,
) -> Path:
    """An ONNX refiner whose heatmaps (and keypoint depth maps, if given) are the given
    (K, h, w) constants for every crop (broadcast over the crops through 0 x their mean)."""
    size = metadata["input"]["height"]
    constants = {"heatmaps": heatmaps}
    if keypoint_depth is not None:
        constants["keypoint_depth"] = keypoint_depth
    nodes = [
        helper.make_node("ReduceMean", ["hand_crop"], ["mean4"], axes=[1, 2, 3], keepdims=1),
        helper.make_node("Mul", ["mean4", "zero"], ["zero4"]),
    ]
    initializers = [numpy_helper.from_array(np.array(0.0, np.float32), "zero")]
    outputs = []
    for name, value in constants.items():
        nodes.append(helper.make_node("Add", [f"{name}_const", "zero4"], [name]))
        initializers.append(numpy_helper.from_array(np.asarray(value, np.float32)[None],
                                                    f"{name}_const"))
        outputs.append(helper.make_tensor_value_info(
            name, TensorProto.FLOAT, ["N", *np.asarray(value).shape]
        ))
    graph = helper.make_graph(
        nodes,
        "test_hand_refiner",
        [helper.make_tensor_value_info("hand_crop", TensorProto.FLOAT, ["N", 1, size, size])],
        outputs,
        initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8
    helper.set_model_props(model, {"hand_pose_ros": json.dumps(metadata)})
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path
