"""Warm restarts (``--init-from``): a run that starts from another run's final weights with a
fresh optimiser and schedule.

What the shipped weights cost must count the whole chain, so the child's config carries its
parent's reproducing command and totals: ``init_command``, ``init_steps``,
``init_train_time_s``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import torch

from training.common.checkpoints import CHECKPOINT_NAME, load_checkpoint
from training.common.onnx_metadata import read_onnx_metadata
from training.common.onnx_weights import load_onnx_weights


def chain_totals(state: dict) -> tuple[int, float]:
    """Steps and training seconds of a run's checkpoint ``state``, counting the warm-restart
    chain that led to it."""
    config = state["config"]
    steps = state["step"] + config.get("init_steps", 0)
    return steps, round(state["elapsed_s"] + config.get("init_train_time_s", 0.0), 1)


def initial_weights(
    run_dir: Path, config: dict, architecture_keys: Iterable[str],
    recorded_before: Mapping[str, Any] | None = None,
) -> tuple[dict, dict]:
    """Final weights of the finished run in ``run_dir`` and its configuration, refusing a run
    whose ``architecture_keys`` differ from ``config``'s (``recorded_before`` gives the value
    of a key that runs recorded before it existed had). The configuration's ``steps_done``
    and ``train_time_s`` cover that run's own chain as well."""
    state = load_checkpoint(run_dir / CHECKPOINT_NAME)
    if state is None:
        raise SystemExit(f"--init-from: no checkpoint in {run_dir}")
    parent = state["config"]
    recorded_before = recorded_before or {}
    for key in architecture_keys:
        parent_value = parent.get(key, recorded_before.get(key))
        if parent_value != config.get(key):
            raise SystemExit(
                f"--init-from {run_dir}: its {key} is {parent_value!r}, this run's "
                f"{config.get(key)!r}"
            )
    if state["step"] < parent["steps"]:
        raise SystemExit(
            f"--init-from {run_dir}: that run stopped at step {state['step']} of "
            f"{parent['steps']}; finish it first"
        )
    steps_done, train_time_s = chain_totals(state)
    return state["model"], {**parent, "steps_done": steps_done, "train_time_s": train_time_s}


def record_parent(config: dict, parent: dict, parent_command: str) -> None:
    """Note in ``config`` where its weights came from (see the module docstring)."""
    config["init_command"] = parent_command
    config["init_steps"] = parent["steps_done"]
    config["init_train_time_s"] = parent["train_time_s"]


def start_from(
    run_dir: Path,
    model: torch.nn.Module,
    config: dict,
    architecture_keys: Iterable[str],
    command_line: Callable[[dict], str],
    new_layers: tuple[str, ...] = (),
    recorded_before: Mapping[str, Any] | None = None,
) -> None:
    """Load the finished run's final weights into ``model`` and note the parent in ``config``;
    ``command_line`` is the trainer's own (it rebuilds the parent's command from its config).

    Parameters under the ``new_layers`` prefixes may be missing from the parent (it predates
    them): they keep this run's initial values, which a seeded model draws the same way in a
    re-run of the whole chain. Anything else missing or unexpected is refused.
    """
    weights, parent = initial_weights(run_dir, config, architecture_keys, recorded_before)
    missing, unexpected = model.load_state_dict(weights, strict=False)
    refused = [key for key in missing if not key.startswith(new_layers)] + unexpected
    if refused:
        raise SystemExit(f"--init-from {run_dir}: its weights do not fit this model: {refused}")
    record_parent(config, parent, command_line(parent))


def chained_command(config: dict, command: str) -> str:
    """``command`` (this run's) preceded by the chain of commands that led to its start."""
    if config.get("init_from") not in (None, "None"):
        command += f" --init-from {config['init_from']}"
    return f"{config['init_command']} && {command}" if config.get("init_command") else command


def export_step(
    command: str, exporter_module: str, model_path: Path, model_name: str | None
) -> str | None:
    """The export that turned the last run of a recorded ``command`` chain into
    ``model_path``: its run folder is that run's ``--out``. None when the chain names none."""
    words = command.split(" && ")[-1].split()
    outs = [words[i + 1] for i, word in enumerate(words[:-1]) if word == "--out"]
    if not outs:
        return None
    name = f" --name {model_name}" if model_name else ""
    return f"python -m {exporter_module} --run {outs[-1]} --out {model_path}{name}"


def is_model_file(path: Path) -> bool:
    """Whether ``--init-from`` names an exported model rather than a run folder."""
    return Path(path).suffix == ".onnx"


def start_from_model(
    model_path: Path,
    model: torch.nn.Module,
    config: dict,
    exported: torch.nn.Module,
    calibration: torch.Tensor,
    exporter_module: str,
) -> None:
    """Load an exported model's weights into ``model`` (`training.common.onnx_weights`: its
    BatchNorms rebuilt from the ``calibration`` inputs; ``exported`` wraps ``model`` as it was
    exported) and note in ``config`` the file's own chain from its metadata, followed by the
    ``exporter_module`` command that wrote the file (see `export_step`)."""
    metadata = read_onnx_metadata(model_path)
    training = metadata.get("training", {})
    load_onnx_weights(model, model_path, calibration, exported)
    command = training.get("command")
    if command:
        step = export_step(command, exporter_module, model_path, metadata.get("model_name"))
        command = f"{command} && {step}" if step else command
    config["init_command"] = command
    config["init_steps"] = int(training.get("steps", 0))
    config["init_train_time_s"] = float(training.get("train_time_s", 0.0))
