"""A tiny real LitePose run: a few steps on rendered people, resume, export, core estimator."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from hand_pose_ros.core.body_decoder import BodyDecoder  # noqa: E402
from hand_pose_ros.core.body_estimator import BodyEstimator  # noqa: E402
from hand_pose_ros.core.model_metadata import BODY_PEAK_OUTPUT_ROLES  # noqa: E402
from hand_pose_ros.core.model_runtime import OnnxModel  # noqa: E402
from hand_pose_ros.core.skeletons import COCO_KEYPOINT_NAMES  # noqa: E402
from hand_pose_ros.synthetic.people import render_people_frame  # noqa: E402
from tests.training.warm_restart_checks import assert_chain_recorded, largest_weight_change  # noqa: E402
from training.body.export import export  # noqa: E402
from training.body.train import main as train_main  # noqa: E402
from training.body.train import parse_args, train  # noqa: E402
from training.common.onnx_complexity import count_complexity  # noqa: E402
from training.common.onnx_metadata import read_onnx_metadata  # noqa: E402

FLAGS = [
    "--size",
    "XS",
    "--render",
    "96x64",
    "--input",
    "64x64",
    "--batch-size",
    "2",
    "--train-frames",
    "8",
    "--val-frames",
    "2",
    "--threads",
    "1",
    "--render-workers",
    "1",
]


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("body_run")
    run_dir = root / "run"
    train_main(
        [
            *FLAGS,
            "--out",
            str(run_dir),
            "--steps",
            "3",
            "--eval-every",
            "3",
            "--checkpoint-every",
            "2",
            "--cache-dir",
            str(root / "cache"),
        ]
    )
    return run_dir


def test_training_writes_metrics_checkpoint_and_command(trained_run: Path) -> None:
    metrics = json.loads((trained_run / "metrics.json").read_text())
    assert metrics["history"][-1]["step"] == 3
    validation = metrics["validation"]
    assert set(validation) >= {"heatmaps_s4", "heatmaps_s2", "pull", "push", "total"}
    assert all(np.isfinite(v) for v in validation.values())
    assert metrics["command"].startswith("python -m training.body.train --size XS")
    assert (trained_run / "checkpoint.pt").exists()


def test_training_resumes_from_its_checkpoint(trained_run: Path, capsys) -> None:
    args = parse_args(
        [
            *FLAGS,
            "--out",
            str(trained_run),
            "--steps",
            "4",
            "--eval-every",
            "4",
            "--cache-dir",
            str(trained_run.parent / "cache"),
        ]
    )
    result = train(args)
    assert "resumed from" in capsys.readouterr().out
    assert [h["step"] for h in result["history"]] == [3, 4]


def test_export_is_self_describing_and_runs_in_the_core_estimator(
    trained_run: Path, tmp_path: Path
) -> None:
    model_path = tmp_path / "body.onnx"
    report = export(trained_run, model_path, "smoke_body", offset_frames=2)
    assert report["parity_max_abs"] < 1e-3
    metadata = read_onnx_metadata(model_path)
    assert metadata["task"] == "body_pose_2d_ae"
    assert metadata["keypoint_names"] == list(COCO_KEYPOINT_NAMES)
    assert (metadata["input"]["width"], metadata["input"]["height"]) == (96, 64)
    assert metadata["architecture"] == {
        "family": "litepose",
        "size": "XS",
        "kernel_size": 7,
        "head": "fusion",
        "tag_dim": 1,
    }
    assert len(metadata["keypoint_depth_offsets_m"]) == len(COCO_KEYPOINT_NAMES)
    assert metadata["complexity"]["macs"] == count_complexity(model_path).macs
    assert set(BODY_PEAK_OUTPUT_ROLES) <= set(metadata["outputs"])  # the decoder's own search
    assert BodyDecoder(metadata).uses_graph_peaks

    estimator = BodyEstimator(OnnxModel(model_path), flip_test=True, detection_threshold=0.0)
    frame = render_people_frame(5, 192, 128)
    depth_m = np.where(frame.depth_mm > 0, frame.depth_mm / 1000.0, np.nan).astype(np.float32)
    people = estimator.estimate(frame.color, depth_m, frame.intrinsics)
    joints = len(COCO_KEYPOINT_NAMES)
    assert people.uv_px.shape[1:] == (joints, 2) and people.xyz_m.shape[1:] == (joints, 3)
    assert set(people.timings) == {"preprocess_s", "inference_s", "decode_s", "lift_s"}


def test_coco_style_data_trains_exports_and_evaluates(tmp_path: Path) -> None:
    """The same commands on a COCO-format set (here the synthetic export, with a crowd box)."""
    from hand_pose_ros.synthetic.people.coco_export import write_dataset
    from training.body.evaluate import evaluate_coco

    data_dir = tmp_path / "coco"
    data = write_dataset(data_dir, range(4), 128, 96)
    data["annotations"].append(
        {"id": 999, "image_id": data["images"][0]["id"], "category_id": 1, "iscrowd": 1,
         "bbox": [0, 0, 40, 30], "area": 1200, "num_keypoints": 0, "keypoints": [0] * 51}
    )  # fmt: skip
    annotations = data_dir / "annotations.json"
    annotations.write_text(json.dumps(data))
    run_dir = tmp_path / "run"
    result = train(
        parse_args(
            [*FLAGS[:-4], "--threads", "1", "--render-workers", "1", "--out", str(run_dir),
             "--steps", "2", "--eval-every", "2", "--val-frames", "1", "--coco",
             str(annotations), "--cache-dir", str(tmp_path / "cache")]
        )
    )  # fmt: skip
    assert result["data"] == "coco" and result["train_seeds"] == [0, 3]
    cached = next((tmp_path / "cache").glob("body_coco_*/96x64/seeds_0_3"))
    valid = np.load(cached / "valid.npy")
    assert valid.shape == (3, 64, 96) and valid[0, :10, :20].max() == 0  # the crowd box
    # 128x96 letterboxed into 96x64 is 85x64 + 11 columns of padding: masked out.
    assert valid[1][:, :84].min() == 1 and valid[1][:, 86:].max() == 0

    model_path = tmp_path / "coco.onnx"
    export(run_dir, model_path, "smoke_body_coco", offset_frames=0)
    assert "keypoint_depth_offsets_m" not in read_onnx_metadata(model_path)
    report = evaluate_coco(model_path, annotations, data_dir, frames=2)
    assert report["images"] == 2 and report["layout"] == "coco17"


def test_warm_restart_starts_from_a_finished_run_and_records_the_chain(
    trained_run: Path, tmp_path: Path
) -> None:
    parent_steps = torch.load(trained_run / "checkpoint.pt", weights_only=False)["step"]
    common = [*FLAGS, "--init-from", str(trained_run), "--cache-dir",
              str(trained_run.parent / "cache")]  # fmt: skip
    restart = tmp_path / "restart"
    result = train(parse_args([*common, "--out", str(restart), "--steps", "1", "--eval-every",
                               "1"]))  # fmt: skip
    # Parameters one Adam step of lr 4e-3 away from the parent's.
    assert largest_weight_change(trained_run, restart) < 0.02
    metadata = read_onnx_metadata(export(restart, tmp_path / "restart.onnx", "restart", 0)
                                  ["model"])  # fmt: skip
    assert_chain_recorded(metadata["training"], "body", trained_run, restart, parent_steps)
    assert metadata["training"]["command"] == result["command"]

    again = tmp_path / "again"  # a restart of the restart counts the whole chain
    result = train(parse_args([*FLAGS, "--init-from", str(restart), "--cache-dir",
                               str(trained_run.parent / "cache"), "--out", str(again),
                               "--steps", "1", "--eval-every", "1"]))  # fmt: skip
    assert result["command"].count(" && ") == 2
    chained = read_onnx_metadata(export(again, tmp_path / "again.onnx", "again", 0)["model"])
    assert chained["training"]["steps"] == parent_steps + 2
    assert chained["training"]["warm_restart_at_step"] == parent_steps + 1

    with pytest.raises(SystemExit, match="its kernel is 7, this run's 3"):
        train(parse_args([*common, "--kernel", "3", "--out", str(tmp_path / "other")]))
