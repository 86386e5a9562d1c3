"""Checks shared by the end-to-end tests of both pose nodes: they publish markers, debug images,
diagnostics and the model's layout parameters the same way, so waiting for and reading those
outputs is written once."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from rclpy.context import Context
from rclpy.parameter import Parameter
from sensor_msgs.msg import Image
from visualization_msgs.msg import Marker

from hand_pose_ros.core.drawing import instance_color
from hand_pose_ros.ros.image_conversions import image_to_numpy


def frame_indices() -> Callable[[], int]:
    """A fresh per-module frame counter: every frame gets a new stamp, so results never mix."""
    counter: Iterator[int] = iter(range(10_000))
    return lambda: next(counter)


@contextlib.contextmanager
def observed_harness(
    harness_class: type,
    model: Path,
    context: Context,
    marker_lifetime_s: float,
    **node_parameters: Any,
) -> Iterator[Any]:
    """A connected harness whose sink also records markers and debug images, with fast
    diagnostics: what the plumbing tests of both nodes look at."""
    parameters = {
        "model": str(model),
        "marker_lifetime_s": marker_lifetime_s,
        "diagnostics_period_s": 0.2,
        **node_parameters,
    }
    with harness_class(
        parameters, subscribe_markers=True, subscribe_debug_image=True, context=context
    ) as running:
        assert running.wait_for_connections()
        yield running


def keypoints_for(harness: Any, *frame: Any, wait_s: float) -> Any:
    """Publish one frame (the harness's `publish_frame` arguments) and return its keypoints."""
    key, _ = harness.publish_frame(*frame)
    result = harness.wait_for_keypoints(key, wait_s)
    assert result is not None, harness.node.drop_counts
    return result


def markers_for(harness: Any, image: Image, wait_s: float) -> list[Marker]:
    """The markers published for the frame stamped like `image` (waits for them)."""

    def mine() -> list[Marker]:
        stamp = image.header.stamp
        return [m for a in harness.sink.markers for m in a.markers if m.header.stamp == stamp]

    assert harness.spin_until(lambda: bool(mine()), wait_s)
    return mine()


def debug_picture_for(
    harness: Any, image: Image, size: tuple[int, int], frame_id: str, wait_s: float
) -> np.ndarray:
    """The debug image published for `image` as an RGB array, after checking its header."""

    def arrived() -> bool:
        return any(d.header.stamp == image.header.stamp for d in harness.sink.debug_images)

    assert harness.spin_until(arrived, wait_s)
    debug = next(d for d in harness.sink.debug_images if d.header.stamp == image.header.stamp)
    assert debug.encoding == "rgb8"
    assert (debug.width, debug.height) == size
    assert debug.header.frame_id == frame_id
    return image_to_numpy(debug)


def assert_joints_drawn(picture: np.ndarray, cloud: Any, instances: int) -> None:
    """Each instance's keypoints are painted in its colour at the pixel drawing.py paints."""
    uv = np.floor(cloud.uv_px + 0.5).astype(int)
    for instance in range(instances):
        joints = uv[cloud.instance == instance]
        assert np.all(picture[joints[:, 1], joints[:, 0]] == instance_color(instance))


def latest_diagnostics(harness: Any, wait_s: float) -> tuple[Any, dict[str, str]]:
    """The next diagnostics status published from now on, and its values by key."""
    harness.sink.diagnostics.clear()
    assert harness.spin_until(lambda: len(harness.sink.diagnostics) > 0, wait_s)
    status = harness.sink.diagnostics[-1]
    return status, {kv.key: kv.value for kv in status.values}


def assert_model_layout_parameters(
    node: Any,
    specs: Sequence[Any],
    keypoint_names: Sequence[str],
    skeleton_edges: Sequence[Sequence[int]],
    read_only: Sequence[tuple[str, Any]],
) -> None:
    """Every parameter is described; the model's layout is published and cannot be set."""
    names = [spec.name for spec in specs] + ["keypoint_names", "skeleton"]
    for descriptor in node.describe_parameters(names):
        assert descriptor.description, descriptor.name
    assert node.get_parameter("keypoint_names").value == list(keypoint_names)
    flat = node.get_parameter("skeleton").value
    assert [tuple(pair) for pair in np.reshape(flat, (-1, 2))] == [
        tuple(edge) for edge in skeleton_edges
    ]
    for name, value in read_only:
        assert not node.set_parameters([Parameter(name, value=value)])[0].successful
    assert node.get_parameter("keypoint_names").value == list(keypoint_names)
