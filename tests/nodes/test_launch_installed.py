"""The launch files under a real `launch` / `launch_ros`, from an ament install of the package.

Skipped where `launch_ros` is not importable (the CI machines: design.md section 4); on a ROS 2
machine, or with `launch` and `launch_ros` on PYTHONPATH, it installs the package into a
temporary prefix the way colcon does (`setup.py install`: executables under
lib/hand_pose_ros, launch, config and RViz files under share/), starts each launch file in its
own process with `use_rviz:=false`, and talks to the started node over DDS: its parameters must
be what the launch arguments asked for, and a depth stream on the remapped topics must come
back as keypoints. `test_launch_and_config.py` checks the same files against stand-ins
everywhere.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("launch")
launch_ros = pytest.importorskip("launch_ros")

import rclpy  # noqa: E402
from rcl_interfaces.msg import ParameterType  # noqa: E402
from rcl_interfaces.srv import GetParameters  # noqa: E402
from rclpy.context import Context  # noqa: E402
from rclpy.executors import SingleThreadedExecutor  # noqa: E402
from rclpy.node import Node  # noqa: E402
from sensor_msgs.msg import CameraInfo, Image, PointCloud2  # noqa: E402
from std_msgs.msg import Header  # noqa: E402

from hand_pose_ros.ros.camera_info import intrinsics_to_camera_info  # noqa: E402
from hand_pose_ros.ros.image_conversions import metres_to_depth_image  # noqa: E402
from hand_pose_ros.ros.qos import input_qos  # noqa: E402
from hand_pose_ros.runner.harness import isolated_domain_id, spin_for, spin_until  # noqa: E402
from hand_pose_ros.synthetic import HandSequence  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
PACKAGE_SOURCES = ("setup.py", "setup.cfg", "package.xml", "resource", "launch", "config", "rviz",
                   "hand_pose_ros")
"""What `setup.py install` reads: copied out, so the build leaves no files in the checkout."""
SERVICE_WAIT_S = 30.0
FRAMES = 40
FRAME_PERIOD_S = 0.05

LAUNCH_SCRIPT = """
import sys
from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription, LaunchService
from launch.actions import IncludeLaunchDescription
from launch.launch_description_sources import PythonLaunchDescriptionSource

name, *arguments = sys.argv[1:]
path = f"{get_package_share_directory('hand_pose_ros')}/launch/{name}"
service = LaunchService()
service.include_launch_description(LaunchDescription([IncludeLaunchDescription(
    PythonLaunchDescriptionSource(path),
    launch_arguments=[tuple(argument.split(':=', 1)) for argument in arguments],
)]))
sys.exit(service.run())
"""


@pytest.fixture(scope="module")
def ament_prefix(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The package installed as colcon installs an ament_python package."""
    work = tmp_path_factory.mktemp("launch_install")
    source, prefix = work / "source", work / "install"
    source.mkdir()
    for name in PACKAGE_SOURCES:
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, source / name,
                            ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(REPO / name, source / name)
    subprocess.run(
        [sys.executable, "setup.py", "-q", "install", f"--prefix={prefix}",
         "--single-version-externally-managed", f"--record={work / 'installed.txt'}"],
        cwd=source, check=True, capture_output=True,
    )
    return prefix


class Probe:
    """A node in its own context and executor, to talk to the launched nodes."""

    def __init__(self, context: Context) -> None:
        self.node = Node("launch_probe", context=context)
        self.executor = SingleThreadedExecutor(context=context)
        self.executor.add_node(self.node)


@pytest.fixture(scope="module")
def probe() -> Iterator[Probe]:
    context = Context()
    rclpy.init(context=context, domain_id=isolated_domain_id())
    probe = Probe(context)
    yield probe
    probe.executor.shutdown()
    probe.node.destroy_node()
    context.try_shutdown()


def _launched(prefix: Path, launch_file: str, *arguments: str) -> subprocess.Popen:
    site = next(prefix.glob("lib/python*/site-packages"))
    search_path = [str(site), *(str(Path(m.__file__).parents[1])
                                for m in (launch_ros, sys.modules["launch"]))]
    environment = {
        **os.environ,
        "AMENT_PREFIX_PATH": os.pathsep.join(
            [str(prefix), os.environ.get("AMENT_PREFIX_PATH", "")]
        ),
        "PYTHONPATH": os.pathsep.join([*search_path, os.environ.get("PYTHONPATH", "")]),
        "ROS_DOMAIN_ID": str(isolated_domain_id()),
    }
    return subprocess.Popen(
        [sys.executable, "-c", LAUNCH_SCRIPT, launch_file, "use_rviz:=false", *arguments],
        env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )


