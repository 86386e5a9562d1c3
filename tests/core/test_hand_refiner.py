"""The second hand stage on constructed ONNX refiners: contract checks, crop wiring, decoding."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from hand_pose_ros.core.camera import Intrinsics
from hand_pose_ros.core.hand_estimator import HandEstimator
from hand_pose_ros.core.hand_refiner import HandRefiner, RefinerDecoder
from hand_pose_ros.core.heatmaps import heatmap_to_input_px, render_gaussian_heatmaps
from hand_pose_ros.core.model_metadata import ModelLoadError, validate_metadata
from hand_pose_ros.core.model_runtime import OnnxModel
from tests.core.refiner_stand_in import build_refiner_model, refiner_metadata
from tests.core.test_hand_estimator import IMAGE_HW, ramp_depth, right_hand_heatmaps

K = 21
CROP_PX, STRIDE = 32, 4
CELLS = CROP_PX // STRIDE


def refiner_heatmaps() -> tuple[np.ndarray, np.ndarray]:
    """(K, 8, 8) Gaussians at sub-cell positions and those positions in heatmap cells."""
    rng = np.random.default_rng(3)
    xy = rng.uniform(1.5, CELLS - 2.5, (K, 2))
    return render_gaussian_heatmaps(xy, np.ones(K, bool), CELLS, CELLS, 1.5) * 0.9, xy


@pytest.fixture
def refiner_path(tmp_path):
    return build_refiner_model(tmp_path / "refiner.onnx", refiner_metadata(), refiner_heatmaps()[0])


@pytest.fixture
def first_stage(make_model):
    maps, _ = right_hand_heatmaps()
    return make_model(heatmaps=maps, presence_logits=np.array([2.0, 2.0], np.float32))


def test_refined_keypoints_are_the_refiner_peaks_mapped_out_of_each_hands_crop(
    first_stage, refiner_path
) -> None:
    height, width = IMAGE_HW
    depth = ramp_depth(height, width)
    intrinsics = Intrinsics.from_fov(width, height, 70.0)
    alone = HandEstimator(OnnxModel(first_stage)).estimate(depth, intrinsics)
    refined = HandEstimator(OnnxModel(first_stage), refiner=OnnxModel(refiner_path)).estimate(
        depth, intrinsics
    )
    decoder = RefinerDecoder(refiner_metadata())
    _, peaks_cells = refiner_heatmaps()
    peaks_crop = heatmap_to_input_px(peaks_cells, STRIDE)
    assert [hand.side for hand in refined.hands] == [0, 1]
    for before, after in zip(alone.hands, refined.hands, strict=True):
        crop = decoder.crop_for(before.uv_px, before.side)
        assert crop.mirrored == (before.side == 0)  # left hands are mirrored onto right ones
        np.testing.assert_allclose(after.uv_px, crop.to_image(peaks_crop), atol=0.05)
        np.testing.assert_allclose(after.score, 0.9, atol=0.02)
        inside = np.all((after.uv_px >= 0) & (after.uv_px <= [width - 1, height - 1]), axis=1)
        # The right hand's keypoints are spread over the image; the left's all sit in a corner.
        assert inside.all() or after.side == 0
        assert np.isfinite(after.xyz_m[inside]).all()  # lifted at the refined keypoints
        np.testing.assert_array_equal(after.visibility, before.visibility)  # first stage's
    assert refined.refine_s > 0 and alone.refine_s == 0
    assert refined.total_s >= refined.refine_s + refined.inference_s


def test_refiner_decoder_inverts_the_crop_geometry_for_sub_pixel_peaks() -> None:
    decoder = RefinerDecoder(refiner_metadata())
    maps, cells = refiner_heatmaps()
    uv = np.column_stack([np.linspace(40, 60, K), np.linspace(30, 45, K)])
    crops = [decoder.crop_for(uv, side) for side in (0, 1)]
    refined, score = decoder.decode(np.stack([maps, maps]), crops)
    for crop, keypoints in zip(crops, refined, strict=True):
        np.testing.assert_allclose(crop.to_crop(keypoints), heatmap_to_input_px(cells, STRIDE),
                                   atol=0.05)
    assert score.shape == (2, K) and np.all((score > 0.85) & (score <= 1.0))


def test_a_refiner_with_other_keypoints_is_refused(first_stage, tmp_path) -> None:
    metadata = refiner_metadata()
    metadata["keypoint_names"] = [f"k{i}" for i in range(K)]
    path = build_refiner_model(tmp_path / "other.onnx", metadata, refiner_heatmaps()[0])
    with pytest.raises(ValueError, match="refiner 'test_hand_refiner' has keypoints"):
        HandEstimator(OnnxModel(first_stage), refiner=OnnxModel(path))


def test_a_hand_model_is_refused_as_refiner_and_a_refiner_as_hand_model(
    first_stage, refiner_path
) -> None:
    with pytest.raises(ModelLoadError, match="needs a 'hand_keypoints_crop' model"):
        HandRefiner(OnnxModel(first_stage))
    with pytest.raises(ModelLoadError, match=r"needs a 'hand_pose_2\.5d' model"):
        HandEstimator(OnnxModel(refiner_path))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda m: m["input"].update(width=48), "must be square"),
        (lambda m: m["input"].update(crop_margin=0), "'input.crop_margin' must be a positive"),
        (lambda m: m["input"].update(reference_percentile=150), "at most 100"),
        (lambda m: m["input"].update(mirrored_side="middle"), "'input.mirrored_side' must be"),
        (lambda m: m["input"].pop("invalid_value"), "'input.invalid_value' must be a number"),
        (lambda m: m["outputs"]["heatmaps"].pop("stride"), "'outputs.heatmaps.stride'"),
        (lambda m: m.pop("sides"), "'sides' must be a non-empty list"),
    ],
)
def test_refiner_metadata_errors_name_the_field(change, message) -> None:
    metadata = copy.deepcopy(refiner_metadata())
    change(metadata)
    with pytest.raises(ModelLoadError, match=message):
        validate_metadata(metadata, "refiner.onnx")


def test_refiner_output_shape_is_checked_at_load(tmp_path) -> None:
    wrong_cells = np.zeros((K, CELLS + 3, CELLS), np.float32)
    path = build_refiner_model(tmp_path / "wrong.onnx", refiner_metadata(), wrong_cells)
    with pytest.raises(ModelLoadError, match="output shape mismatch"):
        OnnxModel(path)


def test_each_further_pass_crops_around_the_previous_passes_keypoints(
    first_stage, refiner_path
) -> None:
    height, width = IMAGE_HW
    depth = ramp_depth(height, width)
    intrinsics = Intrinsics.from_fov(width, height, 70.0)
    once = HandEstimator(OnnxModel(first_stage), refiner=OnnxModel(refiner_path))
    twice = HandEstimator(
        OnnxModel(first_stage), refiner=OnnxModel(refiner_path), refiner_passes=2
    )
    decoder = RefinerDecoder(refiner_metadata())
    peaks_crop = heatmap_to_input_px(refiner_heatmaps()[1], STRIDE)
    for first, second in zip(
        once.estimate(depth, intrinsics).hands, twice.estimate(depth, intrinsics).hands,
        strict=True,
    ):
        crop = decoder.crop_for(first.uv_px, first.side)
        np.testing.assert_allclose(second.uv_px, crop.to_image(peaks_crop), atol=0.05)
    with pytest.raises(ValueError, match="refiner_passes must be at least 1"):
        HandEstimator(OnnxModel(first_stage), refiner=OnnxModel(refiner_path), refiner_passes=0)
