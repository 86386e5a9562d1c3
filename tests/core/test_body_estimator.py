"""BodyEstimator end to end on onnx.helper stand-in models (real ONNX Runtime sessions)."""

from __future__ import annotations

import numpy as np
import pytest

from hand_pose_ros.core.body_estimator import BodyEstimator, lift_people
from hand_pose_ros.core.camera import Intrinsics
from hand_pose_ros.core.letterbox import Letterbox
from hand_pose_ros.core.model_runtime import OnnxModel
from hand_pose_ros.core.skeletons import flip_permutation
from tests.core.body_stand_in import (
    INPUT_WIDTH,
    body_metadata,
    build_body_model,
    grid_people,
    render_body_outputs,
)

TRUTH = grid_people(3, seed=11)
TAGS = [0.0, 2.0, 4.0]
INTRINSICS = Intrinsics.from_fov(640, 480, 70.0)
WHITE, BLACK = (1.0 - 0.485) / 0.229, -0.485 / 0.229  # channel 0 normalised


def mirrored(truth: np.ndarray) -> np.ndarray:
    result = truth[:, list(flip_permutation(body_metadata()["keypoint_names"]))].copy()
    result[..., 0] = INPUT_WIDTH - 1 - result[..., 0]
    return result


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> OnnxModel:
    path = tmp_path_factory.mktemp("body") / "three_people.onnx"
    return OnnxModel(build_body_model(path, outputs=render_body_outputs(TRUTH, TAGS)))


def error_px(uv: np.ndarray, truth: np.ndarray) -> float:
    errors = np.abs(uv[:, None] - truth[None]).max(axis=(2, 3))
    return float(errors.min(axis=0).max())


def test_people_in_source_pixels_without_depth(model):
    rgb = np.zeros((480, 640, 3), np.uint8)
    people = BodyEstimator(model).estimate(rgb)
    assert len(people) == 3
    expected = Letterbox.fit(480, 640, 192, 256).to_source(TRUTH)
    assert error_px(people.uv_px, expected) < 0.6  # 0.25 network px at 2.5x
    assert people.uv_px.dtype == np.float64 and people.score.dtype == np.float32
    assert np.isnan(people.depth_m).all() and np.isnan(people.xyz_m).all()
    assert people.xyz_m.shape == (3, 17, 3) and people.xyz_m.dtype == np.float32
    assert set(people.timings) == {"preprocess_s", "inference_s", "decode_s", "lift_s"}


def test_letterboxed_wide_image(model):
    people = BodyEstimator(model).estimate(np.zeros((720, 1280, 3), np.uint8))
    expected = Letterbox.fit(720, 1280, 192, 256).to_source(TRUTH)
    assert error_px(people.uv_px, expected) < 1.3


@pytest.mark.parametrize("depth_size", [(480, 640), (240, 320), (960, 1280)])
def test_depth_is_sampled_offset_and_back_projected(model, depth_size):
    depth = np.full(depth_size, 2.0, np.float32)
    depth[:5] = np.nan  # invalid rows far from everyone
    people = BodyEstimator(model).estimate(np.zeros((480, 640, 3), np.uint8), depth, INTRINSICS)
    np.testing.assert_allclose(people.depth_m, 2.05, rtol=1e-6)  # + the metadata's offset
    expected = INTRINSICS.back_project(people.uv_px, np.full((3, 17), 2.05))
    np.testing.assert_allclose(people.xyz_m, expected, rtol=1e-5)
    plain = BodyEstimator(model, use_depth_offsets=False).estimate(
        np.zeros((480, 640, 3), np.uint8), depth, INTRINSICS
    )
    np.testing.assert_allclose(plain.depth_m, 2.0)


def test_depth_with_another_aspect_is_a_clear_error(model):
    estimator = BodyEstimator(model)
    rgb = np.zeros((480, 640, 3), np.uint8)
    with pytest.raises(ValueError, match=r"depth image 640x360 does not have the aspect"):
        estimator.estimate(rgb, np.ones((360, 640), np.float32), INTRINSICS)
    with pytest.raises(ValueError, match="intrinsics are for a 640x480 image"):
        estimator.estimate(
            np.zeros((240, 320, 3), np.uint8), np.ones((240, 320), np.float32), INTRINSICS
        )
    with pytest.raises(ValueError, match="floating-point metres"):
        estimator.estimate(rgb, np.ones((480, 640), np.uint16), INTRINSICS)
    with pytest.raises(ValueError, match="needs the colour camera's intrinsics"):
        estimator.estimate(rgb, np.ones((480, 640), np.float32))
    with pytest.raises(ValueError, match=r"\(H, W, 3\) RGB"):
        estimator.estimate(np.zeros((480, 640), np.uint8))


def test_lift_people_handles_holes_and_offsets():
    uv = np.array([[[100.0, 100.0], [300.0, 200.0]]])
    depth = np.full((480, 640), 3.0, np.float32)
    depth[190:211, 290:311] = np.nan  # a hole around the second keypoint
    z, xyz = lift_people(uv, depth, INTRINSICS, 7, 0.08, np.array([0.1, 0.2]))
    assert z[0, 0] == pytest.approx(3.1) and np.isnan(z[0, 1])
    assert np.isnan(xyz[0, 1]).all() and xyz[0, 0, 2] == pytest.approx(3.1)


def test_a_keypoint_on_the_wall_behind_takes_its_persons_depth():
    depth = np.full((480, 640), 5.0, np.float32)  # the wall
    depth[:, :320] = 2.0  # the person, left half
    uv = np.array([[[100.0, 100.0], [150.0, 200.0], [200.0, 300.0], [400.0, 300.0]]])
    z, xyz = lift_people(uv, depth, INTRINSICS, 7, 0.08)
    np.testing.assert_allclose(z[0], 2.0)
    assert xyz[0, 3, 2] == pytest.approx(2.0)
    z_raw, _ = lift_people(uv, depth, INTRINSICS, 7, 0.08, person_band_m=0.0)
    assert z_raw[0, 3] == pytest.approx(5.0)


@pytest.mark.parametrize("batched", [True, False])
def test_flip_test_runs_the_mirrored_image(tmp_path, batched):
    outputs = render_body_outputs(TRUTH, TAGS)
    flipped = render_body_outputs(mirrored(TRUTH), TAGS, peak=0.5)
    path = build_body_model(
        tmp_path / "flip.onnx", outputs=outputs, flip_outputs=flipped, selector=(BLACK, WHITE)
    )
    model = OnnxModel(path)
    if not batched:
        model.input_shape[0] = 1  # as a fixed-batch export would report
    rgb = np.zeros((480, 640, 3), np.uint8)
    rgb[:, :3] = 255  # bright left edge: the model answers `outputs`, mirrored `flipped`
    plain = BodyEstimator(model).estimate(rgb)
    both = BodyEstimator(model, flip_test=True).estimate(rgb)
    assert plain.score.min() > 0.95  # the fused 1/4 + 1/2 peak reads a little under 1
    np.testing.assert_allclose(both.score, 0.75 * plain.score, atol=0.02)
    assert error_px(both.uv_px, Letterbox.fit(480, 640, 192, 256).to_source(TRUTH)) < 0.6


def test_estimator_settings(model):
    assert BodyEstimator(model).keypoint_names[0] == "nose"
    assert len(BodyEstimator(model).skeleton) == 19
    assert len(BodyEstimator(model, max_people=2).estimate(np.zeros((480, 640, 3), np.uint8))) == 2
    with pytest.raises(ValueError, match="depth_window_px"):
        BodyEstimator(model, depth_window_px=0)