def _stop(process: subprocess.Popen) -> str:
    """Ctrl-C the launch (it forwards SIGINT to its nodes); its output."""
    process.send_signal(signal.SIGINT)
    try:
        output, _ = process.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
    return output


def _parameters(probe: Probe, node: str, names: list[str]) -> dict[str, object]:
    client = probe.node.create_client(GetParameters, f"{node}/get_parameters")
    try:
        assert client.wait_for_service(timeout_sec=SERVICE_WAIT_S), f"{node} never came up"
        future = client.call_async(GetParameters.Request(names=names))
        probe.executor.spin_until_future_complete(future, timeout_sec=10.0)
        values = future.result().values
    finally:
        probe.node.destroy_client(client)
    readers = {
        ParameterType.PARAMETER_BOOL: lambda v: v.bool_value,
        ParameterType.PARAMETER_INTEGER: lambda v: v.integer_value,
        ParameterType.PARAMETER_STRING: lambda v: v.string_value,
        ParameterType.PARAMETER_STRING_ARRAY: lambda v: list(v.string_array_value),
    }
    return {name: readers[value.type](value) for name, value in zip(names, values, strict=True)}


def _keypoint_clouds(probe: Probe, depth_topic: str, info_topic: str,
                     keypoints_topic: str) -> int:
    """Publish a synthetic depth sequence; how many keypoint clouds came back."""
    node = probe.node
    received: list[PointCloud2] = []
    subscription = node.create_subscription(PointCloud2, keypoints_topic, received.append, 10)
    depth_pub = node.create_publisher(Image, depth_topic, input_qos())
    info_pub = node.create_publisher(CameraInfo, info_topic, input_qos())
    spin_until(probe.executor, lambda: depth_pub.get_subscription_count() > 0, SERVICE_WAIT_S)
    sequence = HandSequence(3, width=160, height=120)
    for index in range(FRAMES):
        frame = sequence.frame(index)
        header = Header(frame_id="probe_depth_optical_frame",
                        stamp=node.get_clock().now().to_msg())
        info_pub.publish(intrinsics_to_camera_info(frame.intrinsics, header))
        depth_pub.publish(metres_to_depth_image(frame.depth_m, "16UC1", header))
        spin_for(probe.executor, FRAME_PERIOD_S)
    spin_for(probe.executor, 1.0)
    node.destroy_subscription(subscription)
    node.destroy_publisher(depth_pub)
    node.destroy_publisher(info_pub)
    return len(received)


def test_wearable_launch_wires_arguments_topics_and_models(ament_prefix: Path,
                                                          probe: Probe) -> None:
    process = _launched(
        ament_prefix, "wearable.launch.py", "namespace:=headset",
        "depth_topic:=/cam/depth", "camera_info_topic:=/cam/depth_info",
        "model:=hand_slim_multitask.onnx", "refiner_model:=hand_refiner_tiny.onnx",
        "refiner_passes:=2",
    )
    try:
        parameters = _parameters(probe, "/headset/hand_pose_node",
                                 ["model", "refiner_model", "refiner_passes", "keypoint_names"])
        clouds = _keypoint_clouds(probe, "/cam/depth", "/cam/depth_info",
                                  "/headset/hands/keypoints")
    finally:
        output = _stop(process)
    assert parameters["model"] == "hand_slim_multitask.onnx", output
    assert parameters["refiner_model"] == "hand_refiner_tiny.onnx"
    assert parameters["refiner_passes"] == 2
    assert parameters["keypoint_names"][0] == "wrist"
    assert "hand_slim_multitask" in output and "ready" in output, output
    # Best effort between processes: most frames, not all, must come back.
    assert clouds >= FRAMES // 2, f"{clouds} of {FRAMES} frames came back\n{output}"


@pytest.mark.parametrize(("mode", "node"), [("frame", "body_pose_node"),
                                            ("video", "video_pose_node")])
def test_robot_launch_starts_the_mode_s_node(ament_prefix: Path, probe: Probe, mode: str,
                                            node: str) -> None:
    process = _launched(ament_prefix, "robot.launch.py", "namespace:=robot", f"mode:={mode}",
                        "use_depth:=false")
    try:
        parameters = _parameters(probe, f"/robot/{node}", ["use_depth", "keypoint_names"])
    finally:
        output = _stop(process)
    assert parameters["use_depth"] is False, output
    assert parameters["keypoint_names"][0] == "nose"
    assert f"[{node}-1]" in output and "ready" in output, output
