"""Body model contract: metadata validation and OnnxModel graph checks on onnx.helper graphs."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest

from hand_pose_ros.core.model_metadata import (
    BODY_POSE_TASK,
    ModelLoadError,
    read_metadata,
    validate_metadata,
)
from hand_pose_ros.core.model_runtime import OnnxModel
from tests.core.body_stand_in import body_metadata, build_body_model


def test_body_model_loads_with_its_shapes(tmp_path):
    path = build_body_model(tmp_path / "body.onnx")
    model = OnnxModel(path, expected_task=BODY_POSE_TASK)
    assert model.task == BODY_POSE_TASK
    assert (model.input_channels, model.input_height, model.input_width) == (3, 192, 256)
    assert set(model.output_names) == {"heatmaps_s4", "tags_s4", "heatmaps_s2"}
    outputs = model.run(np.zeros((2, 3, 192, 256), np.float32))
    assert outputs["heatmaps_s4"].shape == (2, 17, 48, 64)
    assert outputs["tags_s4"].shape == (2, 17, 48, 64)
    assert outputs["heatmaps_s2"].shape == (2, 17, 96, 128)
    assert read_metadata(path) == body_metadata()


def test_body_model_without_fine_heatmaps_and_with_2d_tags(tmp_path):
    meta = body_metadata(tag_dim=2, fine=False)
    model = OnnxModel(build_body_model(tmp_path / "b.onnx", meta))
    assert model.run(np.zeros((1, 3, 192, 256), np.float32))["tags_s4"].shape == (1, 34, 48, 64)


def test_hand_node_rejects_a_body_model(tmp_path):
    path = build_body_model(tmp_path / "body.onnx")
    with pytest.raises(ModelLoadError, match=r"'body_pose_2d_ae' model.*needs a 'hand_pose_2.5d'"):
        OnnxModel(path, expected_task="hand_pose_2.5d")


def test_body_input_channel_mismatch(tmp_path):
    path = build_body_model(tmp_path / "gray.onnx", input_channels=1)
    with pytest.raises(ModelLoadError, match=r"input shape mismatch.*\[N, 3, 192, 256\]"):
        OnnxModel(path)


def test_body_output_shape_mismatch(tmp_path):
    meta = body_metadata()
    bad = {"tags_s4": np.zeros((17, 24, 32), np.float32)}  # stride 8, metadata says 4
    path = build_body_model(tmp_path / "b.onnx", meta, outputs=bad)
    with pytest.raises(ModelLoadError, match=r"output shape mismatch.*'tags_s4' \(tags\)"):
        OnnxModel(path)


def test_body_tag_dim_mismatch(tmp_path):
    meta = body_metadata()
    path = build_body_model(tmp_path / "b.onnx", meta)
    meta["outputs"]["tags"]["tag_dim"] = 2
    relabelled = build_body_model(tmp_path / "c.onnx", raw_metadata=json.dumps(meta))
    assert OnnxModel(path).name == "test_body_model"
    with pytest.raises(ModelLoadError, match=r"'tags_s4' \(tags\).*\['N', 34"):
        OnnxModel(relabelled)


def _set(path: str, value):
    def mutate(meta):
        *parents, leaf = path.split(".")
        target = meta
        for key in parents:
            target = target[key]
        if value is _DELETE:
            del target[leaf]
        else:
            target[leaf] = value

    return mutate


_DELETE = object()


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (_set("flip_index", list(range(16))), "'flip_index' must list.*17 keypoints"),
        (_set("flip_index", [1] + list(range(1, 17))), "own inverse"),
        (_set("oks_sigmas", [0.1] * 16), "'oks_sigmas' must be a list of 17 positive numbers"),
        (_set("oks_sigmas", [0.0] * 17), "'oks_sigmas'"),
        (_set("keypoint_depth_offsets_m", [0.05] * 3), "'keypoint_depth_offsets_m'"),
        (_set("keypoint_depth_offsets_m", [float("nan")] * 17), "'keypoint_depth_offsets_m'"),
        (_set("input.channels", 1), r"'input.channels' must be 3 \(RGB\), got 1"),
        (_set("input.color_order", "bgr"), "'input.color_order' 'bgr' is not supported"),
        (_set("input.resize", "crop"), "'input.resize' 'crop' is not supported"),
        (_set("input.mean", [0.5, 0.5]), "'input.mean' must be a list of 3"),
        (_set("input.std", [0.2, 0.0, 0.2]), "'input.std' must be a list of 3 positive"),
        (_set("input.scale", -1), "'input.scale' must be a positive number"),
        (_set("input.pad_value", "black"), "'input.pad_value' must be a number"),
        (_set("outputs.tags", _DELETE), r"'outputs.tags' is required"),
        (_set("outputs.heatmaps.stride", 0), r"'outputs.heatmaps.stride' must be a positive"),
        (_set("outputs.tags.tag_dim", 0), r"'outputs.tags.tag_dim' must be a positive"),
        (_set("outputs.tags.stride", 2), r"'outputs.tags.stride' \(2\) must equal"),
        (_set("decoding.max_people", 0), r"'decoding.max_people' must be a positive integer"),
        (_set("decoding.nms_kernel_px", 4), r"'decoding.nms_kernel_px' must be odd"),
        (_set("decoding.detection_threshold", 1.5), r"'decoding.detection_threshold'"),
        (_set("decoding.tag_threshold", 0), r"'decoding.tag_threshold' must be a positive"),
        (_set("skeleton", [[0, 17]]), "'skeleton'"),
        (_set("heatmap_sigma_px", 0), "'heatmap_sigma_px'"),
    ],
)
def test_invalid_body_metadata_names_the_field(mutate, message):
    meta = copy.deepcopy(body_metadata())
    mutate(meta)
    with pytest.raises(
        ModelLoadError, match=f"my.onnx: invalid .hand_pose_ros. metadata: .*{message}"
    ):
        validate_metadata(meta, "my.onnx")


def test_optional_body_fields_may_be_absent():
    meta = body_metadata(fine=False)
    for key in ("decoding", "keypoint_depth_offsets_m", "architecture", "training", "metrics"):
        del meta[key]
    validate_metadata(meta, "minimal")


def test_body_metadata_does_not_need_hand_fields():
    meta = body_metadata()
    assert "sides" not in meta
    validate_metadata(meta, "body")
    meta["task"] = "hand_pose_2.5d"  # the same document read as a hand model fails on hand fields
    with pytest.raises(ModelLoadError, match="'sides'"):
        validate_metadata(meta, "hand")


def peak_metadata() -> dict:
    """Body metadata of a model that also outputs its candidates (in-graph peak search)."""
    meta = body_metadata()
    meta["outputs"].update(
        search_map={"name": "search_s4", "stride": 4},
        peak_scores={
            "name": "peak_scores",
            "stride": 4,
            "search": "fused",
            "nms_kernel_px": 3,
            "min_score": 0.01,
            "per_joint": 60,
        },
        peak_indices={"name": "peak_indices", "stride": 4},
    )
    return meta


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (_set("outputs.search_map", _DELETE), "must name all of .*'search_map'.* or none"),
        (_set("outputs.peak_indices.stride", 2), "must share one stride"),
        (_set("outputs.peak_scores.search", None), "'outputs.peak_scores.search' must name"),
        (_set("outputs.peak_scores.per_joint", 0), "'outputs.peak_scores.per_joint' must be"),
        (_set("outputs.peak_scores.nms_kernel_px", 4), "'outputs.peak_scores.nms_kernel_px' must"),
        (_set("outputs.peak_scores.min_score", "low"), "'outputs.peak_scores.min_score' must"),
    ],
)
def test_invalid_peak_outputs_name_the_field(mutate, message):
    meta = peak_metadata()
    validate_metadata(meta, "valid.onnx")
    mutate(meta)
    with pytest.raises(ModelLoadError, match=message):
        validate_metadata(meta, "my.onnx")


def test_peak_output_shapes_are_checked(tmp_path):
    path = build_body_model(tmp_path / "b.onnx", peak_metadata())  # every output a (17, h, w) map
    with pytest.raises(ModelLoadError, match=r"'peak_scores' \(peak_scores\).*\['N', 17, 60\]"):
        OnnxModel(path)
