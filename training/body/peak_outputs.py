"""Give an exported body model its decoder's peak search as graph nodes.

    python -m training.body.peak_outputs hand_pose_ros/models/body_litepose_xs.onnx

Appends to the graph what :class:`~hand_pose_ros.core.body_decoder.BodyDecoder` does first on
every frame with its default settings: the fused 1/4 search map (1/4 heatmaps plus the 1/2 ones
averaged over 2x2 blocks), max-pool non-maximum suppression, and the top-k local maxima of each
joint. In numpy these whole-map passes are about a third of the decode time once inference has
left the caches cold; in the model's own ONNX Runtime session they cost under a tenth of a
millisecond. The outputs are ``search_map``, ``peak_scores`` (unused slots -1) and
``peak_indices`` (flat, into the search map); the metadata says how they were searched, and the
decoder only takes them when that is how it would search itself. Weights, the original outputs
and every other metadata entry are kept, so the held-out metrics a model carries stay its own.
`training.body.export` calls this too.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import onnx
from onnx import TensorProto, helper

from hand_pose_ros.core.body_decoder import BodyDecoder
from hand_pose_ros.core.model_metadata import BODY_PEAK_OUTPUT_ROLES, METADATA_KEY, parse_metadata
from training.common.onnx_metadata import set_metadata

OUTPUT_NAMES = {"peak_scores": "peak_scores", "peak_indices": "peak_indices"}
SEARCH_MAP_NAME = "search_s4"
_PREFIX = "peak_search/"
"""Names of the appended nodes and constants, apart from the graph's outputs."""


def peak_search_nodes(
    coarse: str, fine: str, per_joint: int, min_score: float, nms_kernel_px: int
) -> tuple[list[onnx.NodeProto], list[onnx.TensorProto]]:
    """Nodes from the 1/4 (``coarse``) and 1/2 (``fine``) heatmaps of shape (N, J, h, w) and
    (N, J, 2h, 2w) to the three peak outputs, with the same ties as the numpy search: a pixel
    is a peak when it equals the max-pooled map (pooling pads with -inf) and reaches
    ``min_score``; top-k keeps the lower index first among equal scores."""

    def name(local: str) -> str:
        return _PREFIX + local

    constants = [
        helper.make_tensor(name("half"), TensorProto.FLOAT, [], [0.5]),
        helper.make_tensor(name("min_score"), TensorProto.FLOAT, [], [min_score]),
        helper.make_tensor(name("unused_score"), TensorProto.FLOAT, [], [-1.0]),
        # Reshape's 0 keeps that axis: (N, J, h, w) -> (N, J, h * w) at any batch size.
        helper.make_tensor(name("rows"), TensorProto.INT64, [3], [0, 0, -1]),
        helper.make_tensor(name("k"), TensorProto.INT64, [1], [per_joint]),
    ]
    pad = nms_kernel_px // 2
    nodes = [
        helper.make_node(
            "AveragePool", [fine], [name("fine_on_coarse")], kernel_shape=[2, 2], strides=[2, 2]
        ),
        helper.make_node("Add", [name("fine_on_coarse"), coarse], [name("sum")]),
        helper.make_node("Mul", [name("sum"), name("half")], [SEARCH_MAP_NAME]),
        helper.make_node(
            "MaxPool",
            [SEARCH_MAP_NAME],
            [name("pooled")],
            kernel_shape=[nms_kernel_px, nms_kernel_px],
            pads=[pad] * 4,
        ),
        helper.make_node("Max", [name("pooled"), name("min_score")], [name("bar")]),
        helper.make_node("GreaterOrEqual", [SEARCH_MAP_NAME, name("bar")], [name("is_peak")]),
        helper.make_node(
            "Where", [name("is_peak"), SEARCH_MAP_NAME, name("unused_score")], [name("peaks")]
        ),
        helper.make_node("Reshape", [name("peaks"), name("rows")], [name("peak_rows")]),
        helper.make_node(
            "TopK",
            [name("peak_rows"), name("k")],
            [OUTPUT_NAMES["peak_scores"], OUTPUT_NAMES["peak_indices"]],
            axis=-1,
            largest=1,
            sorted=1,
        ),
    ]
    return nodes, constants


