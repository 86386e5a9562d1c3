"""hand_pose_node: 2.5D hand keypoints from an egocentric depth stream.

Thin by design: a frame is converted by the ros layer, estimated by one core call
(HandEstimator.estimate) and published by the ros layer. What lives here is the node's policy:
which frames to drop and why (every drop is counted by reason and logged at a throttled rate),
and never queueing behind the camera (a one-slot mailbox drained by a worker thread).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import rclpy
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
from rcl_interfaces.msg import ParameterDescriptor, ParameterType, SetParametersResult
from rclpy.exceptions import InvalidParameterTypeException, ParameterException
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.qos import QoSProfile
from sensor_msgs.msg import CameraInfo, Image, PointCloud2
from std_msgs.msg import Header
from visualization_msgs.msg import MarkerArray

from hand_pose_ros.core.camera import Intrinsics
from hand_pose_ros.core.depth_sampling import DEFAULT_FOREGROUND_BAND_M, DEFAULT_WINDOW_PX
from hand_pose_ros.core.drawing import depth_to_rgb, draw_hands
from hand_pose_ros.core.hand_estimator import (
    DEFAULT_PRESENCE_THRESHOLD,
    HandEstimate,
    HandEstimator,
)
from hand_pose_ros.core.model_metadata import HAND_POSE_TASK
from hand_pose_ros.core.model_runtime import OnnxModel
from hand_pose_ros.nodes.frame_flow import FrameStats, LatestMailbox
from hand_pose_ros.nodes.hand_pose_parameters import (
    ESTIMATOR_PARAMETERS,
    INPUT_QOS_PARAMETERS,
    MODEL_PARAMETERS,
    PARAMETER_SPECS,
    SHIPPED_MODEL_NAME,
    check_value,
)
from hand_pose_ros.ros.camera_info import camera_info_to_intrinsics
from hand_pose_ros.ros.diagnostics import diagnostic_status
from hand_pose_ros.ros.errors import MessageConversionError
from hand_pose_ros.ros.image_conversions import (
    DEPTH_ENCODINGS,
    depth_image_to_metres,
    numpy_to_image,
)
from hand_pose_ros.ros.keypoint_cloud import encode_keypoint_cloud
from hand_pose_ros.ros.qos import input_qos
from hand_pose_ros.ros.skeleton_markers import delete_all_markers, skeleton_markers

NODE_NAME = "hand_pose_node"
DEPTH_TOPIC = "depth/image"
CAMERA_INFO_TOPIC = "depth/camera_info"
KEYPOINTS_TOPIC = "hands/keypoints"
MARKERS_TOPIC = "hands/markers"
DEBUG_IMAGE_TOPIC = "hands/debug_image"
DIAGNOSTICS_TOPIC = "/diagnostics"
MARKER_NAMESPACE_PREFIX = "hands"

ASPECT_TOLERANCE = 0.01
"""Relative aspect-ratio difference below which a CameraInfo of another size is scaled."""

WORKER_POLL_S = 0.5
"""How often an idle worker checks for shutdown (it is woken at once for frames)."""

# Drop reasons (keys of `HandPoseNode.drop_counts`).
DROP_BUSY = "busy"
DROP_NO_MODEL = "no_model"
DROP_BAD_PARAMETER = "bad_parameter"
DROP_NO_CAMERA_INFO = "no_camera_info"
DROP_BAD_CAMERA_INFO = "bad_camera_info"
DROP_BAD_ENCODING = "bad_encoding"
DROP_MALFORMED = "malformed"
DROP_NO_VALID_DEPTH = "no_valid_depth"
DROP_SIZE_MISMATCH = "size_mismatch"
DROP_PROCESSING_ERROR = "processing_error"
DROP_REASONS: tuple[str, ...] = (
    DROP_BUSY,
    DROP_NO_MODEL,
    DROP_BAD_PARAMETER,
    DROP_NO_CAMERA_INFO,
    DROP_BAD_CAMERA_INFO,
    DROP_BAD_ENCODING,
    DROP_MALFORMED,
    DROP_NO_VALID_DEPTH,
    DROP_SIZE_MISMATCH,
    DROP_PROCESSING_ERROR,
)
WARNING_DROP_REASONS: frozenset[str] = frozenset(
    {DROP_BUSY, DROP_NO_CAMERA_INFO, DROP_NO_VALID_DEPTH}
)
"""Drops that are expected now and then (load peaks, start-up, a covered sensor): logged as
warnings; every other reason means something is misconfigured and is logged as an error."""


class FrameDropped(Exception):
    """A frame is not processed; ``reason`` is one of DROP_REASONS, the text says why."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass
