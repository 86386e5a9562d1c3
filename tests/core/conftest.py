"""Small ONNX hand models built with onnx.helper: real ONNX Runtime sessions, no torch, no
trained weights. Their outputs are constants chosen by the test (plus, optionally, a presence
logit that depends on the input so a test can see the input really reaches the graph)."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from hand_pose_ros.core.skeletons import (
    HAND_KEYPOINT_NAMES,
    HAND_KEYPOSES,
    HAND_SIDES,
    HAND_SKELETON_EDGES,
)

OPSET = 17


def default_metadata(height: int = 120, width: int = 160, stride: int = 2) -> dict[str, Any]:
    """Metadata per the model file contract, with every optional output declared."""
    return {
        "format_version": 1,
        "task": "hand_pose_2.5d",
        "model_name": "test_hand_model",
        "keypoint_names": list(HAND_KEYPOINT_NAMES),
        "skeleton": [list(edge) for edge in HAND_SKELETON_EDGES],
        "sides": list(HAND_SIDES),
        "keyposes": list(HAND_KEYPOSES),
        "input": {
            "name": "depth",
            "layout": "NCHW",
            "height": height,
            "width": width,
            "units": "m",
            "clip_max_m": 2.0,
            "scale": 0.5,
            "invalid_value": 0.0,
        },
        "outputs": {
            "heatmaps": {"name": "heatmaps", "stride": stride},
            "presence": {"name": "presence"},
            "visibility": {"name": "visibility"},
            "segmentation": {
                "name": "segmentation",
                "stride": stride,
                "classes": ["background", "left", "right"],
            },
            "keypose": {"name": "keypose"},
        },
        "heatmap_sigma_px": 1.5,
        "training": {},
        "metrics": {},
        "complexity": {"flops": 0, "params": 0},
    }


def build_hand_model(
    path: Path,
    metadata: dict[str, Any] | None,
    heatmaps: np.ndarray | None = None,
    presence_logits: np.ndarray | None = None,
    visibility_logits: np.ndarray | None = None,
    keypose_logits: np.ndarray | None = None,
    segmentation_logits: np.ndarray | None = None,
    presence_input_gain: float = 0.0,
    outputs: tuple[str, ...] = ("heatmaps", "presence", "visibility", "segmentation", "keypose"),
    input_hw: tuple[int, int] | None = None,
    extra_metadata: dict[str, str] | None = None,
) -> Path:
    """Write an ONNX file whose outputs are the given constants broadcast over the batch.

    ``metadata`` None writes no hand_pose_ros metadata (a foreign model). Shapes default to the
    ones ``metadata`` (or the default metadata) implies; ``input_hw`` overrides the graph's
    input size to fake a mismatch. presence = presence_logits + gain * mean(input).
    """
    meta = metadata if metadata is not None else default_metadata()
    sides = len(meta["sides"])
    keypoints = len(meta["keypoint_names"])
    height, width = input_hw or (meta["input"]["height"], meta["input"]["width"])
    stride = meta["outputs"]["heatmaps"]["stride"]
    h, w = meta["input"]["height"] // stride, meta["input"]["width"] // stride
    if heatmaps is None:
        heatmaps = np.zeros((sides * keypoints, h, w), np.float32)
    if presence_logits is None:
        presence_logits = np.zeros(sides, np.float32)
    if visibility_logits is None:
        visibility_logits = np.zeros(sides * keypoints, np.float32)
    if keypose_logits is None:
        keypose_logits = np.zeros((sides, len(meta.get("keyposes", ["x"]))), np.float32)
    if segmentation_logits is None:  # background wins everywhere
        segmentation_logits = np.zeros((3, h, w), np.float32)
    constants = {
        "heatmaps": np.asarray(heatmaps, np.float32)[None],
        "presence": np.asarray(presence_logits, np.float32)[None],
        "visibility": np.asarray(visibility_logits, np.float32)[None],
        "segmentation": np.asarray(segmentation_logits, np.float32)[None],
        "keypose": np.asarray(keypose_logits, np.float32)[None],
    }
    input_name = meta["input"]["name"]
    nodes = [
        helper.make_node("ReduceMean", [input_name], ["mean4"], axes=[1, 2, 3], keepdims=1),
        helper.make_node("Mul", ["mean4", "zero"], ["zero4"]),  # (N,1,1,1) zeros
        helper.make_node("Flatten", ["mean4"], ["mean2"], axis=1),  # (N,1)
        helper.make_node("Mul", ["mean2", "zero"], ["zero2"]),
        helper.make_node("Reshape", ["zero4", "shape3"], ["zero3"]),  # (N,1,1)
    ]
    initializers = [
        numpy_helper.from_array(np.array(0.0, np.float32), "zero"),
        numpy_helper.from_array(np.array(presence_input_gain, np.float32), "gain"),
        numpy_helper.from_array(np.array([-1, 1, 1], np.int64), "shape3"),
    ]
    broadcast_source = {"heatmaps": "zero4", "segmentation": "zero4", "keypose": "zero3"}
    graph_outputs = []
    for role in outputs:
        const = constants[role]
        initializers.append(numpy_helper.from_array(const, f"{role}_const"))
        if role == "presence":
            nodes.append(helper.make_node("Mul", ["mean2", "gain"], ["presence_shift"]))
            nodes.append(helper.make_node("Add", ["presence_const", "presence_shift"], [role]))
        else:
            source = broadcast_source.get(role, "zero2")
            nodes.append(helper.make_node("Add", [f"{role}_const", source], [role]))
        out_shape = ["N", *const.shape[1:]]
        graph_outputs.append(helper.make_tensor_value_info(role, TensorProto.FLOAT, out_shape))
    graph = helper.make_graph(
        nodes,
        "test_hand_model",
        [helper.make_tensor_value_info(input_name, TensorProto.FLOAT, ["N", 1, height, width])],
        graph_outputs,
        initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8
    props = dict(extra_metadata or {})
    if metadata is not None:
        props["hand_pose_ros"] = json.dumps(metadata)
    helper.set_model_props(model, props)
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


@pytest.fixture
def make_metadata() -> Callable[..., dict[str, Any]]:
    """Fresh (deep-copied) default metadata, to be modified by a test."""
    return lambda **kwargs: copy.deepcopy(default_metadata(**kwargs))


@pytest.fixture
def make_model(tmp_path: Path) -> Callable[..., Path]:
    """build_hand_model writing into the test's tmp_path; first argument is the file name."""

    def build(name: str = "model.onnx", metadata: Any = "default", **kwargs: Any) -> Path:
        meta = default_metadata() if metadata == "default" else metadata
        return build_hand_model(tmp_path / name, meta, **kwargs)

    return build
