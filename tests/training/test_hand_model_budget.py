"""The hand network's budget (Chidananda et al.: under 35 MFLOPs and 300 KB as fp32 ONNX),
counted on exported files: the shipped ones and fresh exports of the architectures."""

from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from hand_pose_ros.nodes.hand_pose_node import shipped_model_path  # noqa: E402
from hand_pose_ros.nodes.hand_pose_parameters import (  # noqa: E402
    IN_BUDGET_REFINER_NAME,
    SHIPPED_REFINER_NAME,
)
from training.common.onnx_complexity import count_complexity  # noqa: E402
from training.hand.data import INPUT_SPEC  # noqa: E402
from training.hand.networks import build_hand_net  # noqa: E402

MAX_FLOPS = 35e6
MAX_FILE_BYTES = 300 * 1024
MAX_PARAMS = 75_000
HANDS = 2
SLIM_REFINER_PASSES = 2


def _export(arch: str, path: Path) -> Path:
    model = build_hand_net(arch).eval()
    dummy = torch.zeros(1, 1, INPUT_SPEC["height"], INPUT_SPEC["width"])
    torch.onnx.export(model, dummy, str(path), input_names=["depth"], opset_version=17,
                      dynamo=False)
    return path


def test_shipped_hand_model_is_within_budget() -> None:
    complexity = count_complexity(shipped_model_path())
    assert complexity.flops <= MAX_FLOPS
    assert complexity.file_bytes <= MAX_FILE_BYTES
    assert complexity.params <= MAX_PARAMS


def test_tiny_architecture_is_within_budget_and_baseline_is_not(tmp_path: Path) -> None:
    tiny = count_complexity(_export("tiny", tmp_path / "tiny.onnx"))
    baseline = count_complexity(_export("mobilenet_v2", tmp_path / "mobilenet_v2.onnx"))
    assert tiny.flops <= MAX_FLOPS and tiny.params <= MAX_PARAMS
    # The comparison the ablation makes: the baseline costs several times more.
    assert baseline.flops > 4 * tiny.flops
    assert baseline.params > 4 * tiny.params


def test_slim_first_stage_and_the_refiner_fit_the_budget_together(tmp_path: Path) -> None:
    """The in-budget two-stage configuration (README): slim first stage, the tiny refiner
    twice on each of two hands. The default pair (tiny first stage + wide refiner) is over it,
    as the tiny refiner alone behind the tiny first stage already is."""
    slim = count_complexity(_export("slim", tmp_path / "slim.onnx"))
    tiny = count_complexity(_export("tiny", tmp_path / "tiny.onnx"))
    refiner = count_complexity(shipped_model_path().with_name(IN_BUDGET_REFINER_NAME))
    refiner_flops = HANDS * SLIM_REFINER_PASSES * refiner.flops
    assert slim.flops + refiner_flops <= MAX_FLOPS
    # The budget's 300 KB is 75k fp32 parameters; the two files also carry their metadata
    # (the README gives their bytes).
    assert slim.params + refiner.params <= MAX_PARAMS
    assert tiny.flops + HANDS * refiner.flops > MAX_FLOPS
    default_refiner = count_complexity(shipped_model_path().with_name(SHIPPED_REFINER_NAME))
    assert default_refiner.flops > refiner.flops
