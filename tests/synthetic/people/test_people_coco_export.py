"""COCO export: valid JSON with the right counts, keypoint layout and RLE masks."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

from hand_pose_ros.core.skeletons import COCO_KEYPOINT_NAMES, COCO_SKELETON_EDGES
from hand_pose_ros.synthetic.people import coco_export, preview, render_people_frame


def _rle_decode(rle: dict) -> np.ndarray:
    h, w = rle["size"]
    flat = np.zeros(h * w, bool)
    position, value = 0, False
    for run in rle["counts"]:
        flat[position : position + run] = value
        position += run
        value = not value
    return flat.reshape(w, h).T


def test_frames_to_coco_counts_and_fields() -> None:
    frames = [render_people_frame(seed, 80, 60) for seed in range(4)]
    data = json.loads(json.dumps(coco_export.frames_to_coco(frames, ["a", "b", "c", "d"])))
    assert len(data["images"]) == 4
    assert len(data["annotations"]) == sum(f.keypoints_uv.shape[0] for f in frames)
    (category,) = data["categories"]
    assert category["keypoints"] == list(COCO_KEYPOINT_NAMES)
    assert category["skeleton"] == [[i + 1, j + 1] for i, j in COCO_SKELETON_EDGES]
    assert len({a["id"] for a in data["annotations"]}) == len(data["annotations"])
    image = data["images"][1]
    assert image["camera"]["fx"] == frames[1].intrinsics.fx
    assert (image["width"], image["height"]) == (80, 60)
    annotations = [a for a in data["annotations"] if a["image_id"] == image["id"]]
    frame = frames[1]
    for p, ann in enumerate(annotations):
        keypoints = np.array(ann["keypoints"]).reshape(17, 3)
        np.testing.assert_array_equal(keypoints[:, 2], frame.visibility[p])
        labelled = frame.visibility[p] > 0
        np.testing.assert_allclose(
            keypoints[labelled, :2], frame.keypoints_uv[p, labelled], atol=1e-3
        )
        assert ann["num_keypoints"] == int(labelled.sum())
        assert ann["area"] == frame.areas_px[p]
        assert len(ann["bbox"]) == 4 and ann["iscrowd"] == 0
        np.testing.assert_array_equal(_rle_decode(ann["segmentation"]), frame.instance_map == p)
        assert len(ann["keypoints_3d"]) == 51


def test_cli_writes_images_depth_and_annotations(tmp_path: Path) -> None:
    assert (
        coco_export.main(
            ["--out", str(tmp_path), "--seeds", "5:8", "--width", "64", "--height", "48"]
        )
        == 0
    )
    data = json.loads((tmp_path / "annotations.json").read_text())
    assert [image["seed"] for image in data["images"]] == [5, 6, 7]
    for image in data["images"]:
        colour = np.asarray(Image.open(tmp_path / image["file_name"]))
        depth = np.asarray(Image.open(tmp_path / image["depth_file_name"]))
        assert colour.shape == (48, 64, 3) and colour.dtype == np.uint8
        assert depth.shape == (48, 64) and depth.max() > 500
        frame = render_people_frame(image["seed"], 64, 48)
        np.testing.assert_array_equal(depth, frame.depth_mm)
    assert len(data["annotations"]) > 0


def test_preview_writes_frames_and_mosaic(tmp_path: Path) -> None:
    assert (
        preview.main(["--out", str(tmp_path), "--count", "2", "--width", "80", "--height", "60"])
        == 0
    )
    image = np.asarray(Image.open(tmp_path / "frame_000.png"))
    assert image.shape == (60, 160, 3) and image.std() > 5
    assert (
        preview.main(
            [
                "--out",
                str(tmp_path / "seq"),
                "--count",
                "2",
                "--width",
                "64",
                "--height",
                "48",
                "--sequence",
            ]
        )
        == 0
    )
    assert (tmp_path / "seq" / "mosaic.png").is_file()
