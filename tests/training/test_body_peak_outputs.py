"""The decoder's peak search as graph nodes: the same candidates as the numpy search (ties
included), and on the shipped model the same people."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper

from hand_pose_ros.core.body_decoder import BodyDecoder
from hand_pose_ros.core.body_preprocess import make_body_input
from hand_pose_ros.core.letterbox import Letterbox
from hand_pose_ros.core.model_metadata import BODY_PEAK_OUTPUT_ROLES, ModelLoadError
from hand_pose_ros.core.model_runtime import OnnxModel
from hand_pose_ros.core.peak_search import top_candidates
from hand_pose_ros.nodes.body_pose_node import shipped_model_path
from hand_pose_ros.synthetic.people import render_people_frame
from tests.core.body_stand_in import body_metadata
from training.body.peak_outputs import (
    OUTPUT_NAMES,
    SEARCH_MAP_NAME,
    add_peak_outputs,
    add_peak_outputs_to_file,
    peak_search_nodes,
)

JOINTS, HEIGHT, WIDTH = 3, 12, 16


def search_session(per_joint: int, min_score: float, kernel_px: int) -> ort.InferenceSession:
    """Just the appended nodes, fed with maps chosen by the test."""
    nodes, constants = peak_search_nodes("coarse", "fine", per_joint, min_score, kernel_px)
    graph = helper.make_graph(
        nodes,
        "peak_search",
        [
            helper.make_tensor_value_info(
                "coarse", TensorProto.FLOAT, ["N", JOINTS, HEIGHT, WIDTH]
            ),
            helper.make_tensor_value_info(
                "fine", TensorProto.FLOAT, ["N", JOINTS, 2 * HEIGHT, 2 * WIDTH]
            ),
        ],
        [
            helper.make_tensor_value_info(SEARCH_MAP_NAME, TensorProto.FLOAT, None),
            helper.make_tensor_value_info(OUTPUT_NAMES["peak_scores"], TensorProto.FLOAT, None),
            helper.make_tensor_value_info(OUTPUT_NAMES["peak_indices"], TensorProto.INT64, None),
        ],
        constants,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])


@pytest.mark.parametrize("levels", [0, 4])  # continuous values; values on 4 levels: many ties
@pytest.mark.parametrize("kernel_px", [3, 5])
def test_graph_search_finds_the_numpy_candidates(levels: int, kernel_px: int) -> None:
    rng = np.random.default_rng(levels + kernel_px)
    coarse = rng.random((2, JOINTS, HEIGHT, WIDTH), dtype=np.float32)
    fine = rng.random((2, JOINTS, 2 * HEIGHT, 2 * WIDTH), dtype=np.float32)
    if levels:
        coarse, fine = np.round(coarse * levels) / levels, np.round(fine * levels) / levels
    per_joint, min_score = 40, 0.3  # more slots than peaks: some stay unused
    search, scores, indices = search_session(per_joint, min_score, kernel_px).run(
        None, {"coarse": coarse, "fine": fine}
    )
    for sample in range(2):
        expected_search = 0.5 * (
            coarse[sample] + fine[sample].reshape(JOINTS, HEIGHT, 2, WIDTH, 2).mean(axis=(2, 4))
        )
        np.testing.assert_allclose(search[sample], expected_search, atol=1e-6)
        y, x, score = top_candidates(search[sample], kernel_px, min_score, per_joint)
        np.testing.assert_array_equal(scores[sample], score)
        used = score >= min_score
        assert used.any() and not used.all()
        np.testing.assert_array_equal(indices[sample][used], (y * WIDTH + x)[used])


def test_refuses_a_model_without_matching_half_scale_heatmaps() -> None:
    model = onnx.ModelProto()
    with pytest.raises(ValueError, match="needs the 1/2-scale heatmaps"):
        add_peak_outputs(model, body_metadata(fine=False))
    metadata = body_metadata()
    metadata["outputs"]["heatmaps_fine"]["stride"] = 1
    with pytest.raises(ValueError, match="exactly twice the size"):
        add_peak_outputs(model, metadata)


shipped = pytest.mark.skipif(not shipped_model_path().exists(), reason="no shipped body model")


@shipped
def test_shipped_model_searches_in_its_graph_and_finds_the_same_people() -> None:
    model = OnnxModel(shipped_model_path())
    # The shipped decoding, and LitePose's lower detection threshold (more, weaker people).
    decoders = [BodyDecoder(model.metadata), BodyDecoder(model.metadata, detection_threshold=0.1)]
    assert all(decoder.uses_graph_peaks for decoder in decoders)
    graph_outputs = {model.output_specs[role]["name"] for role in BODY_PEAK_OUTPUT_ROLES}
    letterbox = Letterbox.fit(480, 640, model.input_height, model.input_width)
    people = [0, 0]
    for count in (1, 5, 10):
        frame = render_people_frame(10_000_000 + 100 * count, 640, 480, num_people=count)
        network_input, _ = make_body_input(frame.color, model.input_spec, letterbox)
        outputs = {name: value[0] for name, value in model.run(network_input).items()}
        maps_only = {k: v for k, v in outputs.items() if k not in graph_outputs}
        for index, decoder in enumerate(decoders):
            in_graph, searched = decoder.decode(outputs), decoder.decode(maps_only)
            np.testing.assert_allclose(in_graph.xy_px, searched.xy_px, atol=1e-4)
            np.testing.assert_allclose(in_graph.score, searched.score, atol=1e-5)
            people[index] += len(in_graph)
    assert people[0] >= 6 and people[1] >= 10, people  # 16 people in the frames


@shipped
def test_adding_them_twice_is_refused(tmp_path: Path) -> None:
    copy = tmp_path / "body.onnx"
    shutil.copy(shipped_model_path(), copy)
    with pytest.raises(ValueError, match="already has in-graph peak outputs"):
        add_peak_outputs_to_file(copy)


@shipped
def test_indices_stored_as_floats_are_refused(tmp_path: Path) -> None:
    """A graph whose peak_indices are not integers (a foreign or hand-edited file)."""
    model = onnx.load(str(shipped_model_path()))
    for node in model.graph.node:
        if OUTPUT_NAMES["peak_indices"] in node.output:
            node.output[1] = "integer_indices"
    model.graph.node.append(
        helper.make_node(
            "Cast", ["integer_indices"], [OUTPUT_NAMES["peak_indices"]], to=TensorProto.FLOAT
        )
    )
    for output in model.graph.output:
        if output.name == OUTPUT_NAMES["peak_indices"]:
            output.type.tensor_type.elem_type = TensorProto.FLOAT
    path = tmp_path / "float_indices.onnx"
    onnx.save(model, str(path))
    with pytest.raises(ModelLoadError, match=r"'peak_indices' \(peak_indices\) is tensor\(float\)"):
        OnnxModel(path)
