"""hand_pose_node end to end over real DDS in one process.

Accuracy runs the shipped model on synthetic hand sequences with ground truth; plumbing
(cloud layout, markers, debug image, diagnostics, parameters) uses a stand-in ONNX model whose
keypoints are known exactly, so those checks do not depend on training.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from diagnostic_msgs.msg import DiagnosticStatus
from rclpy.parameter import Parameter
from visualization_msgs.msg import Marker

from hand_pose_ros.core.skeletons import HAND_KEYPOINT_NAMES, HAND_SKELETON_EDGES
from hand_pose_ros.nodes.hand_pose_node import shipped_model_path
from hand_pose_ros.nodes.hand_pose_parameters import (
    NO_REFINER,
    PARAMETER_SPECS,
    SHIPPED_REFINER_NAME,
)
from hand_pose_ros.nodes.pose_node_base import CAMERA_INFO_GRACE_S
from hand_pose_ros.ros.camera_info import intrinsics_to_camera_info
from hand_pose_ros.ros.image_conversions import (
    depth_image_to_metres,
    metres_to_depth_image,
)
from hand_pose_ros.runner.harness import InProcessHarness
from tests.nodes import frame_messages as fm
from tests.nodes import node_checks
from tests.nodes.stand_in_model import (
    INPUT_HEIGHT,
    INPUT_WIDTH,
    KEYPOINTS,
    STRIDE,
    stand_in_keypoints_heatmap_px,
)

WAIT_S = 5.0  # generous: returns as soon as the condition holds; CI machines may be loaded
MARKER_LIFETIME_S = 0.25
ACCURACY_FRAMES_PER_ENCODING = 40
_frame_counter = iter(range(10_000))


def _expected_stand_in_uv(width: int, height: int) -> np.ndarray:
    """(2, K, 2) input-image pixels of the stand-in model's fixed heatmap peaks."""
    network_px = (stand_in_keypoints_heatmap_px() + 0.5) * STRIDE - 0.5
    scale = np.array([width / INPUT_WIDTH, height / INPUT_HEIGHT])
    return (network_px + 0.5) * scale - 0.5


@pytest.fixture(scope="module")
def harness(ros_context, stand_in_model: Path) -> Iterator[InProcessHarness]:
    # First stage only: the stand-in's keypoints are known exactly, a refiner would move them.
    with node_checks.observed_harness(
        InProcessHarness, stand_in_model, ros_context, MARKER_LIFETIME_S,
        refiner_model=NO_REFINER,
    ) as h:
        yield h


def _run_frame(harness: InProcessHarness, encoding: str = "16UC1"):
    image, info = fm.frame(next(_frame_counter), encoding=encoding)
    return image, info, node_checks.keypoints_for(harness, image, info, wait_s=WAIT_S)


# ---------------------------------------------------------------------------- keypoints
@pytest.mark.parametrize("encoding", ["16UC1", "32FC1"])
def test_keypoint_cloud_layout_and_values(harness: InProcessHarness, encoding: str) -> None:
    _, _, result = _run_frame(harness, encoding)
    assert result.frame_id == fm.FRAME_ID
    cloud = result.cloud
    assert len(cloud) == 2 * KEYPOINTS  # every detected hand publishes all keypoints
    np.testing.assert_array_equal(cloud.instance, np.repeat([0, 1], KEYPOINTS))
    np.testing.assert_array_equal(cloud.keypoint, np.tile(np.arange(KEYPOINTS), 2))
    expected_uv = _expected_stand_in_uv(fm.WIDTH, fm.HEIGHT).reshape(-1, 2)
    np.testing.assert_allclose(cloud.uv_px, expected_uv, atol=0.05)
    plane = fm.plane_depth_m()
    rows, cols = np.rint(expected_uv[:, ::-1]).astype(int).T
    pixel_depth = plane[rows, cols]
    np.testing.assert_allclose(cloud.depth_m, pixel_depth, atol=0.003)
    camera = fm.intrinsics()
    np.testing.assert_allclose(
        cloud.xyz_m, camera.back_project(cloud.uv_px, cloud.depth_m), atol=1e-5
    )
    assert np.all((cloud.score >= 0) & (cloud.score <= 1))
    assert np.all(cloud.score > 0.9)  # exact Gaussian peaks of height 1


