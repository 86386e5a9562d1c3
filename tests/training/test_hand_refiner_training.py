"""The refiner's data, a tiny real training run, export, and the file in the node."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from hand_pose_ros.core.hand_crops import crop_input  # noqa: E402
from hand_pose_ros.core.hand_estimator import HandDecoder, HandEstimator  # noqa: E402
from hand_pose_ros.core.hand_refiner import RefinerDecoder  # noqa: E402
from hand_pose_ros.core.heatmaps import decode_peaks, heatmap_to_input_px  # noqa: E402
from hand_pose_ros.core.model_runtime import OnnxModel  # noqa: E402
from hand_pose_ros.core.preprocess import make_network_input  # noqa: E402
from hand_pose_ros.core.skeletons import HAND_KEYPOINT_NAMES  # noqa: E402
from hand_pose_ros.nodes.hand_pose_node import shipped_model_path  # noqa: E402
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
from training.hand.data import (  # noqa: E402
    VISIBLE,
    load_or_render,
    renderer_version,
    split_seeds,
)
from training.hand.export_refiner import export  # noqa: E402
from training.hand.losses import keypoint_depth_loss  # noqa: E402
from training.hand.refiner_data import (  # noqa: E402
    CROP_SPEC,
    MIRRORED_SIDE,
    REFINER_STRIDE,
    RefinerBatches,
    first_stage_boxes,
    hand_crop,
    heatmap_targets,
    labelled_hands,
)
from training.hand.train_refiner import main as train_main  # noqa: E402
from training.hand.train_refiner import parse_args  # noqa: E402
from training.hand.train_refiner import train as run_training  # noqa: E402

SMALL_RUN = ["--batch-size", "4", "--train-frames", "24", "--val-frames", "4",
             "--render-workers", "1", "--threads", "1"]


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("refiner_run")
    run_dir = root / "run"
    train_main([*SMALL_RUN, "--out", str(run_dir), "--steps", "6", "--eval-every", "6",
                "--checkpoint-every", "3", "--cache-dir", str(root / "cache"),
                "--depth-weight", "20"])
    return run_dir


def test_target_peaks_map_back_onto_the_labels_through_the_crop(tmp_path: Path) -> None:
    arrays = load_or_render(split_seeds("train", 24), tmp_path, workers=1)
    batches = RefinerBatches(arrays)
    assert batches.size > 0
    checked = 0
    for frame, side in batches.hands[:6]:
        uv = arrays["keypoints_uv"][frame, side].astype(np.float64)
        crop = hand_crop(uv, int(side), np.random.default_rng(int(frame)))
        assert crop.mirrored == (side == MIRRORED_SIDE)
        in_frame = arrays["visibility"][frame, side] > 0
        targets = heatmap_targets(uv, in_frame, crop)
        xy, peak = decode_peaks(targets)
        # Peaks off the map's border (a Gaussian cut by the border decodes off-centre).
        cells = targets.shape[-1]
        found = (peak > 0.5) & np.all((xy >= 1) & (xy <= cells - 2), axis=1)
        back = crop.to_image(heatmap_to_input_px(xy, REFINER_STRIDE))
        np.testing.assert_allclose(back[found], uv[found], atol=0.02)
        checked += int(found.sum())
    assert checked > 40


def test_batches_are_crops_with_one_target_per_keypoint(tmp_path: Path) -> None:
    batches = RefinerBatches(load_or_render(split_seeds("train", 24), tmp_path, workers=1))
    batch = batches.batch(np.random.default_rng(0), 5)
    size, cells = CROP_SPEC.size_px, CROP_SPEC.size_px // REFINER_STRIDE
    assert batch.inputs.shape == (5, 1, size, size)
    assert batch.heatmaps.shape == (5, len(HAND_KEYPOINT_NAMES), cells, cells)
    assert float(batch.inputs.min()) >= -1.0 and float(batch.inputs.max()) <= 1.0
    assert float(batch.heatmaps.amax(dim=(2, 3)).mean()) > 0.5  # most keypoints have a peak
    assert batch.keypoint_depth.shape == batch.depth_mask.shape == (5, len(HAND_KEYPOINT_NAMES))
    assert batch.depth_mask.float().mean() > 0.3
    assert not batch.keypoint_depth[~batch.depth_mask].any()


def test_depth_targets_are_the_labelled_surface_relative_to_the_crops_reference(
    tmp_path: Path,
) -> None:
    arrays = load_or_render(split_seeds("train", 24), tmp_path, workers=1)
    batches = RefinerBatches(arrays)
    rng_seed = [7, 1]
    batch = batches.batch(np.random.default_rng(rng_seed), 1)
    # Replay the batch's draws: the hand, then its crop.
    rng = np.random.default_rng(rng_seed)
    frame, side = batches.hands[rng.integers(0, batches.size, 1)][0]
    uv = arrays["keypoints_uv"][frame, side].astype(np.float64)
    crop = hand_crop(uv, int(side), rng)
    _, reference_m = crop_input(arrays["depth_m"][frame].astype(np.float32), crop, CROP_SPEC)
    label_m = arrays["keypoint_depth_m"][frame, side]
    mask = batch.depth_mask[0].numpy()
    assert mask.any()
    assert (arrays["visibility"][frame, side][mask] == VISIBLE).all()
    np.testing.assert_allclose(
        batch.keypoint_depth[0].numpy()[mask] * CROP_SPEC.depth_range_m + reference_m,
        label_m[mask], atol=1e-5,
    )


def test_the_depth_loss_weighs_the_map_around_each_labelled_keypoint_only() -> None:
    heatmaps = torch.zeros(1, 2, 4, 4)
    heatmaps[0, 0, 1, 1] = heatmaps[0, 1, 2, 2] = 1.0
    predicted = torch.full((1, 2, 4, 4), 9.0)
    predicted[0, 0, 1, 1] = 0.5
    target = torch.tensor([[0.25, 3.0]])
    loss = keypoint_depth_loss(predicted, heatmaps, target, torch.tensor([[True, False]]))
    assert float(loss) == pytest.approx(0.25)  # only keypoint 0, only at its peak


def test_training_writes_metrics_and_resumes(trained_run: Path, capsys) -> None:
    metrics = json.loads((trained_run / "metrics.json").read_text())
    assert metrics["history"][-1]["step"] == 6
    assert set(metrics["history"][-1]["train_losses"]) == {"heatmaps", "keypoint_depth"}
    assert np.isfinite(metrics["validation"]["mean_3d_error_mm"])
    assert metrics["validation"]["frames"] == 4
    assert 0.0 <= metrics["validation"]["pck@0.1"] <= 1.0
    args = parse_args(["--out", str(trained_run), "--steps", "8", *SMALL_RUN, "--depth-weight",
                       "20", "--eval-every", "8", "--cache-dir", str(trained_run.parent / "cache")])
    result = run_training(args)
    assert "resumed from" in capsys.readouterr().out
    assert [h["step"] for h in result["history"]] == [6, 8]


def test_export_is_self_describing_and_runs_in_the_node(trained_run: Path, tmp_path: Path) -> None:
    refiner_path = tmp_path / "refiner.onnx"
    report = export(trained_run, refiner_path, "smoke_refiner")
    assert report["parity_max_abs"] < 1e-4
    metadata = read_onnx_metadata(refiner_path)
    RefinerDecoder(metadata)  # the core accepts the contract it wrote
    assert metadata["complexity"]["flops"] == count_complexity(refiner_path).flops
    assert metadata["training"]["command"].startswith("python -m training.hand.train_refiner")
    assert "--depth-weight 20" in metadata["training"]["command"]
    assert set(metadata["outputs"]) == {"heatmaps", "keypoint_depth"}

    frame = render_frame(3, 224, 172)
    parameters = {"refiner_model": str(refiner_path), "presence_threshold": 0.0}
    with InProcessHarness(parameters) as harness:
        assert harness.node.estimator.refiner.model.name == "smoke_refiner"
        assert harness.wait_for_connections()
        result = keypoints_for(harness, metres_to_depth_image(frame.depth_m),
                               intrinsics_to_camera_info(frame.intrinsics), wait_s=5.0)
    assert len(result.cloud) == 2 * len(HAND_KEYPOINT_NAMES)


def test_warm_restart_starts_from_the_run_and_counts_the_chain(
    trained_run: Path, tmp_path: Path
) -> None:
    parent_steps = torch.load(trained_run / "checkpoint.pt", weights_only=False)["step"]
    restart = tmp_path / "restart"
    train_main([*SMALL_RUN, "--init-from", str(trained_run), "--eval-every", "1",
                "--cache-dir", str(trained_run.parent / "cache"), "--out", str(restart),
                "--steps", "1", "--lr", "1e-3"])
    assert largest_weight_change(trained_run, restart) < 0.01
    metadata = read_onnx_metadata(export(restart, tmp_path / "restart.onnx", "restart")["model"])
    assert_chain_recorded(metadata["training"], "hand", trained_run, restart, parent_steps)
    assert metadata["training"]["command"].split(" && ")[1].startswith(
        "python -m training.hand.train_refiner"
    )


def test_a_warm_restart_adds_the_depth_head_to_a_run_from_before_it(
    trained_run: Path, tmp_path: Path
) -> None:
    # A parent as runs from before the depth head left it: no depth layer, no depth flag.
    old = tmp_path / "old"
    old.mkdir()
    state = torch.load(trained_run / "checkpoint.pt", weights_only=False)
    state["model"] = {k: v for k, v in state["model"].items() if "keypoint_depth" not in k}
    state["config"] = {k: v for k, v in state["config"].items() if k != "depth_weight"}
    torch.save(state, old / "checkpoint.pt")
    restart = tmp_path / "restart"
    common = [*SMALL_RUN, "--init-from", str(old), "--eval-every", "1", "--steps", "1",
              "--cache-dir", str(trained_run.parent / "cache"), "--depth-weight", "20"]
    train_main([*common, "--out", str(restart)])
    command = read_onnx_metadata(
        export(restart, tmp_path / "restart.onnx", "restart")["model"]
    )["training"]["command"]
    parent_command, own_command = command.split(" && ")
    assert "--depth-weight" not in parent_command and "--depth-weight 20" in own_command

    state["model"] = {k: v for k, v in state["model"].items() if not k.startswith("dense.")}
    torch.save(state, old / "checkpoint.pt")
    with pytest.raises(SystemExit, match="do not fit this model"):
        train_main([*common, "--out", str(tmp_path / "refused")])


def test_a_share_of_the_crops_is_cut_around_the_first_stages_boxes(tmp_path: Path) -> None:
    arrays = load_or_render(split_seeds("train", 24), tmp_path, workers=1)
    boxes = np.full((24, 2, 2, 2), np.nan)
    for frame, side in labelled_hands(arrays):  # each hand's box, 6 px to the right
        uv = arrays["keypoints_uv"][frame, side].astype(np.float64)
        boxes[frame, side] = np.stack([uv.min(axis=0), uv.max(axis=0)]) + [6.0, 0.0]
    batches = RefinerBatches(arrays, boxes=boxes, box_share=1.0)
    rng_seed = [3, 2]
    batch = batches.batch(np.random.default_rng(rng_seed), 1)
    # Replay the draws: the hand, whether it takes the box, then the crop around the box.
    rng = np.random.default_rng(rng_seed)
    frame, side = batches.hands[rng.integers(0, batches.size, 1)][0]
    rng.random()
    crop = hand_crop(boxes[frame, side], int(side), rng)
    expected, _ = crop_input(arrays["depth_m"][frame].astype(np.float32), crop, CROP_SPEC)
    np.testing.assert_array_equal(batch.inputs[0, 0].numpy(), expected)
    with pytest.raises(ValueError, match="box_share"):
        RefinerBatches(arrays, boxes=boxes, box_share=1.5)


def test_first_stage_boxes_are_the_crops_the_estimator_would_cut(tmp_path: Path) -> None:
    arrays = load_or_render(split_seeds("train", 24), tmp_path, workers=1)
    model_path = shipped_model_path()
    boxes = first_stage_boxes(arrays, model_path, tmp_path)
    assert boxes.shape == (24, 2, 2, 2)
    hands = labelled_hands(arrays)
    found = boxes[hands[:, 0], hands[:, 1]]
    assert np.isfinite(found).all()
    # The shipped first stage's box holds the middle of most labelled hands.
    middles = np.array([
        np.nanmedian(arrays["keypoints_uv"][frame, side], axis=0) for frame, side in hands
    ])
    inside = ((middles >= found[:, 0]) & (middles <= found[:, 1])).all(axis=1)
    assert inside.mean() > 0.7
    # What the estimator's first crop is cut around, on the first hand's frame.
    frame, side = hands[0]
    depth_m = arrays["depth_m"][frame].astype(np.float32)
    model = OnnxModel(model_path)
    decoder = HandDecoder(model.metadata)
    raw = model.run(make_network_input(depth_m, model.input_spec))
    outputs = {name: value[0] for name, value in raw.items()}
    all_sides = decoder.decode(outputs, *depth_m.shape, presence_threshold=0.0)
    masks = decoder.mask_corners(outputs, all_sides, *depth_m.shape)
    if masks[side] is not None:
        np.testing.assert_allclose(boxes[frame, side], masks[side])
    cached = list(tmp_path.glob(f"first_stage_boxes_*_24_{renderer_version()}.npy"))
    assert len(cached) == 1
    np.testing.assert_array_equal(first_stage_boxes(arrays, model_path, tmp_path), boxes)


def test_a_warm_restart_from_an_exported_refiner_with_first_stage_crops(
    trained_run: Path, tmp_path: Path
) -> None:
    parent_path = tmp_path / "parent.onnx"
    export(trained_run, parent_path, "parent")
    parent_steps = read_onnx_metadata(parent_path)["training"]["steps"]
    restart = tmp_path / "restart"
    train_main([*SMALL_RUN, "--init-from", str(parent_path), "--eval-every", "1",
                "--cache-dir", str(trained_run.parent / "cache"), "--out", str(restart),
                "--steps", "1", "--lr", "1e-6", "--depth-weight", "20",
                "--first-stage", str(shipped_model_path()), "--first-stage-share", "1"])
    child_path = tmp_path / "child.onnx"
    export(restart, child_path, "child")
    crops = np.random.default_rng(0).uniform(-1, 1, (4, 1, CROP_SPEC.size_px, CROP_SPEC.size_px))
    assert_started_from_file(
        parent_path, child_path, parent_steps, crops.astype(np.float32), "heatmaps",
        f"python -m training.hand.export_refiner --run {trained_run} --out {parent_path} "
        "--name parent",
    )
    command = read_onnx_metadata(child_path)["training"]["command"]
    assert f"--first-stage {shipped_model_path()} --first-stage-share 1" in command
    assert "of the crops (last run) cut around the boxes" in (
        read_onnx_metadata(child_path)["training"]["data"]
    )


@pytest.mark.parametrize(("arch", "flops_ratio_range"), [("wide", (1.8, 2.2)),
                                                        ("wide2", (3.2, 3.7))])
def test_a_wider_refiner_trains_exports_and_refuses_a_tiny_parent(
    trained_run: Path, tmp_path: Path, arch: str, flops_ratio_range: tuple[float, float]
) -> None:
    cache = ["--cache-dir", str(trained_run.parent / "cache")]
    wide = tmp_path / arch
    train_main([*SMALL_RUN, *cache, "--arch", arch, "--steps", "1", "--eval-every", "1",
                "--out", str(wide)])
    wide_file = export(wide, tmp_path / f"{arch}.onnx", arch)["model"]
    tiny_file = export(trained_run, tmp_path / "tiny.onnx", "tiny")["model"]
    wide_metadata, tiny_metadata = read_onnx_metadata(wide_file), read_onnx_metadata(tiny_file)
    assert f"--arch {arch}" in wide_metadata["training"]["command"]
    assert "--arch" not in tiny_metadata["training"]["command"]
    flops_ratio = wide_metadata["complexity"]["flops"] / tiny_metadata["complexity"]["flops"]
    assert flops_ratio_range[0] < flops_ratio < flops_ratio_range[1]

    estimator = HandEstimator(OnnxModel(shipped_model_path()), refiner=OnnxModel(wide_file))
    frame = render_frame(split_seeds("validation", 1)[0], 160, 120)
    hands = estimator.estimate(frame.depth_m, frame.intrinsics).hands
    assert hands and all(np.isfinite(hand.uv_px).all() for hand in hands)

    # A parent recorded before the flag existed is tiny: it does not fit a wider network.
    old = tmp_path / "old"
    old.mkdir()
    state = torch.load(trained_run / "checkpoint.pt", weights_only=False)
    state["config"] = {k: v for k, v in state["config"].items() if k != "arch"}
    torch.save(state, old / "checkpoint.pt")
    with pytest.raises(SystemExit, match=f"its arch is 'tiny', this run's '{arch}'"):
        train_main([*SMALL_RUN, *cache, "--arch", arch, "--init-from", str(old),
                    "--steps", "1", "--out", str(tmp_path / "refused")])
