"""Warm starts from an exported model: an ONNX file's weights back into the torch network.

A shipped model is an ONNX file; the run that produced it may be long gone (runs/ is not part of
the package). Export folds every BatchNorm into the convolution before it, so the file holds
W' = W * g / s and b' = beta - m * g / s (m, s the running mean and deviation, g, beta the
affine terms) and no statistics. Loading puts W' into the convolution and rebuilds each
BatchNorm from calibration batches: with m and v the mean and variance of its input (W'x) over
them, weight sqrt(v + eps), bias b' + m and running statistics m, v. In evaluation mode that is
exactly the file's function; in training mode, where a BatchNorm normalises by its batch's own
statistics, the network starts close to it instead of from a reset scale.

Weights are matched by execution order: the i-th convolution (linear layer) the torch network
runs takes the i-th Conv (MatMul / Gemm with a constant weight) of the graph, and shapes must
agree. A parity check against ONNX Runtime on the calibration batch closes the load.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import numpy_helper
from torch import nn

from training.common.onnx_parity import check_parity

PARITY_TOLERANCE = 1e-3
"""Largest absolute difference between the rebuilt network and the file on calibration data."""


class OnnxWeightsError(ValueError):
    """The file's weights do not fit the network."""


def _graph_layers(model: onnx.ModelProto) -> tuple[list[tuple[np.ndarray, np.ndarray | None]],
                                                     list[tuple[np.ndarray, np.ndarray | None]]]:
    """(weight, bias) of the graph's Conv nodes and of its MatMul / Gemm nodes with a constant
    weight (as torch stores it, (out, in)), each in graph order."""
    constants = {init.name: numpy_helper.to_array(init) for init in model.graph.initializer}
    for node in model.graph.node:  # the exporter shares equal tensors through Identity nodes
        if node.op_type == "Identity" and node.input[0] in constants:
            constants[node.output[0]] = constants[node.input[0]]
        elif node.op_type == "Constant" and node.attribute and node.attribute[0].name == "value":
            constants[node.output[0]] = numpy_helper.to_array(node.attribute[0].t)
    convolutions, linears = [], []
    bias_of: dict[str, np.ndarray] = {}  # MatMul output -> the constant added to it
    for node in model.graph.node:
        if node.op_type == "Add" and len(node.input) == 2:
            first, second = node.input
            if second in constants:
                bias_of[first] = constants[second]
            elif first in constants:
                bias_of[second] = constants[first]
    for node in model.graph.node:
        if node.op_type == "Conv":
            bias = constants[node.input[2]] if len(node.input) > 2 else None
            convolutions.append((constants[node.input[1]], bias))
        elif node.op_type == "MatMul" and node.input[1] in constants:
            linears.append((constants[node.input[1]].T, bias_of.get(node.output[0])))
        elif node.op_type == "Gemm" and node.input[1] in constants:
            transposed = any(a.name == "transB" and a.i for a in node.attribute)
            weight = constants[node.input[1]]
            bias = constants[node.input[2]] if len(node.input) > 2 else None
            linears.append((weight if transposed else weight.T, bias))
    return convolutions, linears


def _execution_order(
    network: nn.Module, sample: torch.Tensor
) -> tuple[list[nn.Module], list[nn.Module], dict[nn.Module, nn.BatchNorm2d]]:
    """The convolutions and linear layers in the order the network runs them, and the
    BatchNorm that normalises each convolution's output, if any."""
    convolutions: list[nn.Module] = []
    linears: list[nn.Module] = []
    produced_by: dict[int, nn.Module] = {}
    norm_of: dict[nn.Module, nn.BatchNorm2d] = {}

    def on_layer(module: nn.Module, _inputs: tuple, output: torch.Tensor) -> None:
        (convolutions if isinstance(module, nn.Conv2d) else linears).append(module)
        produced_by[id(output)] = module

    def on_norm(module: nn.BatchNorm2d, inputs: tuple, _output: torch.Tensor) -> None:
        source = produced_by.get(id(inputs[0]))
        if source is not None:
            norm_of[source] = module

    _run_with_hooks(network, sample, [
        module.register_forward_hook(on_norm if isinstance(module, nn.BatchNorm2d) else on_layer)
        for module in network.modules()
        if isinstance(module, (nn.Conv2d, nn.Linear, nn.BatchNorm2d))
    ])
    return convolutions, linears, norm_of


def _run_with_hooks(network: nn.Module, inputs: torch.Tensor, hooks: list) -> None:
    """One forward pass without gradients, for the forward ``hooks`` it was given; they are
    removed afterwards, whatever happens."""
    try:
        with torch.no_grad():
            network(inputs)
    finally:
        for hook in hooks:
            hook.remove()


