"""Person regions for kernel propagation: boxes around a pose, ROI cell coordinates, pose maps.

The DKD model works per person inside a fixed-size grid of ROI cells laid over a box in
network-input pixels. Training and the runtime must place that grid identically, so the
geometry lives here once. Conventions: pixel centres sit at integer coordinates (as everywhere
in the core); a box ``(x0, y0, x1, y1)`` gives continuous edges, and ROI cell ``(row, col)`` of
an ``roi_height`` x ``roi_width`` grid has its centre at
``x0 + (col + 0.5) * (x1 - x0) / roi_width`` (same for y), which is what ``grid_sample`` with
``align_corners=False`` samples when the box is mapped to normalised image coordinates.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from hand_pose_ros.core.heatmaps import decode_peaks, render_gaussian_heatmaps


@dataclass(frozen=True)
class RoiSpec:
    """Grid and box settings a DKD model was trained with (its metadata ``roi`` section)."""

    height_cells: int = 32
    width_cells: int = 24
    expand: float = 1.3
    """Box side / keypoint extent: room for the motion until the next frame."""
    min_height_px: float = 32.0
    """Smallest box height in network-input pixels (a far person's few keypoints)."""
    pose_map_sigma_cells: float = 1.5
    """Gaussian sigma of pose maps and heatmap targets, in ROI cells."""
    min_keypoint_score: float = 0.1
    """Keypoints below this score neither shape the box nor appear in the pose maps."""

    @classmethod
    def from_metadata(cls, roi: dict) -> RoiSpec:
        return cls(
            height_cells=int(roi["height_cells"]),
            width_cells=int(roi["width_cells"]),
            expand=float(roi["expand"]),
            min_height_px=float(roi["min_height_px"]),
            pose_map_sigma_cells=float(roi["pose_map_sigma_cells"]),
            min_keypoint_score=float(roi["min_keypoint_score"]),
        )

    def to_metadata(self) -> dict:
        return {
            "height_cells": self.height_cells,
            "width_cells": self.width_cells,
            "expand": self.expand,
            "min_height_px": self.min_height_px,
            "pose_map_sigma_cells": self.pose_map_sigma_cells,
            "min_keypoint_score": self.min_keypoint_score,
        }

    @property
    def aspect_hw(self) -> float:
        """Box height / width, the grid's, so ROI cells are square in the image."""
        return self.height_cells / self.width_cells


def person_boxes(uv_px: np.ndarray, score: np.ndarray, spec: RoiSpec) -> np.ndarray:
    """(P, 4) float32 boxes ``(x0, y0, x1, y1)`` around each person's confident keypoints.

    The box is centred on the extent of the keypoints scoring at least
    ``spec.min_keypoint_score`` (all keypoints when fewer than two do), has the grid's aspect,
    covers that extent times ``spec.expand`` and is at least ``spec.min_height_px`` tall.
    Non-finite keypoints are ignored; a person without any finite keypoint gets NaNs.
    """
    uv = np.asarray(uv_px, np.float64).reshape(-1, np.shape(uv_px)[-2], 2)
    scores = np.asarray(score, np.float64).reshape(uv.shape[:2])
    finite = np.isfinite(uv).all(axis=-1)
    confident = finite & (scores >= spec.min_keypoint_score)
    use = np.where(confident.sum(axis=1, keepdims=True) >= 2, confident, finite)
    big = np.where(use[..., None], uv, np.nan)
    with warnings.catch_warnings():  # all-NaN rows (no keypoints) give NaN boxes, as documented
        warnings.simplefilter("ignore", RuntimeWarning)
        low, high = np.nanmin(big, axis=1), np.nanmax(big, axis=1)
    centre = 0.5 * (low + high)
    extent = high - low
    longest = np.maximum(extent[:, 1], extent[:, 0] * spec.aspect_hw)
    height = np.maximum(longest * spec.expand, spec.min_height_px)
    width = height / spec.aspect_hw
    boxes = np.column_stack(
        [
            centre[:, 0] - 0.5 * width,
            centre[:, 1] - 0.5 * height,
            centre[:, 0] + 0.5 * width,
            centre[:, 1] + 0.5 * height,
        ]
    )
    return boxes.astype(np.float32)


def input_px_to_cells(xy_px: np.ndarray, boxes: np.ndarray, spec: RoiSpec) -> np.ndarray:
    """(P, J, 2) network-input pixels -> ROI cell coordinates of each person's box."""
    xy = np.asarray(xy_px, np.float64)
    box = np.asarray(boxes, np.float64)[:, None, :]
    cells_per_px = np.stack(
        [
            spec.width_cells / (box[..., 2] - box[..., 0]),
            spec.height_cells / (box[..., 3] - box[..., 1]),
        ],
        axis=-1,
    )
    return (xy - box[..., :2]) * cells_per_px - 0.5


def cells_to_input_px(cells: np.ndarray, boxes: np.ndarray, spec: RoiSpec) -> np.ndarray:
    """(P, J, 2) ROI cell coordinates -> network-input pixels (inverse of the above)."""
    xy = np.asarray(cells, np.float64)
    box = np.asarray(boxes, np.float64)[:, None, :]
    px_per_cell = np.stack(
        [
            (box[..., 2] - box[..., 0]) / spec.width_cells,
            (box[..., 3] - box[..., 1]) / spec.height_cells,
        ],
        axis=-1,
    )
    return (xy + 0.5) * px_per_cell + box[..., :2]


def render_pose_maps(
    xy_px: np.ndarray, score: np.ndarray, boxes: np.ndarray, spec: RoiSpec
) -> np.ndarray:
    """(P, J, H_roi, W_roi) float32 Gaussians of each person's keypoints in their box.

    The amplitude is the keypoint score clipped to [0, 1]; keypoints below
    ``spec.min_keypoint_score`` (or not finite) give an empty map. Training renders its
    targets with score 1 for labelled keypoints, so a pose map and a target look alike.
    """
    xy = np.asarray(xy_px, np.float64)
    people, joints = xy.shape[:2]
    amplitude = np.clip(np.asarray(score, np.float32).reshape(people, joints), 0.0, 1.0)
    valid = (amplitude >= spec.min_keypoint_score) & np.isfinite(xy).all(axis=-1)
    cells = input_px_to_cells(xy, boxes, spec)
    maps = render_gaussian_heatmaps(
        cells.reshape(-1, 2),
        valid.reshape(-1),
        spec.height_cells,
        spec.width_cells,
        spec.pose_map_sigma_cells,
    ).reshape(people, joints, spec.height_cells, spec.width_cells)
    return maps * amplitude[:, :, None, None]


def decode_roi_heatmaps(
    heatmaps: np.ndarray, boxes: np.ndarray, spec: RoiSpec
) -> tuple[np.ndarray, np.ndarray]:
    """Sub-pixel peak of every (P, J, H_roi, W_roi) heatmap: network-input pixels (P, J, 2)
    float64 and peak values (P, J) float32 as keypoint scores, clipped to [0, 1]."""
    people, joints, height, width = heatmaps.shape
    if people == 0:
        return np.zeros((0, joints, 2)), np.zeros((0, joints), np.float32)
    cells, peak = decode_peaks(heatmaps.reshape(people * joints, height, width))
    xy = cells_to_input_px(cells.reshape(people, joints, 2), boxes, spec)
    return xy, np.clip(peak.reshape(people, joints), 0.0, 1.0).astype(np.float32)
