"""A larger exported refiner as a teacher: its heatmaps on the training crops become a second
target for a smaller refiner.

The tiny refiner, the one the 35 MFLOPs budget admits, underfits (docs/studies/hand.md): the
labels' one-hot Gaussians tell it where a keypoint is, the teacher's maps also tell it how
unsure a good model is on that crop (an occluded fingertip, a look-alike finger), which is
easier to fit at small capacity. The teacher runs through ONNX Runtime, so any shipped
refiner file serves without its run folder.
"""

from __future__ import annotations

from pathlib import Path

import torch

from hand_pose_ros.core.hand_crops import CropSpec
from hand_pose_ros.core.model_metadata import HAND_REFINER_TASK
from hand_pose_ros.core.model_runtime import OnnxModel
from training.hand.refiner_data import CROP_SPEC, REFINER_STRIDE


class HeatmapTeacher:
    """An exported refiner that cuts crops as training does, run on a batch's inputs."""

    def __init__(self, path: Path, threads: int) -> None:
        self.model = OnnxModel(path, intra_op_threads=threads, expected_task=HAND_REFINER_TASK)
        spec = CropSpec.from_metadata(self.model.metadata["input"])
        stride = int(self.model.output_specs["heatmaps"]["stride"])
        if spec != CROP_SPEC or stride != REFINER_STRIDE:
            raise ValueError(
                f"teacher {path} cuts {spec} crops with heatmap stride {stride}; training cuts "
                f"{CROP_SPEC} with stride {REFINER_STRIDE}"
            )
        self._heatmaps_name = self.model.output_specs["heatmaps"]["name"]

    def heatmaps(self, inputs: torch.Tensor) -> torch.Tensor:
        """(B, K, h, w) teacher heatmaps of (B, 1, S, S) crops, on the inputs' device."""
        outputs = self.model.run(inputs.detach().cpu().numpy())
        return torch.from_numpy(outputs[self._heatmaps_name]).to(inputs.device)
