"""Print a model card (Markdown) from an exported model's own metadata.

    python -m training.common.model_card hand_pose_ros/models/hand_tiny_multitask.onnx

The README's model card is this command's output, so the card cannot drift from the file.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from hand_pose_ros.core.model_metadata import BODY_POSE_TASK, HAND_REFINER_TASK, VIDEO_POSE_TASK
from training.common.onnx_metadata import read_onnx_metadata

_PERCENT_METRICS = ("pck@0.1", "pck@0.2", "presence_accuracy", "depth_coverage", "keyframe_ratio")


def _format(name: str, value: object) -> str:
    if isinstance(value, float):
        if name in _PERCENT_METRICS:
            return f"{100 * value:.1f}%"
        return f"{value:.3f}" if abs(value) < 1 else f"{value:.2f}"
    return str(value)


def _task_line(meta: dict) -> str:
    """What the model computes, in the words of its own metadata."""
    size = f"input {meta['input']['width']}x{meta['input']['height']}"
    count = len(meta["keypoint_names"])
    if meta["task"] == BODY_POSE_TASK:
        arch = meta.get("architecture", {})
        return (
            f"- Task: `{meta['task']}`; multi-person, {count} keypoints per person, "
            f"associative-embedding grouping; {size} RGB (letterboxed); LitePose-"
            f"{arch.get('size', '?')}, {arch.get('kernel_size', '?')}x"
            f"{arch.get('kernel_size', '?')} depthwise kernels, {arch.get('head', '?')} head."
        )
    if meta["task"] == VIDEO_POSE_TASK:
        arch, roi = meta.get("architecture", {}), meta["roi"]
        kernel = arch.get("kernel_size", "?")
        return (
            f"- Task: `{meta['task']}`; tracks each person from frame to frame between "
            f"keyframes of a body model, {count} keypoints per person; {size} RGB "
            f"(letterboxed); per person a {roi['height_cells']}x{roi['width_cells']} ROI grid "
            f"and {count} distilled {kernel}x{kernel} pose kernels over "
            f"{arch.get('feature_channels', '?')} feature channels."
        )
    if meta["task"] == HAND_REFINER_TASK:
        spec = meta["input"]
        return (
            f"- Task: `{meta['task']}`; second stage of the hand pipeline: {count} keypoints of "
            f"one hand{' and their depths' if 'keypoint_depth' in meta['outputs'] else ''} from "
            f"a {spec['width']}x{spec['height']} crop, {spec['crop_margin']}x the box of the "
            f"first stage's hand mask (the first pass) or keypoints, depth relative to the hand "
            f"(+-{spec['depth_range_m']} m), "
            f"{spec['mirrored_side']} hands mirrored."
        )
    return (
        f"- Task: `{meta['task']}`; {count} keypoints per hand, sides "
        f"{', '.join(meta['sides'])}; {size} depth in metres."
    )


def _size_line(meta: dict, path: Path) -> str:
    complexity = meta.get("complexity", {})
    if "macs_per_frame" in complexity:
        return (
            f"- Size: {complexity.get('params', '?'):,} parameters; "
            f"{complexity['macs_per_frame'] / 1e6:.1f} MMACs per frame (frame encoder) + "
            f"{complexity['macs_per_person'] / 1e6:.1f} MMACs per tracked person (counted on "
            f"this file's graph); {path.stat().st_size / 1024:.0f} KB as fp32 ONNX."
        )
    flops = complexity.get("flops", 0)
    amount = f"{flops / 1e9:.2f} GFLOPs" if flops >= 1e9 else f"{flops / 1e6:.1f} MFLOPs"
    if "per" in complexity:
        amount += f" per {complexity['per']}"
    return (
        f"- Size: {complexity.get('params', '?'):,} parameters, {amount} (2 x MACs, counted on "
        f"this file), {path.stat().st_size / 1024:.0f} KB as fp32 ONNX."
    )


def model_card(path: Path) -> str:
    meta = read_onnx_metadata(path)
    training = meta.get("training", {})
    seeds = training.get("train_seeds") or ["?", "?"]
    lines = [
        f"### Model card: `{meta['model_name']}` ({path.name})",
        "",
        _task_line(meta),
        _size_line(meta, path),
        f"- Trained on: {training.get('data', 'unknown')}; seeds in "
        f"[{', '.join(map(str, seeds))}); "
        f"{training.get('steps', '?')} steps of batch "
        f"{training.get('batch_size', '?')}, seed {training.get('seed', '?')}, "
        f"{training.get('train_time_s', '?')} s.",
    ]
    if "decoding" in meta:  # body models: the defaults the node decodes with
        settings = ", ".join(f"{key} {value}" for key, value in sorted(meta["decoding"].items()))
        lines.append(f"- Decoding defaults: {settings}.")
    if training.get("depth_loss_weight"):
        lines.append(
            f"- Keypoint depth: L1 against the labelled surface depth, weight "
            f"{training['depth_loss_weight']:g} in the last run (each run's flags are in its "
            "command)."
        )
    if "auxiliary_tasks" in training:
        lines.append(f"- Auxiliary tasks: {', '.join(training['auxiliary_tasks']) or 'none'}.")
    lines += [f"- Produced by: `{training.get('command', '?')}`", ""]
    for key, result in sorted(meta.get("metrics", {}).items()):
        if meta["task"] == VIDEO_POSE_TASK:
            lines += _video_metrics(key, result)
            continue
        first, stop = result.get("seeds", ("?", "?"))
        lines.append(f"Measured on `{key}` (seeds in [{first}, {stop}), held out from training):")
        lines.append("")
        lines.append("| metric | value |")
        lines.append("|---|---|")
        for name, value in result.items():
            if name not in ("split", "seeds", "resolution"):
                lines.append(f"| {name} | {_format(name, value)} |")
        lines.append("")
    return "\n".join(lines)


def _motion_rule(result: dict) -> str:
    """The untracked-motion keyframe rule an evaluation ran with ('' when off or unrecorded)."""
    cells = result.get("min_motion_cells", 0)
    if not cells:
        return ""
    change = result.get("min_motion_change")
    return (
        f" or on untracked motion ({cells} cells"
        f"{f' of {change:g} mean brightness change' if change is not None else ''}, "
        f"{result['motion_gap_frames']} frames after a keyframe at the earliest)"
    )


def _video_metrics(key: str, result: dict) -> list[str]:
    """The tracker beside per-frame LitePose on the same held-out sequences."""
    first, stop = result.get("sequences", ("?", "?"))
    frame, video = result["per_frame_litepose"], result["video_dkd"]
    lines = [
        f"Measured on `{key}`: sequences of seeds [{first}, {stop}) (held out from training"
        f"{'; the tracker settings and model were chosen on it' if key == 'validation' else ''}), "
        f"{result['frames_per_sequence']} frames each at {result['resolution']}, keyframe "
        f"model `{result['body_model']}`, keyframe interval {result['keyframe_interval_frames']}"
        f"{_motion_rule(result)}, smoothing {'on' if result['smoothing'] else 'off'}:",
        "",
        "| metric | per-frame LitePose | LitePose keyframes + DKD |",
        "|---|---|---|",
    ]
    for name in (
        "pck@0.2",
        "id_switches_per_100_frames",
        "jitter_px",
        "mean_macs_per_frame",
        "keyframe_ratio",
    ):
        if name == "mean_macs_per_frame":
            lines.append(f"| GMACs per frame | {frame[name] / 1e9:.3f} | {video[name] / 1e9:.3f} |")
            continue
        lines.append(f"| {name} | {_format(name, frame[name])} | {_format(name, video[name])} |")
    lines += [
        "",
        f"MACs ratio {result['macs_ratio']:.3f}; PCK@0.2 difference "
        f"{result['pck_difference_points']:+.2f} points.",
        "",
    ]
    if "tracking" in result:
        settings = ", ".join(f"{name} {value:g}" for name, value in result["tracking"].items())
        lines += [f"Track settings: {settings}.", ""]
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Print a model card from ONNX metadata.")
    parser.add_argument("model", type=Path)
    print(model_card(parser.parse_args(argv).model))


if __name__ == "__main__":
    main()