class _PendingFrame:
    msg: Image
    received_s: float  # time.perf_counter() at the subscription callback


def shipped_model_path() -> Path:
    """The model shipped with the package (package data; the ament share folder as fallback)."""
    packaged = Path(__file__).resolve().parents[1] / "models" / SHIPPED_MODEL_NAME
    if packaged.exists():
        return packaged
    try:
        from ament_index_python.packages import get_package_share_directory

        shared = Path(get_package_share_directory("hand_pose_ros")) / "models" / SHIPPED_MODEL_NAME
        if shared.exists():
            return shared
    except Exception:  # Not installed through ament: the package-data path is the answer.
        pass
    return packaged


def intrinsics_for_image(intrinsics: Intrinsics, width: int, height: int) -> Intrinsics | None:
    """Intrinsics for an image of this size: as is, scaled when only the resolution differs
    (same aspect ratio), None when the aspect ratios disagree (camera info of another camera
    or a crop we cannot know)."""
    if (intrinsics.width, intrinsics.height) == (width, height):
        return intrinsics
    info_aspect = intrinsics.width / intrinsics.height
    image_aspect = width / height
    if abs(info_aspect - image_aspect) > ASPECT_TOLERANCE * image_aspect:
        return None
    return intrinsics.scaled(width, height)