def test_an_image_before_the_first_camera_info_waits_for_it(
    ros_context, stand_in_model: Path
) -> None:
    """Nothing orders delivery across topics: a stream's first image may reach the node before
    its CameraInfo. The frame waits up to CAMERA_INFO_GRACE_S for it instead of being dropped."""
    with node_checks.observed_harness(
        InProcessHarness, stand_in_model, ros_context, MARKER_LIFETIME_S,
        refiner_model=NO_REFINER,
    ) as running:
        image, info = fm.frame(next(_frame_counter))
        key, _ = running.publish_image(image)
        running.spin_for(CAMERA_INFO_GRACE_S / 4)  # the image reaches the worker first
        running.publish_camera_info(info)
        assert running.wait_for_keypoints(key, WAIT_S) is not None, running.node.drop_counts
        assert running.node.drop_counts == {}


def test_header_is_copied_from_the_depth_image(harness: InProcessHarness) -> None:
    image, _, _ = _run_frame(harness)
    stamp = image.header.stamp
    key = (stamp.sec, stamp.nanosec)
    assert key in harness.sink.keypoints
    assert harness.sink.keypoints[key].frame_id == image.header.frame_id


# ---------------------------------------------------------------------------- markers
def test_skeleton_markers_then_deleteall_when_hands_vanish(harness: InProcessHarness) -> None:
    image, _, result = _run_frame(harness)
    markers = node_checks.markers_for(harness, image, WAIT_S)
    by_type = {(m.ns, m.type) for m in markers if m.action == Marker.ADD}
    assert by_type == {
        ("hands/left", Marker.LINE_LIST),
        ("hands/left", Marker.SPHERE_LIST),
        ("hands/right", Marker.LINE_LIST),
        ("hands/right", Marker.SPHERE_LIST),
    }
    for marker in markers:
        assert marker.header.frame_id == fm.FRAME_ID
        lifetime_s = marker.lifetime.sec + marker.lifetime.nanosec * 1e-9
        assert lifetime_s == pytest.approx(MARKER_LIFETIME_S)
        if marker.type == Marker.SPHERE_LIST:
            assert len(marker.points) == KEYPOINTS
            left = marker.ns == "hands/left"
            xyz = result.cloud.xyz_m[:KEYPOINTS] if left else result.cloud.xyz_m[KEYPOINTS:]
            points = np.array([[p.x, p.y, p.z] for p in marker.points])
            np.testing.assert_allclose(points, xyz, atol=1e-6)
        if marker.type == Marker.LINE_LIST:
            assert len(marker.points) == 2 * len(HAND_SKELETON_EDGES)

    node = harness.node
    assert node.set_parameters([Parameter("presence_threshold", value=1.0)])[0].successful
    try:
        image, _, result = _run_frame(harness)
        assert len(result.cloud) == 0  # presence < 1.0 for both sides: nothing detected
        markers = node_checks.markers_for(harness, image, WAIT_S)
        assert sorted((m.ns, m.action) for m in markers) == [
            ("hands/left", Marker.DELETEALL),
            ("hands/right", Marker.DELETEALL),
        ]
    finally:
        assert node.set_parameters([Parameter("presence_threshold", value=0.5)])[0].successful
    _, _, result = _run_frame(harness)
    assert len(result.cloud) == 2 * KEYPOINTS


# ---------------------------------------------------------------------------- debug image
def test_debug_image_shows_skeletons_over_depth(harness: InProcessHarness) -> None:
    image, _, result = _run_frame(harness)
    size = (fm.WIDTH, fm.HEIGHT)
    picture = node_checks.debug_picture_for(harness, image, size, fm.FRAME_ID, WAIT_S)
    node_checks.assert_joints_drawn(picture, result.cloud, instances=2)
    # Away from the skeletons the picture is the depth colormap: greys, not black.
    corner = picture[-10:, -10:].reshape(-1, 3).astype(int)
    assert np.all(corner.max(axis=1) - corner.min(axis=1) < 40) and corner.mean() > 10


