"""The paper's ablation: tiny alone, tiny + auxiliary tasks, MobileNetV2 baseline.

    python -m training.hand.ablation --steps 2000 --out runs/hand_ablation

Each variant trains with the same data, schedule and seed, is exported, and is evaluated on the
held-out test split through the node's estimator. Runs resume like `training.hand.train`.
Prints a Markdown table and writes `<out>/ablation.json`.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from training.hand.evaluate import evaluate
from training.hand.export import export
from training.hand.train import parse_args as train_args
from training.hand.train import train

VARIANTS = {
    # name: (architecture, auxiliary tasks)
    "tiny": ("tiny", False),
    "tiny+aux": ("tiny", True),
    "mobilenet_v2": ("mobilenet_v2", False),
}


def run_variant(name: str, args: argparse.Namespace) -> dict:
    arch, aux = VARIANTS[name]
    run_dir = args.out / name.replace("+", "_")
    flags = ["--arch", arch, "--aux" if aux else "--no-aux", "--out", str(run_dir),
             "--steps", str(args.steps), "--batch-size", str(args.batch_size),
             "--seed", str(args.seed), "--eval-every", str(args.steps),
             "--cache-dir", str(args.cache_dir), "--threads", str(args.threads)]
    if args.train_frames:
        flags += ["--train-frames", str(args.train_frames)]
    if not (run_dir / "metrics.json").exists():
        train(train_args(flags))
    model_path = run_dir / "model.onnx"
    report = export(run_dir, model_path, f"hand_{name}")
    result = evaluate(model_path, "test", args.test_frames, 160, 120)
    return {"variant": name, "architecture": arch, "auxiliary_tasks": aux,
            "flops": report["flops"], "params": report["params"], "test": result}


def markdown_table(rows: list[dict]) -> str:
    lines = ["| variant | MFLOPs | params | PCK@0.1 | 3D error (mm) | presence acc. |",
             "|---|---|---|---|---|---|"]
    for row in rows:
        test = row["test"]
        lines.append(
            f"| {row['variant']} | {row['flops'] / 1e6:.1f} | {row['params']:,} | "
            f"{100 * test['pck@0.1']:.1f}% | {test['mean_3d_error_mm']:.1f} | "
            f"{100 * test['presence_accuracy']:.1f}% |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Tiny vs tiny+aux vs MobileNetV2 ablation.")
    parser.add_argument("--out", type=Path, default=Path("runs/hand_ablation"))
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--train-frames", type=int, default=None)
    parser.add_argument("--test-frames", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cache-dir", type=Path, default=Path("data/cache"))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--variants", nargs="+", choices=sorted(VARIANTS), default=list(VARIANTS))
    args = parser.parse_args(argv)
    rows = [run_variant(name, args) for name in args.variants]
    (args.out / "ablation.json").write_text(json.dumps(rows, indent=2))
    print(markdown_table(rows))


if __name__ == "__main__":
    main()
