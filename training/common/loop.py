"""Pieces of the step loop every trainer shares: resuming from and writing the run checkpoint,
smoothed loss read-outs and the evaluation / checkpoint cadence.

The checkpoint holds each named part's state_dict plus step, history, elapsed_s and config,
so a run resumes exactly where it stopped whichever trainer wrote it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

from training.common.checkpoints import CHECKPOINT_NAME, load_checkpoint, save_checkpoint

PAST_WEIGHT, STEP_WEIGHT = 0.98, 0.02
"""Running losses shown and recorded: about the last 50 steps."""


def resume(path: Path, parts: dict[str, Any]) -> tuple[int, list[dict], float]:
    """Load each part's state from the checkpoint at `path` if there is one; returns (step,
    history, elapsed seconds), zeros and an empty history for a fresh run."""
    state = load_checkpoint(path)
    if state is None:
        return 0, [], 0.0
    for name, part in parts.items():
        part.load_state_dict(state[name])
    print(f"resumed from {path} at step {state['step']}", flush=True)
    return state["step"], state["history"], state["elapsed_s"]


def write_checkpoint(
    path: Path,
    parts: dict[str, Any],
    step: int,
    history: list[dict],
    elapsed_s: float,
    config: dict,
) -> None:
    """Save every part's state_dict and the run's progress (see `resume`)."""
    states = {name: part.state_dict() for name, part in parts.items()}
    save_checkpoint(path, **states, step=step, history=history, elapsed_s=elapsed_s, config=config)


def smooth_losses(running: dict[str, float], parts: dict[str, float]) -> None:
    """Update the running (exponentially smoothed) losses in place with one step's values."""
    for name, value in parts.items():
        running[name] = PAST_WEIGHT * running.get(name, value) + STEP_WEIGHT * value


def is_due(done: int, every: int, total_steps: int) -> bool:
    """Evaluate / checkpoint every `every` steps and always after the last one."""
    return done % every == 0 or done == total_steps


def to_channels_last(model: torch.nn.Module) -> torch.nn.Module:
    """The model with NHWC weights, so its convolutions (and their gradients) run NHWC.

    On CPU (oneDNN) the depthwise convolutions of these networks are much faster that way: a
    training step of the tiny hand network (batch 32, 1 thread) took 88 ms against 142 ms.
    Inputs can stay NCHW: a convolution runs NHWC when its weight is (LitePose-XS steps took
    the same time either way).
    """
    return model.to(memory_format=torch.channels_last)


def optimiser_step(loss: Any, optimizer: Any, scheduler: Any) -> None:
    """One update: clear gradients, back-propagate `loss`, step the optimiser and the schedule."""
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    scheduler.step()


def record_evaluation(
    history: list[dict],
    step: int,
    elapsed_s: float,
    running: dict[str, float],
    validation: dict,
    lr: float | None = None,
) -> None:
    """Append one evaluation to the history (and print it as a JSON line under the bar)."""
    entry: dict[str, Any] = {"step": step, "elapsed_s": round(elapsed_s, 1)}
    if lr is not None:
        entry["lr"] = lr
    entry.update(train_losses=dict(running), validation=validation)
    history.append(entry)
    tqdm.write(json.dumps(entry))


def finish_run(out: Path, summary: dict, started: float, history: list[dict]) -> dict:
    """Complete `summary` with the training time, history and last validation, and write it
    to `<out>/metrics.json`."""
    result = {
        **summary,
        "train_time_s": round(time.perf_counter() - started, 1),
        "history": history,
        "validation": history[-1]["validation"] if history else None,
    }
    (out / "metrics.json").write_text(json.dumps(result, indent=2))
    return result


def progress_bar(start_step: int, total_steps: int, name: str, **options: Any) -> tqdm:
    """The steps still to run, as a tqdm bar that counts from the resumed step."""
    return tqdm(
        range(start_step, total_steps),
        initial=start_step,
        total=total_steps,
        desc=name,
        unit="step",
        **options,
    )


@dataclass
class LoopSettings:
    """A run's step count and cadence, its folder and the config its checkpoints record."""

    out: Path
    steps: int
    eval_every: int
    checkpoint_every: int
    config: dict


def run_steps(
    settings: LoopSettings,
    parts: dict[str, Any],
    train_step: Callable[[int], dict[str, float]],
    evaluate: Callable[[], dict],
    postfix: Callable[[dict[str, float]], dict[str, str]],
) -> tuple[list[dict], float]:
    """Resume from the run's checkpoint, then call ``train_step(step)`` (one update, returning
    its losses) to the end, evaluating and checkpointing on the cadence. ``parts["model"]`` is
    put back in training mode after each evaluation. Returns the history and the start time
    (perf_counter, shifted back by the time already trained) for `finish_run`."""
    checkpoint_path = settings.out / CHECKPOINT_NAME
    start_step, history, elapsed_s = resume(checkpoint_path, parts)
    started = time.perf_counter() - elapsed_s
    running: dict[str, float] = {}
    parts["model"].train()
    progress = progress_bar(start_step, settings.steps, settings.out.name)
    for step in progress:
        smooth_losses(running, train_step(step))
        progress.set_postfix(**postfix(running))
        done = step + 1
        if is_due(done, settings.eval_every, settings.steps):
            elapsed_s = time.perf_counter() - started
            metrics = evaluate()
            parts["model"].train()
            record_evaluation(history, done, elapsed_s, running, metrics)
        if is_due(done, settings.checkpoint_every, settings.steps):
            write_checkpoint(checkpoint_path, parts, done, history,
                             time.perf_counter() - started, settings.config)
    return history, started
