"""Export synthetic people frames as a COCO keypoint data set (images + annotations.json).

    python -m hand_pose_ros.synthetic.people.coco_export --out DIR --seeds 0:100
        [--width 640 --height 480]

writes ``color/<seed>.png`` (RGB), ``depth/<seed>.png`` (16-bit, millimetres, 0 = no return,
registered to colour) and ``annotations.json`` in the COCO keypoint format: one "person"
category with the 17 COCO keypoint names and the 1-based skeleton, per image the file names
and a ``camera`` entry {fx, fy, cx, cy}, per person ``keypoints`` [u, v, visibility] * 17
(u = v = 0 where visibility is 0), ``num_keypoints`` (labelled = visibility > 0), ``bbox`` and
``area`` of the visible pixels, ``segmentation`` as an uncompressed RLE of the person's visible
pixels, plus the extras ``keypoints_3d`` (metres, optical frame, joint centres) and
``track_id``. Coordinates follow the package's pixel-centre convention (the centre of the top
left pixel is (0, 0)). Writing PNGs needs Pillow; ``frames_to_coco`` itself is numpy only.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from hand_pose_ros.core.skeletons import COCO_KEYPOINT_NAMES, COCO_SKELETON_EDGES
from hand_pose_ros.synthetic.people.frames import PeopleFrame, render_people_frame

PERSON_CATEGORY_ID = 1


def person_category() -> dict:
    return {
        "id": PERSON_CATEGORY_ID,
        "name": "person",
        "supercategory": "person",
        "keypoints": list(COCO_KEYPOINT_NAMES),
        "skeleton": [[i + 1, j + 1] for i, j in COCO_SKELETON_EDGES],
    }


def mask_to_rle(mask: np.ndarray) -> dict:
    """COCO uncompressed RLE (column-major run lengths, starting with a run of zeros)."""
    flat = np.asarray(mask, bool).ravel(order="F")
    change = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    bounds = np.concatenate([[0], change, [flat.size]])
    counts = np.diff(bounds).tolist()
    if flat.size and flat[0]:
        counts = [0, *counts]
    return {"counts": counts, "size": [int(mask.shape[0]), int(mask.shape[1])]}


def frame_annotations(frame: PeopleFrame, image_id: int, first_annotation_id: int) -> list[dict]:
    annotations = []
    for p in range(frame.keypoints_uv.shape[0]):
        vis = frame.visibility[p]
        uv = np.where(vis[:, None] > 0, frame.keypoints_uv[p], 0.0)
        keypoints = np.concatenate([uv, vis[:, None].astype(np.float64)], axis=1)
        annotations.append(
            {
                "id": first_annotation_id + p,
                "image_id": image_id,
                "category_id": PERSON_CATEGORY_ID,
                "keypoints": [round(float(x), 3) for x in keypoints.ravel()],
                "num_keypoints": int((vis > 0).sum()),
                "bbox": [round(float(x), 3) for x in frame.boxes_xywh[p]],
                "area": float(frame.areas_px[p]),
                "iscrowd": 0,
                "segmentation": mask_to_rle(frame.instance_map == p),
                "keypoints_3d": [round(float(x), 5) for x in frame.keypoints_xyz[p].ravel()],
                "track_id": int(frame.track_ids[p]),
            }
        )
    return annotations


def frames_to_coco(
    frames: Sequence[PeopleFrame],
    file_names: Sequence[str],
    depth_file_names: Sequence[str] | None = None,
    image_ids: Sequence[int] | None = None,
) -> dict:
    """A COCO keypoint data set dict for frames whose colour images are saved as file_names."""
    if len(frames) != len(file_names):
        raise ValueError("one file name per frame")
    ids = list(range(1, len(frames) + 1)) if image_ids is None else [int(i) for i in image_ids]
    images, annotations = [], []
    for n, (frame, name) in enumerate(zip(frames, file_names)):
        k = frame.intrinsics
        image = {
            "id": ids[n],
            "file_name": str(name),
            "width": int(k.width),
            "height": int(k.height),
            "camera": {"fx": k.fx, "fy": k.fy, "cx": k.cx, "cy": k.cy},
        }
        if depth_file_names is not None:
            image["depth_file_name"] = str(depth_file_names[n])
            image["depth_unit_m"] = 0.001
        images.append(image)
        annotations.extend(frame_annotations(frame, ids[n], len(annotations) + 1))
    return {
        "info": {
            "description": "hand_pose_ros synthetic people (render_people_frame)",
            "version": "1",
        },
        "licenses": [],
        "images": images,
        "annotations": annotations,
        "categories": [person_category()],
    }


def parse_seeds(text: str) -> range:
    """'A:B' -> range(A, B); 'N' -> range(N, N + 1)."""
    if ":" in text:
        a, b = text.split(":", 1)
        return range(int(a), int(b))
    return range(int(text), int(text) + 1)


def write_dataset(out: Path, seeds: Sequence[int], width: int, height: int) -> dict:
    from PIL import Image

    (out / "color").mkdir(parents=True, exist_ok=True)
    (out / "depth").mkdir(parents=True, exist_ok=True)
    frames, names, depth_names = [], [], []
    for seed in seeds:
        frame = render_people_frame(seed, width, height)
        name, depth_name = f"color/{seed:06d}.png", f"depth/{seed:06d}.png"
        Image.fromarray(frame.color).save(out / name)
        Image.fromarray(frame.depth_mm).save(out / depth_name)
        frames.append(frame)
        names.append(name)
        depth_names.append(depth_name)
    data = frames_to_coco(frames, names, depth_names, image_ids=[seed + 1 for seed in seeds])
    for image, seed in zip(data["images"], seeds):
        image["seed"] = int(seed)  # image ids are seed + 1 (some COCO tools dislike id 0)
    (out / "annotations.json").write_text(json.dumps(data))
    return data


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="output directory")
    parser.add_argument("--seeds", default="0:100", help="seed range A:B (B exclusive)")
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=480)
    args = parser.parse_args(argv)
    data = write_dataset(args.out, parse_seeds(args.seeds), args.width, args.height)
    print(f"wrote {len(data['images'])} images, {len(data['annotations'])} people to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
