"""Bad input never takes hand_pose_node down: each kind is dropped, counted by reason, and the
next good frame still produces keypoints. Real node, real DDS, real ONNX Runtime."""

from __future__ import annotations

import array
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import numpy as np
import pytest
from diagnostic_msgs.msg import DiagnosticStatus
from rclpy.parameter import Parameter
from sensor_msgs.msg import Image

from hand_pose_ros.nodes.hand_pose_node import (
    DROP_BAD_CAMERA_INFO,
    DROP_BAD_ENCODING,
    DROP_BAD_PARAMETER,
    DROP_MALFORMED,
    DROP_NO_CAMERA_INFO,
    DROP_NO_MODEL,
    DROP_NO_VALID_DEPTH,
    DROP_SIZE_MISMATCH,
)
from hand_pose_ros.ros.camera_info import intrinsics_to_camera_info
from hand_pose_ros.runner.harness import InProcessHarness
from tests.nodes import bad_input, node_checks
from tests.nodes import frame_messages as fm

WAIT_S = 5.0  # generous: returns as soon as the condition holds; CI machines may be loaded
_next_index = node_checks.frame_indices()
_expect_drop = partial(bad_input.expect_drop, wait_s=WAIT_S)


@pytest.fixture(scope="module")
def harness(ros_context, stand_in_model: Path) -> Iterator[InProcessHarness]:
    with InProcessHarness(
        {"model": str(stand_in_model), "log_throttle_s": 0.0}, context=ros_context
    ) as running:
        assert running.wait_for_connections()
        yield running


def _expect_keypoints(harness: InProcessHarness, image: Image | None = None, info=None) -> None:
    if image is None:
        image, info = fm.frame(_next_index())
    key, _ = harness.publish_frame(image, info)
    result = harness.wait_for_keypoints(key, WAIT_S)
    assert result is not None and result.cloud is not None, harness.node.drop_counts
    assert len(result.cloud) == 42  # the stand-in model always reports both hands
    assert harness.node._worker.is_alive()


def test_missing_camera_info_is_dropped_then_recovers(harness: InProcessHarness) -> None:
    # This test runs first in the module: the node has not seen any CameraInfo yet.
    image, _ = fm.frame(_next_index())
    _expect_drop(harness, DROP_NO_CAMERA_INFO, image, None)
    _expect_keypoints(harness, *fm.frame(_next_index()))


@pytest.mark.parametrize("encoding", ["rgb8", "mono8", "8UC3", "not_an_encoding"])
def test_wrong_encoding(harness: InProcessHarness, encoding: str) -> None:
    image, info = fm.frame(_next_index())
    image.encoding = encoding
    _expect_drop(harness, DROP_BAD_ENCODING, image, info)
    _expect_keypoints(harness)


@pytest.mark.parametrize(
    ("encoding", "fill"), [("32FC1", np.nan), ("16UC1", 0.0), ("32FC1", 0.0), ("32FC1", np.inf)]
)
def test_no_valid_depth(harness: InProcessHarness, encoding: str, fill: float) -> None:
    depth = np.full((fm.HEIGHT, fm.WIDTH), fill, dtype=np.float32)
    image, info = fm.frame(_next_index(), depth, encoding)
    if encoding == "32FC1":  # metres_to_depth_image writes NaN for invalid: force the raw value
        raw = np.full((fm.HEIGHT, fm.WIDTH), fill, dtype="<f4")
        image.data = array.array("B", raw.tobytes())
    _expect_drop(harness, DROP_NO_VALID_DEPTH, image, info)
    _expect_keypoints(harness)


def test_camera_info_of_same_aspect_is_scaled(harness: InProcessHarness) -> None:
    image, _ = fm.frame(_next_index())
    big = fm.intrinsics(2 * fm.WIDTH, 2 * fm.HEIGHT)
    info = intrinsics_to_camera_info(big, image.header)
    key, _ = harness.publish_frame(image, info)
    result = harness.wait_for_keypoints(key, WAIT_S)
    assert result is not None
    cloud = result.cloud
    expected = big.scaled(fm.WIDTH, fm.HEIGHT).back_project(cloud.uv_px, cloud.depth_m)
    finite = np.isfinite(cloud.depth_m)
    assert finite.sum() > 30
    np.testing.assert_allclose(cloud.xyz_m[finite], expected[finite], atol=1e-5)


def test_camera_info_of_other_aspect_is_dropped(harness: InProcessHarness) -> None:
    image, _ = fm.frame(_next_index())
    info = intrinsics_to_camera_info(fm.intrinsics(320, 240), image.header)
    _expect_drop(harness, DROP_SIZE_MISMATCH, image, info)
    _expect_keypoints(harness)


def test_uncalibrated_camera_info(harness: InProcessHarness) -> None:
    image, info = fm.frame(_next_index())
    info.k = [0.0] * 9
    _expect_drop(harness, DROP_BAD_CAMERA_INFO, image, info)
    _expect_keypoints(harness)


