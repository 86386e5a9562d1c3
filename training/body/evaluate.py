"""Evaluate an exported body model the way the node runs it: OKS AP and 3D keypoint error.

    python -m training.body.evaluate --model hand_pose_ros/models/litepose_xs_synthetic.onnx \
        --split test --embed
    python -m training.body.evaluate --model MODEL.onnx --coco ANNOTATIONS.json --images DIR

Every image goes through the core `BodyEstimator.estimate` (letterbox, ONNX Runtime, decoding
and grouping, depth lifting): the figures are the node's figures minus ROS transport. The
synthetic split renders `render_people_frame(seed)` at 640x480 with depth; AP / AP50 / AP75
and AP by people per image (1, 2-4, 5+) come from COCOeval through `coco_metrics`; the 3D
error is over visible keypoints of people at 1-4 m whose prediction matched by OKS >= 0.5.
`--embed` stores the result in the model's metadata under `metrics.<key>`.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

from hand_pose_ros.core.body_estimator import BodyEstimator
from hand_pose_ros.core.model_runtime import OnnxModel
from hand_pose_ros.core.oks import match_by_oks
from hand_pose_ros.core.peak_search import DEFAULT_PEAK_SEARCH, PEAK_SEARCH_MODES
from training.body.coco_format import CocoKeypointDataset, predictions_to_results
from training.body.coco_metrics import evaluate_keypoints
from training.body.data import split_seeds
from training.common.onnx_metadata import read_onnx_metadata, write_metadata

EVAL_RESOLUTION_PX = (640, 480)
ERROR_RANGE_M = (1.0, 4.0)
"""People whose median keypoint depth lies in this range count for the 3D error."""
MATCH_MIN_OKS = 0.5


class ErrorAccumulator:
    """3D errors of visible keypoints of OKS-matched people within ERROR_RANGE_M."""

    def __init__(self, sigmas: np.ndarray):
        self.sigmas = sigmas
        self.errors_m: list[float] = []
        self.visible_keypoints = 0
        self.matched_people = self.people = 0

    def add(self, people, uv, xyz_m, visibility, areas_px) -> None:
        z = np.where((visibility > 0) & np.isfinite(xyz_m[..., 2]), xyz_m[..., 2], np.nan)
        labelled = np.isfinite(z).any(axis=1)
        distance = np.full(len(z), np.nan)
        distance[labelled] = np.nanmedian(z[labelled], axis=1)
        in_range = (distance >= ERROR_RANGE_M[0]) & (distance <= ERROR_RANGE_M[1])
        self.people += int(in_range.sum())
        self.visible_keypoints += int((visibility[in_range] == 2).sum())
        matches = match_by_oks(
            people.uv_px, uv, visibility, areas_px, self.sigmas, people.person_score, MATCH_MIN_OKS
        )
        for match in matches:
            if not in_range[match.truth_index]:
                continue
            self.matched_people += 1
            visible = visibility[match.truth_index] == 2
            error = np.linalg.norm(
                people.xyz_m[match.pred_index].astype(np.float64) - xyz_m[match.truth_index], axis=1
            )
            self.errors_m.extend(error[visible & np.isfinite(error)].tolist())

    def summary(self) -> dict:
        errors = np.asarray(self.errors_m)
        return {
            "people_1_4m": self.people,
            "people_1_4m_matched": self.matched_people,
            "mean_3d_error_mm": round(float(errors.mean() * 1000), 1) if errors.size else None,
            "median_3d_error_mm": (
                round(float(np.median(errors) * 1000), 1) if errors.size else None
            ),
            "visible_keypoints_with_3d": int(errors.size),
            "visible_keypoints_1_4m": self.visible_keypoints,
        }


def _rounded(report: dict) -> dict:
    return json.loads(json.dumps(report), parse_float=lambda v: round(float(v), 4))


def evaluate_synthetic(
    model_path: Path,
    split: str,
    frames: int | None,
    flip_test: bool = False,
    threads: int = 1,
    peak_search: str = DEFAULT_PEAK_SEARCH,
    width: int = EVAL_RESOLUTION_PX[0],
    height: int = EVAL_RESOLUTION_PX[1],
) -> dict:
    from hand_pose_ros.synthetic.people import render_people_frame
    from hand_pose_ros.synthetic.people.coco_export import frame_annotations, person_category

    seeds = split_seeds(split, frames)
    model = OnnxModel(model_path, intra_op_threads=threads)
    estimator = BodyEstimator(model, flip_test=flip_test, peak_search=peak_search)
    sigmas = np.asarray(model.metadata["oks_sigmas"], np.float64)
    images, annotations, results = [], [], []
    errors = ErrorAccumulator(sigmas)
    timings: dict[str, list[float]] = {}
    for image_id, seed in enumerate(tqdm(seeds, desc=f"evaluate {split}", unit="frame"), 1):
        frame = render_people_frame(seed, width=width, height=height)
        depth_m = frame.depth_mm.astype(np.float32) / 1000.0
        depth_m[frame.depth_mm == 0] = np.nan
        people = estimator.estimate(frame.color, depth_m, frame.intrinsics)
        for name, value in people.timings.items():
            timings.setdefault(name, []).append(value)
        images.append(
            {"id": image_id, "file_name": f"{seed:07d}.png", "width": width, "height": height}
        )
        annotations.extend(frame_annotations(frame, image_id, len(annotations) + 1))
        results.extend(
            predictions_to_results(image_id, people.uv_px, people.score, people.person_score)
        )
        if len(frame.keypoints_uv):
            errors.add(
                people,
                frame.keypoints_uv,
                frame.keypoints_xyz,
                frame.visibility,
                frame.areas_px.astype(np.float64),
            )
    truth = {"images": images, "annotations": annotations, "categories": [person_category()]}
    report = evaluate_keypoints(truth, results)
    return _rounded(
        {
            "split": split,
            "seeds": [seeds.start, seeds.stop],
            "resolution": f"{width}x{height}",
            "flip_test": flip_test,
            "peak_search": peak_search,
            "AP": report["overall"]["AP"],
            "AP50": report["overall"]["AP50"],
            "AP75": report["overall"]["AP75"],
            "AP_by_people": {bucket: stats["AP"] for bucket, stats in report["by_people"].items()},
            "images_by_people": {
                bucket: stats["images"] for bucket, stats in report["by_people"].items()
            },
            **errors.summary(),
            "median_ms": {
                name.removesuffix("_s"): 1000 * float(np.median(values))
                for name, values in timings.items()
            },
            "onnx_threads": threads,
            "evaluated": time.strftime("%Y-%m-%d"),
            "coco": report,
        }
    )


def evaluate_coco(
    model_path: Path,
    annotations: Path,
    images_dir: Path,
    frames: int | None,
    flip_test: bool = False,
    threads: int = 1,
    peak_search: str = DEFAULT_PEAK_SEARCH,
) -> dict:
    """AP on a real COCO / CrowdPose style set (3D error when it carries depth + camera)."""
    dataset = CocoKeypointDataset(annotations, images_dir)
    model = OnnxModel(model_path, intra_op_threads=threads)
    if list(dataset.layout.keypoint_names) != list(model.metadata["keypoint_names"]):
        raise SystemExit(
            f"{annotations} uses the {dataset.layout.name} layout; the model "
            f"predicts {len(model.metadata['keypoint_names'])} other keypoints"
        )
    estimator = BodyEstimator(model, flip_test=flip_test, peak_search=peak_search)
    errors = ErrorAccumulator(np.asarray(model.metadata["oks_sigmas"], np.float64))
    count = len(dataset) if frames is None else min(frames, len(dataset))
    results = []
    for index in tqdm(range(count), desc="evaluate coco", unit="image"):
        image = dataset[index]
        depth_m = dataset.load_depth_m(index) if image.camera is not None else None
        people = estimator.estimate(
            dataset.load_rgb(index), depth_m, image.camera if depth_m is not None else None
        )
        results.extend(
            predictions_to_results(
                image.image_id, people.uv_px, people.score, people.person_score, dataset.category_id
            )
        )
        if depth_m is not None and len(image.keypoints_uv):
            lifted = image.camera.back_project(image.keypoints_uv, _depth_at(depth_m, image))
            errors.add(people, image.keypoints_uv, lifted, image.visibility, image.areas_px)
    data = dict(dataset.data)
    data["images"] = [
        im for im in data["images"] if int(im["id"]) in {dataset[i].image_id for i in range(count)}
    ]
    report = evaluate_keypoints(data, results)
    return _rounded(
        {
            "annotations": str(annotations),
            "layout": dataset.layout.name,
            "images": count,
            "flip_test": flip_test,
            "peak_search": peak_search,
            "AP": report["overall"]["AP"],
            "AP50": report["overall"]["AP50"],
            "AP75": report["overall"]["AP75"],
            **errors.summary(),
            "coco": report,
        }
    )


def _depth_at(depth_m: np.ndarray, image) -> np.ndarray:
    """Depth under each labelled keypoint (a stand-in 3D truth for real RGB-D sets)."""
    uv = np.rint(image.keypoints_uv).astype(int)
    h, w = depth_m.shape
    inside = (uv[..., 0] >= 0) & (uv[..., 0] < w) & (uv[..., 1] >= 0) & (uv[..., 1] < h)
    values = np.full(uv.shape[:2], np.nan, np.float64)
    values[inside] = depth_m[uv[..., 1][inside], uv[..., 0][inside]]
    return values


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Evaluate an exported body model.")
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--split", choices=("validation", "test"), default="test")
    parser.add_argument("--frames", type=int, default=None, help="prefix of the split / images")
    parser.add_argument("--coco", type=Path, default=None, help="COCO-style annotation JSON")
    parser.add_argument("--images", type=Path, default=None, help="image folder for --coco")
    parser.add_argument("--flip-test", action="store_true")
    parser.add_argument(
        "--peak-search",
        choices=PEAK_SEARCH_MODES,
        default=DEFAULT_PEAK_SEARCH,
        help="where keypoint peaks are searched (speed / accuracy; see BodyDecoder)",
    )
    parser.add_argument("--threads", type=int, default=1, help="ONNX Runtime threads")
    parser.add_argument("--out", type=Path, default=None, help="also write the result as JSON")
    parser.add_argument(
        "--embed",
        action="store_true",
        help="store the result in the model's metadata under metrics.<key>",
    )
    args = parser.parse_args(argv)
    if args.coco is not None:
        result = evaluate_coco(
            args.model,
            args.coco,
            args.images or args.coco.parent,
            args.frames,
            args.flip_test,
            args.threads,
            args.peak_search,
        )
        key = f"coco_{args.coco.stem}"
    else:
        result = evaluate_synthetic(
            args.model, args.split, args.frames, args.flip_test, args.threads,
            peak_search=args.peak_search,
        )
        key = f"{args.split}_{result['resolution']}" + ("_flip" if args.flip_test else "")
    key += f"_{args.peak_search}_peaks" if args.peak_search != DEFAULT_PEAK_SEARCH else ""
    printed = {k: v for k, v in result.items() if k != "coco"}
    print(json.dumps(printed, indent=2))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2))
    if args.embed:
        metadata = read_onnx_metadata(args.model)
        metadata["metrics"][key] = printed
        write_metadata(args.model, metadata)


if __name__ == "__main__":
    main()
