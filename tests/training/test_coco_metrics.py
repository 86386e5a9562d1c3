"""COCOeval-based keypoint AP on tiny fixtures: perfect, perturbed, buckets, CrowdPose split."""

from __future__ import annotations

import numpy as np
import pytest

from hand_pose_ros.core.oks import oks_matrix
from hand_pose_ros.core.skeletons import COCO_OKS_SIGMAS
from tests.training.coco_fixture import make_dataset, perfect_results, perturbed_results
from training.body.coco_metrics import evaluate_keypoints, keypoint_ap, people_per_image


@pytest.fixture(scope="module")
def coco(tmp_path_factory):
    return make_dataset(tmp_path_factory.mktemp("coco"), write_images=False)


def test_predictions_equal_to_truth_score_ap_one(coco):
    path, data = coco
    report = evaluate_keypoints(path, perfect_results(data))
    overall = report["overall"]
    assert overall["AP"] == pytest.approx(1.0) and overall["AP50"] == pytest.approx(1.0)
    assert overall["AP75"] == pytest.approx(1.0)
    assert overall["images"] == 6 and overall["people"] == 17
    for bucket, people in (("1", 1), ("2-4", 5), ("5+", 11)):
        assert report["by_people"][bucket]["AP"] == pytest.approx(1.0)
        assert report["by_people"][bucket]["people"] == people
    assert report["crowdpose"] is None


def test_perturbed_predictions_score_lower(coco):
    path, data = coco
    slightly = evaluate_keypoints(path, perturbed_results(data, 1.0))["overall"]
    badly = evaluate_keypoints(path, perturbed_results(data, 6.0))["overall"]
    assert 0.0 <= badly["AP"] < slightly["AP"] < 1.0
    assert badly["AP50"] >= badly["AP75"]


def test_missing_and_extra_detections(coco):
    _, data = coco
    results = perfect_results(data)
    only_first_image = [r for r in results if r["image_id"] == 1]
    assert keypoint_ap(data, only_first_image)["AP"] < 0.2  # 16 of 17 people missed
    assert keypoint_ap(data, [])["AP"] == 0.0
    assert keypoint_ap(data, results, image_ids=[6])["AP"] is None  # an image without people


def test_people_buckets_are_by_evaluated_people(coco):
    _, data = coco
    assert people_per_image(data) == {1: 1, 2: 2, 3: 3, 4: 5, 5: 6, 6: 0}


def test_crowdpose_easy_medium_hard(tmp_path):
    path, data = make_dataset(
        tmp_path,
        (2, 3, 4, 4),
        crowdpose=True,
        crowd_index=(0.05, 0.3, 0.85, 0.95),
        write_images=False,
    )
    hard_ids = {3, 4}
    report = evaluate_keypoints(path, perturbed_results(data, 4.0, image_ids=hard_ids))
    crowd = report["crowdpose"]
    assert crowd["easy"]["AP"] == pytest.approx(1.0) and crowd["easy"]["images"] == 1
    assert crowd["medium"]["AP"] == pytest.approx(1.0) and crowd["medium"]["images"] == 1
    assert crowd["hard"]["AP"] < 1.0 and crowd["hard"]["images"] == 2
    assert report["overall"]["people"] == 13


def test_core_oks_agrees_with_cocoeval(coco):
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    _, data = coco
    results = perturbed_results(data, 3.0)
    truth = COCO()
    truth.dataset = {**data, "info": {}, "licenses": []}
    truth.createIndex()
    evaluator = COCOeval(truth, truth.loadRes(results), "keypoints")
    evaluator.params.kpt_oks_sigmas = np.array(COCO_OKS_SIGMAS)
    evaluator.params.imgIds = [4]  # the image with 5 people
    evaluator.evaluate()
    reference = evaluator.ious[(4, 1)]  # (detections by score, truths)
    gts = [a for a in data["annotations"] if a["image_id"] == 4]
    dts = sorted((r for r in results if r["image_id"] == 4), key=lambda r: -r["score"])
    truth_kp = np.array([a["keypoints"] for a in gts]).reshape(len(gts), 17, 3)
    pred_kp = np.array([r["keypoints"] for r in dts]).reshape(len(dts), 17, 3)
    ours = oks_matrix(
        pred_kp[..., :2],
        truth_kp[..., :2],
        truth_kp[..., 2],
        [a["area"] for a in gts],
        COCO_OKS_SIGMAS,
    )
    np.testing.assert_allclose(ours, reference, rtol=1e-9)
