"""A small hand model built with onnx.helper, for plumbing tests that need no trained weights.

Its heatmaps are fixed Gaussians (one per keypoint and side, so the decoded keypoints are known
exactly) and its presence logits are fixed; the input still flows through the graph, so ONNX
Runtime really runs it. The metadata follows the model file contract.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from hand_pose_ros.core.skeletons import (
    HAND_KEYPOINT_NAMES,
    HAND_KEYPOSES,
    HAND_SIDES,
    HAND_SKELETON_EDGES,
)

INPUT_HEIGHT = 120
INPUT_WIDTH = 160
STRIDE = 2
KEYPOINTS = len(HAND_KEYPOINT_NAMES)
SIGMA_PX = 1.5


def stand_in_metadata() -> dict:
    return {
        "format_version": 1,
        "task": "hand_pose_2.5d",
        "model_name": "stand_in_hand_model",
        "keypoint_names": list(HAND_KEYPOINT_NAMES),
        "skeleton": [list(edge) for edge in HAND_SKELETON_EDGES],
        "sides": list(HAND_SIDES),
        "keyposes": list(HAND_KEYPOSES),
        "input": {"name": "depth", "layout": "NCHW", "height": INPUT_HEIGHT,
                  "width": INPUT_WIDTH, "units": "m", "clip_max_m": 2.0, "scale": 0.5,
                  "invalid_value": 0.0},
        "outputs": {"heatmaps": {"name": "heatmaps", "stride": STRIDE},
                    "presence": {"name": "presence"}},
        "heatmap_sigma_px": SIGMA_PX,
        "training": {"note": "test fixture, not trained"},
        "metrics": {},
        "complexity": {"flops": 0, "params": 0},
    }


def stand_in_keypoints_heatmap_px() -> np.ndarray:
    """(2, K, 2) peak positions (heatmap pixels) the model always reports."""
    k = np.arange(KEYPOINTS)
    left = np.stack([10.0 + 1.5 * k, 15.0 + 0.5 * k], axis=-1)
    right = np.stack([45.0 + 1.0 * k, 20.0 + 1.0 * k], axis=-1)
    return np.stack([left, right]).astype(np.float32)


def build_stand_in_model(path: Path, presence_logits: tuple[float, float] = (6.0, 6.0)) -> Path:
    """Write the model; returns ``path``."""
    height, width = INPUT_HEIGHT // STRIDE, INPUT_WIDTH // STRIDE
    rows, cols = np.mgrid[0:height, 0:width]
    peaks = stand_in_keypoints_heatmap_px().reshape(-1, 2)
    heatmaps = np.exp(
        -((cols[None] - peaks[:, 0, None, None]) ** 2 + (rows[None] - peaks[:, 1, None, None]) ** 2)
        / (2 * SIGMA_PX**2)
    ).astype(np.float32)[None]
    nodes = [
        # zero = 0 * mean(input): ties the outputs to the input so the graph really runs.
        helper.make_node("ReduceMean", ["depth"], ["mean"], axes=[1, 2, 3], keepdims=1),
        helper.make_node("Mul", ["mean", "zero_scalar"], ["zero4"]),
        helper.make_node("Add", ["heatmap_const", "zero4"], ["heatmaps"]),
        helper.make_node("Flatten", ["zero4"], ["zero2"], axis=1),
        helper.make_node("Add", ["presence_const", "zero2"], ["presence"]),
    ]
    initializers = [
        numpy_helper.from_array(np.array(0.0, np.float32), "zero_scalar"),
        numpy_helper.from_array(heatmaps, "heatmap_const"),
        numpy_helper.from_array(np.array([presence_logits], np.float32), "presence_const"),
    ]
    graph = helper.make_graph(
        nodes,
        "stand_in_hand_model",
        [helper.make_tensor_value_info("depth", TensorProto.FLOAT,
                                       ["N", 1, INPUT_HEIGHT, INPUT_WIDTH])],
        [
            helper.make_tensor_value_info("heatmaps", TensorProto.FLOAT,
                                          ["N", 2 * KEYPOINTS, height, width]),
            helper.make_tensor_value_info("presence", TensorProto.FLOAT, ["N", 2]),
        ],
        initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    helper.set_model_props(model, {"hand_pose_ros": json.dumps(stand_in_metadata())})
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path
