"""A real pose node, a source publisher and a recording sink in one process over real DDS.

Shared by the runner, the latency benches and the end-to-end tests, so all of them measure the
same thing. Each harness has its own rclpy Context, a domain id derived from the process id and
a unique namespace, so parallel runs on one machine do not see each other's frames.
``InProcessHarness`` drives hand_pose_node (depth in), ``RgbdHarness`` drives body_pose_node
(colour + registered depth in), ``VideoHarness`` drives video_pose_node (the same inputs).
"""

from __future__ import annotations

import contextlib
import importlib
import itertools
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from types import ModuleType
from typing import Any

import numpy as np
import rclpy
from rclpy.context import Context
from rclpy.executors import Executor
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.qos import QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import CameraInfo, Image

from hand_pose_ros.nodes.executors import DEFAULT_EXECUTOR_KIND, make_executor
from hand_pose_ros.runner.sink import ReceivedKeypoints, RecordingSink, StampKey, stamp_key

DISCOVERY_TIMEOUT_S = 10.0
_DOMAIN_ID_RANGE = 200  # FastDDS accepts 0..232; stay clear of the top.
_instance_counter = itertools.count()


SPIN_STEP_S = 0.05
"""Longest single executor wait while spinning for a duration or a condition."""


def spin_until(executor: Executor, done: Callable[[], bool], timeout_s: float) -> bool:
    """Spin ``executor`` until ``done()`` or the timeout; returns done()."""
    deadline = time.perf_counter() + timeout_s
    while not done():
        remaining = deadline - time.perf_counter()
        if remaining <= 0:
            return done()
        executor.spin_once(timeout_sec=min(remaining, SPIN_STEP_S))
    return True


def spin_for(executor: Executor, duration_s: float) -> None:
    """Spin ``executor`` for ``duration_s``, handling whatever arrives meanwhile."""
    deadline = time.perf_counter() + duration_s
    while (remaining := deadline - time.perf_counter()) > 0:
        executor.spin_once(timeout_sec=min(remaining, SPIN_STEP_S))


def isolated_domain_id() -> int:
    """A domain id per process: away from 0 (the user's real ROS graph) and from neighbours."""
    return 10 + os.getpid() % _DOMAIN_ID_RANGE


