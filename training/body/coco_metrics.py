"""OKS keypoint AP with pycocotools' COCOeval, overall and on image subsets.

AP / AP50 / AP75 are COCOeval's keypoint numbers computed with the layout's OKS sigmas (COCO
or CrowdPose). Breakdowns evaluate image subsets with the same code: by people per image (1,
2-4, 5+: how AP holds up in crowds) and, when the annotations carry CrowdPose's per-image
``crowdIndex``, CrowdPose's easy / medium / hard split (crowdIndex < 0.1, 0.1-0.8, > 0.8).

xtcocotools, which CrowdPose's own tools build on, is not used: its wheels are compiled
against numpy 1 and fail to import under numpy 2. Its easy/medium/hard numbers are AP on the
images of each crowdIndex range, which is what the subset evaluation here computes.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from training.body.coco_format import detect_layout

PEOPLE_BUCKETS: dict[str, tuple[int, float]] = {"1": (1, 1), "2-4": (2, 4), "5+": (5, np.inf)}
"""People-per-image ranges (inclusive) for the crowding breakdown."""

CROWD_LEVELS: dict[str, tuple[float, float]] = {
    "easy": (0.0, 0.1),
    "medium": (0.1, 0.8),
    "hard": (0.8, np.inf),
}
"""CrowdPose's crowdIndex ranges: [low, high) for easy and medium, [0.8, inf) for hard."""

STAT_NAMES: tuple[str, ...] = ("AP", "AP50", "AP75", "APm", "APl", "AR", "AR50", "AR75")


def _load(annotations: dict | str | Path) -> dict[str, Any]:
    if isinstance(annotations, dict):
        return copy.deepcopy(annotations)
    return json.loads(Path(annotations).read_text())


def _complete(data: dict[str, Any]) -> dict[str, Any]:
    """Fill the fields COCOeval reads but some exports omit (num_keypoints, area, iscrowd)."""
    for annotation in data.get("annotations", []):
        keypoints = np.asarray(annotation.get("keypoints", []), np.float64).reshape(-1, 3)
        annotation.setdefault("num_keypoints", int((keypoints[:, 2] > 0).sum()))
        annotation.setdefault("iscrowd", 0)
        if "area" not in annotation:
            _, _, w, h = annotation.get("bbox", [0, 0, 0, 0])
            annotation["area"] = float(w * h)
    data.setdefault("info", {})
    data.setdefault("licenses", [])
    return data


def _sigmas(data: dict[str, Any]) -> np.ndarray:
    categories = [c for c in data.get("categories", []) if c.get("keypoints")]
    if len(categories) != 1:
        raise ValueError("expected exactly one category with keypoints")
    return np.asarray(detect_layout(categories[0]["keypoints"]).oks_sigmas, np.float64)


def people_per_image(data: dict[str, Any]) -> dict[int, int]:
    """Evaluated people per image id: non-crowd annotations with a labelled keypoint."""
    counts = {int(image["id"]): 0 for image in data.get("images", [])}
    for annotation in data.get("annotations", []):
        keypoints = np.asarray(annotation.get("keypoints", []), np.float64).reshape(-1, 3)
        if not annotation.get("iscrowd", 0) and (keypoints[:, 2] > 0).any():
            counts[int(annotation["image_id"])] = counts.get(int(annotation["image_id"]), 0) + 1
    return counts


def _quiet(function, *args):
    """Run a pycocotools call without its progress prints."""
    with contextlib.redirect_stdout(io.StringIO()):
        return function(*args)


def keypoint_ap(
    data: dict[str, Any],
    results: Sequence[dict[str, Any]],
    image_ids: Iterable[int] | None = None,
    sigmas: np.ndarray | None = None,
) -> dict[str, float | int | None]:
    """COCOeval keypoint statistics on ``image_ids`` (default all images).

    Returns STAT_NAMES -> float (None where COCOeval has nothing to evaluate, e.g. no person
    in the subset) plus ``images`` and ``people`` counts.
    """
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    data = _complete(_load(data))
    sigmas = _sigmas(data) if sigmas is None else np.asarray(sigmas, np.float64)
    all_ids = [int(image["id"]) for image in data["images"]]
    ids = all_ids if image_ids is None else sorted(set(int(i) for i in image_ids))
    counts = people_per_image(data)
    summary: dict[str, float | int | None] = {
        "images": len(ids),
        "people": int(sum(counts.get(i, 0) for i in ids)),
    }
    if not ids or summary["people"] == 0:
        return {**summary, **{name: None for name in STAT_NAMES}}
    truth = COCO()
    truth.dataset = data
    _quiet(truth.createIndex)
    known = set(all_ids)
    detections = [dict(r) for r in results if int(r["image_id"]) in known]
    if not detections:  # loadRes rejects an empty list; no detections means AP 0.
        return {**summary, **{name: 0.0 for name in STAT_NAMES}}
    predicted = _quiet(truth.loadRes, detections)
    evaluator = COCOeval(truth, predicted, "keypoints")
    evaluator.params.kpt_oks_sigmas = sigmas
    evaluator.params.imgIds = ids
    _quiet(evaluator.evaluate)
    _quiet(evaluator.accumulate)
    _quiet(evaluator.summarize)
    for name, value in zip(STAT_NAMES, evaluator.stats):
        summary[name] = None if value < 0 else float(value)
    return summary


def evaluate_keypoints(
    annotations: dict | str | Path, results: Sequence[dict[str, Any]] | str | Path
) -> dict[str, Any]:
    """Overall AP, AP by people per image and, with crowdIndex, CrowdPose easy/medium/hard.

    ``results`` is a COCO results list (or a path to one). Returns
    {"overall": stats, "by_people": {"1": stats, "2-4": ..., "5+": ...},
    "crowdpose": {"easy": ..., "medium": ..., "hard": ...} or None}.
    """
    data = _complete(_load(annotations))
    if not isinstance(results, (list, tuple)):
        results = json.loads(Path(results).read_text())
    sigmas = _sigmas(data)
    report: dict[str, Any] = {"overall": keypoint_ap(data, results, sigmas=sigmas)}
    counts = people_per_image(data)
    report["by_people"] = {
        bucket: keypoint_ap(
            data, results, [i for i, n in counts.items() if low <= n <= high], sigmas
        )
        for bucket, (low, high) in PEOPLE_BUCKETS.items()
    }
    images = data.get("images", [])
    if images and all("crowdIndex" in image for image in images):
        report["crowdpose"] = {
            level: keypoint_ap(
                data,
                results,
                [int(im["id"]) for im in images if low <= float(im["crowdIndex"]) < high],
                sigmas,
            )
            for level, (low, high) in CROWD_LEVELS.items()
        }
    else:
        report["crowdpose"] = None
    return report
