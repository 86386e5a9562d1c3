"""Bad input never takes body_pose_node down: each kind is dropped, counted by reason and
logged, and the next good frame still produces people. Real node, real DDS, real ONNX Runtime."""

from __future__ import annotations

import array
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import numpy as np
import pytest
from rclpy.parameter import Parameter

from hand_pose_ros.nodes.body_pose_node import (
    DROP_NO_DEPTH,
    DROP_UNSYNCHRONISED,
)
from hand_pose_ros.nodes.pose_node_base import (
    DROP_BAD_CAMERA_INFO,
    DROP_BAD_ENCODING,
    DROP_BAD_PARAMETER,
    DROP_MALFORMED,
    DROP_NO_CAMERA_INFO,
    DROP_NO_VALID_DEPTH,
    DROP_SIZE_MISMATCH,
)
from hand_pose_ros.nodes.stamp_pairing import SYSTEMATIC_FAILURES
from hand_pose_ros.ros.camera_info import intrinsics_to_camera_info
from hand_pose_ros.runner.harness import RgbdHarness
from tests.nodes import bad_input, node_checks
from tests.nodes import body_frames as bf
from tests.nodes.bad_input import drops as _drops

WAIT_S = 5.0
_next_index = node_checks.frame_indices()
_expect_drop = partial(bad_input.expect_drop, wait_s=WAIT_S)


@pytest.fixture(scope="module")
def harness(ros_context, body_stand_in_model: Path) -> Iterator[RgbdHarness]:
    with RgbdHarness(
        {"model": str(body_stand_in_model), "log_throttle_s": 0.0}, context=ros_context
    ) as running:
        assert running.wait_for_connections()
        yield running


def _expect_people(harness: RgbdHarness, frame=None) -> None:
    color, depth, info = frame or bf.rgbd_frame(_next_index())
    key, _ = harness.publish_frame(color, depth, info)
    result = harness.wait_for_keypoints(key, WAIT_S)
    assert result is not None and result.cloud is not None, harness.node.drop_counts
    assert len(result.cloud) == bf.PEOPLE * bf.JOINTS
    assert harness.node._worker.is_alive()


def test_missing_camera_info_is_dropped_then_recovers(harness: RgbdHarness) -> None:
    # This test runs first in the module: the node has not seen any CameraInfo yet.
    color, depth, _ = bf.rgbd_frame(_next_index())
    _expect_drop(harness, DROP_NO_CAMERA_INFO, color, depth, None)
    _expect_people(harness)


@pytest.mark.parametrize("encoding", ["16UC1", "32FC1", "8UC3", "yuv422", "not_an_encoding"])
def test_wrong_colour_encoding(harness: RgbdHarness, encoding: str) -> None:
    color, depth, info = bf.rgbd_frame(_next_index())
    color.encoding = encoding
    _expect_drop(harness, DROP_BAD_ENCODING, color, depth, info)
    _expect_people(harness)


@pytest.mark.parametrize("encoding", ["rgb8", "mono16", "8UC1"])
def test_wrong_depth_encoding(harness: RgbdHarness, encoding: str) -> None:
    color, depth, info = bf.rgbd_frame(_next_index())
    depth.encoding = encoding
    _expect_drop(harness, DROP_BAD_ENCODING, color, depth, info)
    _expect_people(harness)


@pytest.mark.parametrize(
    ("encoding", "fill"), [("32FC1", np.nan), ("16UC1", 0.0), ("32FC1", 0.0), ("32FC1", np.inf)]
)
def test_no_valid_depth(harness: RgbdHarness, encoding: str, fill: float) -> None:
    invalid = np.full((bf.HEIGHT, bf.WIDTH), fill, dtype=np.float32)
    color, depth, info = bf.rgbd_frame(_next_index(), depth_m=invalid, depth_encoding=encoding)
    if encoding == "32FC1":  # metres_to_depth_image writes NaN for invalid: force the raw value
        depth.data = array.array("B", np.full((bf.HEIGHT, bf.WIDTH), fill, "<f4").tobytes())
    _expect_drop(harness, DROP_NO_VALID_DEPTH, color, depth, info)
    _expect_people(harness)


