"""Wearable pipeline: hand_pose_node on an egocentric depth stream, plus RViz.

Usage:
  ros2 launch hand_pose_ros wearable.launch.py depth_topic:=/camera/depth/image_rect_raw \
      camera_info_topic:=/camera/depth/camera_info

Everything tunable lives in config/hand_pose_node.yaml; this file only wires topics, the
parameter file and the model choice (model, refiner_model, refiner_passes) together.
"""

from __future__ import annotations

import os

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument
from launch.conditions import IfCondition
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node
from launch_ros.parameter_descriptions import ParameterValue

PACKAGE_NAME = "hand_pose_ros"


def generate_launch_description() -> LaunchDescription:
    """Declare the arguments, then start the node and (optionally) RViz."""
    share_dir = get_package_share_directory(PACKAGE_NAME)

    arguments = [
        DeclareLaunchArgument(
            "namespace", default_value="", description="Namespace for the node and its topics."
        ),
        DeclareLaunchArgument(
            "depth_topic",
            default_value="depth/image",
            description="Depth image to read (16UC1 millimetres or 32FC1 metres).",
        ),
        DeclareLaunchArgument(
            "camera_info_topic",
            default_value="depth/camera_info",
            description="CameraInfo matching depth_topic (intrinsics for back-projection).",
        ),
        DeclareLaunchArgument(
            "params_file",
            default_value=os.path.join(share_dir, "config", "hand_pose_node.yaml"),
            description="YAML file with the hand_pose_node parameters.",
        ),
        DeclareLaunchArgument(
            "model",
            default_value="",
            description="Exported ONNX model file; empty uses the model shipped with the package, "
            "a bare file name another shipped one (hand_slim_multitask.onnx: the in-budget "
            "first stage, with refiner_model:=hand_refiner_tiny.onnx).",
        ),
        DeclareLaunchArgument(
            "refiner_model",
            default_value="",
            description="Hand refiner ONNX file; empty uses the shipped one, 'none' runs the "
            "first model alone.",
        ),
        DeclareLaunchArgument(
            "refiner_passes",
            default_value="1",
            description="Refiner passes per hand on frames where the first model runs, each "
            "after the first on a crop around the previous keypoints (a tracked hand gets one).",
        ),
        DeclareLaunchArgument(
            "use_rviz", default_value="true", description="Start RViz with rviz_config."
        ),
        DeclareLaunchArgument(
            "rviz_config",
            default_value=os.path.join(share_dir, "rviz", "wearable.rviz"),
            description="RViz config (its topics are absolute: edit it when using a namespace).",
        ),
    ]

    hand_pose_node = Node(
        package=PACKAGE_NAME,
        executable="hand_pose_node",
        name="hand_pose_node",
        namespace=LaunchConfiguration("namespace"),
        parameters=[
            LaunchConfiguration("params_file"),
            # value_type=str keeps an empty string or a numeric-looking path a string.
            {
                name: ParameterValue(LaunchConfiguration(name), value_type=str)
                for name in ("model", "refiner_model")
            },
            {
                "refiner_passes": ParameterValue(
                    LaunchConfiguration("refiner_passes"), value_type=int
                )
            },
        ],
        remappings=[
            ("depth/image", LaunchConfiguration("depth_topic")),
            ("depth/camera_info", LaunchConfiguration("camera_info_topic")),
        ],
        output="screen",
    )

    rviz = Node(
        package="rviz2",
        executable="rviz2",
        name="rviz2",
        arguments=["-d", LaunchConfiguration("rviz_config")],
        condition=IfCondition(LaunchConfiguration("use_rviz")),
        output="screen",
    )

    return LaunchDescription([*arguments, hand_pose_node, rviz])