class _HarnessBase:
    """Context, node under test, source node, sink and executor; subclasses name the node
    (its module and class: topics are read from the module) and add the input publishers."""

    _NODE_MODULE: str  # e.g. "hand_pose_ros.nodes.hand_pose_node"
    _NODE_CLASS: str

    def __init__(
        self,
        node_parameters: dict[str, Any] | None = None,
        subscribe_markers: bool = False,
        subscribe_debug_image: bool = False,
        input_reliable: bool = False,
        domain_id: int | None = None,
        context: Context | None = None,
        executor: str = DEFAULT_EXECUTOR_KIND,
    ) -> None:
        """``node_parameters`` become the node's parameter overrides (as a launch file or YAML
        would set them). ``context``: an initialised rclpy Context to share (e.g. one per test
        module); by default the harness creates and shuts down its own. ``executor``: one of
        `nodes.executors.EXECUTOR_KINDS`, the deployed default unless a bench compares them."""
        nodes = self._nodes_module()
        self.node_parameters = dict(node_parameters or {})
        self.namespace = f"/hand_pose_run_{os.getpid()}_{next(_instance_counter)}"
        self._owns_context = context is None
        if context is None:
            context = Context()
            rclpy.init(
                context=context,
                domain_id=isolated_domain_id() if domain_id is None else domain_id,
            )
        self.context = context
        try:
            overrides = [
                Parameter(name, value=value) for name, value in self.node_parameters.items()
            ]
            node_factory: Callable[..., Node] = getattr(nodes, self._NODE_CLASS)
            self.node = node_factory(
                context=self.context, namespace=self.namespace, parameter_overrides=overrides
            )
            # Only the node under test needs parameter services; fewer entities make every
            # executor iteration cheaper, which is part of what the harness measures.
            self.source = Node(
                "hand_pose_source",
                context=self.context,
                namespace=self.namespace,
                start_parameter_services=False,
            )
            # A camera driver's profile: best effort unless a test wants reliable delivery.
            reliability = (
                ReliabilityPolicy.RELIABLE if input_reliable else ReliabilityPolicy.BEST_EFFORT
            )
            self.input_qos = QoSProfile(depth=5, reliability=reliability)
            self._create_publishers(nodes)
            self.sink = RecordingSink(
                keypoints_topic=nodes.KEYPOINTS_TOPIC,
                markers_topic=nodes.MARKERS_TOPIC if subscribe_markers else None,
                debug_image_topic=nodes.DEBUG_IMAGE_TOPIC if subscribe_debug_image else None,
                diagnostics_name_filter=self.node.get_fully_qualified_name(),
                context=self.context,
                namespace=self.namespace,
                start_parameter_services=False,
            )
            self.executor = make_executor(self.context, executor)
            for node in (self.node, self.source, self.sink):
                self.executor.add_node(node)
        except BaseException:
            if self._owns_context:
                self.context.try_shutdown()
            raise
        self._closed = False

    def _nodes_module(self) -> ModuleType:
        """Imported on use: rclpy node modules are only needed once a harness is made."""
        return importlib.import_module(self._NODE_MODULE)

    def _create_publishers(self, nodes: ModuleType) -> None:
        raise NotImplementedError

    def _input_publishers(self) -> list:
        raise NotImplementedError

    # ------------------------------------------------------------------ lifecycle
    def __enter__(self):
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.executor.shutdown(timeout_sec=1.0)
        for node in (self.sink, self.source, self.node):
            node.destroy_node()
        if self._owns_context:
            self.context.try_shutdown()

    # ------------------------------------------------------------------ spinning
    def spin_until(self, done: Callable[[], bool], timeout_s: float) -> bool:
        """Spin the executor until ``done()`` or the timeout; returns done()."""
        return spin_until(self.executor, done, timeout_s)

    def spin_for(self, duration_s: float) -> None:
        spin_for(self.executor, duration_s)

    def wait_for_connections(self, timeout_s: float = DISCOVERY_TIMEOUT_S) -> bool:
        """Wait until the node's inputs and the sink's outputs are matched (DDS discovery)."""

        def matched() -> bool:
            outputs = [self.sink.keypoints_sub]
            if self.sink.markers_sub is not None:
                outputs.append(self.sink.markers_sub)
            if self.sink.debug_image_sub is not None:
                outputs.append(self.sink.debug_image_sub)
            return (
                all(pub.get_subscription_count() > 0 for pub in self._input_publishers())
                and all(sub.get_publisher_count() > 0 for sub in outputs)
                and self._node_sees_sink()
            )

        return self.spin_until(matched, timeout_s)

    def _node_sees_sink(self) -> bool:
        """The node decides per frame whether to build markers / debug images: wait until it
        sees the sink's subscriptions too, or the first frames would skip them."""
        if self.sink.markers_sub is not None and self.node.markers_pub.get_subscription_count() < 1:
            return False
        return not (
            self.sink.debug_image_sub is not None
            and self.node.debug_image_pub.get_subscription_count() < 1
        )

    def wait_for_keypoints(self, key: StampKey, timeout_s: float) -> ReceivedKeypoints | None:
        self.spin_until(lambda: key in self.sink.keypoints, timeout_s)
        return self.sink.keypoints.get(key)

    def closed_loop_latencies(
        self, publish: Callable[[int], tuple[StampKey, float]], count: int, timeout_s: float
    ) -> np.ndarray:
        """Publish frame i with ``publish(i)``, wait for its keypoints, then the next: (count,)
        publish -> received seconds, NaN for frames without a result (latency, not load)."""
        latencies = np.full(count, np.nan)
        for i in range(count):
            key, sent_s = publish(i)
            result = self.wait_for_keypoints(key, timeout_s)
            if result is not None:
                latencies[i] = result.received_s - sent_s
        return latencies

    @contextlib.contextmanager
    def spinning_in_background(self) -> Iterator[None]:
        """Spin the executor on another thread while the caller publishes on its own clock
        (camera-like floods, where waiting for results would set the pace)."""
        stop = threading.Event()

        def spin() -> None:
            while not stop.is_set():
                self.executor.spin_once(timeout_sec=0.01)

        spinner = threading.Thread(target=spin, name="bench_executor")
        spinner.start()
        try:
            yield
        finally:
            stop.set()
            spinner.join()


