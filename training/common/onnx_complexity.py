"""Multiply-accumulates and parameters counted on an exported ONNX graph.

Counting the deployed file (after BatchNorm folding) rather than the torch module means the
figures in a model card describe exactly what the node runs. FLOPs are reported as 2 x MACs,
the convention of the papers this package follows.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper, shape_inference


@dataclass(frozen=True)
class Complexity:
    macs: int
    params: int
    file_bytes: int

    @property
    def flops(self) -> int:
        return 2 * self.macs

    def as_dict(self) -> dict[str, int]:
        return {**asdict(self), "flops": self.flops}


def _shapes(model: onnx.ModelProto) -> dict[str, tuple[int, ...]]:
    inferred = shape_inference.infer_shapes(model, data_prop=True)
    shapes: dict[str, tuple[int, ...]] = {}
    graph = inferred.graph
    for value in [*graph.value_info, *graph.input, *graph.output]:
        dims = value.type.tensor_type.shape.dim
        shapes[value.name] = tuple(d.dim_value if d.dim_value > 0 else 1 for d in dims)
    for init in graph.initializer:
        shapes[init.name] = tuple(init.dims)
    return shapes


def _node_macs(node: onnx.NodeProto, shapes: dict[str, tuple[int, ...]]) -> int:
    if node.op_type in ("Conv", "ConvTranspose"):
        weight = shapes[node.input[1]]
        if node.op_type == "Conv":
            out = shapes[node.output[0]]
            # weight: (out_ch, in_ch / groups, kh, kw); each output element costs one kernel.
            return int(np.prod(out)) * int(np.prod(weight[1:]))
        # ConvTranspose weight: (in_ch, out_ch / groups, kh, kw); each input element scatters one.
        inp = shapes[node.input[0]]
        return int(np.prod(inp)) * int(np.prod(weight[1:]))
    if node.op_type in ("Gemm", "MatMul"):
        a, out = shapes[node.input[0]], shapes[node.output[0]]
        return int(np.prod(out)) * int(a[-1])
    return 0


def count_complexity(path: str | Path) -> Complexity:
    model = onnx.load(str(path))
    shapes = _shapes(model)
    macs = sum(_node_macs(node, shapes) for node in model.graph.node)
    params = sum(int(numpy_helper.to_array(t).size) for t in model.graph.initializer)
    return Complexity(macs=macs, params=params, file_bytes=Path(path).stat().st_size)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path)
    args = parser.parse_args()
    print(json.dumps(count_complexity(args.model).as_dict(), indent=2))


if __name__ == "__main__":
    main()