def add_peak_outputs(model: onnx.ModelProto, metadata: dict) -> dict:
    """Append the default decoder's peak search to ``model`` (in place); returns the metadata
    with the three outputs described. Refuses a model without 1/2 heatmaps, one whose 1/2 grid
    is not exactly twice the 1/4 grid, or one that has the outputs already."""
    outputs = metadata["outputs"]
    if any(role in outputs for role in BODY_PEAK_OUTPUT_ROLES):
        raise ValueError("the model already has in-graph peak outputs")
    if "heatmaps_fine" not in outputs:
        raise ValueError("the in-graph search needs the 1/2-scale heatmaps")
    coarse_stride = int(outputs["heatmaps"]["stride"])
    height, width = int(metadata["input"]["height"]), int(metadata["input"]["width"])
    if (
        2 * int(outputs["heatmaps_fine"]["stride"]) != coarse_stride
        or height % coarse_stride
        or width % coarse_stride
    ):
        raise ValueError(
            "the in-graph search needs 1/2 heatmaps exactly twice the size of the 1/4 ones"
        )
    search = BodyDecoder(metadata, peak_search="fused").candidate_search
    cells = (height // coarse_stride) * (width // coarse_stride)
    search = dataclasses.replace(search, per_joint=min(search.per_joint, cells))  # TopK's limit
    nodes, constants = peak_search_nodes(
        outputs["heatmaps"]["name"],
        outputs["heatmaps_fine"]["name"],
        search.per_joint,
        search.min_score,
        search.nms_kernel_px,
    )
    graph = model.graph
    graph.node.extend(nodes)
    graph.initializer.extend(constants)
    joints = len(metadata["keypoint_names"])
    graph.output.extend(
        [
            helper.make_tensor_value_info(
                SEARCH_MAP_NAME,
                TensorProto.FLOAT,
                ["batch", joints, height // coarse_stride, width // coarse_stride],
            ),
            helper.make_tensor_value_info(
                OUTPUT_NAMES["peak_scores"], TensorProto.FLOAT, ["batch", joints, search.per_joint]
            ),
            helper.make_tensor_value_info(
                OUTPUT_NAMES["peak_indices"], TensorProto.INT64, ["batch", joints, search.per_joint]
            ),
        ]
    )
    onnx.checker.check_model(model)
    return {
        **metadata,
        "outputs": {
            **outputs,
            "search_map": {"name": SEARCH_MAP_NAME, "stride": coarse_stride},
            "peak_scores": {"name": OUTPUT_NAMES["peak_scores"], **search.as_metadata()},
            "peak_indices": {"name": OUTPUT_NAMES["peak_indices"], "stride": coarse_stride},
        },
    }


def add_peak_outputs_to_file(path: Path, out: Path | None = None) -> dict:
    """Rewrite an exported body model (``out``, default in place) with the peak outputs."""
    model = onnx.load(str(path))
    entries = {prop.key: prop for prop in model.metadata_props}
    if METADATA_KEY not in entries:
        raise ValueError(f"{path} has no '{METADATA_KEY}' metadata")
    metadata = add_peak_outputs(model, parse_metadata(entries[METADATA_KEY].value, str(path)))
    out = out or path
    set_metadata(model, metadata, str(out))  # validates it too
    onnx.save(model, str(out))
    return metadata


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path, help="exported body model (task body_pose_2d_ae)")
    parser.add_argument("--out", type=Path, default=None, help="write here (default: in place)")
    args = parser.parse_args(argv)
    metadata = add_peak_outputs_to_file(args.model, args.out)
    print(f"{args.out or args.model}: peak outputs {metadata['outputs']['peak_scores']}")


if __name__ == "__main__":
    main()