def _check_shape(kind: str, index: int, layer: nn.Module, weight: np.ndarray) -> None:
    if tuple(layer.weight.shape) != weight.shape:
        raise OnnxWeightsError(
            f"{kind} {index}: the network's weight is {tuple(layer.weight.shape)}, the file's "
            f"{weight.shape}"
        )


def _set_bias(layer: nn.Module, norm: nn.BatchNorm2d | None, bias: np.ndarray | None,
              kind: str, index: int) -> None:
    """Put a folded bias where the network keeps one: its BatchNorm, its own bias, or nowhere
    when the file's is zero."""
    bias_tensor = torch.zeros(layer.weight.shape[0]) if bias is None else torch.tensor(bias)
    if norm is not None:
        norm.weight.fill_(1.0)
        norm.bias.copy_(bias_tensor)
        norm.running_mean.zero_()
        norm.running_var.fill_(1.0 - norm.eps)
    elif layer.bias is not None:
        layer.bias.copy_(bias_tensor)
    elif bias is not None and np.abs(bias).max() > 0:
        raise OnnxWeightsError(f"{kind} {index} has a bias in the file but none in the network")


def _calibrate_norms(network: nn.Module, norms: list[nn.BatchNorm2d],
                     calibration: torch.Tensor) -> None:
    """Give each BatchNorm (now an identity plus the folded bias) its input's statistics."""
    sums: dict[nn.Module, list[torch.Tensor]] = {norm: [] for norm in norms}

    def on_norm(module: nn.BatchNorm2d, inputs: tuple, _output: torch.Tensor) -> None:
        x = inputs[0].detach().double()
        sums[module].append(torch.stack([x.mean(dim=(0, 2, 3)), (x * x).mean(dim=(0, 2, 3))]))

    _run_with_hooks(network, calibration, [norm.register_forward_hook(on_norm) for norm in norms])
    with torch.no_grad():
        for norm in norms:
            mean, mean_square = torch.stack(sums[norm]).mean(dim=0)
            variance = (mean_square - mean * mean).clamp_min(0.0)
            norm.bias.add_(mean.to(norm.bias.dtype))
            norm.running_mean.copy_(mean)
            norm.running_var.copy_(variance)
            norm.weight.copy_(torch.sqrt(variance + norm.eps))


def load_onnx_weights(
    network: nn.Module,
    onnx_path: Path,
    calibration: torch.Tensor,
    exported: nn.Module | None = None,
) -> float:
    """Load ``onnx_path``'s weights into ``network`` (see the module docstring) and return the
    largest absolute output difference to the file on ``calibration`` inputs (N, C, H, W).

    ``exported`` is the module that was exported (e.g. a wrapper ordering the outputs, whose
    outputs are compared in the graph's output order); the network itself by default.
    """
    exported = network if exported is None else exported
    model = onnx.load(str(onnx_path))
    file_convolutions, file_linears = _graph_layers(model)
    network.eval()
    convolutions, linears, norm_of = _execution_order(network, calibration[:1])
    for kind, ours, theirs in (
        ("convolution", convolutions, file_convolutions),
        ("linear layer", linears, file_linears),
    ):
        if len(ours) != len(theirs):
            raise OnnxWeightsError(
                f"{onnx_path} has {len(theirs)} {kind}s, the network runs {len(ours)}"
            )
    with torch.no_grad():
        for kind, layers, weights in (
            ("convolution", convolutions, file_convolutions),
            ("linear layer", linears, file_linears),
        ):
            for index, (layer, (weight, bias)) in enumerate(zip(layers, weights)):
                _check_shape(kind, index, layer, weight)
                layer.weight.copy_(torch.from_numpy(np.array(weight, np.float32)))
                _set_bias(layer, norm_of.get(layer), bias, kind, index)
    _calibrate_norms(network, [norm_of[layer] for layer in convolutions if layer in norm_of],
                     calibration)
    return _parity(exported, onnx_path, calibration)


def _parity(exported: nn.Module, onnx_path: Path, calibration: torch.Tensor) -> float:
    exported.eval()
    difference = check_parity(onnx_path, exported, calibration.numpy())
    if not difference <= PARITY_TOLERANCE:
        raise OnnxWeightsError(
            f"the network rebuilt from {onnx_path} differs from the file by {difference:.3g} "
            f"(tolerance {PARITY_TOLERANCE:g}): its layers do not run in the file's order"
        )
    return difference
