"""video_pose_node end to end over real DDS in one process, with the shipped models.

A synthetic people sequence is published frame by frame at 15 fps stamps; the node's clouds
must equal the core VideoEstimator's on the same frames (the node adds nothing and loses
nothing), the track ids in ``instance`` must follow the same people (identity switches against
the ground truth at most what the shipped models measure), and diagnostics report the
keyframe ratio and the compute per frame.
Bad input specific to the video node (a wrong tracker file) leaves it up and reporting.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

import numpy as np
import pytest
from builtin_interfaces.msg import Time
from diagnostic_msgs.msg import DiagnosticStatus
from rclpy.parameter import Parameter
from std_msgs.msg import Header

from hand_pose_ros.core.body_estimator import BodyEstimator
from hand_pose_ros.core.model_runtime import OnnxModel
from hand_pose_ros.core.video.dkd_model import DkdModel
from hand_pose_ros.core.video.keyframes import KeyframePolicy
from hand_pose_ros.core.video.metrics import VideoPoseMetrics
from hand_pose_ros.core.video.video_estimator import VideoEstimator
from hand_pose_ros.nodes import pose_node_base
from hand_pose_ros.nodes.body_pose_node import shipped_model_path
from hand_pose_ros.nodes.video_pose_parameters import PARAMETER_SPECS, SHIPPED_VIDEO_MODEL_NAME
from hand_pose_ros.ros.camera_info import intrinsics_to_camera_info
from hand_pose_ros.ros.image_conversions import numpy_to_image
from hand_pose_ros.runner.harness import VideoHarness
from hand_pose_ros.runner.robot import predicted_people
from hand_pose_ros.synthetic.people import PeopleSequence
from tests.nodes import bad_input, node_checks
from tests.nodes import body_frames as bf

WAIT_S = 5.0
SEQUENCE_SEED = 3000100  # outside every training and evaluation split
FRAMES = 16
FPS = 15.0
KEYFRAME_INTERVAL = 5
VIDEO_MODEL = pose_node_base.shipped_model_path(SHIPPED_VIDEO_MODEL_NAME)

pytestmark = pytest.mark.skipif(
    not (VIDEO_MODEL.exists() and shipped_model_path().exists()),
    reason="the shipped body and DKD models are produced by `make body-model video-model`",
)


def _header(index: int) -> Header:
    nanosec = round(index * 1e9 / FPS)
    return Header(
        stamp=Time(sec=1000 + nanosec // 1_000_000_000, nanosec=nanosec % 1_000_000_000),
        frame_id=bf.FRAME_ID,
    )


@pytest.fixture(scope="module")
def sequence() -> list:
    return list(PeopleSequence(SEQUENCE_SEED, FRAMES, width=640, height=480))


@pytest.fixture(scope="module")
def harness(ros_context) -> Iterator[VideoHarness]:
    parameters = {
        "use_depth": False,
        "keyframe_interval_frames": KEYFRAME_INTERVAL,
        "diagnostics_period_s": 0.2,
        "log_throttle_s": 0.0,
    }
    with VideoHarness(parameters, context=ros_context) as running:
        assert running.node.estimator is not None, running.node.model_error
        assert running.wait_for_connections()
        yield running


def test_tracks_equal_the_core_tracker_and_keep_their_people(
    harness: VideoHarness, sequence: list
) -> None:
    core = VideoEstimator(
        BodyEstimator(OnnxModel(shipped_model_path())),
        DkdModel(VIDEO_MODEL),
        KeyframePolicy(interval_frames=KEYFRAME_INTERVAL),
    )
    metrics = VideoPoseMetrics(np.asarray(core.body.model.metadata["oks_sigmas"]))
    reasons = []
    for index, frame in enumerate(sequence):
        header = _header(index)
        result = node_checks.keypoints_for(
            harness, numpy_to_image(frame.color, "rgb8", header), wait_s=WAIT_S
        )
        expected = core.estimate(frame.color, time_s=index / FPS)
        reasons.append(expected.keyframe_reason)
        uv, _, score, ids = predicted_people(result, bf.JOINTS)
        np.testing.assert_array_equal(ids, expected.track_ids)
        np.testing.assert_allclose(uv, expected.people.uv_px, atol=1e-3)
        np.testing.assert_allclose(score, expected.people.score, atol=1e-5)
        metrics.add_frame(
            uv, ids, frame.keypoints_uv, frame.visibility, frame.track_ids, frame.boxes_xywh
        )
    assert reasons[0] == "start"
    assert sum(bool(r) for r in reasons) < FRAMES / 2  # most frames are propagated
    summary = metrics.summary()
    # Floors at what the shipped models measure on this sequence (no identity switch in 16
    # frames among 7 people, PCK@0.2 0.797; 0.820 with the body model's detection threshold at
    # 0.1, which reported more weak people): ids are carried from frame to frame, and a
    # regression in propagation or association shows here. Retraining moves them.
    assert summary["id_switches"] <= 1, summary
    assert summary["pck@0.2"] >= 0.79, summary


def test_diagnostics_report_the_keyframe_ratio_and_compute(
    harness: VideoHarness, sequence: list
) -> None:
    for index, frame in enumerate(sequence[: 2 * KEYFRAME_INTERVAL], start=100):
        node_checks.keypoints_for(
            harness, numpy_to_image(frame.color, "rgb8", _header(index)), wait_s=WAIT_S
        )
    status, values = node_checks.latest_diagnostics(harness, WAIT_S)
    assert status.level in (DiagnosticStatus.OK, DiagnosticStatus.WARN)
    assert 0.0 < float(values["keyframe_ratio"]) <= 1.0
    assert 0.0 <= float(values["motion_keyframe_ratio"]) <= float(values["keyframe_ratio"])
    full_gmacs = harness.node.estimator.body_macs / 1e9
    assert 0.0 < float(values["mean_gmacs_per_frame"]) < full_gmacs
    assert values["video_model"] == harness.node.estimator.dkd.name


def test_parameters_are_described_and_the_tracker_rebuilds_on_change(
    harness: VideoHarness,
) -> None:
    names = [spec.name for spec in PARAMETER_SPECS]
    for descriptor in harness.node.describe_parameters(names):
        assert descriptor.description, descriptor.name
    node = harness.node
    assert not node.set_parameters([Parameter("video_model", value="/x.onnx")])[0].successful
    assert node.set_parameters([Parameter("keyframe_interval_frames", value=3)])[0].successful
    assert node.estimator.policy.interval_frames == 3
    assert node.set_parameters([Parameter("min_motion_change", value=0.2)])[0].successful
    assert node.estimator.motion.settings.min_change == 0.2
    assert not node.set_parameters([Parameter("motion_gap_frames", value=0)])[0].successful
    refused = node.set_parameters([Parameter("keyframe_interval_frames", value=0)])[0]
    assert not refused.successful
    assert node.estimator.policy.interval_frames == 3
    assert node.set_parameters([Parameter("min_motion_change", value=0.2)])[0].successful
    assert node.estimator.motion.settings.min_change == 0.2
    assert not node.set_parameters([Parameter("motion_gap_frames", value=0)])[0].successful


@pytest.mark.parametrize("wrong", ["body", "foreign"])
def test_a_wrong_tracker_file_leaves_the_node_up_and_reporting(
    ros_context, tmp_path, wrong: str
) -> None:
    path = (
        shipped_model_path()
        if wrong == "body"
        else bad_input.foreign_model(tmp_path / "foreign.onnx", [1, 3, 8, 8])
    )
    parameters = {"use_depth": False, "video_model": str(path), "log_throttle_s": 0.0}
    frame = partial(_colour_frame, np.zeros((480, 640, 3), np.uint8))
    with VideoHarness(parameters, context=ros_context) as running:
        assert running.wait_for_connections()
        assert running.node.estimator is None
        assert "video_pose_dkd" in running.node.model_error or "metadata" in (
            running.node.model_error
        )
        for _ in range(2):
            bad_input.expect_drop(running, pose_node_base.DROP_NO_MODEL, *frame(), wait_s=WAIT_S)


_frame_counter = node_checks.frame_indices()


def _colour_frame(rgb: np.ndarray) -> tuple:
    header = _header(500 + _frame_counter())
    info = intrinsics_to_camera_info(bf.intrinsics(640, 480), header)
    return numpy_to_image(rgb, "rgb8", header), None, info


def test_bad_frames_are_dropped_and_counted_and_tracking_goes_on(
    harness: VideoHarness, sequence: list
) -> None:
    depth_as_colour = numpy_to_image(np.zeros((480, 640), np.uint16), "16UC1", _header(300))
    bad_input.expect_drop(harness, pose_node_base.DROP_BAD_ENCODING, depth_as_colour, wait_s=WAIT_S)
    truncated = numpy_to_image(sequence[0].color, "rgb8", _header(301))
    truncated.data = truncated.data[: len(truncated.data) // 2]
    bad_input.expect_drop(harness, pose_node_base.DROP_MALFORMED, truncated, wait_s=WAIT_S)
    good = numpy_to_image(sequence[1].color, "rgb8", _header(302))
    result = node_checks.keypoints_for(harness, good, wait_s=WAIT_S)
    assert result.cloud is not None and len(result.cloud) > 0
