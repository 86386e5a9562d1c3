"""DKD network parts on constructed inputs, and the exported graph against the core runtime."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from hand_pose_ros.core.model_metadata import ModelLoadError
from hand_pose_ros.core.video.dkd_model import DkdModel
from hand_pose_ros.core.video.rois import RoiSpec, person_boxes, render_pose_maps
from training.common.onnx_metadata import read_onnx_metadata, write_metadata
from training.video.export import export_network
from training.video.networks import (
    DkdNetwork,
    KernelDistillator,
    KernelMatcher,
    Neighbourhoods,
    TemporalDiscriminator,
    crop_features,
    roi_grid,
)

SPEC = RoiSpec()
WIDTH, HEIGHT = 256, 192


def test_neighbourhoods_are_the_columns_of_a_convolution() -> None:
    features = torch.randn(2, 3, 6, 5)
    kernel = torch.randn(4, 3, 3, 3)
    columns = Neighbourhoods(3, 3)(features)  # (P, C*k*k, H*W), channel-major
    by_matmul = (kernel.reshape(4, -1) @ columns).reshape(2, 4, 6, 5)
    torch.testing.assert_close(by_matmul, F.conv2d(features, kernel, padding=1))


def test_roi_grid_samples_the_cell_centres_of_the_box() -> None:
    """An image whose value is its own x (and y) pixel coordinate, sampled at the ROI grid,
    gives the cell centres that the core's cell convention places in the box."""
    ys, xs = torch.meshgrid(
        torch.arange(HEIGHT, dtype=torch.float32),
        torch.arange(WIDTH, dtype=torch.float32),
        indexing="ij",
    )
    image = torch.stack([xs, ys])[None]
    boxes = torch.tensor([[40.0, 30.0, 88.0, 94.0]])
    sampled = crop_features(image, roi_grid(boxes, SPEC, WIDTH, HEIGHT))[0]
    cell_w, cell_h = 48.0 / SPEC.width_cells, 64.0 / SPEC.height_cells
    expected_x = 40.0 + (torch.arange(SPEC.width_cells) + 0.5) * cell_w
    expected_y = 30.0 + (torch.arange(SPEC.height_cells) + 0.5) * cell_h
    torch.testing.assert_close(sampled[0, 0], expected_x, atol=1e-4, rtol=0)
    torch.testing.assert_close(sampled[1, :, 0], expected_y, atol=1e-4, rtol=0)


def test_distilled_kernels_match_where_the_joint_moved() -> None:
    """A distinctive feature under a joint in the previous frame, moved 5 cells in the current
    one among random clutter: the kernel's correlation peaks at the new place."""
    torch.manual_seed(0)
    channels, joints = 8, 2
    previous = torch.randn(1, channels, 32, 24) * 0.3
    current = torch.randn(1, channels, 32, 24) * 0.3
    signature = torch.randn(channels, 3, 3) * 2.0
    previous[0, :, 9:12, 9:12] = signature  # joint 0 centred at (row 10, col 10)
    current[0, :, 14:17, 13:16] = signature  # moved to (row 15, col 14)
    pose_maps = torch.zeros(1, joints, 32, 24)
    pose_maps[0, 0, 10, 10] = 1.0
    distillator = KernelDistillator(channels, 3)
    for layer in distillator.transform:  # the pure pooled kernel: no learned transform
        if isinstance(layer, torch.nn.Linear):
            torch.nn.init.zeros_(layer.weight)
            torch.nn.init.zeros_(layer.bias)
    kernels = distillator(previous, pose_maps)
    response = KernelMatcher(channels, joints, 3).correlate(kernels, current)[0, 0]
    peak = divmod(int(torch.argmax(response)), response.shape[1])
    assert peak == (15, 14)
    assert float(response.max()) > 0.99  # cosine similarity of the same signature


def test_discriminator_scores_each_sequence() -> None:
    scores = TemporalDiscriminator(17)(torch.randn(5, 4, 17, 2))
    assert scores.shape == (5,)


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, DkdNetwork, dict]:
    torch.manual_seed(0)
    network = DkdNetwork(17, SPEC, WIDTH, HEIGHT)
    path = tmp_path_factory.mktemp("dkd") / "dkd.onnx"
    report = export_network(network, path, "dkd_test", training={"data": "none (test)"})
    return path, network, report


def test_export_counts_the_per_frame_and_per_person_cost(exported) -> None:
    _, _, report = exported
    # Encoder ~14 MMACs at 256x192, one person ~9 MMACs: a small fraction of LitePose-XS.
    assert 10e6 < report["macs_per_frame"] < 20e6
    assert 5e6 < report["macs_per_person"] < 15e6
    assert report["parity_max_abs"] < 1e-3


def test_core_runtime_reproduces_torch_for_any_number_of_people(exported) -> None:
    path, network, _ = exported
    model = DkdModel(path)
    assert model.feature_shape == (1, network.channels, HEIGHT // 4, WIDTH // 4)
    rng = np.random.default_rng(0)
    image = rng.normal(size=(1, 3, HEIGHT, WIDTH)).astype(np.float32)
    previous = rng.normal(size=model.feature_shape).astype(np.float32)
    for people in (0, 1, 4):
        uv = rng.uniform(20, 180, (people, 17, 2))
        score = np.ones((people, 17), np.float32)
        boxes = person_boxes(uv, score, SPEC)
        maps = render_pose_maps(uv, score, boxes, SPEC) if people else None
        features, heatmaps = model.step(image, previous, boxes, maps)
        assert heatmaps.shape == (people, 17, SPEC.height_cells, SPEC.width_cells)
        with torch.no_grad():
            expected = network.encoder(torch.from_numpy(image)).numpy()
            np.testing.assert_allclose(features, expected, atol=1e-4)
            if people:
                reference = network.propagate(
                    torch.from_numpy(previous).expand(people, -1, -1, -1),
                    torch.from_numpy(expected).expand(people, -1, -1, -1),
                    torch.from_numpy(boxes),
                    torch.from_numpy(maps),
                )
                np.testing.assert_allclose(heatmaps, reference.numpy(), atol=1e-4)


def test_a_model_of_another_task_or_a_broken_contract_is_refused(exported, tmp_path) -> None:
    from hand_pose_ros.nodes.body_pose_node import shipped_model_path

    with pytest.raises(ModelLoadError, match="video_pose_dkd"):
        DkdModel(shipped_model_path())
    path, _, _ = exported
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(path.read_bytes())
    metadata = read_onnx_metadata(broken)
    metadata["inputs"]["boxes"] = "rois"
    write_metadata(broken, metadata)
    with pytest.raises(ModelLoadError, match="rois"):
        DkdModel(broken)
    metadata["roi"]["expand"] = 0.5
    with pytest.raises(ModelLoadError, match="expand"):
        write_metadata(broken, metadata)
