"""What every pose node does the same way, so hand_pose_node and body_pose_node share one copy.

The policy lives here: parameters declared from a spec table (wrong types and values reported,
never fatal), the model loaded from its own metadata (a bad file leaves the node up, dropping
and reporting), frames handed to a worker thread through a one-slot mailbox (never queueing
behind the camera), every dropped frame counted by reason and logged at a throttled rate per
reason, skeleton markers with DELETEALL for vanished instances, the debug image built only while
someone subscribes, and /diagnostics. A concrete node declares its topics and parameters and
implements ``_process`` (one frame: convert, one core call, publish).
"""

from __future__ import annotations

import contextlib
import threading
import time
from abc import abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
from rcl_interfaces.msg import ParameterDescriptor, ParameterType, SetParametersResult
from rclpy.exceptions import InvalidParameterTypeException, ParameterException
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.qos import QoSProfile
from sensor_msgs.msg import CameraInfo, Image, PointCloud2
from std_msgs.msg import Header
from visualization_msgs.msg import MarkerArray

from hand_pose_ros.core.camera import Intrinsics
from hand_pose_ros.core.model_runtime import OnnxModel
from hand_pose_ros.nodes.camera_info_pairing import CameraInfoPairing
from hand_pose_ros.nodes.executors import make_executor, node_executor_kind, spin_until_shutdown
from hand_pose_ros.nodes.frame_flow import FrameStats, LatestMailbox
from hand_pose_ros.nodes.node_parameters import (
    INPUT_QOS_PARAMETERS,
    MODEL_PARAMETERS,
    ParameterSpec,
    check_spec_value,
    specs_by_name,
)
from hand_pose_ros.ros.camera_info import camera_info_to_intrinsics
from hand_pose_ros.ros.diagnostics import diagnostic_status
from hand_pose_ros.ros.errors import MessageConversionError
from hand_pose_ros.ros.image_conversions import DEPTH_ENCODINGS, depth_image_to_metres
from hand_pose_ros.ros.qos import input_qos
from hand_pose_ros.ros.skeleton_markers import delete_all_markers, skeleton_markers
from hand_pose_ros.ros.stamps import stamp_seconds

DIAGNOSTICS_TOPIC = "/diagnostics"

ASPECT_TOLERANCE = 0.01
"""Relative aspect-ratio difference below which an image of another size is scaled."""

WORKER_POLL_S = 0.5
"""How often an idle worker checks for shutdown (it is woken at once for frames)."""

CAMERA_INFO_GRACE_S = 0.1
"""Longest wait of a frame for its own CameraInfo (see `camera_info_pairing`), or for the first
one before the frame is dropped: a driver publishes both together."""

