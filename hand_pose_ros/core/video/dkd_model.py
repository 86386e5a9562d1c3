"""The DKD tracking graph as an ONNX Runtime session bound to its metadata.

Unlike the single-input pose models, a DKD file takes the frame plus the tracker's state (the
previous frame's features, each person's box and pose maps) and returns the new state and the
people's heatmaps. Its names and shapes are checked against the metadata once, at load time.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from hand_pose_ros.core.model_metadata import VIDEO_POSE_TASK, ModelLoadError
from hand_pose_ros.core.model_runtime import create_session, metadata_from_session
from hand_pose_ros.core.video.rois import RoiSpec


class DkdModel:
    """``step(image, previous_features, boxes, pose_maps) -> (features, heatmaps)``.

    Attributes: ``metadata``, ``name``, ``input_spec`` (the body input contract: letterbox,
    normalisation), ``input_height``/``input_width``, ``feature_shape`` (1, C, h, w), ``roi``
    (:class:`RoiSpec`), ``macs_per_frame``/``macs_per_person`` (counted at export).
    """

    def __init__(
        self,
        path: str | Path,
        providers: Sequence[str] = ("CPUExecutionProvider",),
        intra_op_threads: int = 1,
    ) -> None:
        self.path = Path(path)
        source = str(self.path)
        self._session = create_session(self.path, providers, intra_op_threads)
        self.metadata: dict[str, Any] = metadata_from_session(self._session, source)
        if self.metadata["task"] != VIDEO_POSE_TASK:
            raise ModelLoadError(
                f"{source} is a '{self.metadata['task']}' model, but the video tracker needs a "
                f"'{VIDEO_POSE_TASK}' model"
            )
        self.name: str = self.metadata["model_name"]
        self.input_spec: dict[str, Any] = self.metadata["input"]
        self.input_height = int(self.input_spec["height"])
        self.input_width = int(self.input_spec["width"])
        features = self.metadata["features"]
        stride = int(features["stride"])
        self.feature_shape = (
            1,
            int(features["channels"]),
            self.input_height // stride,
            self.input_width // stride,
        )
        self.roi = RoiSpec.from_metadata(self.metadata["roi"])
        self.keypoint_names: tuple[str, ...] = tuple(self.metadata["keypoint_names"])
        complexity = self.metadata.get("complexity", {})
        self.macs_per_frame = int(complexity.get("macs_per_frame", 0))
        self.macs_per_person = int(complexity.get("macs_per_person", 0))
        self._inputs = self.metadata["inputs"]
        self._outputs = [self.metadata["outputs"][role] for role in ("features", "heatmaps")]
        self._check_graph(source)
        self.active_providers: list[str] = list(self._session.get_providers())

    def _check_graph(self, source: str) -> None:
        """Every input and output the metadata names exists with the shape it implies."""
        joints = len(self.keypoint_names)
        cells = (self.roi.height_cells, self.roi.width_cells)
        inputs = {
            "image": [1, 3, self.input_height, self.input_width],
            "previous_features": list(self.feature_shape),
            "boxes": ["P", 4],
            "pose_maps": ["P", joints, *cells],
        }
        outputs = {"features": list(self.feature_shape), "heatmaps": ["P", joints, *cells]}
        for kind, graph_values, names, expected in (
            ("input", self._session.get_inputs(), self._inputs, inputs),
            ("output", self._session.get_outputs(), self.metadata["outputs"], outputs),
        ):
            graph = {value.name: value.shape for value in graph_values}
            for role, shape in expected.items():
                name = names[role]
                if name not in graph:
                    raise ModelLoadError(
                        f"{source}: metadata names {kind} '{name}' ({role}) but the graph "
                        f"{kind}s are {sorted(graph)}"
                    )
                if not _dims_match(graph[name], shape):
                    raise ModelLoadError(
                        f"{source}: {kind} '{name}' ({role}) has shape {graph[name]}, "
                        f"metadata implies {shape}"
                    )

    def zero_features(self) -> np.ndarray:
        return np.zeros(self.feature_shape, np.float32)

    def step(
        self,
        network_input: np.ndarray,
        previous_features: np.ndarray,
        boxes: np.ndarray,
        pose_maps: np.ndarray | None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """One frame: (1, C, h, w) features for the next call and (P, J, Hr, Wr) heatmaps.

        With no people (P = 0) only the encoder's features are wanted; the graph still needs
        one box, so a dummy person is run and its heatmaps dropped.
        """
        people = len(boxes)
        if people == 0:
            boxes = np.array([[0.0, 0.0, self.input_width, self.input_height]], np.float32)
            cells = (self.roi.height_cells, self.roi.width_cells)
            pose_maps = np.zeros((1, len(self.keypoint_names), *cells), np.float32)
        features, heatmaps = self._session.run(
            self._outputs,
            {
                self._inputs["image"]: network_input,
                self._inputs["previous_features"]: previous_features,
                self._inputs["boxes"]: np.ascontiguousarray(boxes, np.float32),
                self._inputs["pose_maps"]: np.ascontiguousarray(pose_maps, np.float32),
            },
        )
        return features, heatmaps[:people]

    def __repr__(self) -> str:
        return f"DkdModel({self.name!r}, input={self.input_width}x{self.input_height})"


def _dims_match(actual: Sequence[Any], expected: Sequence[Any]) -> bool:
    """Static dims agree; a symbolic dim on either side matches anything."""
    return len(actual) == len(expected) and all(
        not isinstance(a, int) or not isinstance(e, int) or a == e for a, e in zip(actual, expected)
    )