def test_partly_invalid_depth_gives_nan_only_there(harness: RgbdHarness) -> None:
    depth_m = bf.plane_depth_m()
    depth_m[:, : bf.WIDTH // 2] = np.nan  # left person has no depth
    color, depth, info = bf.rgbd_frame(_next_index(), depth_m=depth_m)
    key, _ = harness.publish_frame(color, depth, info)
    cloud = harness.wait_for_keypoints(key, WAIT_S).cloud
    left = cloud.uv_px[:, 0] < bf.WIDTH // 2 - 10
    right = cloud.uv_px[:, 0] > bf.WIDTH // 2 + 10
    assert np.isnan(cloud.xyz_m[left]).all()
    assert np.isfinite(cloud.xyz_m[right]).all()


def test_depth_of_another_aspect_is_dropped(harness: RgbdHarness) -> None:
    other = bf.plane_depth_m(bf.WIDTH, bf.WIDTH)  # square depth for a 4:3 colour image
    _expect_drop(harness, DROP_SIZE_MISMATCH, *bf.rgbd_frame(_next_index(), depth_m=other))
    _expect_people(harness)


def test_camera_info_of_another_aspect_is_dropped(harness: RgbdHarness) -> None:
    color, depth, _ = bf.rgbd_frame(_next_index())
    info = intrinsics_to_camera_info(bf.intrinsics(640, 360), color.header)
    _expect_drop(harness, DROP_SIZE_MISMATCH, color, depth, info)
    _expect_people(harness)


def test_uncalibrated_camera_info(harness: RgbdHarness) -> None:
    color, depth, info = bf.rgbd_frame(_next_index())
    info.k = [0.0] * 9
    _expect_drop(harness, DROP_BAD_CAMERA_INFO, color, depth, info)
    _expect_people(harness)


def test_unsynchronised_stamps_are_dropped(harness: RgbdHarness) -> None:
    """Depth stamps half a second off: the first misses are warnings (a lost depth image looks
    the same), a run of them is reported as unsynchronised."""
    before = _drops(harness, DROP_UNSYNCHRONISED)
    for _ in range(SYSTEMATIC_FAILURES + 1):
        harness.publish_frame(*bf.rgbd_frame(_next_index(), depth_offset_s=0.5))
        harness.spin_for(0.05)  # the node keeps only the newest input message
    assert harness.spin_until(lambda: _drops(harness, DROP_UNSYNCHRONISED) > before, WAIT_S), (
        harness.node.drop_counts
    )
    _expect_people(harness)


def test_colour_without_any_depth_is_counted(harness: RgbdHarness) -> None:
    """The depth stream stops: colour frames waiting for their depth are dropped and counted."""

    def waiting_drops() -> int:
        counts = harness.node.drop_counts
        return counts.get(DROP_NO_DEPTH, 0) + counts.get(DROP_UNSYNCHRONISED, 0)

    before = waiting_drops()
    for _ in range(4):
        color, _, info = bf.rgbd_frame(_next_index())
        harness.publish_frame(color, None, info)
        harness.spin_for(0.05)  # the node keeps only the newest input message
    assert harness.spin_until(lambda: waiting_drops() >= before + 2, WAIT_S), (
        harness.node.drop_counts
    )
    assert harness.node._pairer.pending_colors == 2
    _expect_people(harness)


@pytest.mark.parametrize("which", ["color", "depth"])
@pytest.mark.parametrize("defect", ["short_step", "short_data", "empty"])
def test_malformed_image(harness: RgbdHarness, which: str, defect: str) -> None:
    color, depth, info = bf.rgbd_frame(_next_index())
    image = color if which == "color" else depth
    if defect == "short_step":
        image.step = image.width  # both encodings need more than 1 byte per pixel
    elif defect == "short_data":
        image.data = array.array("B", bytes(image.data)[: len(image.data) // 2])
    else:
        image.width = image.height = image.step = 0
        image.data = array.array("B")
    _expect_drop(harness, DROP_MALFORMED, color, depth, info)
    _expect_people(harness)


def test_every_received_frame_is_processed_or_counted(harness: RgbdHarness) -> None:
    """A flood at full speed: drops are allowed, silent losses inside the node are not."""
    for _ in range(30):
        harness.publish_frame(*bf.rgbd_frame(_next_index()))
        harness.executor.spin_once(timeout_sec=0)
    node = harness.node

    def settled() -> bool:
        return node.frames_received == (
            node.frames_processed + sum(node.drop_counts.values()) + node._pairer.pending_colors
        )

    harness.spin_until(settled, WAIT_S)
    assert settled(), (node.frames_received, node.frames_processed, node.drop_counts)
    _expect_people(harness)


# ---------------------------------------------------------------------------- model problems
@pytest.mark.parametrize("kind", ["corrupt", "foreign", "hand_model", "missing", "bad_metadata"])
def test_unusable_model_keeps_node_up(
    ros_context, tmp_path: Path, stand_in_model: Path, kind: str
) -> None:
    from tests.core.body_stand_in import build_body_model

    if kind == "corrupt":
        model = bad_input.corrupt_model(tmp_path / "corrupt.onnx")
    elif kind == "foreign":
        model = bad_input.foreign_model(tmp_path / "foreign.onnx", [1, 3, 192, 256])
    elif kind == "hand_model":  # a valid model of the other task
        model = stand_in_model
    elif kind == "bad_metadata":
        model = build_body_model(tmp_path / "bad_metadata.onnx", raw_metadata="{not json")
    else:
        model = tmp_path / "does_not_exist.onnx"
    parameters = {"model": str(model), "diagnostics_period_s": 0.1}
    with RgbdHarness(parameters, context=ros_context) as harness:
        node = harness.node
        assert node.estimator is None and node.model_error
        assert model.name in node.model_error
        if kind == "hand_model":
            assert "body_pose_2d_ae" in node.model_error
        assert harness.wait_for_connections()
        bad_input.expect_model_error_reported(
            harness, "body", lambda: bf.rgbd_frame(_next_index()), WAIT_S
        )


# ---------------------------------------------------------------------------- parameters
def test_invalid_parameter_value_drops_until_fixed(ros_context, body_stand_in_model: Path) -> None:
    with RgbdHarness(
        {"model": str(body_stand_in_model), "detection_threshold": 2.0}, context=ros_context
    ) as harness:
        node = harness.node
        assert "detection_threshold" in node.config_errors
        assert harness.wait_for_connections()
        _expect_drop(harness, DROP_BAD_PARAMETER, *bf.rgbd_frame(_next_index()))
        result = node.set_parameters([Parameter("detection_threshold", value=-1.0)])[0]
        assert result.successful
        assert node.config_errors == {}
        _expect_people(harness)


def test_runtime_parameter_errors_are_rejected(harness: RgbdHarness) -> None:
    node = harness.node
    rejected = node.set_parameters(
        [
            Parameter("detection_threshold", value=1.5),
            Parameter("max_stamp_difference_s", value=-0.1),
            Parameter("max_people", value=-1),
            Parameter("use_depth", value="yes"),  # wrong type
            Parameter("keypoint_names", value=["a"]),  # read-only
            Parameter("peak_search", value="everywhere"),
        ]
    )
    assert not any(r.successful for r in rejected)
    assert "[0, 1]" in rejected[0].reason
    assert "fused" in rejected[-1].reason  # names the modes
    assert node.config_errors == {}
    _expect_people(harness)


def test_switching_depth_off_and_on_at_runtime(harness: RgbdHarness) -> None:
    node = harness.node
    assert node.set_parameters([Parameter("use_depth", value=False)])[0].successful
    try:
        assert node._depth_sub is None
        assert harness.wait_for_connections()
        color, _, _ = bf.rgbd_frame(_next_index())
        key, _ = harness.publish_frame(color)
        cloud = harness.wait_for_keypoints(key, WAIT_S).cloud
        assert np.isnan(cloud.xyz_m).all()
    finally:
        assert node.set_parameters([Parameter("use_depth", value=True)])[0].successful
    assert harness.wait_for_connections()
    _expect_people(harness)
