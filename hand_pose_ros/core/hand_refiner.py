"""Second stage of the hand pipeline: keypoints re-estimated on a crop around each found hand.

:class:`RefinerDecoder` needs only the refiner's metadata (training validation uses it on torch
outputs); :class:`HandRefiner` adds the ONNX model and refines the hands of one frame in one
batched run.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hand_pose_ros.core.hand_crops import CropSpec, HandCrop, crop_around, crop_input, keypoint_box
from hand_pose_ros.core.heatmaps import decode_peaks, heatmap_to_input_px
from hand_pose_ros.core.model_metadata import HAND_REFINER_TASK, validate_task_metadata
from hand_pose_ros.core.model_runtime import OnnxModel


class RefinerDecoder:
    """Crops to cut for hands and refiner heatmaps -> image keypoints, from the metadata."""

    def __init__(self, metadata: dict[str, Any]) -> None:
        validate_task_metadata(metadata, HAND_REFINER_TASK, "hand refiner")
        self.metadata = metadata
        self.keypoint_names: tuple[str, ...] = tuple(metadata["keypoint_names"])
        self.sides: tuple[str, ...] = tuple(metadata["sides"])
        self.spec = CropSpec.from_metadata(metadata["input"])
        self.mirrored_side = self.sides.index(self.spec.mirrored_side)
        self.heatmap_stride = float(metadata["outputs"]["heatmaps"]["stride"])

    def crop_for(self, uv_px: np.ndarray, side: int) -> HandCrop:
        """The crop around a hand's (K, 2) keypoints in image pixels."""
        centre, box_side = keypoint_box(uv_px)
        return crop_around(centre, box_side, self.spec, mirrored=side == self.mirrored_side)

    def decode(
        self, heatmaps: np.ndarray, crops: list[HandCrop]
    ) -> tuple[np.ndarray, np.ndarray]:
        """(N, K, h, w) heatmaps of N crops -> image keypoints (N, K, 2) and scores (N, K),
        score = clip(heatmap peak, 0, 1)."""
        count, keypoints = heatmaps.shape[:2]
        xy, peak = decode_peaks(heatmaps.reshape(count * keypoints, *heatmaps.shape[2:]))
        uv_crop = heatmap_to_input_px(xy, self.heatmap_stride).reshape(count, keypoints, 2)
        uv = np.stack([crop.to_image(one) for crop, one in zip(crops, uv_crop, strict=True)])
        return uv, np.clip(peak, 0.0, 1.0).reshape(count, keypoints)


class HandRefiner:
    """A hand refiner model (task ``hand_keypoints_crop``) ready to refine detected hands."""

    def __init__(self, model: OnnxModel) -> None:
        self.model = model
        self.decoder = RefinerDecoder(model.metadata)
        size = self.decoder.spec.size_px
        self._inputs = np.empty((2, 1, size, size), np.float32)

    def check_compatible(self, keypoint_names: tuple[str, ...], sides: tuple[str, ...]) -> None:
        """Refuse a refiner whose keypoints or sides differ from the first stage's."""
        if self.decoder.keypoint_names != keypoint_names or self.decoder.sides != sides:
            raise ValueError(
                f"refiner '{self.model.name}' has keypoints {list(self.decoder.keypoint_names)} "
                f"and sides {list(self.decoder.sides)}; the hand model has "
                f"{list(keypoint_names)} and {list(sides)}"
            )

    def refine(
        self, depth_m: np.ndarray, hands: list[tuple[np.ndarray, int]]
    ) -> tuple[np.ndarray, np.ndarray]:
        """New keypoints (N, K, 2) and scores (N, K) for N hands given as (uv (K, 2), side)."""
        if len(hands) > len(self._inputs):
            size = self.decoder.spec.size_px
            self._inputs = np.empty((len(hands), 1, size, size), np.float32)
        crops = [self.decoder.crop_for(uv, side) for uv, side in hands]
        for row, crop in enumerate(crops):
            crop_input(depth_m, crop, self.decoder.spec, out=self._inputs[row, 0])
        outputs = self.model.run(self._inputs[: len(crops)])
        heatmaps = outputs[self.model.output_specs["heatmaps"]["name"]]
        return self.decoder.decode(heatmaps, crops)