class HandPoseNode(Node):
    """Subscribes depth/image + depth/camera_info; publishes hands/keypoints, hands/markers,
    hands/debug_image and /diagnostics. See the spec for parameters."""

    def __init__(self, node_name: str = NODE_NAME, **node_kwargs: Any) -> None:
        super().__init__(node_name, **node_kwargs)
        self.stats = FrameStats()
        self._config_errors: dict[str, str] = {}
        self._last_log_s: dict[str, float] = {}
        self._suppressed_logs: dict[str, int] = {}
        self._camera_info: CameraInfo | None = None
        self._intrinsics_cache: tuple[CameraInfo, bool, Intrinsics | str] | None = None
        self._marker_sides_shown: set[int] = set()
        self._mailbox: LatestMailbox[_PendingFrame] = LatestMailbox()

        self._declare_parameters()
        self.model: OnnxModel | None = None
        self.model_error: str | None = None
        self.estimator: HandEstimator | None = None
        self._load_model()
        self._declare_model_parameters()

        self.keypoints_pub = self.create_publisher(PointCloud2, KEYPOINTS_TOPIC, 10)
        self.markers_pub = self.create_publisher(MarkerArray, MARKERS_TOPIC, 10)
        self.debug_image_pub = self.create_publisher(Image, DEBUG_IMAGE_TOPIC, 1)
        self.diagnostics_pub = self.create_publisher(DiagnosticArray, DIAGNOSTICS_TOPIC, 10)
        self._image_sub = None
        self._info_sub = None
        self._create_input_subscriptions()
        self._diagnostics_timer = self.create_timer(
            self._param("diagnostics_period_s", 1.0), self._publish_diagnostics
        )
        self.add_on_set_parameters_callback(self._validate_parameter_change)
        self.add_post_set_parameters_callback(self._apply_parameter_change)

        self._worker = threading.Thread(target=self._work, name=f"{node_name}_worker", daemon=True)
        self._worker.start()
        if self.model is not None:
            self.get_logger().info(
                f"ready: model '{self.model.name}' ({self.model.path}), input "
                f"{self.model.input_width}x{self.model.input_height}, listening on "
                f"{self._image_sub.topic_name}"
            )

    # ------------------------------------------------------------------ public state for tests
    @property
    def drop_counts(self) -> dict[str, int]:
        """Frames dropped so far, by reason (only reasons that happened)."""
        return self.stats.drop_counts()

    @property
    def frames_processed(self) -> int:
        return self.stats.processed

    @property
    def frames_received(self) -> int:
        return self.stats.received

    @property
    def config_errors(self) -> dict[str, str]:
        return dict(self._config_errors)

    def destroy_node(self) -> None:
        """Stop the worker before the publishers it uses go away."""
        self._mailbox.close()
        if self._worker.is_alive() and threading.current_thread() is not self._worker:
            self._worker.join(timeout=5.0)
        super().destroy_node()

    # ------------------------------------------------------------------ parameters
    def _declare_parameters(self) -> None:
        """Declare every parameter; a wrongly typed override is reported, never fatal."""
        for spec in PARAMETER_SPECS:
            descriptor = ParameterDescriptor(description=spec.description, read_only=spec.read_only)
            try:
                value = self.declare_parameter(spec.name, spec.default, descriptor).value
            except (InvalidParameterTypeException, ParameterException) as error:
                self.declare_parameter(spec.name, spec.default, descriptor, ignore_override=True)
                self._config_errors[spec.name] = (
                    f"parameter '{spec.name}' has the wrong type ({error}); expected a value "
                    f"like {spec.default!r}"
                )
                continue
            problem = check_value(spec.name, value)
            if problem is not None:
                self._config_errors[spec.name] = problem
        for problem in self._config_errors.values():
            self.get_logger().error(f"{problem}; frames are dropped until it is fixed")

    def _param(self, name: str, fallback: Any) -> Any:
        """Current value, or the default while the configured one is invalid."""
        if name in self._config_errors:
            return fallback
        return self.get_parameter(name).value

    def _declare_model_parameters(self) -> None:
        """Read-only keypoint_names and skeleton, taken from the model's own metadata."""
        names: list[str] = []
        flat_edges: list[int] = []
        if self.model is not None:
            names = list(self.model.metadata["keypoint_names"])
            flat_edges = [int(i) for edge in self.model.metadata["skeleton"] for i in edge]
        self.declare_parameter(
            "keypoint_names",
            names,
            ParameterDescriptor(
                description="Keypoint names from the model metadata; 'keypoint' in "
                "hands/keypoints indexes this list (read-only).",
                read_only=True,
                type=ParameterType.PARAMETER_STRING_ARRAY,
            ),
            ignore_override=True,
        )
        self.declare_parameter(
            "skeleton",
            flat_edges,
            ParameterDescriptor(
                description="Skeleton edges from the model metadata as flat index pairs "
                "[a0, b0, a1, b1, ...] into keypoint_names (read-only).",
                read_only=True,
                type=ParameterType.PARAMETER_INTEGER_ARRAY,
            ),
            ignore_override=True,
        )

    def _validate_parameter_change(self, parameters: list[Parameter]) -> SetParametersResult:
        for parameter in parameters:
            problem = check_value(parameter.name, parameter.value)
            if problem is not None:
                self.get_logger().warning(f"rejected: {problem}")
                return SetParametersResult(successful=False, reason=problem)
        return SetParametersResult(successful=True)

    def _apply_parameter_change(self, parameters: list[Parameter]) -> None:
        names = {parameter.name for parameter in parameters}
        for name in names:
            if self._config_errors.pop(name, None) is not None:
                self.get_logger().info(f"parameter '{name}' fixed")
        if names & ESTIMATOR_PARAMETERS:
            self._build_estimator()
        if names & INPUT_QOS_PARAMETERS:
            self._create_input_subscriptions()
        if "diagnostics_period_s" in names:
            self.destroy_timer(self._diagnostics_timer)
            self._diagnostics_timer = self.create_timer(
                self.get_parameter("diagnostics_period_s").value, self._publish_diagnostics
            )
        if "publish_markers" in names and not self.get_parameter("publish_markers").value:
            self._marker_sides_shown.clear()

    # ------------------------------------------------------------------ model
    def _load_model(self) -> None:
        """Load the model; a failure leaves the node up, reporting ERROR and dropping frames."""
        invalid = sorted(MODEL_PARAMETERS & self._config_errors.keys())
        if invalid:
            self.model_error = "model parameters are invalid: " + "; ".join(
                self._config_errors[name] for name in invalid
            )
            self.get_logger().error(self.model_error)
            return
        configured = self.get_parameter("model").value
        path = Path(configured).expanduser() if configured else shipped_model_path()
        try:
            self.model = OnnxModel(
                path,
                providers=list(self.get_parameter("providers").value),
                intra_op_threads=int(self.get_parameter("intra_op_threads").value),
                expected_task=HAND_POSE_TASK,
            )
        except Exception as error:  # ModelLoadError, or anything ONNX Runtime raises.
            self.model = None
            self.model_error = f"cannot load hand model: {error}"
            self.get_logger().error(
                f"{self.model_error}. The node stays up and drops every frame "
                f"('{DROP_NO_MODEL}') until restarted with a valid 'model' parameter."
            )
            return
        self._build_estimator()

    def _build_estimator(self) -> None:
        if self.model is None:
            return
        try:
            self.estimator = HandEstimator(
                self.model,
                presence_threshold=float(
                    self._param("presence_threshold", DEFAULT_PRESENCE_THRESHOLD)),
                depth_window_px=int(self._param("depth_window_px", DEFAULT_WINDOW_PX)),
                foreground_band_m=float(
                    self._param("foreground_band_m", DEFAULT_FOREGROUND_BAND_M)),
            )
        except Exception as error:
            self.estimator = None
            self.model_error = f"cannot use model {self.model.path}: {error}"
            self.get_logger().error(self.model_error)

    # ------------------------------------------------------------------ subscriptions
    def _create_input_subscriptions(self) -> None:
        try:
            qos = input_qos(
                str(self._param("input_reliability", "best_effort")),
                int(self._param("input_queue_depth", 1)),
            )
        except ValueError as error:  # Already reported as a config error; keep a working QoS.
            self.get_logger().error(f"input QoS: {error}; using the sensor-data default")
            qos = input_qos()
        for subscription in (self._image_sub, self._info_sub):
            if subscription is not None:
                self.destroy_subscription(subscription)
        # Camera info first: the executor serves ready subscriptions in creation order, so a
        # driver's CameraInfo published just before its image is stored before the image is
        # handed to the worker (the first frame is not dropped for want of intrinsics).
        info_qos = QoSProfile(history=qos.history, depth=qos.depth, reliability=qos.reliability)
        self._info_sub = self.create_subscription(
            CameraInfo, CAMERA_INFO_TOPIC, self._on_camera_info, info_qos
        )
        self._image_sub = self.create_subscription(Image, DEPTH_TOPIC, self._on_image, qos)

    def _on_camera_info(self, msg: CameraInfo) -> None:
        self._camera_info = msg

    def _on_image(self, msg: Image) -> None:
        """Hand the frame to the worker; a frame still waiting there is the one dropped."""
        self.stats.count_received()
        displaced = self._mailbox.put(_PendingFrame(msg, time.perf_counter()))
        if displaced is not None:
            self._drop(
                DROP_BUSY,
                "processing is slower than the input: dropped the oldest waiting frame "
                "(the node never queues behind the camera)",
            )

    # ------------------------------------------------------------------ worker
    def _work(self) -> None:
        while not self._mailbox.closed and self.context.ok():
            pending = self._mailbox.take(WORKER_POLL_S)
            if pending is None:
                continue
            try:
                self._handle(pending)
            except Exception as error:  # Last resort: the worker thread must survive.
                if self._mailbox.closed or not self.context.ok():
                    return
                self.stats.count_drop(DROP_PROCESSING_ERROR)
                with contextlib.suppress(Exception):
                    self.get_logger().error(
                        f"dropped frame ({DROP_PROCESSING_ERROR}): {type(error).__name__}: {error}"
                    )

    def _handle(self, pending: _PendingFrame) -> None:
        try:
            self._process(pending)
        except FrameDropped as dropped:
            self._drop(dropped.reason, str(dropped))
        except Exception as error:  # A frame must never take the node down.
            if self._mailbox.closed or not self.context.ok():
                return
            self._drop(DROP_PROCESSING_ERROR, f"{type(error).__name__}: {error}")

    def _process(self, pending: _PendingFrame) -> None:
        msg = pending.msg
        estimator = self._ready_estimator()
        intrinsics_source = self._current_intrinsics()
        depth_m = self._depth_metres(msg)
        height, width = depth_m.shape
        intrinsics = intrinsics_for_image(intrinsics_source, width, height)
        if intrinsics is None:
            raise FrameDropped(
                DROP_SIZE_MISMATCH,
                f"depth image is {width}x{height} but CameraInfo describes "
                f"{intrinsics_source.width}x{intrinsics_source.height} with another aspect "
                "ratio: cannot scale the intrinsics (is the camera info from another stream?)",
            )
        estimate = estimator.estimate(depth_m, intrinsics)
        self._publish_outputs(msg.header, depth_m, estimate, estimator)
        latency_s = time.perf_counter() - pending.received_s
        self.stats.count_processed(latency_s, estimate.inference_s)

    def _ready_estimator(self) -> HandEstimator:
        if self.estimator is None:
            raise FrameDropped(DROP_NO_MODEL, self.model_error or "no model loaded")
        if self._config_errors:
            raise FrameDropped(DROP_BAD_PARAMETER, "; ".join(self._config_errors.values()))
        return self.estimator

    def _current_intrinsics(self) -> Intrinsics:
        info = self._camera_info
        if info is None:
            raise FrameDropped(
                DROP_NO_CAMERA_INFO,
                f"no CameraInfo received on '{self._info_sub.topic_name}' yet: keypoints "
                "cannot be back-projected without intrinsics",
            )
        use_projection = bool(self.get_parameter("use_projection_matrix").value)
        cached = self._intrinsics_cache
        if cached is None or cached[0] is not info or cached[1] != use_projection:
            try:
                result: Intrinsics | str = camera_info_to_intrinsics(info, use_projection)
            except MessageConversionError as error:
                result = f"unusable CameraInfo on '{self._info_sub.topic_name}': {error}"
            except Exception as error:  # Malformed arrays (e.g. K of the wrong length).
                result = (
                    f"malformed CameraInfo on '{self._info_sub.topic_name}': "
                    f"{type(error).__name__}: {error}"
                )
            cached = (info, use_projection, result)
            self._intrinsics_cache = cached
        if isinstance(cached[2], str):
            raise FrameDropped(DROP_BAD_CAMERA_INFO, cached[2])
        return cached[2]

    def _depth_metres(self, msg: Image) -> np.ndarray:
        if msg.encoding not in DEPTH_ENCODINGS:
            raise FrameDropped(
                DROP_BAD_ENCODING,
                f"depth image encoding '{msg.encoding}' is not supported; expected 16UC1 "
                "(millimetres, 0 invalid) or 32FC1 (metres, NaN invalid)",
            )
        try:
            depth_m = depth_image_to_metres(msg)
        except MessageConversionError as error:
            raise FrameDropped(DROP_MALFORMED, f"malformed depth image: {error}") from error
        if not np.isfinite(depth_m).any():
            raise FrameDropped(
                DROP_NO_VALID_DEPTH,
                f"depth image ({msg.width}x{msg.height} {msg.encoding}) has no valid pixel "
                "(all zero / NaN): is the sensor covered or still starting?",
            )
        return depth_m

    # ------------------------------------------------------------------ outputs
    def _publish_outputs(
        self, header: Header, depth_m: np.ndarray, estimate: HandEstimate, estimator: HandEstimator
    ) -> None:
        hands = sorted(estimate.hands, key=lambda hand: hand.side)
        self.keypoints_pub.publish(_keypoint_cloud(header, hands))
        if self.get_parameter("publish_markers").value and (
            self.markers_pub.get_subscription_count() > 0
        ):
            self.markers_pub.publish(self._markers(header, hands, estimator.skeleton))
        if self.debug_image_pub.get_subscription_count() > 0:
            picture = depth_to_rgb(depth_m)
            draw_hands(picture, [(hand.side, hand.uv_px) for hand in hands], estimator.skeleton)
            self.debug_image_pub.publish(numpy_to_image(picture, "rgb8", header))

    def _markers(self, header: Header, hands: Sequence[Any], edges: Sequence) -> MarkerArray:
        """Per side its own namespace, so a DELETEALL removes exactly the side that vanished."""
        markers = MarkerArray()
        lifetime_s = float(self._param("marker_lifetime_s", 0.2))
        shown = {hand.side for hand in hands if np.isfinite(hand.xyz_m).all(axis=1).any()}
        for side in sorted(self._marker_sides_shown - shown):
            markers.markers.extend(delete_all_markers(header, self._marker_namespace(side)).markers)
        for hand in hands:
            if hand.side in shown:
                markers.markers.extend(
                    skeleton_markers(
                        header,
                        [(hand.side, hand.xyz_m)],
                        edges,
                        self._marker_namespace(hand.side),
                        lifetime_s,
                    ).markers
                )
        self._marker_sides_shown = shown
        return markers

    def _marker_namespace(self, side: int) -> str:
        sides = self.model.metadata["sides"] if self.model is not None else []
        label = sides[side] if 0 <= side < len(sides) else str(side)
        return f"{MARKER_NAMESPACE_PREFIX}/{label}"

    # ------------------------------------------------------------------ diagnostics and logs
    def _drop(self, reason: str, message: str) -> None:
        self.stats.count_drop(reason)
        level = "warn" if reason in WARNING_DROP_REASONS else "error"
        self._log_throttled(reason, f"dropped frame ({reason}): {message}", level)

    def _log_throttled(self, key: str, message: str, level: str = "error") -> None:
        """At most one line per key every log_throttle_s, counting the ones held back.

        rclpy's throttle_duration_sec is keyed by call site, which would let one busy reason
        hide every other; this keeps one throttle per reason with the same period.
        """
        now = time.monotonic()
        throttle_s = float(self._param("log_throttle_s", 5.0))
        last = self._last_log_s.get(key)
        if last is not None and now - last < throttle_s:
            self._suppressed_logs[key] = self._suppressed_logs.get(key, 0) + 1
            return
        self._last_log_s[key] = now
        held_back = self._suppressed_logs.pop(key, 0)
        if held_back:
            message += f" ({held_back} more like this in the last {now - last:.1f} s)"
        # Two call sites on purpose: rclpy keys a logging call site to one severity.
        if level == "warn":
            self.get_logger().warning(message)
        else:
            self.get_logger().error(message)

    def _publish_diagnostics(self) -> None:
        snapshot = self.stats.snapshot()
        model_name = self.model.name if self.model is not None else "none"
        level, summary = DiagnosticStatus.OK, "ok"
        if snapshot.dropped:
            level = DiagnosticStatus.WARN
            summary = "dropped frames: " + ", ".join(
                f"{reason} {count}" for reason, count in sorted(snapshot.dropped.items())
            )
        elif snapshot.received == 0:
            summary = "waiting for depth images"
        if self.estimator is None or self._config_errors:
            level = DiagnosticStatus.ERROR
            summary = self.model_error or "; ".join(self._config_errors.values())
        values: dict[str, str | float | int] = {
            "model": model_name,
            "model_path": str(self.model.path) if self.model is not None else "",
            "input_rate_hz": round(snapshot.input_rate_hz, 2),
            "processing_latency_p50_ms": round(snapshot.latency_p50_s * 1e3, 3),
            "processing_latency_p90_ms": round(snapshot.latency_p90_s * 1e3, 3),
            "inference_p50_ms": round(snapshot.inference_p50_s * 1e3, 3),
            "frames_received": snapshot.total_received,
            "frames_processed": snapshot.total_processed,
            "frames_dropped": sum(snapshot.total_dropped.values()),
        }
        for reason in DROP_REASONS:
            values[f"frames_dropped_{reason}"] = snapshot.total_dropped.get(reason, 0)
        status = diagnostic_status(
            name=f"{self.get_fully_qualified_name()}: hand pose",
            hardware_id=model_name,
            level=level,
            message=summary,
            values=values,
        )
        array = DiagnosticArray()
        array.header.stamp = self.get_clock().now().to_msg()
        array.status = [status]
        try:
            self.diagnostics_pub.publish(array)
        except Exception as error:  # Shutting down: nothing to report to.
            self._log_throttled("diagnostics", f"cannot publish diagnostics: {error}")


