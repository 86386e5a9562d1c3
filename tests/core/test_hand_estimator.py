"""HandEstimator end to end on constructed ONNX models with peaks at known places."""

from __future__ import annotations

import numpy as np
import pytest

from hand_pose_ros.core.camera import Intrinsics
from hand_pose_ros.core.hand_estimator import HandDecoder, HandEstimate, HandEstimator
from hand_pose_ros.core.heatmaps import render_gaussian_heatmaps
from hand_pose_ros.core.model_metadata import ModelLoadError
from hand_pose_ros.core.model_runtime import OnnxModel
from hand_pose_ros.core.skeletons import HAND_KEYPOINT_NAMES, HAND_SKELETON_EDGES

K = 21
HEATMAP_HW = (60, 80)  # 120x160 network input, stride 2
IMAGE_HW = (172, 224)  # a ToF sensor's resolution: different aspect ratio from the network


def right_hand_heatmaps(amplitude: float = 0.8) -> tuple[np.ndarray, np.ndarray]:
    """Heatmaps with only the right hand (channels K..2K-1) peaked at sub-pixel positions."""
    rng = np.random.default_rng(8)
    xy = np.column_stack([rng.uniform(3, 76, K), rng.uniform(3, 56, K)])
    maps = np.zeros((2 * K, *HEATMAP_HW), np.float32)
    maps[K:] = amplitude * render_gaussian_heatmaps(xy, np.ones(K, bool), *HEATMAP_HW, 1.5)
    return maps, xy


def ramp_depth(height: int, width: int) -> np.ndarray:
    """A tilted plane: a 5x5 window's median equals the centre pixel's value exactly."""
    v, u = np.mgrid[0:height, 0:width]
    return (0.3 + 0.001 * u + 0.0005 * v).astype(np.float32)


@pytest.fixture
def estimator(make_model):
    maps, _ = right_hand_heatmaps()
    visibility = np.zeros(2 * K, np.float32)
    visibility[K:] = np.linspace(-3, 3, K)
    keypose = np.zeros((2, 5), np.float32)
    keypose[1, 2] = 3.0  # right hand: "point"
    path = make_model(
        heatmaps=maps,
        presence_logits=np.array([-4.0, 2.0], np.float32),
        visibility_logits=visibility,
        keypose_logits=keypose,
    )
    return HandEstimator(OnnxModel(path))


def test_estimate_end_to_end(estimator):
    _, xy_heatmap = right_hand_heatmaps()
    height, width = IMAGE_HW
    depth = ramp_depth(height, width)
    intrinsics = Intrinsics.from_fov(width, height, 70.0)
    result = estimator.estimate(depth, intrinsics)

    assert isinstance(result, HandEstimate)
    assert min(result.preprocess_s, result.inference_s, result.decode_s) > 0
    assert [hand.side for hand in result.hands] == [1]  # left presence sigmoid(-4) < 0.5
    hand = result.hands[0]
    assert hand.presence == pytest.approx(1 / (1 + np.exp(-2.0)))

    # heatmap px -> network px (stride 2) -> image px (per-axis 224/160, 172/120).
    network_xy = (xy_heatmap + 0.5) * 2 - 0.5
    expected_uv = (network_xy + 0.5) * np.array([width / 160, height / 120]) - 0.5
    assert hand.uv_px.shape == (K, 2)
    assert np.abs(hand.uv_px - expected_uv).max() < 0.05 * 2 * width / 160

    column, row = np.floor(hand.uv_px + 0.5).astype(int).T
    np.testing.assert_allclose(hand.depth_m, depth[row, column], rtol=1e-6)
    np.testing.assert_allclose(hand.xyz_m, intrinsics.back_project(hand.uv_px, hand.depth_m))
    assert hand.xyz_m.shape == (K, 3) and np.isfinite(hand.xyz_m).all()

    np.testing.assert_allclose(hand.score, 0.8, atol=0.01)
    np.testing.assert_allclose(hand.visibility, 1 / (1 + np.exp(-np.linspace(-3, 3, K))))
    assert hand.keypose == "point"
    assert hand.keypose_score == pytest.approx(np.exp(3) / (np.exp(3) + 4))


def test_metadata_describes_the_model(estimator):
    assert estimator.keypoint_names == HAND_KEYPOINT_NAMES
    assert estimator.skeleton == HAND_SKELETON_EDGES
    assert estimator.sides == ("left", "right")


