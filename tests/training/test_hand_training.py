"""A tiny real training run: a few steps, export with metadata, reload through the core runtime."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from hand_pose_ros.core.hand_estimator import HandEstimator  # noqa: E402
from hand_pose_ros.core.model_runtime import OnnxModel  # noqa: E402
from hand_pose_ros.core.skeletons import HAND_KEYPOINT_NAMES  # noqa: E402
from hand_pose_ros.ros.camera_info import intrinsics_to_camera_info  # noqa: E402
from hand_pose_ros.ros.image_conversions import metres_to_depth_image  # noqa: E402
from hand_pose_ros.runner.harness import InProcessHarness  # noqa: E402
from hand_pose_ros.synthetic import render_frame  # noqa: E402
from tests.nodes.node_checks import keypoints_for  # noqa: E402
from tests.training.warm_restart_checks import (  # noqa: E402
    assert_chain_recorded,
    assert_started_from_file,
    largest_weight_change,
)
from training.common.onnx_complexity import count_complexity  # noqa: E402
from training.common.onnx_metadata import read_onnx_metadata  # noqa: E402
from training.hand.export import export  # noqa: E402
from training.hand.train import main as train_main  # noqa: E402
from training.hand.train import parse_args  # noqa: E402
from training.hand.train import train as run_training  # noqa: E402

SMALL_RUN = ["--batch-size", "4", "--train-frames", "24", "--val-frames", "4",
             "--render-workers", "1", "--threads", "1"]


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("hand_run")
    run_dir = root / "run"
    train_main([*SMALL_RUN, "--out", str(run_dir), "--steps", "6", "--eval-every", "6",
                "--checkpoint-every", "3", "--cache-dir", str(root / "cache")])
    return run_dir


def test_training_writes_metrics_and_checkpoint(trained_run: Path) -> None:
    metrics = json.loads((trained_run / "metrics.json").read_text())
    assert metrics["history"][-1]["step"] == 6
    validation = metrics["validation"]
    assert validation["frames"] == 4
    assert 0.0 <= validation["presence_accuracy"] <= 1.0
    assert (trained_run / "checkpoint.pt").exists()


def test_training_resumes_from_its_checkpoint(trained_run: Path, capsys) -> None:
    args = parse_args(["--out", str(trained_run), "--steps", "8", "--batch-size", "4",
                       "--train-frames", "24", "--val-frames", "4", "--eval-every", "8",
                       "--cache-dir", str(trained_run.parent / "cache"), "--threads", "1"])
    result = run_training(args)
    assert "resumed from" in capsys.readouterr().out
    assert [h["step"] for h in result["history"]] == [6, 8]


def test_export_is_self_describing_and_matches_torch(trained_run: Path, tmp_path: Path) -> None:
    model_path = tmp_path / "hand.onnx"
    report = export(trained_run, model_path, "smoke_hand")
    assert report["parity_max_abs"] < 1e-4
    metadata = read_onnx_metadata(model_path)
    assert metadata["keypoint_names"] == list(HAND_KEYPOINT_NAMES)
    assert metadata["complexity"]["flops"] == count_complexity(model_path).flops
    assert set(metadata["outputs"]) == {"heatmaps", "presence", "visibility", "segmentation",
                                        "keypose"}

    estimator = HandEstimator(OnnxModel(model_path), presence_threshold=0.0)
    frame = render_frame(3, 224, 172)
    estimate = estimator.estimate(frame.depth_m, frame.intrinsics)
    assert len(estimate.hands) == 2  # threshold 0: both sides are reported
    for hand in estimate.hands:
        assert hand.uv_px.shape == (len(HAND_KEYPOINT_NAMES), 2)
        assert np.all((hand.uv_px[:, 0] >= -0.5) & (hand.uv_px[:, 0] <= 223.5))

    # The freshly exported file drops into the node through its `model` parameter.
    with InProcessHarness({"model": str(model_path), "presence_threshold": 0.0}) as harness:
        assert harness.node.model.name == "smoke_hand"
        assert harness.wait_for_connections()
        result = keypoints_for(harness, metres_to_depth_image(frame.depth_m),
                               intrinsics_to_camera_info(frame.intrinsics), wait_s=5.0)
    assert len(result.cloud) == 2 * len(HAND_KEYPOINT_NAMES)


def test_warm_restart_starts_from_the_run_and_counts_the_chain(
    trained_run: Path, tmp_path: Path
) -> None:
    parent_steps = torch.load(trained_run / "checkpoint.pt", weights_only=False)["step"]
    common = [*SMALL_RUN, "--init-from", str(trained_run), "--eval-every", "1",
              "--cache-dir", str(trained_run.parent / "cache")]
    restart = tmp_path / "restart"
    train_main([*common, "--out", str(restart), "--steps", "1", "--lr", "1e-3"])
    # One AdamW step of lr 1e-3 (during warm-up) from the parent's weights.
    assert largest_weight_change(trained_run, restart) < 0.01
    metadata = read_onnx_metadata(export(restart, tmp_path / "restart.onnx", "restart")["model"])
    assert_chain_recorded(metadata["training"], "hand", trained_run, restart, parent_steps)

    with pytest.raises(SystemExit, match="its arch is 'tiny', this run's 'mobilenet_v2'"):
        train_main([*common, "--arch", "mobilenet_v2", "--out", str(tmp_path / "other")])


def test_warm_restart_from_an_exported_model_file(trained_run: Path, tmp_path: Path) -> None:
    parent_path = tmp_path / "parent.onnx"
    export(trained_run, parent_path, "parent")
    parent_steps = read_onnx_metadata(parent_path)["training"]["steps"]
    restart = tmp_path / "restart"
    train_main([*SMALL_RUN, "--init-from", str(parent_path), "--eval-every", "1", "--steps", "1",
                "--lr", "1e-6", "--cache-dir", str(trained_run.parent / "cache"),
                "--out", str(restart)])
    child_path = tmp_path / "child.onnx"
    export(restart, child_path, "child")
    depth = np.random.default_rng(0).uniform(0, 1, (3, 1, 120, 160)).astype(np.float32)
    assert_started_from_file(
        parent_path, child_path, parent_steps, depth, "heatmaps",
        f"python -m training.hand.export --run {trained_run} --out {parent_path} --name parent",
    )
