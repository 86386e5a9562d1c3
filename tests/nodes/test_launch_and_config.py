"""Launch files and parameter files agree with the nodes they start.

`launch` / `launch_ros` are not installable here (design.md section 4), so the launch files are
loaded against minimal stand-ins that record what they are given: enough to check that every
remapping targets a topic the node really subscribes, every default file exists, and the
executable is a declared console script. The YAML files must list exactly the nodes'
parameters with their defaults.
"""

from __future__ import annotations

import importlib.util
import sys
import types
from pathlib import Path

import pytest
import yaml

from hand_pose_ros.nodes import (
    body_pose_node,
    body_pose_parameters,
    hand_pose_node,
    hand_pose_parameters,
    video_pose_node,
    video_pose_parameters,
)

REPO = Path(__file__).resolve().parents[2]
SET_BY_LAUNCH = {"model", "refiner_model", "refiner_passes", "use_depth", "video_model"}


class _Recorder:
    def __init__(self, *args, **kwargs) -> None:
        self.args, self.kwargs = args, kwargs


class _LaunchConfiguration(_Recorder):
    @property
    def name(self) -> str:
        return self.args[0]


def _launch_stubs() -> dict[str, types.ModuleType]:
    modules = {}
    for name in (
        "launch",
        "launch.actions",
        "launch.conditions",
        "launch.substitutions",
        "launch_ros",
        "launch_ros.actions",
        "launch_ros.parameter_descriptions",
    ):
        modules[name] = types.ModuleType(name)
    modules["launch"].LaunchDescription = _Recorder
    modules["launch.actions"].DeclareLaunchArgument = _Recorder
    modules["launch.conditions"].IfCondition = _Recorder
    modules["launch.substitutions"].LaunchConfiguration = _LaunchConfiguration
    modules["launch.substitutions"].PythonExpression = _Recorder
    modules["launch_ros.actions"].Node = _Recorder
    modules["launch_ros.parameter_descriptions"].ParameterValue = _Recorder
    return modules


def _describe(monkeypatch: pytest.MonkeyPatch, launch_file: str) -> _Recorder:
    for name, module in _launch_stubs().items():
        monkeypatch.setitem(sys.modules, name, module)
    import ament_index_python.packages as packages

    monkeypatch.setattr(packages, "get_package_share_directory", lambda _: str(REPO))
    spec = importlib.util.spec_from_file_location("launch_under_test", REPO / launch_file)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.generate_launch_description()


@pytest.mark.parametrize(
    ("launch_file", "node_module", "parameters", "input_topics"),
    [
        (
            "launch/robot.launch.py",
            body_pose_node,
            body_pose_parameters,
            {
                body_pose_node.COLOR_TOPIC,
                body_pose_node.COLOR_INFO_TOPIC,
                body_pose_node.DEPTH_TOPIC,
            },
        ),
        (
            "launch/wearable.launch.py",
            hand_pose_node,
            hand_pose_parameters,
            {hand_pose_node.DEPTH_TOPIC, hand_pose_node.CAMERA_INFO_TOPIC},
        ),
    ],
)
def test_launch_file_wires_the_node(
    monkeypatch: pytest.MonkeyPatch,
    launch_file: str,
    node_module,
    parameters,
    input_topics: set[str],
) -> None:
    description = _describe(monkeypatch, launch_file)
    entities = description.args[0]
    arguments = {e.args[0]: e.kwargs for e in entities if "default_value" in e.kwargs}
    nodes = [e for e in entities if "executable" in e.kwargs]
    node = next(n for n in nodes if n.kwargs["package"] == "hand_pose_ros")
    assert node.kwargs["executable"] == node_module.NODE_NAME
    assert (
        f"{node_module.NODE_NAME} = {node_module.__name__}:main" in (REPO / "setup.py").read_text()
    )
    assert {"namespace", "params_file", "model", "use_rviz", "rviz_config"} <= set(arguments)
    for argument in arguments.values():
        assert argument["description"]
    remapped = {source for source, _ in node.kwargs["remappings"]}
    assert remapped == input_topics
    for _, target in node.kwargs["remappings"]:
        assert target.name in arguments  # every remap is a launch argument
    for name in ("params_file", "rviz_config"):
        assert Path(arguments[name]["default_value"]).is_file(), name
    specs = parameters.SPECS_BY_NAME
    for name in SET_BY_LAUNCH & arguments.keys() & specs.keys():  # the node's default, as text
        default = specs[name].default
        text = str(default).lower() if isinstance(default, bool) else str(default)
        assert arguments[name]["default_value"] == text, name
    rviz = next(n for n in nodes if n.kwargs["package"] == "rviz2")
    assert rviz.kwargs["condition"].args[0].name == "use_rviz"