@pytest.mark.parametrize("defect", ["short_step", "short_data", "empty"])
def test_malformed_image(harness: InProcessHarness, defect: str) -> None:
    image, info = fm.frame(_next_index())
    if defect == "short_step":
        image.step = image.width  # 16UC1 needs 2 bytes per pixel
    elif defect == "short_data":
        image.data = array.array("B", bytes(image.data)[: len(image.data) // 2])
    else:
        image.width = image.height = image.step = 0
        image.data = array.array("B")
    _expect_drop(harness, DROP_MALFORMED, image, info)
    _expect_keypoints(harness)


def test_every_received_frame_is_processed_or_counted(harness: InProcessHarness) -> None:
    """A flood at full speed: drops are allowed, silent losses inside the node are not."""
    for _ in range(40):
        harness.publish_frame(*fm.frame(_next_index(), fm.plane_depth_m(640, 480)))
        harness.executor.spin_once(timeout_sec=0)
    node = harness.node

    def settled() -> bool:
        return node.frames_received == node.frames_processed + sum(node.drop_counts.values())

    harness.spin_until(settled, WAIT_S)
    assert settled(), (node.frames_received, node.frames_processed, node.drop_counts)
    _expect_keypoints(harness)


# ---------------------------------------------------------------------------- model problems
@pytest.mark.parametrize("kind", ["corrupt", "foreign", "missing", "unknown_provider"])
def test_unusable_model_keeps_node_up(
    ros_context, tmp_path: Path, stand_in_model: Path, kind: str
) -> None:
    parameters: dict = {"diagnostics_period_s": 0.1}
    if kind == "unknown_provider":
        model = stand_in_model
        parameters["providers"] = ["NoSuchExecutionProvider"]
    elif kind == "corrupt":
        model = bad_input.corrupt_model(tmp_path / "corrupt.onnx")
    elif kind == "foreign":
        model = bad_input.foreign_model(tmp_path / "foreign.onnx", [1, 1, 120, 160])
    else:
        model = tmp_path / "does_not_exist.onnx"
    parameters["model"] = str(model)
    with InProcessHarness(parameters, context=ros_context) as harness:
        node = harness.node
        assert node.estimator is None and node.model_error
        expected = "NoSuchExecutionProvider" if kind == "unknown_provider" else model.name
        assert expected in node.model_error
        assert harness.wait_for_connections()
        bad_input.expect_model_error_reported(
            harness, "hand", lambda: fm.frame(_next_index()), WAIT_S
        )


@pytest.mark.parametrize("kind", ["corrupt", "hand_model_as_refiner", "missing"])
def test_unusable_refiner_keeps_node_up(
    ros_context, tmp_path: Path, stand_in_model: Path, kind: str
) -> None:
    if kind == "corrupt":
        refiner = bad_input.corrupt_model(tmp_path / "corrupt_refiner.onnx")
    elif kind == "hand_model_as_refiner":
        refiner = stand_in_model
    else:
        refiner = tmp_path / "no_refiner_here.onnx"
    parameters = {
        "model": str(stand_in_model),
        "refiner_model": str(refiner),
        "diagnostics_period_s": 0.1,
    }
    with InProcessHarness(parameters, context=ros_context) as harness:
        node = harness.node
        assert node.estimator is None and node.model_error
        expected = (
            "this node needs a 'hand_keypoints_crop' model"
            if kind == "hand_model_as_refiner"
            else refiner.name
        )
        assert expected in node.model_error and "cannot load the hand refiner" in node.model_error
        assert harness.wait_for_connections()
        for _ in range(2):
            _expect_drop(harness, DROP_NO_MODEL, *fm.frame(_next_index()))
        assert harness.spin_until(lambda: len(harness.sink.diagnostics) > 0, WAIT_S)
        status = harness.sink.diagnostics[-1]
        assert status.level == DiagnosticStatus.ERROR
        assert "cannot load the hand refiner" in status.message


# ---------------------------------------------------------------------------- parameters
def test_invalid_parameter_value_drops_until_fixed(ros_context, stand_in_model: Path) -> None:
    with InProcessHarness(
        {"model": str(stand_in_model), "presence_threshold": 2.0}, context=ros_context
    ) as harness:
        node = harness.node
        assert "presence_threshold" in node.config_errors
        assert harness.wait_for_connections()
        _expect_drop(harness, DROP_BAD_PARAMETER, *fm.frame(_next_index()))
        result = node.set_parameters([Parameter("presence_threshold", value=0.5)])[0]
        assert result.successful
        assert node.config_errors == {}
        _expect_keypoints(harness)


def test_wrongly_typed_parameter_is_reported_not_fatal(ros_context, stand_in_model: Path) -> None:
    with InProcessHarness(
        {"model": str(stand_in_model), "input_reliability": 3, "depth_window_px": "five"},
        context=ros_context,
    ) as harness:
        node = harness.node
        assert set(node.config_errors) == {"input_reliability", "depth_window_px"}
        assert "wrong type" in node.config_errors["depth_window_px"]
        assert harness.wait_for_connections()
        _expect_drop(harness, DROP_BAD_PARAMETER, *fm.frame(_next_index()))
        results = node.set_parameters(
            [
                Parameter("input_reliability", value="best_effort"),
                Parameter("depth_window_px", value=5),
            ]
        )
        assert all(r.successful for r in results), results
        assert harness.wait_for_connections()  # the input subscription was re-created
        _expect_keypoints(harness)


def test_runtime_parameter_errors_are_rejected(harness: InProcessHarness) -> None:
    node = harness.node
    rejected = node.set_parameters(
        [
            Parameter("presence_threshold", value=-0.1),
            Parameter("depth_window_px", value=0),
            Parameter("input_reliability", value="sometimes"),
            Parameter("marker_lifetime_s", value="long"),  # wrong type
            Parameter("keypoint_names", value=["a"]),  # read-only
            Parameter("model", value="/tmp/other.onnx"),  # read-only
        ]
    )
    assert not any(r.successful for r in rejected)
    assert "probability in [0, 1]" in rejected[0].reason
    assert node.get_parameter("presence_threshold").value == 0.5
    assert node.config_errors == {}
    _expect_keypoints(harness)
