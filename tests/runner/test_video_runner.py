"""The video pipeline of the one-process runner: a synthetic people sequence through the real
video_pose_node over real DDS, with tracking figures against the ground truth ids."""

from __future__ import annotations

from pathlib import Path

import pytest

from hand_pose_ros.nodes.body_pose_node import shipped_model_path
from hand_pose_ros.nodes.pose_node_base import shipped_model_path as packaged_model
from hand_pose_ros.nodes.video_pose_parameters import SHIPPED_VIDEO_MODEL_NAME
from hand_pose_ros.runner.robot_report import MOSAIC_NAME
from tests.runner.runner_helpers import read_summary, run_cli


@pytest.mark.skipif(
    not (shipped_model_path().exists() and packaged_model(SHIPPED_VIDEO_MODEL_NAME).exists()),
    reason="the shipped body and DKD models are produced by `make body-model video-model`",
)
def test_synthetic_run_reports_tracking_and_cost(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "video"
    argv = ["--pipeline", "video", "--frames", "8", "--seed", "7", "--out", str(out)]
    code, stdout, stderr = run_cli(argv, capsys)
    assert code == 0, stderr
    summary = read_summary(out)
    assert summary["pipeline"] == "video"
    assert summary["frames"]["keypoints_received"] == 8
    tracking, cost = summary["tracking"], summary["cost"]
    assert 0.0 <= tracking["pck@0.2"] <= 1.0 and tracking["id_switches"] >= 0
    assert 0.0 < cost["keyframe_ratio"] <= 1.0
    assert 0.0 < cost["mean_gmacs_per_frame"] < 1.0
    assert (out / MOSAIC_NAME).is_file()
    assert "identity switches" in stdout and "keyframes:" in stdout
