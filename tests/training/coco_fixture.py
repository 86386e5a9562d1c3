"""Tiny COCO-style keypoint data sets written into a test's tmp_path (COCO-17, CrowdPose-14)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from hand_pose_ros.core.skeletons import (
    COCO_KEYPOINT_NAMES,
    COCO_SKELETON_EDGES,
    CROWDPOSE_KEYPOINT_NAMES,
    CROWDPOSE_SKELETON_EDGES,
)

WIDTH, HEIGHT = 160, 120


def make_dataset(
    root: Path,
    people_per_image: tuple[int, ...] = (1, 2, 3, 5, 6, 0),
    crowdpose: bool = False,
    crowd_index: tuple[float, ...] | None = None,
    write_images: bool = True,
    seed: int = 0,
) -> tuple[Path, dict]:
    """Write annotations.json (+ PNGs under images/) and return (path, data)."""
    rng = np.random.default_rng(seed)
    names = CROWDPOSE_KEYPOINT_NAMES if crowdpose else COCO_KEYPOINT_NAMES
    edges = CROWDPOSE_SKELETON_EDGES if crowdpose else COCO_SKELETON_EDGES
    joints = len(names)
    images, annotations = [], []
    for n, count in enumerate(people_per_image):
        image_id = n + 1
        entry = {
            "id": image_id,
            "file_name": f"{image_id:03d}.png",
            "width": WIDTH,
            "height": HEIGHT,
        }
        if crowd_index is not None:
            entry["crowdIndex"] = crowd_index[n]
        images.append(entry)
        for _ in range(count):
            corner = rng.uniform([5, 5], [WIDTH - 45, HEIGHT - 60])
            uv = corner + rng.uniform([0, 0], [40, 55], (joints, 2))
            vis = rng.choice([1, 2], joints, p=[0.2, 0.8])
            vis[rng.integers(joints)] = 0  # one unlabelled keypoint
            uv[vis == 0] = 0
            box = [float(corner[0]), float(corner[1]), 40.0, 55.0]
            annotations.append(
                {
                    "id": len(annotations) + 1,
                    "image_id": image_id,
                    "category_id": 1,
                    "keypoints": np.column_stack([uv, vis]).ravel().round(2).tolist(),
                    "num_keypoints": int((vis > 0).sum()),
                    "bbox": box,
                    "area": 40.0 * 55.0,
                    "iscrowd": 0,
                }
            )
    data = {
        "images": images,
        "annotations": annotations,
        "categories": [
            {
                "id": 1,
                "name": "person",
                "supercategory": "person",
                "keypoints": list(names),
                "skeleton": [[i + 1, j + 1] for i, j in edges],
            }
        ],
    }
    root.mkdir(parents=True, exist_ok=True)
    if write_images:
        from PIL import Image

        (root / "images").mkdir(exist_ok=True)
        for entry in images:
            pixels = rng.integers(0, 256, (HEIGHT, WIDTH, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(root / "images" / entry["file_name"])
    path = root / "annotations.json"
    path.write_text(json.dumps(data))
    return path, data


def perfect_results(data: dict) -> list[dict]:
    """Predictions equal to the truth, score 1, every keypoint confident."""
    results = []
    for annotation in data["annotations"]:
        triples = np.asarray(annotation["keypoints"], float).reshape(-1, 3)
        triples[:, 2] = 1.0
        results.append(
            {
                "image_id": annotation["image_id"],
                "category_id": 1,
                "keypoints": triples.ravel().tolist(),
                "score": 1.0,
            }
        )
    return results


def perturbed_results(
    data: dict, noise_px: float, image_ids: set[int] | None = None, seed: int = 1
) -> list[dict]:
    """Perfect predictions with Gaussian noise added on the chosen images (default all)."""
    rng = np.random.default_rng(seed)
    results = perfect_results(data)
    for result in results:
        if image_ids is None or result["image_id"] in image_ids:
            triples = np.asarray(result["keypoints"], float).reshape(-1, 3)
            triples[:, :2] += rng.normal(0, noise_px, (len(triples), 2))
            result["keypoints"] = triples.ravel().tolist()
    return results
