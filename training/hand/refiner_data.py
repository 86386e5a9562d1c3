"""Crops of labelled hands for the refiner: the cached frames of `training.hand.data`, cut by
the core's `hand_crops` exactly as the estimator cuts around detected hands.

Training crops are jittered in centre and size, because at run time the crop comes from the
first stage, not from the labels. A share of them can be cut around the boxes the shipped first
stage itself finds on the training frames (`first_stage_boxes`): its misplaced and mis-sized
boxes are what the refiner meets at run time, which jitter around the labels does not imitate.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from hand_pose_ros.core.hand_crops import CropSpec, HandCrop, crop_around, crop_input, keypoint_box
from hand_pose_ros.core.hand_estimator import HandDecoder
from hand_pose_ros.core.heatmaps import input_px_to_heatmap, render_gaussian_heatmaps
from hand_pose_ros.core.model_runtime import OnnxModel
from hand_pose_ros.core.preprocess import make_network_input
from hand_pose_ros.core.skeletons import HAND_SIDES
from training.hand.data import HEATMAP_SIGMA_PX, VISIBLE, renderer_version

REFINER_INPUT_SPEC = {
    "name": "hand_crop", "layout": "NCHW", "height": 64, "width": 64, "units": "m",
    "crop_margin": 1.3, "depth_range_m": 0.15, "reference_percentile": 20.0,
    "invalid_value": 1.0, "mirrored_side": "left",
}
"""Refiner input (export copies it to metadata): 64x64 crops, 1.3x the keypoints' box."""

REFINER_STRIDE = 4

@dataclass(frozen=True)
class CropJitter:
    """How far training crops stray from the labelled box, as the first stage's boxes do."""

    centre: float = 0.08  # standard deviation of the centre offset, fraction of the box side
    log_scale: float = 0.12  # standard deviation of the log of the crop size factor


MIN_VISIBLE_KEYPOINTS = 3
"""A hand is a training crop when at least this many of its keypoints are visible."""

CROP_SPEC = CropSpec.from_metadata(REFINER_INPUT_SPEC)
MIRRORED_SIDE = HAND_SIDES.index(CROP_SPEC.mirrored_side)


@dataclass
class RefinerBatch:
    inputs: torch.Tensor  # (B, 1, S, S)
    heatmaps: torch.Tensor  # (B, K, S / stride, S / stride)
    keypoint_depth: torch.Tensor  # (B, K) surface depth - crop reference, in depth_range_m
    depth_mask: torch.Tensor  # (B, K) bool: visible keypoints with a depth label in the crop


def labelled_hands(arrays: dict[str, np.ndarray]) -> np.ndarray:
    """(N, 2) rows of (frame index, side) of every present hand worth a crop."""
    visible = (arrays["visibility"] == VISIBLE).sum(axis=2)  # (frames, sides)
    usable = arrays["present"].astype(bool) & (visible >= MIN_VISIBLE_KEYPOINTS)
    return np.argwhere(usable)


def first_stage_boxes(arrays: dict[str, np.ndarray], model_path: Path,
                      cache_dir: Path | None = None) -> np.ndarray:
    """(frames, sides, 2, 2) corners of the box the estimator cuts each side's first crop
    around on each frame (`HandDecoder.first_crop_points`; every side, present or not:
    ``RefinerBatches`` uses those of labelled hands). Kept in ``cache_dir``
    per model file, frame count and renderer version (as the frames' own cache is), since a
    pass over 40000 frames takes about a minute."""
    digest = hashlib.sha256(Path(model_path).read_bytes()).hexdigest()[:12]
    frames = len(arrays["depth_m"])
    name = f"first_stage_boxes_{digest}_{frames}_{renderer_version()}.npy"
    cached = None if cache_dir is None else Path(cache_dir) / name
    if cached is not None and cached.exists():
        return np.load(cached)
    model = OnnxModel(model_path)
    decoder = HandDecoder(model.metadata)
    boxes = np.full((frames, len(decoder.sides), 2, 2), np.nan)
    for frame in tqdm(range(frames), desc=f"first-stage boxes ({model.name})", unit="frame"):
        depth_m = arrays["depth_m"][frame].astype(np.float32)
        raw = model.run(make_network_input(depth_m, model.input_spec))
        outputs = {name: value[0] for name, value in raw.items()}
        hands = decoder.decode(outputs, *depth_m.shape, presence_threshold=0.0)
        points = decoder.first_crop_points(outputs, hands, *depth_m.shape)
        for hand, hand_points in zip(hands, points, strict=True):
            boxes[frame, hand.side] = hand_points.min(axis=0), hand_points.max(axis=0)
    if cached is not None:
        cached.parent.mkdir(parents=True, exist_ok=True)
        np.save(cached, boxes)
    return boxes


