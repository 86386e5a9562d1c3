"""Synthetic egocentric depth frames for training: a rendered cache and batches with targets.

Frames are rendered once per split (seed ranges in `splits.json`) and cached as arrays, because
rendering costs more than a training step of the tiny network. Network inputs go through the
core's `make_network_input`, the function the node calls, so training and deployment see the
same numbers.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

import hand_pose_ros.synthetic
from hand_pose_ros.core.hand_metrics import VISIBLE
from hand_pose_ros.core.heatmaps import input_px_to_heatmap, render_gaussian_heatmaps
from hand_pose_ros.core.preprocess import make_network_input
from hand_pose_ros.synthetic import render_frame

SPLITS_FILE = Path(__file__).with_name("splits.json")

INPUT_SPEC = {
    "name": "depth", "layout": "NCHW", "height": 120, "width": 160, "units": "m",
    "clip_max_m": 2.0, "scale": 0.5, "invalid_value": 0.0,
}
"""Network input of the shipped hand models (ToF-like 160x120); export copies it to metadata."""

OUTPUT_STRIDE = 4
HEATMAP_SIGMA_PX = 1.5
"""Gaussian sigma of heatmap targets, in heatmap pixels."""

SEGMENTATION_FLIP = np.array([0, 2, 1], dtype=np.uint8)
"""Label map under a horizontal flip: a mirrored left hand is a right hand."""

_CACHED_FIELDS = (
    "depth_m", "segmentation", "keypoints_uv", "keypoint_depth_m", "visibility", "present",
    "keypose",
)


def split_seeds(split: str, count: int | None = None) -> range:
    """Seeds of a split from the committed list; `count` takes a prefix (for short runs)."""
    spec = json.loads(SPLITS_FILE.read_text())[split]
    n = spec["count"] if count is None else min(count, spec["count"])
    return range(spec["first_seed"], spec["first_seed"] + n)


def _render_cached_fields(seed: int) -> dict[str, np.ndarray]:
    frame = render_frame(seed, INPUT_SPEC["width"], INPUT_SPEC["height"])
    return {name: getattr(frame, name) for name in _CACHED_FIELDS}


def renderer_version() -> str:
    """Hash of the synthetic package's source: a changed renderer never reuses a stale cache."""
    digest = hashlib.sha256()
    for source in sorted(Path(hand_pose_ros.synthetic.__file__).parent.glob("*.py")):
        digest.update(source.read_bytes())
    return digest.hexdigest()[:10]


def load_or_render(seeds: range, cache_dir: Path, workers: int = 2) -> dict[str, np.ndarray]:
    """Arrays of every cached field over `seeds`, rendered once and kept as an .npz file."""
    path = cache_dir / (
        f"hand_{seeds.start}_{len(seeds)}_{INPUT_SPEC['width']}x{INPUT_SPEC['height']}"
        f"_{renderer_version()}.npz"
    )
    if path.exists():
        with np.load(path) as data:
            if set(_CACHED_FIELDS) <= set(data.files):  # else: cached before a field was added
                return {name: data[name] for name in _CACHED_FIELDS}
    chunks: dict[str, list[np.ndarray]] = {name: [] for name in _CACHED_FIELDS}
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        frames = pool.imap(_render_cached_fields, seeds, chunksize=64)
        for fields in tqdm(frames, total=len(seeds), desc=f"render {path.name}", unit="frame"):
            for name in _CACHED_FIELDS:
                chunks[name].append(fields[name])
    arrays = {name: np.stack(values) for name, values in chunks.items()}
    arrays["depth_m"] = arrays["depth_m"].astype(np.float16)
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, **arrays)
    tmp.rename(path)
    return arrays


@dataclass
class Batch:
    inputs: torch.Tensor  # (B, 1, H, W)
    heatmaps: torch.Tensor  # (B, S*K, h, w)
    presence: torch.Tensor  # (B, S) float 0/1
    visibility: torch.Tensor  # (B, S*K) float 0/1
    visibility_mask: torch.Tensor  # (B, S*K) bool: labels of present hands only
    segmentation: torch.Tensor  # (B, h, w) int64
    keypose: torch.Tensor  # (B, S) int64, -1 where absent


class HandBatches:
    """Random batches with horizontal-flip augmentation (sides swapped) and their targets."""

    def __init__(self, arrays: dict[str, np.ndarray], augment: bool):
        self.inputs = np.stack([
            make_network_input(d.astype(np.float32), INPUT_SPEC)[0] for d in arrays["depth_m"]
        ]).astype(np.float16)
        self.arrays = arrays
        self.augment = augment
        self.size = len(self.inputs)

    def batch(self, indices: np.ndarray, rng: np.random.Generator) -> Batch:
        inputs = self.inputs[indices].astype(np.float32)  # (B, 1, H, W)
        segmentation = self.arrays["segmentation"][indices]
        uv = self.arrays["keypoints_uv"][indices].copy()  # (B, S, K, 2)
        visibility = self.arrays["visibility"][indices]
        present = self.arrays["present"][indices]
        keypose = self.arrays["keypose"][indices].astype(np.int64)
        if self.augment:
            flip = rng.random(len(indices)) < 0.5
            inputs[flip] = inputs[flip, ..., ::-1]
            segmentation = segmentation.copy()
            segmentation[flip] = SEGMENTATION_FLIP[segmentation[flip, :, ::-1]]
            uv[flip, ..., 0] = (inputs.shape[-1] - 1) - uv[flip, ..., 0]
            uv[flip] = uv[flip, ::-1]
            visibility = np.where(flip[:, None, None], visibility[:, ::-1], visibility)
            present = np.where(flip[:, None], present[:, ::-1], present)
            keypose = np.where(flip[:, None], keypose[:, ::-1], keypose)
        return self._targets(inputs, segmentation, uv, visibility, present, keypose)

    def _targets(self, inputs, segmentation, uv, visibility, present, keypose) -> Batch:
        batch, sides, keypoints = visibility.shape
        out_h, out_w = inputs.shape[-2] // OUTPUT_STRIDE, inputs.shape[-1] // OUTPUT_STRIDE
        in_frame = (visibility > 0) & present[:, :, None]
        heatmap_xy = input_px_to_heatmap(uv.reshape(batch, sides * keypoints, 2), OUTPUT_STRIDE)
        heatmaps = np.stack([
            render_gaussian_heatmaps(xy, valid.reshape(-1), out_h, out_w, HEATMAP_SIGMA_PX)
            for xy, valid in zip(heatmap_xy, in_frame, strict=True)
        ])
        visibility_mask = np.repeat(present, keypoints, axis=1)
        return Batch(
            inputs=torch.from_numpy(np.ascontiguousarray(inputs)),
            heatmaps=torch.from_numpy(heatmaps),
            presence=torch.from_numpy(present.astype(np.float32)),
            visibility=torch.from_numpy(
                (visibility == VISIBLE).reshape(batch, -1).astype(np.float32)),
            visibility_mask=torch.from_numpy(visibility_mask),
            # Output cell i covers input pixels [s*i, s*i + s): take the one nearest its centre.
            segmentation=torch.from_numpy(np.ascontiguousarray(segmentation[
                :, OUTPUT_STRIDE // 2::OUTPUT_STRIDE, OUTPUT_STRIDE // 2::OUTPUT_STRIDE
            ]).astype(np.int64)),
            keypose=torch.from_numpy(np.where(present, keypose, -1)),
        )