# Drop reasons every pose node can report (keys of `drop_counts`).
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
COMMON_DROP_REASONS: tuple[str, ...] = (
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
COMMON_WARNING_DROP_REASONS: frozenset[str] = frozenset(
    {DROP_BUSY, DROP_NO_CAMERA_INFO, DROP_NO_VALID_DEPTH}
)
"""Drops that are expected now and then (load peaks, start-up, a covered sensor): logged as
warnings; every other reason means something is misconfigured and is logged as an error."""


class FrameDropped(Exception):
    """A frame is not processed; ``reason`` is one of the node's drop reasons, the text why."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass
class PendingFrame:
    """What the subscription side hands the worker: the message(s) and when they arrived."""

    msg: Any
    received_s: float  # time.perf_counter() at the subscription callback


def shipped_model_path(file_name: str) -> Path:
    """A model shipped with the package (package data; the ament share folder as fallback)."""
    packaged = Path(__file__).resolve().parents[1] / "models" / file_name
    if packaged.exists():
        return packaged
    try:
        from ament_index_python.packages import get_package_share_directory

        shared = Path(get_package_share_directory("hand_pose_ros")) / "models" / file_name
        if shared.exists():
            return shared
    except Exception:  # Not installed through ament: the package-data path is the answer.
        pass
    return packaged


def configured_model_path(configured: str, shipped_name: str) -> Path:
    """The file a model parameter names: the shipped model when it is empty, another shipped
    model when it is a bare file name (``hand_slim_multitask.onnx``; ``./name.onnx`` for a
    file in the working folder), else its path (``~`` expanded)."""
    if not configured:
        return shipped_model_path(shipped_name)
    if Path(configured).name == configured:
        return shipped_model_path(configured)
    return Path(configured).expanduser()


def same_aspect(width_a: int, height_a: int, width_b: int, height_b: int) -> bool:
    """Whether two image sizes have the same aspect ratio (within ASPECT_TOLERANCE)."""
    aspect_a, aspect_b = width_a / height_a, width_b / height_b
    return abs(aspect_a - aspect_b) <= ASPECT_TOLERANCE * aspect_b


def intrinsics_for_image(intrinsics: Intrinsics, width: int, height: int) -> Intrinsics | None:
    """Intrinsics for an image of this size: as is, scaled when only the resolution differs
    (same aspect ratio), None when the aspect ratios disagree (camera info of another camera
    or a crop we cannot know)."""
    if (intrinsics.width, intrinsics.height) == (width, height):
        return intrinsics
    if not same_aspect(intrinsics.width, intrinsics.height, width, height):
        return None
    return intrinsics.scaled(width, height)


class PoseNodeBase(Node):
    """Shared plumbing of the pose nodes; subclasses set the class attributes below."""

    PARAMETER_SPECS: tuple[ParameterSpec, ...] = ()
    ESTIMATOR_PARAMETERS: frozenset[str] = frozenset()
    MODEL_TASK = ""
    MODEL_KIND = ""  # "hand", "body": used in log lines and diagnostics
    SHIPPED_MODEL_NAME = ""
    KEYPOINTS_TOPIC = ""
    DEBUG_IMAGE_TOPIC = ""
    MARKERS_TOPIC = ""
    DROP_REASONS: tuple[str, ...] = COMMON_DROP_REASONS
    WARNING_DROP_REASONS: frozenset[str] = COMMON_WARNING_DROP_REASONS
    WAITING_FOR = "images"

    def __init__(self, node_name: str, **node_kwargs: Any) -> None:
        super().__init__(node_name, **node_kwargs)
        self.stats = FrameStats()
        self._specs = specs_by_name(self.PARAMETER_SPECS)
        self._config_errors: dict[str, str] = {}
        self._last_log_s: dict[str, float] = {}
        self._suppressed_logs: dict[str, int] = {}
        self._camera_infos = CameraInfoPairing(CAMERA_INFO_GRACE_S)
        self._info_sub = None
        self._intrinsics_cache: tuple[CameraInfo, bool, Intrinsics | str] | None = None
        self._marker_instances_shown: set[int] = set()
        self._mailbox: LatestMailbox[PendingFrame] = LatestMailbox()

        self._declare_parameters()
        self.model: OnnxModel | None = None
        self.model_error: str | None = None
        self.estimator: Any = None
        self._load_model()
        self._declare_model_parameters()

        self.keypoints_pub = self.create_publisher(PointCloud2, self.KEYPOINTS_TOPIC, 10)
        self.markers_pub = self.create_publisher(MarkerArray, self.MARKERS_TOPIC, 10)
        self.debug_image_pub = self.create_publisher(Image, self.DEBUG_IMAGE_TOPIC, 1)
        self.diagnostics_pub = self.create_publisher(DiagnosticArray, DIAGNOSTICS_TOPIC, 10)
        self._create_input_subscriptions()
        self._diagnostics_timer = self.create_timer(
            self._param("diagnostics_period_s"), self._publish_diagnostics
        )
        self.add_on_set_parameters_callback(self._validate_parameter_change)
        self.add_post_set_parameters_callback(self._apply_parameter_change)

        self._worker = threading.Thread(target=self._work, name=f"{node_name}_worker", daemon=True)
        self._worker.start()
        if self.model is not None:
            self.get_logger().info(
                f"ready: model '{self.model.name}' ({self.model.path}), input "
                f"{self.model.input_width}x{self.model.input_height}{self._ready_details()}, "
                f"listening on {self._input_description()}"
            )

    # ------------------------------------------------------------------ for subclasses
    def _ready_details(self) -> str:
        """What the start-up line adds after the model (", ..."), e.g. a second model."""
        return ""

    @abstractmethod
    def _create_input_subscriptions(self) -> None:
        """(Re)create the input subscriptions with the current QoS parameters."""

    @abstractmethod
    def _make_estimator(self, model: OnnxModel) -> Any:
        """The core estimator for ``model`` with the current estimator parameters."""

    @abstractmethod
    def _process(self, pending: PendingFrame) -> None:
        """One frame: raise FrameDropped for bad input, else publish and count it."""

    def _input_description(self) -> str:
        return self._info_sub.topic_name if self._info_sub is not None else "(no inputs)"

    def _marker_namespace(self, instance_id: int) -> str:
        return f"{self.MARKERS_TOPIC.split('/')[0]}/{instance_id}"

    def _on_parameters_applied(self, names: set[str]) -> None:
        """Hook for node-specific reactions to accepted parameter changes."""

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
        for spec in self.PARAMETER_SPECS:
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
            problem = check_spec_value(self._specs, spec.name, value)
            if problem is not None:
                self._config_errors[spec.name] = problem
        for problem in self._config_errors.values():
            self.get_logger().error(f"{problem}; frames are dropped until it is fixed")

    def _param(self, name: str, fallback: Any = None) -> Any:
        """Current value, or the default (or ``fallback``) while the configured one is invalid."""
        if name in self._config_errors:
            return self._specs[name].default if fallback is None else fallback
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
                f"{self.KEYPOINTS_TOPIC} indexes this list (read-only).",
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
            problem = check_spec_value(self._specs, parameter.name, parameter.value)
            if problem is not None:
                self.get_logger().warning(f"rejected: {problem}")
                return SetParametersResult(successful=False, reason=problem)
        return SetParametersResult(successful=True)

    def _apply_parameter_change(self, parameters: list[Parameter]) -> None:
        names = {parameter.name for parameter in parameters}
        for name in names:
            if self._config_errors.pop(name, None) is not None:
                self.get_logger().info(f"parameter '{name}' fixed")
        if names & self.ESTIMATOR_PARAMETERS:
            self._build_estimator()
        if names & INPUT_QOS_PARAMETERS:
            self._create_input_subscriptions()
        if "diagnostics_period_s" in names:
            self.destroy_timer(self._diagnostics_timer)
            self._diagnostics_timer = self.create_timer(
                self.get_parameter("diagnostics_period_s").value, self._publish_diagnostics
            )
        if "publish_markers" in names and not self.get_parameter("publish_markers").value:
            self._marker_instances_shown.clear()
        self._on_parameters_applied(names)

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
        path = configured_model_path(self._param("model"), self.SHIPPED_MODEL_NAME)
        try:
            self.model = self._open_model(path, self.MODEL_TASK)
        except Exception as error:  # ModelLoadError, or anything ONNX Runtime raises.
            self.model = None
            self.model_error = f"cannot load {self.MODEL_KIND} model: {error}"
            self.get_logger().error(
                f"{self.model_error}. The node stays up and drops every frame "
                f"('{DROP_NO_MODEL}') until restarted with a valid 'model' parameter."
            )
            return
        self._build_estimator()

    def _open_model(self, path: Path, expected_task: str) -> OnnxModel:
        """An ONNX model of ``expected_task`` on the node's providers and threads."""
        return OnnxModel(
            path,
            providers=list(self._param("providers")),
            intra_op_threads=int(self._param("intra_op_threads")),
            expected_task=expected_task,
        )

    def _build_estimator(self) -> None:
        if self.model is None:
            return
        try:
            self.estimator = self._make_estimator(self.model)
        except Exception as error:
            self.estimator = None
            self.model_error = f"cannot use model {self.model.path}: {error}"
            self.get_logger().error(self.model_error)

    def _ready_estimator(self) -> Any:
        if self.estimator is None:
            raise FrameDropped(DROP_NO_MODEL, self.model_error or "no model loaded")
        if self._config_errors:
            raise FrameDropped(DROP_BAD_PARAMETER, "; ".join(self._config_errors.values()))
        return self.estimator

    # ------------------------------------------------------------------ inputs
    def _input_qos_profiles(self) -> tuple[QoSProfile, QoSProfile]:
        """(image QoS, camera-info QoS) from the input parameters; sensor data if invalid."""
        try:
            qos = input_qos(
                str(self._param("input_reliability")), int(self._param("input_queue_depth"))
            )
        except ValueError as error:  # Already reported as a config error; keep a working QoS.
            self.get_logger().error(f"input QoS: {error}; using the sensor-data default")
            qos = input_qos()
        info_qos = QoSProfile(history=qos.history, depth=qos.depth, reliability=qos.reliability)
        return qos, info_qos

    def _on_camera_info(self, msg: CameraInfo) -> None:
        self._camera_infos.add(msg, stamp_seconds(msg.header))

    def _enqueue(self, msg: Any, received_s: float | None = None) -> None:
        """Hand a frame to the worker; a frame still waiting there is the one dropped."""
        displaced = self._mailbox.put(
            PendingFrame(msg, time.perf_counter() if received_s is None else received_s)
        )
        if displaced is not None:
            self._drop(
                DROP_BUSY,
                "processing is slower than the input: dropped the oldest waiting frame "
                "(the node never queues behind the camera)",
            )

    def _current_intrinsics(self, header: Header) -> Intrinsics:
        """Intrinsics from the image's CameraInfo (cached per message); FrameDropped if none.

        Runs on the worker: waiting for the CameraInfo blocks no callback."""
        info = self._camera_infos.for_image(stamp_seconds(header))
        topic = self._info_sub.topic_name if self._info_sub is not None else "camera_info"
        if info is None:
            raise FrameDropped(
                DROP_NO_CAMERA_INFO,
                f"no CameraInfo received on '{topic}' yet: keypoints cannot be back-projected "
                "without intrinsics",
            )
        use_projection = bool(self._param("use_projection_matrix"))
        cached = self._intrinsics_cache
        if cached is None or cached[0] is not info or cached[1] != use_projection:
            try:
                result: Intrinsics | str = camera_info_to_intrinsics(info, use_projection)
            except MessageConversionError as error:
                result = f"unusable CameraInfo on '{topic}': {error}"
            except Exception as error:  # Malformed arrays (e.g. K of the wrong length).
                result = f"malformed CameraInfo on '{topic}': {type(error).__name__}: {error}"
            cached = (info, use_projection, result)
            self._intrinsics_cache = cached
        if isinstance(cached[2], str):
            raise FrameDropped(DROP_BAD_CAMERA_INFO, cached[2])
        return cached[2]

    def _depth_metres(self, msg: Image) -> np.ndarray:
        """Depth image -> float32 metres (NaN invalid); FrameDropped for unusable images."""
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

    def _handle(self, pending: PendingFrame) -> None:
        try:
            self._process(pending)
        except FrameDropped as dropped:
            self._drop(dropped.reason, str(dropped))
        except Exception as error:  # A frame must never take the node down.
            if self._mailbox.closed or not self.context.ok():
                return
            self._drop(DROP_PROCESSING_ERROR, f"{type(error).__name__}: {error}")

    # ------------------------------------------------------------------ outputs
    def _debug_image_wanted(self) -> bool:
        """Debug images cost a drawing pass per frame: build them only for a subscriber."""
        return self.debug_image_pub.get_subscription_count() > 0

    def _publish_markers(
        self,
        header: Header,
        instances: Sequence[tuple[int, np.ndarray]],
        edges: Sequence[Sequence[int]],
    ) -> None:
        """Per instance its own namespace, so a DELETEALL removes exactly what vanished.

        ``instances``: (instance id, (K, 3) xyz metres, NaN where no depth).
        """
        if not self._param("publish_markers") or self.markers_pub.get_subscription_count() < 1:
            return
        markers = MarkerArray()
        lifetime_s = float(self._param("marker_lifetime_s"))
        shown = {
            int(instance)
            for instance, xyz in instances
            if np.isfinite(np.asarray(xyz)).all(axis=1).any()
        }
        for instance in sorted(self._marker_instances_shown - shown):
            markers.markers.extend(
                delete_all_markers(header, self._marker_namespace(instance)).markers
            )
        for instance, xyz in instances:
            if int(instance) in shown:
                markers.markers.extend(
                    skeleton_markers(
                        header,
                        [(int(instance), xyz)],
                        edges,
                        self._marker_namespace(int(instance)),
                        lifetime_s,
                    ).markers
                )
        self._marker_instances_shown = shown
        self.markers_pub.publish(markers)

    # ------------------------------------------------------------------ diagnostics and logs
    def _drop(self, reason: str, message: str) -> None:
        self.stats.count_drop(reason)
        level = "warn" if reason in self.WARNING_DROP_REASONS else "error"
        self._log_throttled(reason, f"dropped frame ({reason}): {message}", level)

    def _log_throttled(self, key: str, message: str, level: str = "error") -> None:
        """At most one line per key every log_throttle_s, counting the ones held back.

        rclpy's throttle_duration_sec is keyed by call site, which would let one busy reason
        hide every other; this keeps one throttle per reason with the same period.
        """
        now = time.monotonic()
        throttle_s = float(self._param("log_throttle_s"))
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

    def _extra_diagnostic_values(self) -> dict[str, str | float | int]:
        """Node-specific diagnostic values appended after the common ones."""
        return {}

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
            summary = f"waiting for {self.WAITING_FOR}"
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
        for reason in self.DROP_REASONS:
            values[f"frames_dropped_{reason}"] = snapshot.total_dropped.get(reason, 0)
        values.update(self._extra_diagnostic_values())
        status = diagnostic_status(
            name=f"{self.get_fully_qualified_name()}: {self.MODEL_KIND} pose",
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


def spin_node(factory: Callable[[], Node], args: Sequence[str] | None = None) -> None:
    """Console entry point body: init, spin until Ctrl-C or shutdown, clean up."""
    import rclpy
    from rclpy.executors import ExternalShutdownException

    rclpy.init(args=args)
    node = None
    try:  # A signal may arrive while the node is still being built (models loading).
        node = factory()
        kind, problem = node_executor_kind()
        if problem is not None:
            node.get_logger().error(problem)
        executor = make_executor(node.context, kind)
        node.get_logger().info(f"spinning with rclpy's {type(executor).__name__}")
        executor.add_node(node)
        spin_until_shutdown(executor, node.context)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        if node is not None:
            node.destroy_node()
        rclpy.try_shutdown()
