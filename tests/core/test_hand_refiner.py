"""The second hand stage on constructed ONNX refiners: contract checks, crop wiring, decoding."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from hand_pose_ros.core.camera import Intrinsics
from hand_pose_ros.core.hand_estimator import HandEstimator
from hand_pose_ros.core.hand_refiner import HandRefiner, RefinerDecoder
from hand_pose_ros.core.heatmaps import heatmap_to_input_px, render_gaussian_heatmaps, rescale_px
from hand_pose_ros.core.model_metadata import ModelLoadError, validate_metadata
from hand_pose_ros.core.model_runtime import OnnxModel
from tests.core.refiner_stand_in import build_refiner_model, refiner_metadata
from tests.core.test_hand_estimator import (
    HEATMAP_HW,
    IMAGE_HW,
    ramp_depth,
    right_hand_heatmaps,
)

K = 21
CROP_PX, STRIDE = 32, 4
CELLS = CROP_PX // STRIDE


def refiner_heatmaps() -> tuple[np.ndarray, np.ndarray]:
    """(K, 8, 8) Gaussians at sub-cell positions and those positions in heatmap cells."""
    rng = np.random.default_rng(3)
    xy = rng.uniform(1.5, CELLS - 2.5, (K, 2))
    return render_gaussian_heatmaps(xy, np.ones(K, bool), CELLS, CELLS, 1.5) * 0.9, xy


def ramp_frame() -> tuple[np.ndarray, Intrinsics]:
    """A tilted-plane depth image at the sensor's resolution and its intrinsics."""
    height, width = IMAGE_HW
    return ramp_depth(height, width), Intrinsics.from_fov(width, height, 70.0)


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
    depth, intrinsics = ramp_frame()
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
        inside = np.all((after.uv_px >= 0) & (after.uv_px <= np.subtract(depth.shape[::-1], 1)),
                        axis=1)
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
    refined = decoder.decode(np.stack([maps, maps]), crops)
    for crop, keypoints in zip(crops, refined.uv_px, strict=True):
        np.testing.assert_allclose(crop.to_crop(keypoints), heatmap_to_input_px(cells, STRIDE),
                                   atol=0.05)
    assert refined.score.shape == (2, K) and np.all((refined.score > 0.85) & (refined.score <= 1))
    assert refined.depth_m.shape == (2, K) and np.isnan(refined.depth_m).all()  # no depth output


def depth_maps(value_at_peak: np.ndarray, cells: np.ndarray) -> np.ndarray:
    """(K, 8, 8) maps that are ``value_at_peak`` at each keypoint's peak and far off elsewhere,
    so that reading them anywhere but at the peak shows."""
    maps = np.full((K, CELLS, CELLS), 5.0, np.float32)
    for k, (x, y) in enumerate(np.round(cells).astype(int)):
        maps[k, max(y - 1, 0):y + 2, max(x - 1, 0):x + 2] = value_at_peak[k]
    return maps


def test_keypoint_depth_is_the_depth_map_at_the_peak_relative_to_the_crops_reference() -> None:
    decoder = RefinerDecoder(refiner_metadata(depth=True))
    maps, cells = refiner_heatmaps()
    relative = np.linspace(-0.4, 0.4, K).astype(np.float32)
    uv = np.column_stack([np.linspace(40, 60, K), np.linspace(30, 45, K)])
    crops = [decoder.crop_for(uv, side) for side in (0, 1)]
    depth = np.stack([depth_maps(relative, cells)] * 2)
    refined = decoder.decode(np.stack([maps, maps]), crops, depth, [0.5, 0.8])
    spec = refiner_metadata()["input"]
    np.testing.assert_allclose(refined.depth_m[0], 0.5 + relative * spec["depth_range_m"],
                               atol=1e-6)
    np.testing.assert_allclose(refined.depth_m[1], 0.8 + relative * spec["depth_range_m"],
                               atol=1e-6)


def test_the_estimator_lifts_with_the_refiners_depth_where_samples_disagree(
    first_stage, tmp_path
) -> None:
    maps, cells = refiner_heatmaps()
    path = build_refiner_model(tmp_path / "depth.onnx", refiner_metadata(depth=True), maps,
                               depth_maps(np.zeros(K, np.float32), cells))
    height, width = IMAGE_HW
    depth = np.full((height, width), 0.6, np.float32)  # a flat surface: the crops' reference
    intrinsics = Intrinsics.from_fov(width, height, 70.0)
    close = HandEstimator(OnnxModel(first_stage), refiner=OnnxModel(path),
                          predicted_depth_band_m=0.02).estimate(depth, intrinsics)
    for hand in close.hands:  # samples agree with the prediction (0 = the reference): kept
        inside = np.isfinite(hand.depth_m)
        np.testing.assert_allclose(hand.depth_m[inside], 0.6, atol=1e-6)
    depth[:] = 0.6 + np.random.default_rng(0).uniform(-0.1, 0.1, depth.shape).astype(np.float32)
    rough = HandEstimator(OnnxModel(first_stage), refiner=OnnxModel(path),
                          predicted_depth_band_m=0.0).estimate(depth, intrinsics)
    for hand in rough.hands:  # band 0: the prediction, its reference a crop percentile
        assert np.ptp(hand.depth_m) == pytest.approx(0.0, abs=1e-6)
        assert 0.5 < hand.depth_m[0] < 0.6


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
        (lambda m: m["outputs"].update(keypoint_depth={"name": "d", "stride": 2}),
         "'outputs.keypoint_depth.stride' must equal"),
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
    right_cells = np.zeros((K, CELLS, CELLS), np.float32)
    path = build_refiner_model(tmp_path / "wrong_depth.onnx", refiner_metadata(depth=True),
                               right_cells, wrong_cells)
    with pytest.raises(ModelLoadError, match=r"'keypoint_depth' \(keypoint_depth\) has shape"):
        OnnxModel(path)
    path = build_refiner_model(tmp_path / "no_depth.onnx", refiner_metadata(depth=True),
                               right_cells)
    with pytest.raises(ModelLoadError, match="missing required output"):
        OnnxModel(path)


