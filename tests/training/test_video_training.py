"""A tiny real DKD run: a few adversarial steps on rendered sequences, resume, export, and the
exported tracker running in the core VideoEstimator with the shipped keyframe model."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from hand_pose_ros.core.body_estimator import BodyEstimator  # noqa: E402
from hand_pose_ros.core.model_runtime import OnnxModel  # noqa: E402
from hand_pose_ros.core.video.dkd_model import DkdModel  # noqa: E402
from hand_pose_ros.core.video.keyframes import KeyframePolicy  # noqa: E402
from hand_pose_ros.core.video.tracks import DEFAULT_TRACKING  # noqa: E402
from hand_pose_ros.core.video.video_estimator import VideoEstimator  # noqa: E402
from hand_pose_ros.nodes.body_pose_node import shipped_model_path  # noqa: E402
from hand_pose_ros.synthetic.people import PeopleSequence  # noqa: E402
from tests.training.warm_restart_checks import assert_chain_recorded, largest_weight_change  # noqa: E402
from training.common.model_card import model_card  # noqa: E402
from training.common.onnx_metadata import read_onnx_metadata  # noqa: E402
from training.video.evaluate import main as evaluate_main  # noqa: E402
from training.video.export import export  # noqa: E402
from training.video.train import main as train_main  # noqa: E402

FLAGS = [
    "--input",
    "128x96",
    "--batch-size",
    "2",
    "--clip-length",
    "3",
    "--train-sequences",
    "2",
    "--val-sequences",
    "1",
    "--frames-per-sequence",
    "6",
    "--threads",
    "1",
    "--render-workers",
    "1",
]


def _train(root: Path, steps: int) -> dict:
    train_main(
        [
            *FLAGS,
            "--out",
            str(root / "run"),
            "--steps",
            str(steps),
            "--eval-every",
            "2",
            "--checkpoint-every",
            "2",
            "--cache-dir",
            str(root / "cache"),
        ]
    )
    return json.loads((root / "run" / "metrics.json").read_text())


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("video_run")
    first = _train(root, 2)
    assert first["history"][-1]["step"] == 2
    resumed = _train(root, 4)  # continues from the step-2 checkpoint
    assert [h["step"] for h in resumed["history"]] == [2, 4]
    losses = resumed["history"][-1]["train_losses"]
    assert {"heatmaps", "discriminator", "generator"} <= set(losses)
    assert all(np.isfinite(v) for v in losses.values())
    return root / "run"


def test_export_describes_the_run_and_loads_in_the_core(trained_run: Path, tmp_path) -> None:
    out = tmp_path / "dkd.onnx"
    report = export(trained_run, out, "dkd_smoke")
    metadata = read_onnx_metadata(out)
    assert metadata["training"]["steps"] == 4
    assert "--adversarial-weight 0.05" in metadata["training"]["command"]
    assert "--train-sequences 2 --val-sequences 1" in metadata["training"]["command"]
    assert metadata["complexity"]["macs_per_person"] == report["macs_per_person"] > 0
    model = DkdModel(out)
    assert (model.input_width, model.input_height) == (128, 96)


@pytest.mark.skipif(not shipped_model_path().exists(), reason="no shipped body model")
def test_exported_tracker_runs_between_keyframes(trained_run: Path, tmp_path) -> None:
    out = tmp_path / "dkd.onnx"
    export(trained_run, out, "dkd_smoke")
    body = BodyEstimator(OnnxModel(shipped_model_path()))
    tracker = VideoEstimator(
        body, DkdModel(out), KeyframePolicy(interval_frames=3, min_track_confidence=0.0)
    )
    sequence = PeopleSequence(5, 4, width=320, height=240)
    results = [tracker.estimate(frame.color, time_s=i / 15) for i, frame in enumerate(sequence)]
    assert [r.keyframe_reason for r in results] == ["start", "", "", "interval"]
    full = body.model.metadata["complexity"]["macs"]
    assert results[0].macs > full
    assert all(r.macs < full / 5 for r in results[1:3])
    for result in results:
        assert result.people.uv_px.shape == (len(result.track_ids), 17, 2)


def test_warm_restart_starts_from_the_tracker_and_counts_the_chain(
    trained_run: Path, tmp_path
) -> None:
    parent_steps = torch.load(trained_run / "checkpoint.pt", weights_only=False)["step"]
    common = [*FLAGS, "--init-from", str(trained_run), "--cache-dir",
              str(trained_run.parent / "cache"), "--eval-every", "1"]  # fmt: skip
    restart = tmp_path / "restart"
    train_main([*common, "--out", str(restart), "--steps", "1"])
    # One Adam step of lr 2e-3 from the parent's weights.
    assert largest_weight_change(trained_run, restart) < 0.01
    metadata = read_onnx_metadata(export(restart, tmp_path / "restart.onnx", "restart")["model"])
    assert_chain_recorded(metadata["training"], "video", trained_run, restart, parent_steps)

    with pytest.raises(SystemExit, match="its channels is 24, this run's 16"):
        train_main([*common, "--channels", "16", "--out", str(tmp_path / "other")])


@pytest.mark.skipif(not shipped_model_path().exists(), reason="no shipped body model")
def test_evaluation_records_its_settings_and_the_model_card_shows_them(
    trained_run: Path, tmp_path
) -> None:
    model = tmp_path / "dkd.onnx"
    export(trained_run, model, "dkd_smoke")
    evaluate_main(["--model", str(model), "--body-model", str(shipped_model_path()),
                   "--split", "validation", "--sequences", "1", "--frames", "4",
                   "--resolution", "320x240", "--keyframe-interval", "2", "--workers", "1",
                   "--out", str(tmp_path / "result.json"), "--embed"])  # fmt: skip
    result = json.loads((tmp_path / "result.json").read_text())
    assert result["tracking"] == asdict(DEFAULT_TRACKING)
    assert result["keyframe_interval_frames"] == 2 and result["frames_per_sequence"] == 4
    video, per_frame = result["video_dkd"], result["per_frame_litepose"]
    assert video["keyframe_ratio"] == 0.5 and per_frame["keyframe_ratio"] == 1.0
    assert 0.0 <= video["pck@0.2"] <= 1.0
    assert result["macs_ratio"] == pytest.approx(
        video["mean_macs_per_frame"] / per_frame["mean_macs_per_frame"]
    )
    card = model_card(model)
    assert "Measured on `validation`" in card and "keyframe interval 2" in card
    settings = next(line for line in card.splitlines() if line.startswith("Track settings: "))
    assert "min_association_oks 0.05" in settings and "max_duplicate_oks 0.9" in settings
