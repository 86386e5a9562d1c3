"""Print a model card (Markdown) from an exported model's own metadata.

    python -m training.common.model_card hand_pose_ros/models/hand_tiny_multitask.onnx

The README's model card is this command's output, so the card cannot drift from the file.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import onnx

from hand_pose_ros.core.model_metadata import METADATA_KEY

_PERCENT_METRICS = ("pck@0.1", "presence_accuracy", "depth_coverage")


def _format(name: str, value: object) -> str:
    if isinstance(value, float):
        return f"{100 * value:.1f}%" if name in _PERCENT_METRICS else f"{value:.2f}"
    return str(value)


def model_card(path: Path) -> str:
    model = onnx.load(str(path), load_external_data=False)
    meta = json.loads({p.key: p.value for p in model.metadata_props}[METADATA_KEY])
    training, complexity = meta.get("training", {}), meta.get("complexity", {})
    size_kb = path.stat().st_size / 1024
    lines = [
        f"### Model card: `{meta['model_name']}` ({path.name})",
        "",
        f"- Task: `{meta['task']}`; {len(meta['keypoint_names'])} keypoints per hand, sides "
        f"{', '.join(meta['sides'])}; input {meta['input']['width']}x{meta['input']['height']} "
        "depth in metres.",
        f"- Size: {complexity.get('params', '?'):,} parameters, "
        f"{complexity.get('flops', 0) / 1e6:.1f} MFLOPs (2 x MACs, counted on this file), "
        f"{size_kb:.0f} KB as fp32 ONNX.",
        f"- Trained on: {training.get('data', 'unknown')}; seeds in "
        f"[{', '.join(map(str, training.get('train_seeds', ['?'])))}); "
        f"{training.get('steps', '?')} steps of batch "
        f"{training.get('batch_size', '?')}, seed {training.get('seed', '?')}, "
        f"{training.get('train_time_s', '?')} s.",
        f"- Auxiliary tasks: {', '.join(training.get('auxiliary_tasks', [])) or 'none'}.",
        f"- Produced by: `{training.get('command', '?')}`",
        "",
    ]
    for key, result in sorted(meta.get("metrics", {}).items()):
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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Print a model card from ONNX metadata.")
    parser.add_argument("model", type=Path)
    print(model_card(parser.parse_args(argv).model))


if __name__ == "__main__":
    main()