def test_debug_image_is_not_built_without_subscribers(ros_context, stand_in_model: Path) -> None:
    with InProcessHarness({"model": str(stand_in_model)}, context=ros_context) as quiet:
        assert quiet.wait_for_connections()
        built = []
        quiet.node.debug_image_pub.publish = built.append  # would be called if built
        image, info = fm.frame(next(_frame_counter))
        key, _ = quiet.publish_frame(image, info)
        assert quiet.wait_for_keypoints(key, WAIT_S) is not None
        assert built == []


# ---------------------------------------------------------------------------- diagnostics
def test_diagnostics_report_rate_latency_and_model(harness: InProcessHarness) -> None:
    for _ in range(5):
        _run_frame(harness)
    status, values = node_checks.latest_diagnostics(harness, WAIT_S)
    assert status.name == f"{harness.node.get_fully_qualified_name()}: hand pose"
    assert status.hardware_id == "stand_in_hand_model"
    assert values["model"] == "stand_in_hand_model"
    assert values["refiner"] == NO_REFINER
    assert int(values["frames_processed"]) >= 5
    assert 0 < float(values["processing_latency_p50_ms"]) < 1000
    for key in ("input_rate_hz", "frames_dropped", "frames_dropped_busy", "inference_p50_ms"):
        assert key in values
    if int(values["frames_dropped"]) == 0:
        assert status.level == DiagnosticStatus.OK


# ---------------------------------------------------------------------------- parameters
def test_parameters_have_descriptions_and_model_layout_is_read_only(
    harness: InProcessHarness,
) -> None:
    node_checks.assert_model_layout_parameters(
        harness.node,
        PARAMETER_SPECS,
        HAND_KEYPOINT_NAMES,
        HAND_SKELETON_EDGES,
        read_only=(("keypoint_names", ["x"]), ("skeleton", [0, 1])),
    )


