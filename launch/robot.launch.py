"""Robot pipeline: body_pose_node (or video_pose_node) on an RGB-D camera, plus RViz.

Usage (a RealSense with depth aligned to colour):
  ros2 launch hand_pose_ros robot.launch.py \
      color_topic:=/camera/camera/color/image_raw \
      color_info_topic:=/camera/camera/color/camera_info \
      depth_topic:=/camera/camera/aligned_depth_to_color/image_raw
Colour only (2D keypoints, x/y/z NaN):
  ros2 launch hand_pose_ros robot.launch.py use_depth:=false color_topic:=/image
Tracked people with stable ids, LitePose on keyframes and DKD in between:
  ros2 launch hand_pose_ros robot.launch.py mode:=video

Everything tunable lives in config/body_pose_node.yaml (both modes) and
config/video_pose_node.yaml (the tracker, video mode); this file only wires topics, the
parameter files and the optional model / depth overrides together.
"""

from __future__ import annotations

import os

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument
from launch.conditions import IfCondition
from launch.substitutions import LaunchConfiguration, PythonExpression
from launch_ros.actions import Node
from launch_ros.parameter_descriptions import ParameterValue

PACKAGE_NAME = "hand_pose_ros"
MODES = {"frame": "body_pose_node", "video": "video_pose_node"}
"""mode argument -> the node it starts."""

# (launch argument, node topic it is remapped to, default, description)
TOPIC_ARGUMENTS: tuple[tuple[str, str, str, str], ...] = (
    (
        "color_topic",
        "color/image",
        "color/image",
        "Colour image (rgb8, bgr8, rgba8, bgra8, mono8).",
    ),
    (
        "color_info_topic",
        "color/camera_info",
        "color/camera_info",
        "CameraInfo of the colour image (intrinsics for back-projection).",
    ),
    (
        "depth_topic",
        "depth/image",
        "depth/image",
        "Depth registered to the colour image (16UC1 mm or 32FC1 m), e.g. aligned_depth_to_color.",
    ),
)


def generate_launch_description() -> LaunchDescription:
    """Declare the arguments, then start the node and (optionally) RViz."""
    share_dir = get_package_share_directory(PACKAGE_NAME)

    arguments = [
        DeclareLaunchArgument(
            "namespace", default_value="", description="Namespace for the node and its topics."
        ),
        *(
            DeclareLaunchArgument(name, default_value=default, description=description)
            for name, _, default, description in TOPIC_ARGUMENTS
        ),
        DeclareLaunchArgument(
            "mode",
            default_value="frame",
            choices=list(MODES),
            description="frame: LitePose on every frame (body_pose_node); video: people tracked "
            "with stable ids, LitePose on keyframes and DKD in between (video_pose_node).",
        ),
        DeclareLaunchArgument(
            "use_depth",
            default_value="true",
            description="Subscribe depth_topic and publish 3D keypoints; false = colour only.",
        ),
        DeclareLaunchArgument(
            "params_file",
            default_value=os.path.join(share_dir, "config", "body_pose_node.yaml"),
            description="YAML file with the body_pose_node parameters (both modes).",
        ),
        DeclareLaunchArgument(
            "video_params_file",
            default_value=os.path.join(share_dir, "config", "video_pose_node.yaml"),
            description="YAML file with the tracker parameters of video_pose_node (video mode).",
        ),
        DeclareLaunchArgument(
            "video_model",
            default_value="",
            description="Exported ONNX DKD tracker (video mode); empty uses the shipped one.",
        ),
        DeclareLaunchArgument(
            "model",
            default_value="",
            description="Exported ONNX body model; empty uses the model shipped with the package.",
        ),
        DeclareLaunchArgument(
            "use_rviz", default_value="true", description="Start RViz with rviz_config."
        ),
        DeclareLaunchArgument(
            "rviz_config",
            default_value=os.path.join(share_dir, "rviz", "robot.rviz"),
            description="RViz config (its topics are absolute: edit it when using a namespace).",
        ),
    ]

    common_parameters = [
        LaunchConfiguration("params_file"),
        # value_type keeps an empty string or a numeric-looking path a string.
        {"model": ParameterValue(LaunchConfiguration("model"), value_type=str)},
        {"use_depth": ParameterValue(LaunchConfiguration("use_depth"), value_type=bool)},
    ]
    video_parameters = [
        LaunchConfiguration("video_params_file"),
        {"video_model": ParameterValue(LaunchConfiguration("video_model"), value_type=str)},
    ]
    pose_nodes = [
        Node(
            package=PACKAGE_NAME,
            executable=executable,
            name=executable,
            namespace=LaunchConfiguration("namespace"),
            parameters=common_parameters + (video_parameters if mode == "video" else []),
            remappings=[
                (topic, LaunchConfiguration(name)) for name, topic, _, _ in TOPIC_ARGUMENTS
            ],
            condition=IfCondition(
                PythonExpression(["'", LaunchConfiguration("mode"), f"' == '{mode}'"])
            ),
            output="screen",
        )
        for mode, executable in MODES.items()
    ]

    rviz = Node(
        package="rviz2",
        executable="rviz2",
        name="rviz2",
        arguments=["-d", LaunchConfiguration("rviz_config")],
        condition=IfCondition(LaunchConfiguration("use_rviz")),
        output="screen",
    )

    return LaunchDescription([*arguments, *pose_nodes, rviz])
