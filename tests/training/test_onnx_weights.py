"""Warm starts from exported files: the weights of an ONNX export back in a torch network,
BatchNorms rebuilt, checked on fresh exports of the real hand networks."""

from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from hand_pose_ros.core.model_metadata import REFINER_OUTPUT_ROLES  # noqa: E402
from training.common.onnx_weights import OnnxWeightsError, load_onnx_weights  # noqa: E402
from training.hand.losses import AUXILIARY_TASKS, PRIMARY_TASKS  # noqa: E402
from training.hand.networks import (  # noqa: E402
    OutputsInOrder,
    build_hand_net,
    build_refiner_net,
)

HAND_ROLES = PRIMARY_TASKS + AUXILIARY_TASKS


def _trained_looking(network: torch.nn.Module, seed: int) -> torch.nn.Module:
    """Random weights and BatchNorm statistics far from their initial values, as after
    training, so that folding them into the convolutions changes the weights."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in network.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                channels = module.num_features
                module.weight.copy_(0.5 + torch.rand(channels, generator=generator))
                module.bias.copy_(torch.randn(channels, generator=generator) * 0.1)
                module.running_mean.copy_(torch.randn(channels, generator=generator) * 0.1)
                module.running_var.copy_(0.5 + torch.rand(channels, generator=generator))
    return network.eval()


def _export(wrapper: torch.nn.Module, sample: torch.Tensor, path: Path) -> Path:
    torch.onnx.export(wrapper.eval(), sample[:1], str(path), input_names=["x"], opset_version=17,
                      dynamic_axes={"x": {0: "n"}}, dynamo=False)
    return path


@pytest.mark.parametrize("network", ["refiner", "tiny"])
def test_an_export_loads_back_into_a_fresh_network_with_its_function(
    tmp_path: Path, network: str
) -> None:
    if network == "refiner":
        build, roles, shape = build_refiner_net, REFINER_OUTPUT_ROLES, (1, 64, 64)
    else:
        build, roles, shape = (lambda: build_hand_net("tiny")), HAND_ROLES, (1, 120, 160)
    torch.manual_seed(0)
    source = _trained_looking(build(), seed=1)
    calibration = torch.rand(16, *shape) * 2 - 1
    path = _export(OutputsInOrder(source, roles), calibration, tmp_path / "model.onnx")
    torch.manual_seed(5)
    fresh = build()
    wrapper = OutputsInOrder(fresh, roles)
    assert load_onnx_weights(fresh, path, calibration, wrapper) < 1e-4
    with torch.no_grad():
        expected = OutputsInOrder(source, roles).eval()(calibration)
        loaded = wrapper.eval()(calibration)
        # In training mode each BatchNorm normalises by the batch's own statistics, which on
        # the calibration batch are the ones it was rebuilt from: the same function again.
        in_training_mode = wrapper.train()(calibration)
    for want, got, training in zip(expected, loaded, in_training_mode, strict=True):
        torch.testing.assert_close(got, want, atol=1e-4, rtol=1e-4)
        torch.testing.assert_close(training, want, atol=2e-2, rtol=2e-2)


def test_an_export_of_another_network_is_refused_by_name(tmp_path: Path) -> None:
    calibration = torch.rand(4, 1, 120, 160)
    path = _export(OutputsInOrder(build_hand_net("tiny"), HAND_ROLES), calibration,
                   tmp_path / "first_stage.onnx")
    refiner = build_refiner_net()
    # Both run 27 convolutions; the first stage's per-hand heads are what tells them apart.
    refused = r"first_stage\.onnx has 3 linear layers, the network runs 0"
    with pytest.raises(OnnxWeightsError, match=refused):
        load_onnx_weights(refiner, path, torch.rand(4, 1, 64, 64),
                          OutputsInOrder(refiner, REFINER_OUTPUT_ROLES))