class InProcessHarness(_HarnessBase):
    """Publish depth frames to a real HandPoseNode and collect what it publishes.

    Use as a context manager. ``node_parameters`` become the node's parameter overrides (as a
    launch file or YAML would set them).
    """

    _NODE_MODULE = "hand_pose_ros.nodes.hand_pose_node"
    _NODE_CLASS = "HandPoseNode"

    def _create_publishers(self, hand: ModuleType) -> None:
        self.image_pub = self.source.create_publisher(Image, hand.DEPTH_TOPIC, self.input_qos)
        self.info_pub = self.source.create_publisher(
            CameraInfo, hand.CAMERA_INFO_TOPIC, self.input_qos
        )

    def _input_publishers(self) -> list:
        return [self.image_pub, self.info_pub]

    # ------------------------------------------------------------------ frames
    def publish_camera_info(self, info: CameraInfo) -> None:
        self.info_pub.publish(info)

    def publish_image(self, image: Image) -> tuple[StampKey, float]:
        """Publish a depth image; returns (its stamp key, time.perf_counter() just before)."""
        key = stamp_key(image.header.stamp)
        sent_s = time.perf_counter()
        self.image_pub.publish(image)
        return key, sent_s

    def publish_frame(self, image: Image, info: CameraInfo | None) -> tuple[StampKey, float]:
        """Camera info first (as drivers do), then the image."""
        if info is not None:
            self.publish_camera_info(info)
        return self.publish_image(image)

    def run_closed_loop(
        self, frames: Iterable[tuple[Image, CameraInfo | None]], timeout_s: float = 2.0
    ) -> list[tuple[StampKey, float, ReceivedKeypoints | None]]:
        """Publish each frame as soon as the previous result arrived (latency, not load)."""
        results = []
        for image, info in frames:
            key, sent_s = self.publish_frame(image, info)
            results.append((key, sent_s, self.wait_for_keypoints(key, timeout_s)))
        return results


class RgbdHarness(_HarnessBase):
    """Publish colour (+ registered depth) frames to a real BodyPoseNode and collect results.

    With ``use_depth`` false in ``node_parameters`` the node has no depth subscription, and
    discovery does not wait for one.
    """

    _NODE_MODULE = "hand_pose_ros.nodes.body_pose_node"
    _NODE_CLASS = "BodyPoseNode"

    def _create_publishers(self, body: ModuleType) -> None:
        self.use_depth = bool(self.node_parameters.get("use_depth", True))
        qos = self.input_qos
        self.color_pub = self.source.create_publisher(Image, body.COLOR_TOPIC, qos)
        self.depth_pub = self.source.create_publisher(Image, body.DEPTH_TOPIC, qos)
        self.info_pub = self.source.create_publisher(CameraInfo, body.COLOR_INFO_TOPIC, qos)

    def _input_publishers(self) -> list:
        publishers = [self.color_pub, self.info_pub]
        if self.use_depth and self.node.get_parameter("use_depth").value:
            publishers.append(self.depth_pub)
        return publishers

    def publish_frame(
        self, color: Image, depth: Image | None = None, info: CameraInfo | None = None
    ) -> tuple[StampKey, float]:
        """Camera info, then depth, then colour (the colour stamp keys the result); returns
        (colour stamp key, time.perf_counter() just before the first message)."""
        key = stamp_key(color.header.stamp)
        sent_s = time.perf_counter()
        if info is not None:
            self.info_pub.publish(info)
        if depth is not None:
            self.depth_pub.publish(depth)
        self.color_pub.publish(color)
        return key, sent_s


class VideoHarness(RgbdHarness):
    """RgbdHarness for video_pose_node: the same topics, people tracked across frames."""

    _NODE_MODULE = "hand_pose_ros.nodes.video_pose_node"
    _NODE_CLASS = "VideoPoseNode"
