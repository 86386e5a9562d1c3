"""COCO-style keypoint data sets (COCO, CrowdPose, the synthetic export): read and write.

A data set is an annotation JSON plus an image folder. The keypoint layout (COCO-17 or
CrowdPose-14) is recognised from the person category's keypoint names, so a file needs no
extra flag. Keypoint coordinates are taken as the package's pixel-centre convention (the
centre of the top-left pixel is (0, 0)), which is how COCO tools and the synthetic export
treat them. Predictions are written in the COCO results format that ``COCOeval`` loads.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hand_pose_ros.core.camera import Intrinsics
from hand_pose_ros.core.skeletons import (
    COCO_KEYPOINT_NAMES,
    COCO_OKS_SIGMAS,
    COCO_SKELETON_EDGES,
    CROWDPOSE_KEYPOINT_NAMES,
    CROWDPOSE_OKS_SIGMAS,
    CROWDPOSE_SKELETON_EDGES,
    flip_permutation,
)


@dataclass(frozen=True)
class KeypointLayout:
    """A keypoint convention: names, 0-based skeleton, OKS sigmas, flip permutation."""

    name: str
    keypoint_names: tuple[str, ...]
    skeleton: tuple[tuple[int, int], ...]
    oks_sigmas: tuple[float, ...]

    @property
    def flip_index(self) -> tuple[int, ...]:
        return flip_permutation(self.keypoint_names)

    def __len__(self) -> int:
        return len(self.keypoint_names)


COCO17 = KeypointLayout("coco17", COCO_KEYPOINT_NAMES, COCO_SKELETON_EDGES, COCO_OKS_SIGMAS)
CROWDPOSE14 = KeypointLayout(
    "crowdpose14", CROWDPOSE_KEYPOINT_NAMES, CROWDPOSE_SKELETON_EDGES, CROWDPOSE_OKS_SIGMAS
)
LAYOUTS: tuple[KeypointLayout, ...] = (COCO17, CROWDPOSE14)


def _normalise_name(name: str) -> str:
    """'Left Shoulder', 'left-shoulder', 'top_head' -> the spellings in skeletons.py."""
    text = name.strip().lower().replace(" ", "_").replace("-", "_")
    return {"top_head": "head", "head_top": "head"}.get(text, text)


def detect_layout(keypoint_names: list[str] | tuple[str, ...]) -> KeypointLayout:
    """The layout whose keypoint names (in order) the category lists; ValueError otherwise."""
    names = tuple(_normalise_name(n) for n in keypoint_names)
    for layout in LAYOUTS:
        if names == layout.keypoint_names:
            return layout
    raise ValueError(
        f"unknown keypoint layout {list(keypoint_names)}: expected the COCO-17 names "
        f"{list(COCO17.keypoint_names)} or the CrowdPose-14 names "
        f"{list(CROWDPOSE14.keypoint_names)}, in that order"
    )


@dataclass
class CocoImage:
    """One image's entry and its people's annotations as arrays (P people, J keypoints)."""

    image_id: int
    file_name: str
    path: Path
    width: int
    height: int
    keypoints_uv: np.ndarray  # (P, J, 2) float64
    visibility: np.ndarray  # (P, J) uint8: 0 not labelled, 1 occluded, 2 visible
    boxes_xywh: np.ndarray  # (P, 4) float64
    areas_px: np.ndarray  # (P,) float64
    iscrowd: np.ndarray  # (P,) bool
    annotation_ids: np.ndarray  # (P,) int64
    crowd_index: float | None = None  # CrowdPose's per-image crowding measure
    camera: Intrinsics | None = None  # from a "camera" {fx, fy, cx, cy} entry if present
    depth_path: Path | None = None
    depth_unit_m: float = 0.001
    extras: dict[str, Any] = field(default_factory=dict)  # the raw image entry

    @property
    def people_count(self) -> int:
        """People that count for evaluation: not crowd regions, at least one labelled joint."""
        return int(((~self.iscrowd) & (self.visibility > 0).any(axis=1)).sum())


class CocoKeypointDataset:
    """Images and person keypoints of a COCO-style annotation file.

    ``images`` lists every image (also those without people, which COCO evaluation counts
    for false positives); ``layout`` is detected from the person category.
    """

    def __init__(
        self, annotations: str | Path, images_dir: str | Path | None = None, category_id=None
    ) -> None:
        self.annotations_path = Path(annotations)
        self.images_dir = (
            Path(images_dir) if images_dir is not None else self.annotations_path.parent
        )
        data = json.loads(self.annotations_path.read_text())
        self.data: dict[str, Any] = data
        categories = [c for c in data.get("categories", []) if c.get("keypoints")]
        if category_id is not None:
            categories = [c for c in categories if c["id"] == category_id]
        if len(categories) != 1:
            raise ValueError(
                f"{self.annotations_path}: expected exactly one category with keypoints, found "
                f"{[c.get('name') for c in categories]} (pass category_id)"
            )
        self.category: dict[str, Any] = categories[0]
        self.category_id = int(self.category["id"])
        self.layout = detect_layout(self.category["keypoints"])
        joints = len(self.layout)
        by_image: dict[int, list[dict]] = {}
        for annotation in data.get("annotations", []):
            if annotation.get("category_id", self.category_id) == self.category_id:
                by_image.setdefault(int(annotation["image_id"]), []).append(annotation)
        self._annotations_by_image = by_image
        self.images: list[CocoImage] = []
        for entry in data.get("images", []):
            people = by_image.get(int(entry["id"]), [])
            self.images.append(self._image(entry, people, joints))
        self._index = {image.image_id: n for n, image in enumerate(self.images)}

    def _image(self, entry: dict, people: list[dict], joints: int) -> CocoImage:
        keypoints = np.zeros((len(people), joints, 3))
        for p, annotation in enumerate(people):
            values = annotation.get("keypoints") or [0] * (3 * joints)
            if len(values) != 3 * joints:
                raise ValueError(
                    f"{self.annotations_path}: annotation {annotation.get('id')} has "
                    f"{len(values)} keypoint values, expected {3 * joints}"
                )
            keypoints[p] = np.asarray(values, np.float64).reshape(joints, 3)
        boxes = np.array([a.get("bbox", [0, 0, 0, 0]) for a in people], np.float64).reshape(-1, 4)
        areas = np.array(
            [a.get("area", b[2] * b[3]) for a, b in zip(people, boxes)], np.float64
        ).reshape(-1)
        camera = entry.get("camera")
        intrinsics = None
        if isinstance(camera, dict) and all(k in camera for k in ("fx", "fy", "cx", "cy")):
            intrinsics = Intrinsics(
                float(camera["fx"]),
                float(camera["fy"]),
                float(camera["cx"]),
                float(camera["cy"]),
                int(entry["width"]),
                int(entry["height"]),
            )
        depth_name = entry.get("depth_file_name")
        crowd_index = entry.get("crowdIndex", entry.get("crowd_index"))
        return CocoImage(
            image_id=int(entry["id"]),
            file_name=str(entry["file_name"]),
            path=self.images_dir / entry["file_name"],
            width=int(entry["width"]),
            height=int(entry["height"]),
            keypoints_uv=keypoints[:, :, :2].copy(),
            visibility=np.clip(keypoints[:, :, 2], 0, 2).astype(np.uint8),
            boxes_xywh=boxes,
            areas_px=areas,
            iscrowd=np.array([bool(a.get("iscrowd", 0)) for a in people], bool),
            annotation_ids=np.array([int(a.get("id", -1)) for a in people], np.int64),
            crowd_index=None if crowd_index is None else float(crowd_index),
            camera=intrinsics,
            depth_path=None if depth_name is None else self.images_dir / depth_name,
            depth_unit_m=float(entry.get("depth_unit_m", 0.001)),
            extras=entry,
        )

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> CocoImage:
        return self.images[index]

    def by_id(self, image_id: int) -> CocoImage:
        return self.images[self._index[int(image_id)]]

    @property
    def has_crowd_index(self) -> bool:
        """True when every image carries CrowdPose's ``crowdIndex``."""
        return bool(self.images) and all(image.crowd_index is not None for image in self.images)

    def load_rgb(self, index: int) -> np.ndarray:
        """(H, W, 3) uint8 RGB of an image (Pillow; grey and RGBA images are converted)."""
        from PIL import Image

        with Image.open(self.images[index].path) as image:
            return np.asarray(image.convert("RGB"))

    def load_depth_m(self, index: int) -> np.ndarray | None:
        """Float32 metres (NaN = no return) of the image's ``depth_file_name``, if any."""
        image = self.images[index]
        if image.depth_path is None:
            return None
        from PIL import Image

        with Image.open(image.depth_path) as depth:
            raw = np.asarray(depth).astype(np.float32)
        return np.where(raw > 0, raw * np.float32(image.depth_unit_m), np.nan).astype(np.float32)

    def ignore_mask(self, index: int) -> np.ndarray:
        """(H, W) bool: crowd regions and people without labelled keypoints, which a loss
        must not call background. Needs pycocotools (dev dependency) for the segmentations."""
        from pycocotools import mask as mask_utils

        image = self.images[index]
        result = np.zeros((image.height, image.width), bool)
        for annotation in self._annotations_by_image.get(image.image_id, []):
            unlabelled = annotation.get("num_keypoints", 1) == 0
            if not (annotation.get("iscrowd", 0) or unlabelled):
                continue
            segmentation = annotation.get("segmentation")
            if segmentation:
                rles = mask_utils.frPyObjects(segmentation, image.height, image.width)
                if isinstance(rles, dict):  # one RLE: decode a list of them (numpy 2 safe)
                    rles = [rles]
                with warnings.catch_warnings():  # pycocotools' numpy-2 copy= deprecation
                    warnings.simplefilter("ignore", DeprecationWarning)
                    decoded = mask_utils.decode(rles)
                result |= (decoded.reshape(image.height, image.width, -1) > 0).any(axis=2)
            elif "bbox" in annotation:
                x, y, w, h = (round(float(v)) for v in annotation["bbox"])
                result[max(y, 0) : y + h, max(x, 0) : x + w] = True
        return result


def predictions_to_results(
    image_id: int,
    uv_px: np.ndarray,
    scores: np.ndarray,
    person_scores: np.ndarray,
    category_id: int = 1,
) -> list[dict[str, Any]]:
    """COCO results entries for one image's people: ``keypoints`` [x, y, score] * J and the
    person ``score`` COCOeval ranks detections by. Non-finite coordinates are written as 0."""
    uv = np.nan_to_num(np.asarray(uv_px, np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    scores = np.asarray(scores, np.float64)
    results = []
    for p in range(uv.shape[0]):
        triples = np.concatenate([uv[p], scores[p][:, None]], axis=1)
        results.append(
            {
                "image_id": int(image_id),
                "category_id": int(category_id),
                "keypoints": [round(float(v), 3) for v in triples.ravel()],
                "score": float(person_scores[p]),
            }
        )
    return results


def write_results(path: str | Path, results: list[dict[str, Any]]) -> Path:
    """Write COCO results JSON (a list of detections)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results))
    return path
