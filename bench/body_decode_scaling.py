"""How decoding (NMS, top-k, associative-embedding grouping, refinement) scales with people.

Two tables. First, for 1..10 people, network outputs constructed as a well-trained LitePose
would produce them (Gaussian heatmaps at 1/4 and 1/2, one tag per person;
tests.core.body_stand_in): BodyDecoder.decode is timed with and without the flip-test pass, as
a fraction of a 30 Hz frame period and, with --model, of that model's per-frame time
(preprocess + ONNX inference at 640x480) on one core. Second, with --model, the real model on
rendered 640x480 frames with 1..10 people placed: decode (NMS, grouping, refinement) against
the whole core frame (preprocess + inference + decode + depth lifting), medians over frames;
with --baseline, a second model on the same frames beside it (e.g. the same weights without
the in-graph peak search, to see what moving it into the graph saves on the whole frame).

    .venv/bin/python bench/body_decode_scaling.py [--repeats 50] [--model PATH] [--frames 12]
        [--peak-search fused|coarse|fine] [--baseline PATH]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as a script from a checkout
    sys.path.insert(0, str(REPO))

from hand_pose_ros.core.body_decoder import BodyDecoder  # noqa: E402
from hand_pose_ros.core.body_estimator import BodyEstimator  # noqa: E402
from hand_pose_ros.core.model_runtime import OnnxModel  # noqa: E402
from hand_pose_ros.core.peak_search import DEFAULT_PEAK_SEARCH, PEAK_SEARCH_MODES  # noqa: E402
from hand_pose_ros.synthetic.people import render_people_frame  # noqa: E402
from tests.core.body_stand_in import (  # noqa: E402
    INPUT_HEIGHT,
    INPUT_WIDTH,
    body_metadata,
    render_body_outputs,
)

FRAME_PERIOD_30HZ_S = 1.0 / 30.0
MAX_PEOPLE = 10
# An upright person of COCO-17 keypoints in a unit box (x, y in [0, 1]), top to bottom.
_PERSON_UNIT = np.array(
    [
        [0.50, 0.05],
        [0.55, 0.02],
        [0.45, 0.02],
        [0.62, 0.05],
        [0.38, 0.05],  # head
        [0.72, 0.22],
        [0.28, 0.22],
        [0.80, 0.40],
        [0.20, 0.40],
        [0.82, 0.55],  # arms
        [0.18, 0.55],
        [0.62, 0.55],
        [0.38, 0.55],
        [0.64, 0.76],
        [0.36, 0.76],  # hips, knees
        [0.65, 0.97],
        [0.35, 0.97],  # ankles
    ]
)


def people_network_px(count: int, rng: np.random.Generator) -> np.ndarray:
    """(count, 17, 2) people side by side in two rows, jittered, inside the network input."""
    columns = min(count, 5)
    rows = int(np.ceil(count / columns))
    cell_w, cell_h = INPUT_WIDTH / columns, INPUT_HEIGHT / rows
    people = []
    for i in range(count):
        left, top = (i % columns) * cell_w, (i // columns) * cell_h
        size = np.array([cell_w * 0.8, cell_h * 0.9])
        people.append(
            [left + 0.1 * cell_w, top + 0.05 * cell_h]
            + _PERSON_UNIT * size
            + rng.normal(0.0, 0.5, (17, 2))
        )
    return np.asarray(people)


def _median_s(function, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def model_frame_s(estimator: BodyEstimator, repeats: int) -> float:
    """Median preprocess + inference time of a model on a rendered 640x480 frame."""
    frame = render_people_frame(3, 640, 480)
    timings = [estimator.estimate(frame.color).timings for _ in range(repeats)]
    return float(np.median([t["preprocess_s"] + t["inference_s"] for t in timings]))


def rendered_scaling(estimators: list[BodyEstimator], frames_per_row: int) -> None:
    """Decode share of the core frame time with real models on rendered RGB-D frames; with two
    models (``--baseline``), both on the same frames, alternating, so their times compare."""
    print(
        f"\nreal model on rendered 640x480 RGB-D frames, median of {frames_per_row} frames per row:"
    )
    for label, estimator in zip("AB", estimators):
        print(f"  {label}: {estimator.model.path}")
    header = f"{'placed':>6} {'truth':>5}"
    for label in "AB"[: len(estimators)]:
        header += f" {label + ' found':>7} {label + ' decode ms':>11} {label + ' frame ms':>10}"
        header += f" {label + ' decode %':>10}"
    print(header + (f" {'B/A frame':>9}" if len(estimators) == 2 else ""))
    for count in range(1, MAX_PEOPLE + 1):
        rows: list[list[tuple[int, float, float]]] = [[] for _ in estimators]
        truth = []
        for seed in range(frames_per_row):
            frame = render_people_frame(10_000_000 + 100 * count + seed, 640, 480, num_people=count)
            depth_m = np.where(frame.depth_mm > 0, frame.depth_mm / 1000.0, np.nan)
            truth.append(len(frame.keypoints_uv))
            for estimator, timed in zip(estimators, rows):
                estimator.estimate(frame.color, depth_m, frame.intrinsics)  # warm caches
                result = estimator.estimate(frame.color, depth_m, frame.intrinsics)
                timed.append(
                    (len(result.score), result.timings["decode_s"], sum(result.timings.values()))
                )
        line = f"{count:>6} {np.median(truth):>5.0f}"
        totals = []
        for timed in rows:
            found, decode_s, total_s = (np.median(column) for column in zip(*timed))
            totals.append(total_s)
            line += (
                f" {found:>7.0f} {decode_s * 1e3:>11.2f} {total_s * 1e3:>10.2f}"
                f" {decode_s / total_s * 100:>9.1f}%"
            )
        print(line + (f" {totals[1] / totals[0]:>9.3f}" if len(totals) == 2 else ""))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=50, help="timed decodes per row")
    parser.add_argument("--model", default="", help="ONNX body model for the frame-time column")
    parser.add_argument("--frames", type=int, default=12, help="rendered frames per row")
    parser.add_argument(
        "--baseline", default="",
        help="second ONNX body model timed on the same rendered frames, alternating (column A)",
    )
    parser.add_argument(
        "--peak-search", choices=PEAK_SEARCH_MODES, default=DEFAULT_PEAK_SEARCH,
        help="where the decoder searches peaks",
    )
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    decoder = BodyDecoder(body_metadata(), peak_search=args.peak_search)
    estimator = (
        BodyEstimator(OnnxModel(args.model), peak_search=args.peak_search) if args.model else None
    )
    frame_s = model_frame_s(estimator, 10) if estimator else float("nan")
    header = f"{'people':>6} {'found':>5} {'decode ms':>10} {'flip ms':>8} {'% of 33 ms':>10}" + (
        f" {'% of model frame':>16}" if args.model else ""
    )
    print(
        f"BodyDecoder.decode (peak_search {args.peak_search}) on constructed "
        f"{INPUT_WIDTH}x{INPUT_HEIGHT}-input outputs, median of {args.repeats}"
    )
    if args.model:
        print(
            f"model frame (preprocess + inference, 640x480): {frame_s * 1e3:.1f} ms ({args.model})"
        )
    print(header)
    for count in range(1, MAX_PEOPLE + 1):
        keypoints = people_network_px(count, rng)
        outputs = render_body_outputs(keypoints, np.arange(count) * 2.0)
        # What the flipped image's pass outputs: mirrored maps, left/right channels swapped.
        flipped = {
            k: np.ascontiguousarray(v[decoder.flip_index][..., ::-1]) for k, v in outputs.items()
        }
        found = len(decoder.decode(outputs).score)
        plain_s = _median_s(lambda outputs=outputs: decoder.decode(outputs), args.repeats)
        flip_s = _median_s(
            lambda outputs=outputs, flipped=flipped: decoder.decode(outputs, flipped), args.repeats
        )
        row = (
            f"{count:>6} {found:>5} {plain_s * 1e3:>10.2f} {flip_s * 1e3:>8.2f} "
            f"{plain_s / FRAME_PERIOD_30HZ_S * 100:>9.1f}%"
        )
        if args.model:
            row += f" {plain_s / frame_s * 100:>15.1f}%"
        print(row)
    if estimator:
        baseline = (
            [BodyEstimator(OnnxModel(args.baseline), peak_search=args.peak_search)]
            if args.baseline
            else []
        )
        rendered_scaling([*baseline, estimator], args.frames)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