def _keypoint_cloud(header: Header, hands: Sequence[Any]) -> PointCloud2:
    """All keypoints of every detected hand, instance = side (0 left, 1 right)."""
    if not hands:
        empty = np.zeros((0,), dtype=np.float32)
        return encode_keypoint_cloud(
            header,
            np.zeros((0, 3), np.float32),
            np.zeros((0, 2), np.float32),
            empty,
            empty,
            np.zeros((0,), np.uint16),
            np.zeros((0,), np.uint32),
        )
    keypoint_count = len(hands[0].uv_px)
    return encode_keypoint_cloud(
        header,
        np.concatenate([hand.xyz_m for hand in hands]),
        np.concatenate([hand.uv_px for hand in hands]),
        np.concatenate([hand.depth_m for hand in hands]),
        np.concatenate([hand.score for hand in hands]),
        np.tile(np.arange(keypoint_count, dtype=np.uint16), len(hands)),
        np.repeat(np.array([hand.side for hand in hands], dtype=np.uint32), keypoint_count),
    )


def main(args: Sequence[str] | None = None) -> None:
    """Console entry point: ros2 run hand_pose_ros hand_pose_node."""
    rclpy.init(args=args)
    node = HandPoseNode()
    try:
        rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        node.destroy_node()
        rclpy.try_shutdown()


if __name__ == "__main__":
    main()
