"""Second stage of the hand pipeline: keypoints re-estimated on a crop around each found hand.

:class:`RefinerDecoder` needs only the refiner's metadata (training validation uses it on torch
outputs); :class:`HandRefiner` adds the ONNX model and refines the hands of one frame in one
batched run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from hand_pose_ros.core.hand_crops import CropSpec, HandCrop, crop_around, crop_input, keypoint_box
from hand_pose_ros.core.heatmaps import decode_peaks, heatmap_to_input_px, sample_maps
from hand_pose_ros.core.model_metadata import HAND_REFINER_TASK, validate_task_metadata
from hand_pose_ros.core.model_runtime import OnnxModel


@dataclass
class RefinedKeypoints:
    """Keypoints of N refined hands: image pixels (N, K, 2), scores (N, K) = clip(heatmap
    peak, 0, 1), and surface depth in metres (N, K), NaN when the refiner has no
    ``keypoint_depth`` output."""

    uv_px: np.ndarray
    score: np.ndarray
    depth_m: np.ndarray


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
        self.has_depth = "keypoint_depth" in metadata["outputs"]

    def crop_for(self, uv_px: np.ndarray, side: int) -> HandCrop:
        """The crop around the box of a hand's (N, 2) points in image pixels: its keypoints,
        or the corners of a box found otherwise."""
        centre, box_side = keypoint_box(uv_px)
        return crop_around(centre, box_side, self.spec, mirrored=side == self.mirrored_side)

    def decode(
        self,
        heatmaps: np.ndarray,
        crops: list[HandCrop],
        keypoint_depth: np.ndarray | None = None,
        references_m: list[float] | None = None,
    ) -> RefinedKeypoints:
        """(N, K, h, w) heatmaps of N crops -> image keypoints. With the refiner's (N, K, h, w)
        ``keypoint_depth`` maps and each crop's reference depth (from `crop_input`), each
        keypoint's depth is its map read at its heatmap peak, in metres."""
        count, keypoints = heatmaps.shape[:2]
        xy, peak = decode_peaks(heatmaps.reshape(count * keypoints, *heatmaps.shape[2:]))
        uv_crop = heatmap_to_input_px(xy, self.heatmap_stride).reshape(count, keypoints, 2)
        uv = np.stack([crop.to_image(one) for crop, one in zip(crops, uv_crop, strict=True)])
        depth_m = np.full((count, keypoints), np.nan, dtype=np.float32)
        if keypoint_depth is not None and references_m is not None:
            relative = sample_maps(keypoint_depth.reshape(count * keypoints, *heatmaps.shape[2:]),
                                   xy).reshape(count, keypoints)
            depth_m[:] = relative * self.spec.depth_range_m + np.asarray(references_m)[:, None]
        return RefinedKeypoints(uv, np.clip(peak, 0.0, 1.0).reshape(count, keypoints), depth_m)


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

    def refine(self, depth_m: np.ndarray, hands: list[tuple[np.ndarray, int]]) -> RefinedKeypoints:
        """Refined keypoints of N hands given as (points (N, 2) the crop is cut around, side):
        see :meth:`RefinerDecoder.crop_for`."""
        if len(hands) > len(self._inputs):
            size = self.decoder.spec.size_px
            self._inputs = np.empty((len(hands), 1, size, size), np.float32)
        crops = [self.decoder.crop_for(uv, side) for uv, side in hands]
        references_m = [
            crop_input(depth_m, crop, self.decoder.spec, out=self._inputs[row, 0])[1]
            for row, crop in enumerate(crops)
        ]
        outputs = self.model.run(self._inputs[: len(crops)])
        specs = self.model.output_specs
        heatmaps = outputs[specs["heatmaps"]["name"]]
        keypoint_depth = (
            outputs[specs["keypoint_depth"]["name"]] if self.decoder.has_depth else None
        )
        return self.decoder.decode(heatmaps, crops, keypoint_depth, references_m)