# ---------------------------------------------------------------------------- accuracy
@pytest.mark.skipif(
    not shipped_model_path().exists(),
    reason=f"no shipped model yet at {shipped_model_path()} (training has not exported it)",
)
def test_shipped_model_through_the_node_matches_core_and_its_model_card(ros_context) -> None:
    """The node adds nothing and loses nothing: its clouds equal the core estimator's result on
    the same frames, and accuracy against ground truth holds to what the model's own metadata
    says it measured on held-out data (so a transport, scaling or intrinsics bug shows up as a
    gap between the two, whatever model is shipped)."""
    from hand_pose_ros.core.hand_estimator import HandEstimator
    from hand_pose_ros.core.hand_metrics import HandMetrics
    from hand_pose_ros.core.model_runtime import OnnxModel
    from hand_pose_ros.synthetic import HandSequence

    refiner = OnnxModel(shipped_model_path().with_name(SHIPPED_REFINER_NAME))
    # The pair's figures are in the refiner's metadata.
    card = refiner.metadata["metrics"][f"test_{fm.WIDTH}x{fm.HEIGHT}"]
    estimator = HandEstimator(OnnxModel(shipped_model_path()), refiner=refiner)
    metrics = HandMetrics()
    # Both stages on every frame and no smoothing, as the card's figures were measured on
    # independent frames (tracking and smoothing: below).
    parameters = {"model": "", "redetect_interval_frames": 1, "smoothing": False}
    with InProcessHarness(parameters, context=ros_context) as harness:
        assert harness.node.estimator is not None, harness.node.model_error
        assert harness.node.estimator.refiner.model.name == refiner.name  # shipped by default
        assert harness.wait_for_connections()
        for seed, encoding in ((11, "16UC1"), (12, "32FC1")):
            sequence = HandSequence(seed, width=fm.WIDTH, height=fm.HEIGHT)
            for index in range(ACCURACY_FRAMES_PER_ENCODING):
                truth = sequence.frame(index * 3)  # every third frame: more pose variety
                header = fm.header(next(_frame_counter))
                image = metres_to_depth_image(truth.depth_m, encoding, header)
                info = intrinsics_to_camera_info(truth.intrinsics, header)
                key, _ = harness.publish_frame(image, info)
                result = harness.wait_for_keypoints(key, WAIT_S)
                assert result is not None, harness.node.drop_counts
                cloud = result.cloud

                expected = estimator.estimate(depth_image_to_metres(image), truth.intrinsics)
                assert sorted(set(cloud.instance.tolist())) == [h.side for h in expected.hands]
                uv = np.full((2, KEYPOINTS, 2), np.nan)
                xyz = np.full((2, KEYPOINTS, 3), np.nan)
                for hand in expected.hands:
                    rows = np.flatnonzero(cloud.instance == hand.side)
                    np.testing.assert_allclose(
                        cloud.uv_px[rows][np.argsort(cloud.keypoint[rows])], hand.uv_px, atol=1e-3
                    )
                    uv[hand.side] = hand.uv_px
                    xyz[hand.side] = hand.xyz_m
                present = np.array([np.any(cloud.instance == side) for side in (0, 1)])
                metrics.add(uv, xyz, present, truth)
    measured = metrics.summary()
    assert measured["visible_keypoints"] > 200
    # Sequences are not the test split, so allow a margin around the card's figures.
    assert measured["median_2d_error_px"] <= 1.5 * card["median_2d_error_px"] + 1.0, measured
    assert measured["presence_accuracy"] >= card["presence_accuracy"] - 0.1, measured


def test_tracking_in_the_node_matches_the_core_tracker(ros_context) -> None:
    """On consecutive frames with 30 Hz stamps the node tracks and smooths hands exactly as the
    core estimator with the default tracking and smoothing settings does, and counts the
    frames it tracked."""
    from builtin_interfaces.msg import Time
    from std_msgs.msg import Header

    from hand_pose_ros.core.hand_estimator import DEFAULT_SMOOTHING, HandEstimator
    from hand_pose_ros.core.hand_tracking import HandTrackingSettings
    from hand_pose_ros.core.model_runtime import OnnxModel
    from hand_pose_ros.synthetic import HandSequence

    refiner = OnnxModel(shipped_model_path().with_name(SHIPPED_REFINER_NAME))
    estimator = HandEstimator(
        OnnxModel(shipped_model_path()), refiner=refiner, tracking=HandTrackingSettings(),
        smoothing=DEFAULT_SMOOTHING,
    )
    sequence = HandSequence(13, width=fm.WIDTH, height=fm.HEIGHT)
    tracked = 0
    with InProcessHarness({"model": ""}, context=ros_context) as harness:
        assert harness.wait_for_connections()
        for index in range(12):
            truth = sequence.frame(index)
            stamp_ns = index * 33_333_333
            header = Header(stamp=Time(sec=500, nanosec=stamp_ns), frame_id=fm.FRAME_ID)
            image = metres_to_depth_image(truth.depth_m, "16UC1", header)
            key, _ = harness.publish_frame(image, intrinsics_to_camera_info(truth.intrinsics,
                                                                            header))
            result = harness.wait_for_keypoints(key, WAIT_S)
            assert result is not None, harness.node.drop_counts
            expected = estimator.estimate(
                depth_image_to_metres(image), truth.intrinsics, 500 + stamp_ns * 1e-9
            )
            tracked += not expected.detected
            assert expected.hands
            assert sorted(set(result.cloud.instance.tolist())) == [h.side for h in expected.hands]
            for hand in expected.hands:
                rows = np.flatnonzero(result.cloud.instance == hand.side)
                np.testing.assert_allclose(
                    result.cloud.uv_px[rows][np.argsort(result.cloud.keypoint[rows])],
                    hand.uv_px, atol=1e-3,
                )
        assert tracked >= 6
        assert harness.node.frames_tracked == tracked