def test_each_further_pass_crops_around_the_previous_passes_keypoints(
    first_stage, refiner_path
) -> None:
    depth, intrinsics = ramp_frame()
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


def hand_masks() -> tuple[np.ndarray, np.ndarray]:
    """Segmentation logits (3, 60, 80) in which the right hand (class 2) wins a block and a
    stray cell, the left hand nothing; and the right block's corners in network pixels."""
    logits = np.zeros((3, *HEATMAP_HW), np.float32)
    logits[2, 20:30, 40:56] = 5.0
    logits[2, 50, 5] = 5.0
    corners_cells = np.array([[39.5, 19.5], [55.5, 29.5]])
    return logits, heatmap_to_input_px(corners_cells, 2)


def test_the_first_crop_is_cut_around_the_hands_mask_and_later_ones_around_its_keypoints(
    make_model, refiner_path
) -> None:
    depth, intrinsics = ramp_frame()
    logits, corners_network = hand_masks()
    maps, _ = right_hand_heatmaps()
    first_stage = make_model(
        heatmaps=maps, presence_logits=np.array([2.0, 2.0], np.float32),
        segmentation_logits=logits,
    )
    to_image = np.array([depth.shape[1] / 160, depth.shape[0] / 120])
    corners_image = rescale_px(corners_network, to_image)
    alone = HandEstimator(OnnxModel(first_stage)).estimate(depth, intrinsics).hands
    decoder = RefinerDecoder(refiner_metadata())
    peaks_crop = heatmap_to_input_px(refiner_heatmaps()[1], STRIDE)

    def refined(**options) -> list:
        estimator = HandEstimator(OnnxModel(first_stage), refiner=OnnxModel(refiner_path),
                                  **options)
        return estimator.estimate(depth, intrinsics).hands

    left, right = refined(first_crop="segmentation")
    # The right hand's crop is its mask's box; the left hand has no mask: its keypoints' box.
    right_crop = decoder.crop_for(corners_image, 1)
    np.testing.assert_allclose(right.uv_px, right_crop.to_image(peaks_crop), atol=0.05)
    left_crop = decoder.crop_for(alone[0].uv_px, 0)
    np.testing.assert_allclose(left.uv_px, left_crop.to_image(peaks_crop), atol=0.05)
    _, right_twice = refined(first_crop="segmentation", refiner_passes=2)
    second_crop = decoder.crop_for(right.uv_px, 1)
    np.testing.assert_allclose(right_twice.uv_px, second_crop.to_image(peaks_crop), atol=0.05)
    _, right_from_keypoints = refined(first_crop="keypoints")
    keypoint_crop = decoder.crop_for(alone[1].uv_px, 1)
    np.testing.assert_allclose(
        right_from_keypoints.uv_px, keypoint_crop.to_image(peaks_crop), atol=0.05
    )
    with pytest.raises(ValueError, match="first_crop must be one of"):
        refined(first_crop="box")


@pytest.mark.parametrize("change", ["no segmentation output", "classes other than the sides"])
def test_without_a_mask_per_side_the_first_crop_is_cut_around_the_keypoints(
    make_model, make_metadata, refiner_path, change
) -> None:
    meta = make_metadata()
    outputs = ("heatmaps", "presence", "visibility", "segmentation", "keypose")
    if change == "no segmentation output":
        del meta["outputs"]["segmentation"]
        outputs = tuple(role for role in outputs if role != "segmentation")
    else:
        meta["outputs"]["segmentation"]["classes"] = ["background", "hand", "arm"]
    maps, _ = right_hand_heatmaps()
    first_stage = make_model(
        metadata=meta, outputs=outputs, heatmaps=maps,
        presence_logits=np.array([-5.0, 2.0], np.float32), segmentation_logits=hand_masks()[0],
    )
    depth, intrinsics = ramp_frame()
    estimator = HandEstimator(OnnxModel(first_stage), refiner=OnnxModel(refiner_path))
    assert not estimator.decoder.has_hand_masks
    (alone,) = HandEstimator(OnnxModel(first_stage)).estimate(depth, intrinsics).hands
    (refined,) = estimator.estimate(depth, intrinsics).hands
    crop = RefinerDecoder(refiner_metadata()).crop_for(alone.uv_px, 1)
    peaks_crop = heatmap_to_input_px(refiner_heatmaps()[1], STRIDE)
    np.testing.assert_allclose(refined.uv_px, crop.to_image(peaks_crop), atol=0.05)


def test_a_crop_without_a_reference_depth_gives_no_predicted_depth() -> None:
    decoder = RefinerDecoder(refiner_metadata(depth=True))
    maps, cells = refiner_heatmaps()
    uv = np.column_stack([np.linspace(40, 60, K), np.linspace(30, 45, K)])
    crops = [decoder.crop_for(uv, 1)]
    depth = depth_maps(np.zeros(K, np.float32), cells)[None]
    refined = decoder.decode(maps[None], crops, depth, [float("nan")])
    assert np.isnan(refined.depth_m).all()  # the lift then keeps the sampled depths
