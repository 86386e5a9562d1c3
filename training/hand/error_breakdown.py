"""Where a hand pipeline's PCK misses come from, hand by hand.

    python -m training.hand.error_breakdown --model hand_pose_ros/models/hand_tiny_multitask.onnx \
        --refiner hand_pose_ros/models/hand_refiner_tiny.onnx --split validation

Each labelled hand falls in one group by its own PCK@0.1: placed wrongly as a whole, partly
right, or right. For each group the breakdown says how many PCK points it costs and how the
refiner does on the same hands when its crop is cut around their labels instead of the first
stage's box: the gap between the two is what better boxes could win, the rest is the refiner's
own recognition. It chooses nothing, so studies read it on the validation split; on a prefix
of the training split (`--split train --frames 1000`) it tells a network that underfits (the
same figures as on validation) from one that has learned its training frames by heart.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass

import numpy as np
from tqdm import tqdm

from hand_pose_ros.core.hand_estimator import HandEstimator
from hand_pose_ros.core.hand_metrics import OCCLUDED, VISIBLE, pck_threshold_px
from hand_pose_ros.synthetic import HandFrame, render_frame
from training.common.onnx_metadata import read_onnx_metadata
from training.hand.data import split_seeds
from training.hand.evaluate import add_pipeline_arguments, input_size, load_estimator

MISPLACED_BELOW_PCK = 0.3
"""A hand with fewer of its visible keypoints within the PCK distance is "placed wrongly"."""
RIGHT_FROM_PCK = 0.9
"""A hand with at least this share within the PCK distance is "right"."""


@dataclass(frozen=True)
class HandOutcome:
    """One labelled hand with visible keypoints, as the pipeline and the label crop saw it."""

    visible: int
    hits: int  # visible keypoints within the PCK distance, as the pipeline placed them
    label_crop_hits: int  # the same with the refiner's crop cut around the labels
    detected: bool
    side_swapped: bool  # detected, but nearer the other hand's labels than its own
    occluded_share: float  # of its 21 keypoints
    both_hands: bool


def hand_outcomes(estimator: HandEstimator, frame: HandFrame) -> list[HandOutcome]:
    """Every labelled hand of `frame` that has visible keypoints."""
    detections = {hand.side: hand.uv_px for hand in
                  estimator.estimate(frame.depth_m, frame.intrinsics).hands}
    outcomes = []
    for side in np.flatnonzero(frame.present):
        visible = frame.visibility[side] == VISIBLE
        if not visible.any():
            continue
        labels = frame.keypoints_uv[side]
        threshold_px = pck_threshold_px(labels)
        label_crop = estimator.refiner.refine(frame.depth_m, [(labels, side)]).uv_px[0]
        placed = detections.get(side)
        hits = 0 if placed is None else _hits(placed[visible], labels[visible], threshold_px)
        other = 1 - side
        swapped = bool(
            placed is not None and frame.present[other]
            and _median_distance_px(placed, frame.keypoints_uv[other])
            < _median_distance_px(placed, labels)
        )
        outcomes.append(HandOutcome(
            visible=int(visible.sum()),
            hits=hits,
            label_crop_hits=_hits(label_crop[visible], labels[visible], threshold_px),
            detected=placed is not None,
            side_swapped=swapped,
            occluded_share=float(np.mean(frame.visibility[side] == OCCLUDED)),
            both_hands=bool(frame.present.all()),
        ))
    return outcomes


def breakdown(outcomes: list[HandOutcome]) -> dict:
    """Per group: hands, PCK points it costs, its PCK through the pipeline and from label
    crops, and what its hands look like."""
    visible_total = sum(o.visible for o in outcomes)
    groups = {
        "placed_wrongly": lambda pck: pck < MISPLACED_BELOW_PCK,
        "partly_right": lambda pck: MISPLACED_BELOW_PCK <= pck < RIGHT_FROM_PCK,
        "right": lambda pck: pck >= RIGHT_FROM_PCK,
    }
    result: dict = {
        "hands": len(outcomes),
        "visible_keypoints": visible_total,
        "pck@0.1": sum(o.hits for o in outcomes) / visible_total,
        "pck@0.1_label_crops": sum(o.label_crop_hits for o in outcomes) / visible_total,
    }
    for name, belongs in groups.items():
        members = [o for o in outcomes if belongs(o.hits / o.visible)]
        visible = sum(o.visible for o in members)
        result[name] = {
            "hands": len(members),
            "pck_points_lost": 100.0 * sum(o.visible - o.hits for o in members) / visible_total,
            "pck@0.1": sum(o.hits for o in members) / visible if visible else float("nan"),
            "pck@0.1_label_crops": (
                sum(o.label_crop_hits for o in members) / visible if visible else float("nan")
            ),
            "missed": sum(not o.detected for o in members),
            "side_swapped": sum(o.side_swapped for o in members),
            "median_occluded_share": float(np.median([o.occluded_share for o in members]))
            if members else float("nan"),
            "share_with_both_hands": float(np.mean([o.both_hands for o in members]))
            if members else float("nan"),
        }
    return result


def _hits(placed_px: np.ndarray, labels_px: np.ndarray, threshold_px: float) -> int:
    return int(np.sum(np.linalg.norm(placed_px - labels_px, axis=-1) <= threshold_px))


def _median_distance_px(placed_px: np.ndarray, labels_px: np.ndarray) -> float:
    return float(np.median(np.linalg.norm(placed_px - labels_px, axis=-1)))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Where a hand pipeline's PCK misses come from.")
    add_pipeline_arguments(parser, default_split="validation",
                           splits=("train", "validation", "test"))
    args = parser.parse_args(argv)
    if args.refiner is None:
        parser.error("--refiner is required: the breakdown compares its crops")
    width, height = input_size(args, read_onnx_metadata(args.model))
    estimator = load_estimator(args.model, args.refiner, args.refiner_passes, args.first_crop)
    outcomes = [
        outcome
        for seed in tqdm(split_seeds(args.split, args.frames), desc="breakdown", unit="frame")
        for outcome in hand_outcomes(estimator, render_frame(seed, width, height))
    ]
    print(json.dumps({"split": args.split, "resolution": f"{width}x{height}",
                      **breakdown(outcomes)}, indent=2))


if __name__ == "__main__":
    main()