def hand_crop(
    uv_px: np.ndarray,
    side: int,
    rng: np.random.Generator | None = None,
    jitter: CropJitter = CropJitter(),
) -> HandCrop:
    """The crop around the box of (N, 2) points, labelled keypoints or a box's corners;
    jittered when ``rng`` is given."""
    centre, box_side = keypoint_box(uv_px)
    if rng is not None:
        centre = centre + rng.normal(0.0, jitter.centre, 2) * box_side
        box_side *= float(np.exp(rng.normal(0.0, jitter.log_scale)))
    return crop_around(centre, box_side, CROP_SPEC, mirrored=side == MIRRORED_SIDE)


def _inside(uv_crop: np.ndarray, size_px: int) -> np.ndarray:
    """(K,) whether crop pixel coordinates (K, 2) lie inside a crop of that size."""
    return np.all((uv_crop > -0.5) & (uv_crop < size_px - 0.5), axis=1)


def inside_crop(uv_px: np.ndarray, crop: HandCrop) -> np.ndarray:
    """(K,) whether each keypoint (image pixels) lies inside the crop."""
    return _inside(crop.to_crop(uv_px), crop.size_px)


def heatmap_targets(uv_px: np.ndarray, in_frame: np.ndarray, crop: HandCrop) -> np.ndarray:
    """(K, h, w) Gaussian targets of the keypoints that lie in frame and inside the crop."""
    size = CROP_SPEC.size_px
    uv_crop = crop.to_crop(uv_px)
    inside = in_frame & _inside(uv_crop, size)
    cells = size // REFINER_STRIDE
    return render_gaussian_heatmaps(
        input_px_to_heatmap(uv_crop, REFINER_STRIDE), inside, cells, cells, HEATMAP_SIGMA_PX
    )


class RefinerBatches:
    """Random jittered crops of the labelled hands of cached frames, with their targets; with
    ``boxes`` (from `first_stage_boxes`), a ``box_share`` of them around those boxes."""

    def __init__(self, arrays: dict[str, np.ndarray], jitter: CropJitter = CropJitter(),
                 boxes: np.ndarray | None = None, box_share: float = 0.0):
        if boxes is not None and not 0.0 <= box_share <= 1.0:
            raise ValueError(f"box_share must be in [0, 1], got {box_share}")
        self.arrays = arrays
        self.jitter = jitter
        self.boxes = boxes
        self.box_share = box_share
        self.hands = labelled_hands(arrays)
        self.size = len(self.hands)

    def _crop_points(self, rng: np.random.Generator, frame: int, side: int,
                     uv: np.ndarray) -> np.ndarray:
        """What a training crop is cut around: the labels, or the first stage's box. (No draw
        without boxes, so runs from before them replay the same crops.)"""
        if self.boxes is None or rng.random() >= self.box_share:
            return uv
        box = self.boxes[frame, side]
        return box if np.isfinite(box).all() else uv

    def batch(self, rng: np.random.Generator, batch_size: int) -> RefinerBatch:
        size = CROP_SPEC.size_px
        inputs = np.empty((batch_size, 1, size, size), np.float32)
        targets = []
        keypoint_count = self.arrays["keypoints_uv"].shape[2]
        depth_targets = np.zeros((batch_size, keypoint_count), np.float32)
        depth_mask = np.zeros((batch_size, keypoint_count), bool)
        for row, (frame, side) in enumerate(self.hands[rng.integers(0, self.size, batch_size)]):
            uv = self.arrays["keypoints_uv"][frame, side].astype(np.float64)
            points = self._crop_points(rng, frame, side, uv)
            crop = hand_crop(points, int(side), rng, self.jitter)
            depth = self.arrays["depth_m"][frame].astype(np.float32)
            _, reference_m = crop_input(depth, crop, CROP_SPEC, out=inputs[row, 0])
            visibility = self.arrays["visibility"][frame, side]
            targets.append(heatmap_targets(uv, visibility > 0, crop))
            label_m = self.arrays["keypoint_depth_m"][frame, side]
            labelled = (visibility == VISIBLE) & np.isfinite(label_m) & inside_crop(uv, crop)
            labelled &= np.isfinite(reference_m)  # no reference: no depth target
            depth_mask[row] = labelled
            depth_targets[row] = np.where(
                labelled, (label_m - reference_m) / CROP_SPEC.depth_range_m, 0.0
            )
        return RefinerBatch(
            torch.from_numpy(inputs),
            torch.from_numpy(np.stack(targets)),
            torch.from_numpy(depth_targets),
            torch.from_numpy(depth_mask),
        )
