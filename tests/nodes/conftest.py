"""Fixtures for end-to-end node tests: one rclpy context per test module, a stand-in model."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import rclpy
from rclpy.context import Context

from hand_pose_ros.runner.harness import isolated_domain_id
from tests.nodes.stand_in_model import build_stand_in_model


@pytest.fixture(scope="module")
def ros_context() -> Iterator[Context]:
    context = Context()
    rclpy.init(context=context, domain_id=isolated_domain_id())
    yield context
    context.try_shutdown()


@pytest.fixture(scope="session")
def stand_in_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_stand_in_model(tmp_path_factory.mktemp("models") / "stand_in.onnx")


@pytest.fixture(scope="session")
def body_stand_in_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.nodes.body_frames import build_body_stand_in_model

    return build_body_stand_in_model(tmp_path_factory.mktemp("models") / "body_stand_in.onnx")