def test_an_estimator_parameter_change_keeps_the_open_models(ros_context) -> None:
    """Changing a threshold rebuilds the estimator around the sessions already open: opening
    ONNX Runtime sessions again would stall the frames meanwhile."""
    with InProcessHarness({"model": ""}, context=ros_context) as harness:
        node = harness.node
        before = node.estimator
        assert before.refiner is not None, node.model_error
        assert node.set_parameters([Parameter("presence_threshold", value=0.6)])[0].successful
        assert node.estimator is not before and node.estimator.presence_threshold == 0.6
        assert node.estimator.model is before.model
        assert node.estimator.refiner.model is before.refiner.model


def test_tracking_parameters_reach_the_tracker(ros_context) -> None:
    from hand_pose_ros.core.hand_tracking import HandTrackingSettings

    with InProcessHarness({"model": ""}, context=ros_context) as harness:
        node = harness.node
        changes = {"redetect_interval_frames": 6, "min_track_score": 0.25,
                   "max_track_gap_s": 0.5, "max_track_depth_m": 0.9}
        results = node.set_parameters([Parameter(k, value=v) for k, v in changes.items()])
        assert all(result.successful for result in results)
        assert node.estimator.tracks.settings == HandTrackingSettings(6, 0.25, 0.5, 0.9)
        refused = node.set_parameters([Parameter("max_track_depth_m", value=0.0)])[0]
        assert not refused.successful and "> 0" in refused.reason
        assert node.estimator.tracks.settings.max_depth_m == 0.9


def test_a_bare_file_name_names_a_shipped_model_and_a_path_names_a_file(tmp_path: Path) -> None:
    from hand_pose_ros.nodes.pose_node_base import configured_model_path

    shipped = shipped_model_path()
    assert configured_model_path("", shipped.name) == shipped
    assert configured_model_path("other.onnx", shipped.name) == shipped.with_name("other.onnx")
    assert configured_model_path("./other.onnx", shipped.name) == Path("other.onnx")
    assert configured_model_path(str(tmp_path / "m.onnx"), shipped.name) == tmp_path / "m.onnx"


@pytest.mark.skipif(
    not shipped_model_path().with_name("hand_slim_multitask.onnx").exists(),
    reason="the in-budget first stage is not shipped",
)
def test_the_in_budget_configuration_runs_by_shipped_file_name(ros_context) -> None:
    """README: model hand_slim_multitask.onnx with two refiner passes fits the budget."""
    from hand_pose_ros.synthetic import render_frame

    frame = render_frame(3, fm.WIDTH, fm.HEIGHT)
    parameters = {"model": "hand_slim_multitask.onnx", "refiner_passes": 2}
    with InProcessHarness(parameters, context=ros_context) as harness:
        assert harness.node.estimator is not None, harness.node.model_error
        assert harness.node.estimator.model.name == "hand_slim_multitask"
        assert harness.node.estimator.refiner_passes == 2
        assert harness.wait_for_connections()
        result = node_checks.keypoints_for(
            harness, metres_to_depth_image(frame.depth_m),
            intrinsics_to_camera_info(frame.intrinsics), wait_s=WAIT_S,
        )
    found = sorted(set(result.cloud.instance.tolist()))
    assert found == np.flatnonzero(frame.present).tolist()
    for side in found:  # refined keypoints near the labels (PCK's box-relative tolerance x 3)
        rows = np.flatnonzero(result.cloud.instance == side)
        uv = result.cloud.uv_px[rows][np.argsort(result.cloud.keypoint[rows])]
        visible = frame.visibility[side] == 2
        box_px = np.ptp(frame.keypoints_uv[side][visible], axis=0).max()
        errors = np.linalg.norm(uv[visible] - frame.keypoints_uv[side][visible], axis=1)
        assert np.median(errors) <= 0.3 * box_px
