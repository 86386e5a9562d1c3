"""An ONNX Runtime session bound to the model's own metadata.

Everything the rest of the pipeline needs to know about a model (input size and normalisation,
output names, strides, keypoint names) comes from the file; this module checks at load time that
the graph really has the inputs and outputs the metadata promises, so a mismatch fails once,
clearly, instead of on the first frame.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort

from hand_pose_ros.core.model_metadata import (
    BODY_POSE_TASK,
    HAND_REFINER_TASK,
    METADATA_KEY,
    REFINER_OUTPUT_ROLES,
    ModelLoadError,
    parse_metadata,
)

__all__ = ["ModelLoadError", "OnnxModel", "create_session", "metadata_from_session"]

FLOAT_TYPES = frozenset({"tensor(float)", "tensor(float16)", "tensor(double)"})
INDEX_TYPES = frozenset({"tensor(int64)", "tensor(int32)"})
INDEX_OUTPUT_ROLES = frozenset({"peak_indices"})
"""Outputs that hold indices; every other output holds numbers the decoders read as floats."""


DENORMAL_AS_ZERO_KEY = "session.set_denormal_as_zero"


def session_options(intra_op_threads: int = 1) -> ort.SessionOptions:
    """Options for a latency-bound single-frame pipeline.

    One inter-op thread and sequential execution: the tiny graphs this package runs have no
    parallel branches worth a thread hand-off, and the node shares the machine with its camera
    driver. ``intra_op_threads`` = 1 runs kernels on the calling thread (no pool, no spinning).
    Denormal floats are flushed to zero: some CPUs take microcode assists on them, and on one
    such machine LitePose-XS ran in 292 ms instead of 14 ms (the denormals arise in its
    activations, so zeroing denormal weights does not help); its outputs were bit-identical.
    ONNX Runtime sets the flag on the thread that creates and runs the session, so that
    thread's other float arithmetic flushes values below 1.2e-38 to zero as well.
    """
    if intra_op_threads < 1:
        raise ValueError(f"intra_op_threads must be >= 1, got {intra_op_threads}")
    options = ort.SessionOptions()
    options.intra_op_num_threads = int(intra_op_threads)
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3  # Errors only: ORT's info/warnings would flood node logs.
    options.add_session_config_entry(DENORMAL_AS_ZERO_KEY, "1")
    return options


def _select_providers(providers: Sequence[str]) -> list[str]:
    """Keep the requested providers this ONNX Runtime build has, in order of preference.

    A config listing ["CUDAExecutionProvider", "CPUExecutionProvider"] must still work on a
    CPU-only machine, but a misspelt name or a list with nothing usable is a configuration error.
    """
    if isinstance(providers, str):
        providers = [providers]
    requested = list(providers)
    if not requested:
        raise ModelLoadError("no ONNX Runtime execution provider requested")
    known = set(ort.get_all_providers())
    unknown = [p for p in requested if p not in known]
    if unknown:
        raise ModelLoadError(
            f"unknown ONNX Runtime execution provider(s) {unknown}; "
            f"available here: {ort.get_available_providers()}"
        )
    available = set(ort.get_available_providers())
    usable = [p for p in requested if p in available]
    if not usable:
        raise ModelLoadError(
            f"none of the requested execution providers {requested} is available in this "
            f"ONNX Runtime build; available: {ort.get_available_providers()}"
        )
    return usable


def create_session(
    path: str | Path,
    providers: Sequence[str] = ("CPUExecutionProvider",),
    intra_op_threads: int = 1,
) -> ort.InferenceSession:
    """Open an ONNX file, turning every failure into a ModelLoadError that names the file."""
    path = Path(path)
    if not path.exists():
        raise ModelLoadError(f"model file not found: {path}")
    if not path.is_file():
        raise ModelLoadError(f"model path is not a file: {path}")
    chosen = _select_providers(providers)
    options = session_options(intra_op_threads)
    try:
        return ort.InferenceSession(str(path), sess_options=options, providers=chosen)
    except Exception as error:  # ORT raises pybind exception types without a common base.
        raise ModelLoadError(
            f"{path} could not be loaded as an ONNX model (not an ONNX file, corrupt, or "
            f"uses operators this ONNX Runtime lacks): {error}"
        ) from error


def metadata_from_session(session: ort.InferenceSession, source: str) -> dict[str, Any]:
    """The validated hand_pose_ros metadata of an open session."""
    custom = session.get_modelmeta().custom_metadata_map
    if METADATA_KEY not in custom:
        raise ModelLoadError(
            f"{source} has no '{METADATA_KEY}' metadata: it is not a model exported by "
            f"hand_pose_ros (a foreign ONNX file?). Export models with the training subpackage."
        )
    return parse_metadata(custom[METADATA_KEY], source)


class OnnxModel:
    """An inference session plus the metadata that says how to feed it and read its outputs.

    Attributes: ``metadata`` (the full validated dict), ``name`` (model_name), ``task``,
    ``input_name``, ``input_channels``, ``input_height``, ``input_width``, ``input_spec``
    (metadata["input"]), ``output_specs`` (metadata["outputs"], by role), ``output_names``
    (graph outputs, in order), ``active_providers`` (what the session really uses).
    """

    def __init__(
        self,
        path: str | Path,
        providers: Sequence[str] = ("CPUExecutionProvider",),
        intra_op_threads: int = 1,
        expected_task: str | None = None,
    ) -> None:
        self.path = Path(path)
        self._session = create_session(self.path, providers, intra_op_threads)
        source = str(self.path)
        self.metadata: dict[str, Any] = metadata_from_session(self._session, source)
        self.name: str = self.metadata["model_name"]
        self.task: str = self.metadata["task"]
        if expected_task is not None and self.task != expected_task:
            raise ModelLoadError(
                f"{source} is a '{self.task}' model, but this node needs a '{expected_task}' model"
            )
        self.input_spec: dict[str, Any] = self.metadata["input"]
        self.output_specs: dict[str, dict[str, Any]] = self.metadata["outputs"]
        self.input_name: str = self.input_spec["name"]
        self.input_height: int = int(self.input_spec["height"])
        self.input_width: int = int(self.input_spec["width"])
        # Hand models read one depth plane; body models declare their colour channels.
        self.input_channels: int = (
            int(self.input_spec["channels"]) if self.task == BODY_POSE_TASK else 1
        )
        self._check_input(source)
        self.output_names: list[str] = [o.name for o in self._session.get_outputs()]
        self._check_outputs(source)
        self.active_providers: list[str] = list(self._session.get_providers())

    def run(self, network_input: np.ndarray) -> dict[str, np.ndarray]:
        """Run one forward pass; returns every graph output keyed by its ONNX name."""
        values = self._session.run(self.output_names, {self.input_name: network_input})
        return dict(zip(self.output_names, values))

    def _check_input(self, source: str) -> None:
        inputs = self._session.get_inputs()
        names = [i.name for i in inputs]
        if self.input_name not in names:
            raise ModelLoadError(
                f"{source}: metadata names input '{self.input_name}' but the graph inputs are "
                f"{names}"
            )
        if len(inputs) != 1:
            raise ModelLoadError(f"{source}: expected exactly one graph input, found {names}")
        graph_input = inputs[0]
        self.input_shape: list[Any] = list(graph_input.shape)  # symbolic dims as str/None
        if graph_input.type != "tensor(float)":
            raise ModelLoadError(
                f"{source}: input '{self.input_name}' has type {graph_input.type}, "
                f"expected tensor(float)"
            )
        expected = ["N", self.input_channels, self.input_height, self.input_width]
        if not _shape_matches(graph_input.shape, expected):
            raise ModelLoadError(
                f"{source}: input shape mismatch: graph input '{self.input_name}' has shape "
                f"{graph_input.shape}, metadata says [N, {self.input_channels}, "
                f"{self.input_height}, {self.input_width}] (NCHW)"
            )

    def _check_outputs(self, source: str) -> None:
        graph_outputs = {o.name: o for o in self._session.get_outputs()}
        if self.task == BODY_POSE_TASK:
            expected_shapes = self._body_output_shapes()
        elif self.task == HAND_REFINER_TASK:
            stride = int(self.output_specs["heatmaps"]["stride"])
            joints = len(self.metadata["keypoint_names"])
            shape = ["N", joints, *self._strided_size(stride)]
            expected_shapes = {
                role: shape for role in REFINER_OUTPUT_ROLES if role in self.output_specs
            }
        else:
            expected_shapes = self._hand_output_shapes()
        for role, expected in expected_shapes.items():
            name = self.output_specs[role]["name"]
            if name not in graph_outputs:
                raise ModelLoadError(
                    f"{source}: missing required output: metadata names '{name}' as the "
                    f"{role} output but the graph outputs are {sorted(graph_outputs)}"
                )
            shape = graph_outputs[name].shape
            if not _shape_matches(shape, expected):
                raise ModelLoadError(
                    f"{source}: output shape mismatch: '{name}' ({role}) has shape {shape}, "
                    f"metadata implies {expected}"
                )
            element_type = graph_outputs[name].type
            wanted = INDEX_TYPES if role in INDEX_OUTPUT_ROLES else FLOAT_TYPES
            if element_type not in wanted:
                raise ModelLoadError(
                    f"{source}: output type mismatch: '{name}' ({role}) is {element_type}, "
                    f"expected one of {sorted(wanted)}"
                )

    def _body_output_shapes(self) -> dict[str, list[Any]]:
        """heatmaps (N, J, h, w), tags (N, J*tag_dim, h, w), heatmaps_fine (N, J, h', w');
        with in-graph peaks also peak_scores and peak_indices (N, J, k), search_map (N, J, h, w)."""
        joints = len(self.metadata["keypoint_names"])
        expected_shapes: dict[str, list[Any]] = {}
        for role, spec in self.output_specs.items():
            if role in ("peak_scores", "peak_indices"):
                per_joint = int(self.output_specs["peak_scores"]["per_joint"])
                expected_shapes[role] = ["N", joints, per_joint]
            elif role in ("heatmaps", "tags", "heatmaps_fine", "search_map"):
                channels = joints * int(spec.get("tag_dim", 1)) if role == "tags" else joints
                expected_shapes[role] = ["N", channels, *self._strided_size(int(spec["stride"]))]
        return expected_shapes

    def _hand_output_shapes(self) -> dict[str, list[Any]]:
        meta = self.metadata
        side_count = len(meta["sides"])
        channels = side_count * len(meta["keypoint_names"])
        expected_shapes: dict[str, list[Any]] = {}
        for role, spec in self.output_specs.items():
            if role == "heatmaps":
                stride = int(spec["stride"])
                expected_shapes[role] = ["N", channels, *self._strided_size(stride)]
            elif role == "presence":
                expected_shapes[role] = ["N", side_count]
            elif role == "visibility":
                expected_shapes[role] = ["N", channels]
            elif role == "keypose":
                expected_shapes[role] = ["N", side_count, len(meta["keyposes"])]
            elif role == "segmentation":
                stride = int(spec["stride"])
                expected_shapes[role] = ["N", len(spec["classes"]), *self._strided_size(stride)]
        return expected_shapes

    def _strided_size(self, stride: int) -> tuple[tuple[int, int], tuple[int, int]]:
        """Allowed (height, width) of a stride-s output: floor or ceil, as convolutions pad."""
        h, w = self.input_height, self.input_width
        return (h // stride, -(-h // stride)), (w // stride, -(-w // stride))

    def __repr__(self) -> str:
        return (
            f"OnnxModel({self.name!r}, task={self.task!r}, input={self.input_width}x"
            f"{self.input_height}, providers={self.active_providers})"
        )


def _shape_matches(actual: Sequence[Any], expected: Sequence[Any]) -> bool:
    """Static dims must agree with an int or be one of a tuple of ints; symbolic dims
    (str/None) on either side are accepted."""
    if len(actual) != len(expected):
        return False
    for a, e in zip(actual, expected):
        if not isinstance(a, int):
            continue
        if isinstance(e, int) and a != e:
            return False
        if isinstance(e, tuple) and a not in e:
            return False
    return True
