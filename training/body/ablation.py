"""LitePose's two ablations in kind: 7x7 vs 3x3 depthwise kernels, Fusion Deconv vs plain head.

    python -m training.body.ablation --steps 6000 --input 192x144 --out runs/body_ablation

Each variant trains with the same data, schedule and seed, is exported, and is evaluated on
the held-out test split through the node's estimator. Runs resume like `training.body.train`
(a finished variant is not retrained). Prints a Markdown table and writes
`<out>/ablation.json`. The paper reports +13 mAP for 7x7 (~25% more compute) and +7.6 mAP for
the fusion head (~15% more compute) on CrowdPose/COCO with full-length GPU training; a short
CPU schedule on synthetic data shows the direction, not those magnitudes.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from training.body.evaluate import evaluate_synthetic
from training.body.export import export
from training.body.train import format_size, parse_size, train
from training.body.train import parse_args as train_args

VARIANTS = {
    # name: (kernel size, head)
    "k7_fusion": (7, "fusion"),
    "k3_fusion": (3, "fusion"),
    "k7_plain": (7, "plain"),
}


def run_variant(name: str, args: argparse.Namespace) -> dict:
    kernel, head = VARIANTS[name]
    run_dir = args.out / name
    flags = [
        "--size",
        args.size,
        "--kernel",
        str(kernel),
        "--head",
        head,
        "--out",
        str(run_dir),
        "--input",
        format_size(args.input),
        "--render",
        format_size(args.render),
        "--steps",
        str(args.steps),
        "--batch-size",
        str(args.batch_size),
        "--seed",
        str(args.seed),
        "--eval-every",
        str(args.steps),
        "--cache-dir",
        str(args.cache_dir),
        "--threads",
        str(args.threads),
        "--render-workers",
        str(args.render_workers),
    ]
    if args.train_frames:
        flags += ["--train-frames", str(args.train_frames)]
    if not (run_dir / "metrics.json").exists():
        train(train_args(flags))
    model_path = run_dir / "model.onnx"
    report = export(
        run_dir,
        model_path,
        f"litepose_{args.size.lower()}_{name}",
        offset_frames=args.offset_frames,
    )
    result = evaluate_synthetic(model_path, "test", args.test_frames)
    result.pop("coco", None)
    return {
        "variant": name,
        "kernel_size": kernel,
        "head": head,
        "macs": report["macs"],
        "macs_published_convention": report["macs_published_convention"],
        "params": report["params"],
        "test": result,
    }


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}"


def markdown_table(rows: list[dict]) -> str:
    lines = [
        "| variant | GMACs (exact) | GMACs (paper conv.) | params | AP | AP50 | AP75 | "
        "AP 5+ people | 3D error (mm) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        test = row["test"]
        error = test.get("mean_3d_error_mm")
        lines.append(
            f"| {row['variant']} | {row['macs'] / 1e9:.3f} | "
            f"{row['macs_published_convention'] / 1e9:.3f} | {row['params']:,} | "
            f"{_percent(test['AP'])} | {_percent(test['AP50'])} | {_percent(test['AP75'])} | "
            f"{_percent(test['AP_by_people'].get('5+'))} | "
            f"{'-' if error is None else f'{error:.0f}'} |"
        )
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="7x7 vs 3x3 and fusion vs plain ablation.")
    parser.add_argument("--out", type=Path, default=Path("runs/body_ablation"))
    parser.add_argument("--size", default="XS")
    parser.add_argument("--input", type=parse_size, default=(192, 144))
    parser.add_argument("--render", type=parse_size, default=(256, 192))
    parser.add_argument("--steps", type=int, default=6000)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--train-frames", type=int, default=None)
    parser.add_argument("--test-frames", type=int, default=None)
    parser.add_argument("--offset-frames", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cache-dir", type=Path, default=Path("data/cache"))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--render-workers", type=int, default=2)
    parser.add_argument("--variants", nargs="+", choices=sorted(VARIANTS), default=list(VARIANTS))
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    rows = [run_variant(name, args) for name in args.variants]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "ablation.json").write_text(json.dumps(rows, indent=2))
    print(markdown_table(rows))


if __name__ == "__main__":
    main()
