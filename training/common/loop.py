"""Pieces of the step loop every trainer shares: resuming from and writing the run checkpoint,
smoothed loss read-outs and the evaluation / checkpoint cadence.

The checkpoint holds each named part's state_dict plus step, history, elapsed_s and config,
so a run resumes exactly where it stopped whichever trainer wrote it.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

from training.common.checkpoints import load_checkpoint, save_checkpoint

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
