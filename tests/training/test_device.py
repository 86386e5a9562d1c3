"""Choosing where a trainer's network runs: refusals, batch moves, recorded commands."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from training.body.train import command_line as body_command  # noqa: E402
from training.body.train import parse_args as body_args  # noqa: E402
from training.common.device import (  # noqa: E402
    batch_to_device,
    module_device,
    training_device,
)
from training.hand.train import command_line as hand_command  # noqa: E402
from training.hand.train import parse_args as hand_args  # noqa: E402
from training.video.train import command_line as video_command  # noqa: E402
from training.video.train import parse_args as video_args  # noqa: E402


@dataclasses.dataclass
class ExampleBatch:
    inputs: torch.Tensor
    labels_uv: np.ndarray


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA GPU")
def test_cuda_without_a_gpu_is_refused_with_the_reason() -> None:
    with pytest.raises(SystemExit, match=r"--device cuda: torch .* sees no CUDA GPU"):
        training_device("cuda")
    assert training_device("cpu") == torch.device("cpu")


def test_batches_move_their_tensors_and_keep_numpy_labels() -> None:
    batch = ExampleBatch(torch.ones(2, 3), np.zeros((2, 17, 2)))
    assert batch_to_device(batch, torch.device("cpu")) is batch  # already there: no copy
    moved = batch_to_device(batch, torch.device("meta"))  # a device every build has
    assert moved.inputs.device.type == "meta" and moved.inputs.shape == (2, 3)
    assert moved.labels_uv is batch.labels_uv and batch.inputs.device.type == "cpu"


def test_a_network_is_where_its_weights_are() -> None:
    network = torch.nn.Linear(2, 2)
    assert module_device(network) == torch.device("cpu")
    assert module_device(network.to("meta")).type == "meta"


@pytest.mark.parametrize(
    ("parse", "command"),
    [(hand_args, hand_command), (body_args, body_command), (video_args, video_command)],
)
def test_recorded_commands_name_the_device_only_when_it_is_not_the_cpu(parse, command) -> None:
    for device, expected in (("cpu", False), ("cuda", True)):
        args = vars(parse(["--out", "runs/x", "--device", device]))
        # As the trainers record them: paths as text, sizes as WxH.
        config = {
            key: "x".join(map(str, value)) if isinstance(value, tuple) else
            (str(value) if isinstance(value, Path) else value)
            for key, value in args.items()
        }
        assert ("--device cuda" in command(config)) is expected
        assert "--device cpu" not in command(config)
