"""Helpers shared by the bad-input tests of both pose nodes: both harnesses count drops by
reason on `node.drop_counts` and report a missing model the same way, so the checks are one."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import onnx
from diagnostic_msgs.msg import DiagnosticStatus
from onnx import TensorProto, helper

from hand_pose_ros.nodes.pose_node_base import DROP_NO_MODEL


def drops(harness: Any, reason: str) -> int:
    return harness.node.drop_counts.get(reason, 0)


def expect_drop(harness: Any, reason: str, *frame: Any, wait_s: float) -> None:
    """Publish one frame (the harness's `publish_frame` arguments) and wait until it is
    dropped for `reason`; it must not produce keypoints."""
    before = drops(harness, reason)
    key, _ = harness.publish_frame(*frame)
    assert harness.spin_until(lambda: drops(harness, reason) > before, wait_s), (
        f"expected a '{reason}' drop; counts: {harness.node.drop_counts}"
    )
    harness.spin_for(0.02)
    assert key not in harness.sink.keypoints


def corrupt_model(path: Path) -> Path:
    """A file that is not an ONNX protobuf at all."""
    path.write_bytes(b"\x08\x07this is not a protobuf" * 50)
    return path


def foreign_model(path: Path, shape: list[int]) -> Path:
    """A valid ONNX file without hand_pose_ros metadata (someone else's model)."""
    node = helper.make_node("Identity", ["x"], ["y"])
    graph = helper.make_graph(
        [node],
        "foreign",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, shape)],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    return path


def expect_model_error_reported(
    harness: Any, task: str, frame: Callable[[], tuple], wait_s: float
) -> None:
    """Without a model every frame is dropped as such, diagnostics say why, and the node
    advertises no keypoint names."""
    for _ in range(2):
        expect_drop(harness, DROP_NO_MODEL, *frame(), wait_s=wait_s)
    assert harness.spin_until(lambda: len(harness.sink.diagnostics) > 0, wait_s)
    status = harness.sink.diagnostics[-1]
    assert status.level == DiagnosticStatus.ERROR
    assert f"cannot load {task} model" in status.message
    values = {kv.key: kv.value for kv in status.values}
    assert int(values["frames_dropped_no_model"]) >= 1
    assert harness.node.get_parameter("keypoint_names").value == []
