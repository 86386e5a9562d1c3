"""Runner tests use the shipped model when training has exported it, else a stand-in model."""

from __future__ import annotations

from pathlib import Path

import pytest

from hand_pose_ros.nodes.hand_pose_node import shipped_model_path
from tests.nodes.stand_in_model import build_stand_in_model


@pytest.fixture(scope="session")
def runner_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    shipped = shipped_model_path()
    if shipped.exists():
        return shipped
    return build_stand_in_model(tmp_path_factory.mktemp("models") / "stand_in.onnx")


@pytest.fixture(scope="session")
def runner_body_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from hand_pose_ros.nodes.body_pose_node import shipped_model_path as shipped_body_model
    from tests.nodes.body_frames import build_body_stand_in_model

    shipped = shipped_body_model()
    if shipped.exists():
        return shipped
    return build_body_stand_in_model(tmp_path_factory.mktemp("models") / "body_stand_in.onnx")
