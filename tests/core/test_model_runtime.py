"""OnnxModel and metadata: real ONNX Runtime sessions on small onnx.helper graphs."""

from __future__ import annotations

import json

import numpy as np
import onnxruntime as ort
import pytest

from hand_pose_ros.core.model_metadata import METADATA_KEY, ModelLoadError, read_metadata
from hand_pose_ros.core.model_runtime import DENORMAL_AS_ZERO_KEY, OnnxModel


def test_loads_model_and_exposes_metadata(make_model, make_metadata):
    path = make_model()
    model = OnnxModel(path, expected_task="hand_pose_2.5d")
    assert model.metadata == make_metadata()
    assert model.name == "test_hand_model"
    assert model.task == "hand_pose_2.5d"
    assert (model.input_name, model.input_height, model.input_width) == ("depth", 120, 160)
    assert set(model.output_names) == {
        "heatmaps",
        "presence",
        "visibility",
        "segmentation",
        "keypose",
    }
    assert model.active_providers == ["CPUExecutionProvider"]
    assert read_metadata(path) == model.metadata


def test_session_options_are_latency_oriented(make_model):
    model = OnnxModel(make_model(), intra_op_threads=2)
    options = model._session.get_session_options()
    assert options.intra_op_num_threads == 2
    assert options.inter_op_num_threads == 1
    assert options.execution_mode == ort.ExecutionMode.ORT_SEQUENTIAL
    assert options.graph_optimization_level == ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    assert options.get_session_config_entry(DENORMAL_AS_ZERO_KEY) == "1"


def test_run_feeds_the_input_and_returns_outputs_by_name(make_model):
    presence = np.array([-1.0, 2.0], np.float32)
    model = OnnxModel(make_model(presence_logits=presence, presence_input_gain=4.0))
    batch = np.full((3, 1, 120, 160), 0.25, np.float32)
    outputs = model.run(batch)
    assert outputs["heatmaps"].shape == (3, 42, 60, 80)
    assert outputs["keypose"].shape == (3, 2, 5)
    assert outputs["segmentation"].shape == (3, 3, 60, 80)
    np.testing.assert_allclose(outputs["presence"], np.tile(presence + 1.0, (3, 1)), rtol=1e-6)


def test_missing_file(tmp_path):
    with pytest.raises(ModelLoadError, match="not found"):
        OnnxModel(tmp_path / "absent.onnx")


def test_directory_is_not_a_model(tmp_path):
    with pytest.raises(ModelLoadError, match="not a file"):
        OnnxModel(tmp_path)


def test_corrupt_bytes(tmp_path):
    path = tmp_path / "corrupt.onnx"
    path.write_bytes(b"\x08\x07garbage, certainly not a protobuf model" * 10)
    with pytest.raises(ModelLoadError, match="not an ONNX file, corrupt"):
        OnnxModel(path)


def test_truncated_model(make_model):
    path = make_model()
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelLoadError, match="could not be loaded as an ONNX model"):
        OnnxModel(path)


def test_foreign_model_without_metadata(make_model):
    path = make_model(metadata=None, extra_metadata={"author": "someone else"})
    with pytest.raises(ModelLoadError, match="no 'hand_pose_ros' metadata"):
        OnnxModel(path)
    with pytest.raises(ModelLoadError, match="foreign"):
        read_metadata(path)


def test_metadata_that_is_not_json(make_model):
    path = make_model(metadata=None, extra_metadata={METADATA_KEY: "{not json"})
    with pytest.raises(ModelLoadError, match="not valid JSON"):
        OnnxModel(path)


def test_wrong_task(make_model, make_metadata):
    meta = make_metadata()
    meta["task"] = "person_pose_2d"
    path = make_model(metadata=meta)
    assert OnnxModel(path).task == "person_pose_2d"  # no expectation given: loads
    with pytest.raises(ModelLoadError, match=r"'person_pose_2d' model.*needs a 'hand_pose_2.5d'"):
        OnnxModel(path, expected_task="hand_pose_2.5d")


def test_missing_output_named_in_metadata(make_model):
    path = make_model(outputs=("heatmaps", "presence", "segmentation", "keypose"))
    with pytest.raises(ModelLoadError, match=r"missing required output.*'visibility'"):
        OnnxModel(path)


def test_optional_outputs_may_be_absent_from_both(make_model, make_metadata):
    meta = make_metadata()
    for role in ("visibility", "segmentation", "keypose"):
        del meta["outputs"][role]
    model = OnnxModel(make_model(metadata=meta, outputs=("heatmaps", "presence")))
    assert sorted(model.output_names) == ["heatmaps", "presence"]


def test_input_shape_mismatch(make_model):
    path = make_model(input_hw=(96, 128))
    with pytest.raises(ModelLoadError, match=r"input shape mismatch.*\[N, 1, 120, 160\]"):
        OnnxModel(path)


def test_heatmap_shape_mismatch(make_model, make_metadata):
    meta = make_metadata()
    meta["outputs"]["heatmaps"]["stride"] = 4  # graph has stride-2 heatmaps
    path = make_model(metadata=meta, heatmaps=np.zeros((42, 60, 80), np.float32))
    with pytest.raises(ModelLoadError, match=r"output shape mismatch.*heatmaps"):
        OnnxModel(path)


def test_input_name_mismatch(make_model, make_metadata):
    meta = make_metadata()
    path = make_model(metadata=meta)
    meta["input"]["name"] = "image"
    bad = make_model("renamed.onnx", metadata=None, extra_metadata={METADATA_KEY: json.dumps(meta)})
    assert OnnxModel(path).input_name == "depth"
    with pytest.raises(ModelLoadError, match="names input 'image'"):
        OnnxModel(bad)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda m: m.update(format_version=2), "format_version 2 is not supported"),
        (lambda m: m["outputs"].pop("heatmaps"), r"'outputs.heatmaps' is required"),
        (lambda m: m["input"].update(height=0), r"'input.height' must be a positive integer"),
        (lambda m: m.update(skeleton=[[0, 99]]), "'skeleton'"),
        (lambda m: m.update(keypoint_names=[]), "'keypoint_names'"),
        (lambda m: m["input"].update(layout="NHWC"), "only 'NCHW'"),
    ],
)
def test_invalid_metadata_is_rejected_with_the_field_named(
    make_model, make_metadata, mutate, message
):
    meta = make_metadata()
    mutate(meta)
    path = make_model(metadata=None, extra_metadata={METADATA_KEY: json.dumps(meta)})
    with pytest.raises(ModelLoadError, match=message):
        OnnxModel(path)


def test_providers(make_model):
    path = make_model()
    # A GPU-first list still loads on a CPU-only build; what is really used is reported.
    model = OnnxModel(path, providers=["CUDAExecutionProvider", "CPUExecutionProvider"])
    assert "CPUExecutionProvider" in model.active_providers
    with pytest.raises(ModelLoadError, match="unknown ONNX Runtime execution provider"):
        OnnxModel(path, providers=["CPUExecutionProviderr"])
    with pytest.raises(ValueError, match="intra_op_threads"):
        OnnxModel(path, intra_op_threads=0)