@pytest.mark.parametrize(
    ("config", "parameters"),
    [
        ("config/body_pose_node.yaml", body_pose_parameters),
        ("config/hand_pose_node.yaml", hand_pose_parameters),
    ],
)
def test_parameter_file_lists_every_parameter_with_its_default(config: str, parameters) -> None:
    values = yaml.safe_load((REPO / config).read_text())["/**"]["ros__parameters"]
    expected = {spec.name for spec in parameters.PARAMETER_SPECS} - SET_BY_LAUNCH
    assert set(values) == expected
    for name, value in values.items():
        assert value == parameters.SPECS_BY_NAME[name].default, name
        assert parameters.check_value(name, value) is None


def test_robot_launch_mode_chooses_the_per_frame_or_the_video_node(monkeypatch) -> None:
    entities = _describe(monkeypatch, "launch/robot.launch.py").args[0]
    arguments = {e.args[0]: e.kwargs for e in entities if "default_value" in e.kwargs}
    assert arguments["mode"]["default_value"] == "frame"
    assert set(arguments["mode"]["choices"]) == {"frame", "video"}
    nodes = {
        e.kwargs["executable"]: e for e in entities if e.kwargs.get("package") == "hand_pose_ros"
    }
    assert set(nodes) == {body_pose_node.NODE_NAME, video_pose_node.NODE_NAME}
    assert f"video_pose_node = {video_pose_node.__name__}:main" in (REPO / "setup.py").read_text()
    for executable, node in nodes.items():
        mode = "video" if executable == video_pose_node.NODE_NAME else "frame"
        expression = node.kwargs["condition"].args[0].args[0]
        assert expression[1].name == "mode" and expression[2] == f"' == '{mode}'"
        files = [p.name for p in node.kwargs["parameters"] if isinstance(p, _LaunchConfiguration)]
        expected = ["params_file", "video_params_file"] if mode == "video" else ["params_file"]
        assert files == expected  # the video node takes the body parameters, then its own
    assert Path(arguments["video_params_file"]["default_value"]).is_file()


def test_video_parameter_file_lists_the_tracker_parameters_with_their_defaults() -> None:
    values = yaml.safe_load((REPO / "config/video_pose_node.yaml").read_text())["/**"][
        "ros__parameters"
    ]
    body = {spec.name for spec in body_pose_parameters.PARAMETER_SPECS}
    tracker = {spec.name for spec in video_pose_parameters.PARAMETER_SPECS} - body
    assert set(values) == tracker - SET_BY_LAUNCH
    for name, value in values.items():
        assert value == video_pose_parameters.SPECS_BY_NAME[name].default, name
        assert video_pose_parameters.check_value(name, value) is None


def test_robot_rviz_config_shows_the_body_node_outputs() -> None:
    rviz = yaml.safe_load((REPO / "rviz/robot.rviz").read_text())
    manager = rviz["Visualization Manager"]
    topics = {
        display["Topic"]["Value"]
        for display in manager["Displays"]
        if display.get("Enabled") and "Topic" in display
    }
    assert {"/people/keypoints", "/people/markers", "/people/debug_image"} <= topics
    assert manager["Global Options"]["Fixed Frame"].endswith("optical_frame")