def test_missing_depth_gives_nan_xyz_but_keeps_keypoints(estimator):
    height, width = IMAGE_HW
    depth = np.full(IMAGE_HW, np.nan, np.float32)
    hands = estimator.estimate(depth, Intrinsics.from_fov(width, height, 70.0)).hands
    # This constant model reports the hand whatever the input; depth just cannot be found.
    assert len(hands) == 1
    assert np.isnan(hands[0].depth_m).all() and np.isnan(hands[0].xyz_m).all()
    assert np.isfinite(hands[0].uv_px).all()


def test_decode_coordinate_frames_and_threshold(estimator):
    maps, xy_heatmap = right_hand_heatmaps()
    outputs = {
        "heatmaps": maps,
        "presence": np.array([-4.0, 2.0], np.float32),
        "unrelated": np.zeros(3),
    }
    network = estimator.decoder.decode(outputs, 120, 160)
    np.testing.assert_allclose(network[0].uv_px, (xy_heatmap + 0.5) * 2 - 0.5, atol=0.05)
    assert np.isnan(network[0].visibility).all()  # no visibility in these outputs
    assert network[0].keypose is None and np.isnan(network[0].keypose_score)
    assert np.isnan(network[0].depth_m).all()

    both = estimator.decoder.decode(outputs, 120, 160, presence_threshold=0.0)
    assert [hand.side for hand in both] == [0, 1]
    estimator.presence_threshold = 0.95
    assert estimator.decoder.decode(outputs, 120, 160) == []


def test_decoder_works_from_metadata_alone(make_metadata):
    """Training evaluation decodes torch outputs before any ONNX file exists."""
    maps, xy_heatmap = right_hand_heatmaps(amplitude=1.3)
    decoder = HandDecoder(make_metadata(), presence_threshold=0.5)
    hands = decoder.decode({"heatmaps": maps, "presence": np.array([0.0, 5.0])}, 240, 320)
    assert [hand.side for hand in hands] == [0, 1]  # sigmoid(0) == 0.5 passes the threshold
    np.testing.assert_allclose(hands[1].uv_px, (xy_heatmap + 0.5) * 4 - 0.5, atol=0.1)
    np.testing.assert_allclose(hands[1].score, 1.0)  # clipped
    assert np.all(hands[0].score == 0.0)  # flat zero maps
    with pytest.raises(ValueError, match="one sample"):
        decoder.decode({"heatmaps": maps[None], "presence": np.zeros(2)}, 120, 160)


def test_model_without_optional_outputs(make_model, make_metadata):
    meta = make_metadata()
    for role in ("visibility", "segmentation", "keypose"):
        del meta["outputs"][role]
    del meta["keyposes"]
    maps, _ = right_hand_heatmaps()
    path = make_model(
        metadata=meta,
        outputs=("heatmaps", "presence"),
        heatmaps=maps,
        presence_logits=np.array([1.0, 1.0], np.float32),
    )
    hands = (
        HandEstimator(OnnxModel(path))
        .estimate(ramp_depth(120, 160), Intrinsics.from_fov(160, 120, 70.0))
        .hands
    )
    assert len(hands) == 2
    assert all(np.isnan(hand.visibility).all() and hand.keypose is None for hand in hands)


def test_input_reaches_the_network(make_model):
    # presence logit = -1 + 4 * mean(network input); network input = 0.5 * depth, 0 if invalid.
    path = make_model(presence_logits=np.array([-1.0, -1.0], np.float32), presence_input_gain=4.0)
    estimator = HandEstimator(OnnxModel(path))
    intrinsics = Intrinsics.from_fov(224, 172, 70.0)
    assert estimator.estimate(np.full(IMAGE_HW, np.nan, np.float32), intrinsics).hands == []
    hands = estimator.estimate(np.full(IMAGE_HW, 1.0, np.float32), intrinsics).hands
    assert [hand.presence for hand in hands] == pytest.approx([1 / (1 + np.exp(-1.0))] * 2)


def test_rejects_wrong_task_and_mismatched_intrinsics(make_model, make_metadata, estimator):
    meta = make_metadata()
    meta["task"] = "person_pose_2d"
    with pytest.raises(ModelLoadError, match=r"needs a 'hand_pose_2.5d' model"):
        HandEstimator(OnnxModel(make_model("person.onnx", metadata=meta)))
    with pytest.raises(ValueError, match="intrinsics are for a 160x120 image"):
        estimator.estimate(ramp_depth(*IMAGE_HW), Intrinsics.from_fov(160, 120, 70.0))
    with pytest.raises(ValueError, match="floating-point metres"):
        estimator.estimate(np.zeros(IMAGE_HW, np.uint16), Intrinsics.from_fov(224, 172, 70))
    with pytest.raises(ValueError, match="2-D"):
        estimator.estimate(np.zeros((1, *IMAGE_HW), np.float32), Intrinsics.from_fov(224, 172, 70))
