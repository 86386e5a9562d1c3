"""COCO-style keypoint reading, layout detection and results writing."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.training.coco_fixture import HEIGHT, WIDTH, make_dataset
from training.body.coco_format import (
    COCO17,
    CROWDPOSE14,
    CocoKeypointDataset,
    detect_layout,
    predictions_to_results,
    write_results,
)


def test_reads_images_people_and_layout(tmp_path):
    path, data = make_dataset(tmp_path)
    dataset = CocoKeypointDataset(path, tmp_path / "images")
    assert dataset.layout is COCO17 and len(dataset) == 6
    assert [image.people_count for image in dataset] == [1, 2, 3, 5, 6, 0]
    first = dataset[0]
    truth = np.asarray(data["annotations"][0]["keypoints"]).reshape(17, 3)
    np.testing.assert_allclose(first.keypoints_uv[0], truth[:, :2])
    np.testing.assert_array_equal(first.visibility[0], truth[:, 2])
    assert first.areas_px[0] == 40 * 55 and not first.iscrowd.any()
    assert dataset[5].keypoints_uv.shape == (0, 17, 2)
    rgb = dataset.load_rgb(1)
    assert rgb.shape == (HEIGHT, WIDTH, 3) and rgb.dtype == np.uint8
    assert dataset.by_id(3).image_id == 3
    assert not dataset.has_crowd_index and dataset.load_depth_m(0) is None
    assert dataset.layout.flip_index[1] == 2


def test_crowdpose_layout_and_crowd_index(tmp_path):
    path, _ = make_dataset(
        tmp_path, (1, 3, 7), crowdpose=True, crowd_index=(0.0, 0.5, 0.9), write_images=False
    )
    dataset = CocoKeypointDataset(path)
    assert dataset.layout is CROWDPOSE14 and dataset.has_crowd_index
    assert [image.crowd_index for image in dataset] == [0.0, 0.5, 0.9]
    assert dataset[2].keypoints_uv.shape == (7, 14, 2)


def test_layout_detection_accepts_spelling_variants_and_rejects_others():
    assert detect_layout([n.replace("_", " ").title() for n in COCO17.keypoint_names]) is COCO17
    names = list(CROWDPOSE14.keypoint_names)
    names[12] = "top_head"
    assert detect_layout(names) is CROWDPOSE14
    with pytest.raises(ValueError, match="unknown keypoint layout"):
        detect_layout(["nose", "tail"])


def test_camera_depth_and_ignore_mask(tmp_path):
    from PIL import Image

    path, data = make_dataset(tmp_path, (1, 1), write_images=False)
    data["images"][0]["camera"] = {"fx": 100.0, "fy": 100.0, "cx": 79.5, "cy": 59.5}
    data["images"][0]["depth_file_name"] = "depth.png"
    Image.fromarray(np.full((HEIGHT, WIDTH), 1500, np.uint16)).save(tmp_path / "depth.png")
    crowd = {
        "id": 99,
        "image_id": 2,
        "category_id": 1,
        "keypoints": [0] * 51,
        "num_keypoints": 0,
        "bbox": [10, 20, 30, 40],
        "area": 1200,
        "iscrowd": 1,
        "segmentation": [[10, 20, 40, 20, 40, 60, 10, 60]],
    }
    data["annotations"].append(crowd)
    path.write_text(json.dumps(data))
    dataset = CocoKeypointDataset(path)
    assert dataset[0].camera.fx == 100.0 and dataset[1].camera is None
    np.testing.assert_allclose(dataset.load_depth_m(0), 1.5)
    assert dataset[1].people_count == 1  # the crowd region is not a person
    mask = dataset.ignore_mask(1)
    assert 1100 < mask.sum() < 1400 and mask[22:58, 12:38].all() and not mask[:, 45:].any()
    assert not dataset.ignore_mask(0).any()


def test_bad_files_are_rejected_with_the_reason(tmp_path):
    path, data = make_dataset(tmp_path, (1,), write_images=False)
    data["annotations"][0]["keypoints"] = [1, 2, 2]
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError, match="3 keypoint values, expected 51"):
        CocoKeypointDataset(path)
    data["categories"] = []
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError, match="exactly one category with keypoints"):
        CocoKeypointDataset(path)


def test_predictions_to_results(tmp_path):
    uv = np.array([[[1.0, 2.0], [np.nan, 4.0]]])
    results = predictions_to_results(7, uv, np.array([[0.5, 0.25]]), np.array([0.375]))
    assert results == [
        {
            "image_id": 7,
            "category_id": 1,
            "keypoints": [1.0, 2.0, 0.5, 0.0, 4.0, 0.25],
            "score": 0.375,
        }
    ]
    written = write_results(tmp_path / "out" / "results.json", results)
    assert json.loads(written.read_text()) == results
