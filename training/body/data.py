"""Multi-person training samples: a rendered disk cache, one-warp augmentation and targets.

Synthetic frames come from `hand_pose_ros.synthetic.people.render_people_frame` at the render
size (by default the deployed network input, 256x192: a 640x480 camera letterboxed), are
rendered once and cached as memory-mapped chunks under
`data/cache/body_<renderer-hash>/<W>x<H>/`, because rendering costs about as much as a
training step. Each batch is then warped on the fly: rotation, scale, translation and
horizontal flip as one affine map from render pixels to training-input pixels (a crop when the
training input is smaller than the render, which keeps the deployment scale while cutting CPU
cost). Targets follow HigherHRNet / LitePose: Gaussian heatmaps (sigma 2 heatmap px) at 1/4 and
1/2, loss masks, and per person the flat 1/4 index of each labelled joint for the
associative-embedding loss.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F
from tqdm import tqdm

import hand_pose_ros.synthetic
from hand_pose_ros.core.heatmaps import input_px_to_heatmap, render_gaussian_heatmaps
from hand_pose_ros.core.skeletons import COCO_KEYPOINT_NAMES, flip_permutation

SPLITS_FILE = Path(__file__).with_name("splits.json")

NUM_JOINTS = len(COCO_KEYPOINT_NAMES)
MAX_PEOPLE = 30
"""People per image the targets hold (LitePose / HigherHRNet decode up to 30)."""
HEATMAP_SIGMA_PX = 2.0
"""Gaussian sigma of heatmap targets in heatmap pixels, at both output strides."""
STRIDE_COARSE = 4
STRIDE_FINE = 2
RENDER_SIZE_PX = (256, 192)
"""(width, height) of cached frames: the shipped model's input, a 640x480 camera letterboxed."""
IMAGE_MEAN = (0.485, 0.456, 0.406)
IMAGE_STD = (0.229, 0.224, 0.225)
PIXEL_SCALE = 1.0 / 255.0
CHUNK_FRAMES = 500
"""Frames per cache file; chunks are shared between runs that use different seed prefixes."""

FLIP_INDEX = np.array(flip_permutation(COCO_KEYPOINT_NAMES), dtype=np.intp)

RenderFn = Callable[[int, int, int], dict[str, np.ndarray]]
"""(seed, width, height) -> {"color", "keypoints_uv", "visibility"} (see `render_sample`)."""


def split_seeds(split: str, count: int | None = None) -> range:
    """Seeds of a split from the committed list; `count` takes a prefix (for short runs)."""
    spec = json.loads(SPLITS_FILE.read_text())[split]
    n = spec["count"] if count is None else min(count, spec["count"])
    return range(spec["first_seed"], spec["first_seed"] + n)


def renderer_version() -> str:
    """Hash of the people renderer's source: a changed renderer never reuses a stale cache."""
    digest = hashlib.sha256()
    root = Path(hand_pose_ros.synthetic.__file__).parent / "people"
    for source in sorted(root.rglob("*.py")):
        digest.update(source.read_bytes())
    return digest.hexdigest()[:10]


def pad_people(uv: np.ndarray, visibility: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(P, J, 2), (P, J) -> fixed (MAX_PEOPLE, J, 2) float32 (NaN pad), (MAX_PEOPLE, J) uint8."""
    people = min(len(uv), MAX_PEOPLE)
    uv_out = np.full(
        (MAX_PEOPLE, uv.shape[1] if uv.ndim == 3 else NUM_JOINTS, 2), np.nan, dtype=np.float32
    )
    vis_out = np.zeros(uv_out.shape[:2], dtype=np.uint8)
    uv_out[:people] = uv[:people]
    vis_out[:people] = visibility[:people]
    return uv_out, vis_out


def render_sample(seed: int, width: int, height: int) -> dict[str, np.ndarray]:
    """One synthetic frame reduced to what training needs."""
    from hand_pose_ros.synthetic.people import render_people_frame

    frame = render_people_frame(seed, width=width, height=height)
    uv, visibility = pad_people(frame.keypoints_uv, frame.visibility)
    return {"color": frame.color, "keypoints_uv": uv, "visibility": visibility}


_FIELDS = ("color", "keypoints_uv", "visibility")
_OPTIONAL_FIELDS = ("valid",)


def _render_fields(
    render_fn: RenderFn, width: int, height: int, seed: int
) -> dict[str, np.ndarray]:
    return render_fn(seed, width, height)


def _chunk_ranges(seeds: range) -> list[range]:
    """Split `seeds` at multiples of CHUNK_FRAMES so that prefixes reuse the same files."""
    ranges, start = [], seeds.start
    while start < seeds.stop:
        stop = min(seeds.stop, (start // CHUNK_FRAMES + 1) * CHUNK_FRAMES)
        ranges.append(range(start, stop))
        start = stop
    return ranges


def cache_folder(cache_dir: Path, width: int, height: int, version: str | None = None) -> Path:
    return cache_dir / f"body_{version or renderer_version()}" / f"{width}x{height}"


def load_or_render(
    seeds: range,
    cache_dir: Path,
    width: int = RENDER_SIZE_PX[0],
    height: int = RENDER_SIZE_PX[1],
    workers: int = 2,
    render_fn: RenderFn | None = None,
    version: str | None = None,
) -> dict[str, np.ndarray]:
    """Arrays of every cached field over `seeds` (memory-mapped), rendering missing chunks.

    `render_fn`/`version` replace the people renderer (tests use a fast stand-in).
    """
    if render_fn is None:
        render_fn, version = render_sample, version or renderer_version()
    folder = cache_folder(cache_dir, width, height, version or render_fn.__name__)
    parts: dict[str, list[np.ndarray]] = {name: [] for name in _FIELDS}
    for chunk in _chunk_ranges(seeds):
        path = folder / f"seeds_{chunk.start}_{chunk.stop}"
        if not (path / "done").exists():
            _render_chunk(chunk, path, render_fn, width, height, workers)
        for name in (*_FIELDS, *_OPTIONAL_FIELDS):
            if (path / f"{name}.npy").exists():
                parts.setdefault(name, []).append(np.load(path / f"{name}.npy", mmap_mode="r"))
    if len(parts["color"]) == 1:
        return {name: values[0] for name, values in parts.items()}
    return {name: ChunkedArray(values) for name, values in parts.items()}


class ChunkedArray:
    """Read-only row access over memory-mapped chunks without concatenating them in memory
    (20000 cached 256x192 frames are ~3 GB)."""

    def __init__(self, parts: list[np.ndarray]):
        self.parts = parts
        self.starts = np.cumsum([0, *(len(part) for part in parts)])
        self.shape = (int(self.starts[-1]), *parts[0].shape[1:])
        self.dtype = parts[0].dtype

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, index: int) -> np.ndarray:
        index = int(index)
        if not 0 <= index < len(self):
            raise IndexError(f"row {index} outside [0, {len(self)})")
        chunk = int(np.searchsorted(self.starts, index, side="right")) - 1
        return self.parts[chunk][index - self.starts[chunk]]

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        joined = np.concatenate(self.parts)
        return joined if dtype is None else joined.astype(dtype)


def _render_chunk(
    seeds: range, path: Path, render_fn: RenderFn, width: int, height: int, workers: int
) -> None:
    render = partial(_render_fields, render_fn, width, height)
    desc = f"render {path.parent.name} {path.name}"
    if workers > 1:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            samples = list(
                tqdm(
                    pool.imap(render, seeds, chunksize=8), total=len(seeds), desc=desc, unit="frame"
                )
            )
    else:
        samples = [render(seed) for seed in tqdm(seeds, desc=desc, unit="frame")]
    # Written aside and renamed into place: concurrent runs (e.g. training and an ablation)
    # rendering the same chunk never see, or memory-map, a half-written file.
    staging = path.with_name(f"{path.name}.tmp{os.getpid()}")
    staging.mkdir(parents=True, exist_ok=True)
    for name in (*_FIELDS, *_OPTIONAL_FIELDS):
        if name in samples[0]:
            np.save(staging / f"{name}.npy", np.stack([s[name] for s in samples]))
    (staging / "done").write_text(json.dumps({"seeds": [seeds.start, seeds.stop]}))
    if path.exists() and not (path / "done").exists():  # left by a killed run
        shutil.rmtree(path, ignore_errors=True)
    try:
        os.rename(staging, path)
    except OSError:  # another process finished the same chunk first: keep its files
        shutil.rmtree(staging, ignore_errors=True)


@dataclass(frozen=True)
class Augmentation:
    """Paper's ranges: rotation +-30 deg, scale 0.75-1.5, translation, flip."""

    rotation_deg: float = 30.0
    scale_range: tuple[float, float] = (0.75, 1.5)
    translate_frac: float = 0.1
    """Extra centre shift as a fraction of the render size, on top of the crop's free range."""
    flip_probability: float = 0.5

    @classmethod
    def none(cls) -> Augmentation:
        return cls(0.0, (1.0, 1.0), 0.0, 0.0)


@dataclass
class BodyBatch:
    inputs: torch.Tensor  # (B, 3, H, W) normalised RGB
    heatmaps_s4: torch.Tensor  # (B, J, H/4, W/4)
    heatmaps_s2: torch.Tensor  # (B, J, H/2, W/2)
    mask_s4: torch.Tensor  # (B, H/4, W/4) float 0/1
    mask_s2: torch.Tensor  # (B, H/2, W/2)
    joints: torch.Tensor  # (B, MAX_PEOPLE, J, 2) int64: flat index at 1/4, valid 0/1
    keypoints_uv: np.ndarray = field(repr=False)  # (B, P, J, 2) input px after the warp
    visibility: np.ndarray = field(repr=False)  # (B, P, J) uint8 after the warp (0 outside)


@dataclass(frozen=True)
class Warp:
    """Affine map render px -> input px: out = scale * R(angle) (src - centre) + out_centre,
    then x -> W - 1 - x when flipped (pixel-centre convention throughout)."""

    scale: float
    angle_rad: float
    centre_src: tuple[float, float]
    centre_out: tuple[float, float]
    out_width: int
    flip: bool

    def forward(self, uv: np.ndarray) -> np.ndarray:
        c, s = np.cos(self.angle_rad), np.sin(self.angle_rad)
        d = np.asarray(uv, dtype=np.float64) - self.centre_src
        x = self.scale * (c * d[..., 0] - s * d[..., 1]) + self.centre_out[0]
        y = self.scale * (s * d[..., 0] + c * d[..., 1]) + self.centre_out[1]
        if self.flip:
            x = (self.out_width - 1) - x
        return np.stack([x, y], axis=-1)

    def inverse(self, uv: np.ndarray) -> np.ndarray:
        uv = np.asarray(uv, dtype=np.float64)
        x = (self.out_width - 1) - uv[..., 0] if self.flip else uv[..., 0]
        dx = (x - self.centre_out[0]) / self.scale
        dy = (uv[..., 1] - self.centre_out[1]) / self.scale
        c, s = np.cos(self.angle_rad), np.sin(self.angle_rad)
        return np.stack(
            [c * dx + s * dy + self.centre_src[0], -s * dx + c * dy + self.centre_src[1]], axis=-1
        )


def random_warp(
    rng: np.random.Generator,
    src_size: tuple[int, int],
    out_size: tuple[int, int],
    augmentation: Augmentation,
) -> Warp:
    """Random affine within the augmentation's ranges; crops move freely over the render."""
    (src_w, src_h), (out_w, out_h) = src_size, out_size
    scale = float(rng.uniform(*augmentation.scale_range))
    angle = np.deg2rad(float(rng.uniform(-augmentation.rotation_deg, augmentation.rotation_deg)))
    centre = []
    for src_len, out_len in ((src_w, out_w), (src_h, out_h)):
        free = max(0.0, (src_len - out_len / scale) / 2.0) + augmentation.translate_frac * src_len
        centre.append((src_len - 1) / 2.0 + float(rng.uniform(-free, free)))
    flip = bool(rng.random() < augmentation.flip_probability)
    return Warp(
        scale, angle, (centre[0], centre[1]), ((out_w - 1) / 2.0, (out_h - 1) / 2.0), out_w, flip
    )


def _sampling_grid(
    warp: Warp, src_size: tuple[int, int], out_h: int, out_w: int, stride: int
) -> np.ndarray:
    """grid_sample grid (out_h, out_w, 2) for the centres of a stride-`stride` output map."""
    xs = (np.arange(out_w) + 0.5) * stride - 0.5
    ys = (np.arange(out_h) + 0.5) * stride - 0.5
    uv = np.stack(np.meshgrid(xs, ys), axis=-1)
    src = warp.inverse(uv)
    src_w, src_h = src_size
    return np.stack(
        [(2.0 * src[..., 0] + 1.0) / src_w - 1.0, (2.0 * src[..., 1] + 1.0) / src_h - 1.0], axis=-1
    ).astype(np.float32)


def warp_image(
    image: np.ndarray, warp: Warp, out_size: tuple[int, int], mode: str = "bilinear"
) -> np.ndarray:
    """Apply a warp to one (H, W) or (H, W, C) array (zeros outside); the batch path's maths.

    `mode="nearest"` for label images (e.g. an instance map; shift it so background is 0).
    """
    src = np.asarray(image, dtype=np.float32)
    planes = src[None, None] if src.ndim == 2 else src.transpose(2, 0, 1)[None]
    grid = _sampling_grid(warp, (src.shape[1], src.shape[0]), out_size[1], out_size[0], 1)
    out = F.grid_sample(
        torch.from_numpy(np.ascontiguousarray(planes)),
        torch.from_numpy(grid)[None],
        mode=mode,
        padding_mode="zeros",
        align_corners=False,
    )[0].numpy()
    return out[0] if src.ndim == 2 else out.transpose(1, 2, 0)


def normalise_images(images: torch.Tensor) -> torch.Tensor:
    """(B, 3, H, W) raw 0-255 RGB -> the model contract's normalised input."""
    mean = torch.tensor(IMAGE_MEAN, dtype=images.dtype).view(1, 3, 1, 1)
    std = torch.tensor(IMAGE_STD, dtype=images.dtype).view(1, 3, 1, 1)
    return (images * PIXEL_SCALE - mean) / std


def warp_keypoints(
    uv: np.ndarray,
    visibility: np.ndarray,
    warp: Warp,
    out_h: int,
    out_w: int,
    flip_index: np.ndarray = FLIP_INDEX,
) -> tuple[np.ndarray, np.ndarray]:
    """Warped keypoints with flip's left/right swap; joints outside the output get label 0."""
    out_uv = warp.forward(uv)
    vis = visibility.copy()
    if warp.flip:
        out_uv, vis = out_uv[:, flip_index], vis[:, flip_index]
    inside = (
        np.isfinite(out_uv).all(axis=-1)
        & (out_uv[..., 0] >= -0.5)
        & (out_uv[..., 0] < out_w - 0.5)
        & (out_uv[..., 1] >= -0.5)
        & (out_uv[..., 1] < out_h - 0.5)
    )
    vis[~inside] = 0
    return out_uv, vis


def make_targets(
    uv: np.ndarray, visibility: np.ndarray, out_h: int, out_w: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Heatmaps at 1/4 and 1/2 (max over people) and AE joint indices for one image.

    uv: (P, J, 2) input px; visibility (P, J) with 0 = not labelled.
    """
    people, joints = visibility.shape
    labelled = visibility > 0
    maps = []
    for stride in (STRIDE_COARSE, STRIDE_FINE):
        h, w = out_h // stride, out_w // stride
        xy = input_px_to_heatmap(uv.reshape(-1, 2), stride)
        if people == 0 or not labelled.any():
            maps.append(np.zeros((joints, h, w), dtype=np.float32))
            continue
        keep = labelled.any(axis=1)
        per_person = render_gaussian_heatmaps(
            xy.reshape(people, joints, 2)[keep].reshape(-1, 2),
            labelled[keep].reshape(-1),
            h,
            w,
            HEATMAP_SIGMA_PX,
        ).reshape(-1, joints, h, w)
        maps.append(per_person.max(axis=0))
    h4, w4 = out_h // STRIDE_COARSE, out_w // STRIDE_COARSE
    cell = np.rint(input_px_to_heatmap(np.nan_to_num(uv, nan=-1.0), STRIDE_COARSE)).astype(int)
    valid = (
        labelled
        & (cell[..., 0] >= 0)
        & (cell[..., 0] < w4)
        & (cell[..., 1] >= 0)
        & (cell[..., 1] < h4)
    )
    index = np.zeros((MAX_PEOPLE, joints, 2), dtype=np.int64)
    n = min(people, MAX_PEOPLE)
    index[:n, :, 0] = np.where(valid, cell[..., 1] * w4 + cell[..., 0], 0)[:n]
    index[:n, :, 1] = valid[:n]
    return maps[0], maps[1], index


class BodySamples:
    """Random augmented batches over cached frames (or any arrays with the cached fields)."""

    def __init__(
        self,
        arrays: dict[str, np.ndarray],
        input_size: tuple[int, int],
        augmentation: Augmentation | None = None,
        flip_index: tuple[int, ...] | np.ndarray | None = None,
    ):
        self.arrays = arrays
        self.flip_index = FLIP_INDEX if flip_index is None else np.asarray(flip_index, np.intp)
        self.size = len(arrays["color"])
        self.input_w, self.input_h = input_size
        for name, length in (("width", self.input_w), ("height", self.input_h)):
            if length % STRIDE_COARSE:
                raise ValueError(f"input {name} {length} is not a multiple of {STRIDE_COARSE}")
        src_h, src_w = arrays["color"].shape[1:3]
        self.src_size = (src_w, src_h)
        self.augmentation = augmentation or Augmentation()

    def warps(self, count: int, rng: np.random.Generator) -> list[Warp]:
        return [
            random_warp(rng, self.src_size, (self.input_w, self.input_h), self.augmentation)
            for _ in range(count)
        ]

    def batch(
        self, indices: np.ndarray, rng: np.random.Generator, warps: list[Warp] | None = None
    ) -> BodyBatch:
        indices = np.asarray(indices)
        warps = warps or self.warps(len(indices), rng)
        color = np.stack([self.arrays["color"][i] for i in indices])  # (B, h, w, 3) uint8
        images = torch.from_numpy(color).permute(0, 3, 1, 2).float()
        out_h, out_w = self.input_h, self.input_w
        grids = torch.from_numpy(
            np.stack([_sampling_grid(w, self.src_size, out_h, out_w, 1) for w in warps])
        )
        warped = F.grid_sample(
            images, grids, mode="bilinear", padding_mode="zeros", align_corners=False
        )
        masks = []
        # Loss mask source: 1 on image pixels; a COCO source also zeroes letterbox padding and
        # crowd / unlabelled-person regions ("valid"), which must not be called background.
        if "valid" in self.arrays:
            valid = np.stack([self.arrays["valid"][i] for i in indices]).astype(np.float32)
            ones = torch.from_numpy(valid)[:, None]
        else:
            ones = torch.ones(len(indices), 1, *images.shape[2:])
        for stride in (STRIDE_COARSE, STRIDE_FINE):
            grid = torch.from_numpy(
                np.stack(
                    [
                        _sampling_grid(w, self.src_size, out_h // stride, out_w // stride, stride)
                        for w in warps
                    ]
                )
            )
            inside = F.grid_sample(
                ones, grid, mode="nearest", padding_mode="zeros", align_corners=False
            )
            masks.append(inside[:, 0])
        heat4, heat2, joints, uvs, viss = [], [], [], [], []
        for i, warp in zip(indices, warps, strict=True):
            uv, vis = warp_keypoints(
                np.asarray(self.arrays["keypoints_uv"][i]),
                np.asarray(self.arrays["visibility"][i]),
                warp,
                out_h,
                out_w,
                self.flip_index,
            )
            h4, h2, joint_index = make_targets(uv, vis, out_h, out_w)
            heat4.append(h4), heat2.append(h2), joints.append(joint_index)
            uvs.append(uv), viss.append(vis)
        return BodyBatch(
            inputs=normalise_images(warped).contiguous(),
            heatmaps_s4=torch.from_numpy(np.stack(heat4)),
            heatmaps_s2=torch.from_numpy(np.stack(heat2)),
            mask_s4=masks[0].contiguous(),
            mask_s2=masks[1].contiguous(),
            joints=torch.from_numpy(np.stack(joints)),
            keypoints_uv=np.stack(uvs),
            visibility=np.stack(viss),
        )


def stand_in_sample(seed: int, width: int, height: int) -> dict[str, np.ndarray]:
    """A fast stand-in for the people renderer: 1-5 blob figures on noise (smoke tests only)."""
    rng = np.random.default_rng(seed)
    color = rng.integers(0, 80, (height, width, 3), dtype=np.uint8)
    people = int(rng.integers(1, 6))
    # A rough upright template in person-height units: head, arms, hips, legs.
    template = np.array(
        [
            [0, 0],
            [-0.03, -0.02],
            [0.03, -0.02],
            [-0.06, 0],
            [0.06, 0],
            [-0.12, 0.15],
            [0.12, 0.15],
            [-0.17, 0.32],
            [0.17, 0.32],
            [-0.19, 0.47],
            [0.19, 0.47],
            [-0.08, 0.5],
            [0.08, 0.5],
            [-0.09, 0.72],
            [0.09, 0.72],
            [-0.09, 0.95],
            [0.09, 0.95],
        ]
    )
    uv = np.zeros((people, NUM_JOINTS, 2))
    yy, xx = np.mgrid[0:height, 0:width]
    for p in range(people):
        size_px = rng.uniform(0.3, 0.9) * height
        origin = rng.uniform([0.1 * width, 0.05 * height], [0.9 * width, 0.4 * height])
        uv[p] = origin + template * size_px
        tint = rng.integers(120, 255, 3)
        for x, y in uv[p]:
            disc = (xx - x) ** 2 + (yy - y) ** 2 <= (0.03 * size_px) ** 2
            color[disc] = tint
    inside = (
        (uv[..., 0] >= -0.5)
        & (uv[..., 0] < width - 0.5)
        & (uv[..., 1] >= -0.5)
        & (uv[..., 1] < height - 0.5)
    )
    padded_uv, visibility = pad_people(uv, np.where(inside, 2, 0).astype(np.uint8))
    return {"color": color, "keypoints_uv": padded_uv, "visibility": visibility}


class CocoSource:
    """A render_fn over a COCO-style keypoint set (COCO, CrowdPose): image index -> fields.

    Each image is letterboxed into the cache size exactly as the node letterboxes camera
    frames; "valid" marks real pixels that are not crowd / unlabelled-person regions.
    Picklable (the data set is opened lazily in each worker).
    """

    def __init__(self, annotations: Path, images_dir: Path | None = None):
        self.annotations, self.images_dir = Path(annotations), images_dir
        self._dataset = None

    @property
    def dataset(self):
        if self._dataset is None:
            from training.body.coco_format import CocoKeypointDataset

            self._dataset = CocoKeypointDataset(self.annotations, self.images_dir)
        return self._dataset

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_dataset": None}

    def version(self) -> str:
        stat = self.annotations.stat()
        text = f"{self.annotations.resolve()}:{stat.st_size}:{stat.st_mtime_ns}"
        return "coco_" + hashlib.sha256(text.encode()).hexdigest()[:10]

    def __call__(self, index: int, width: int, height: int) -> dict[str, np.ndarray]:
        from hand_pose_ros.core.letterbox import Letterbox

        image = self.dataset[index]
        rgb = self.dataset.load_rgb(index)
        box = Letterbox.fit(rgb.shape[0], rgb.shape[1], height, width)
        color = box.apply(rgb, pad_value=0)
        real = box.apply((~self.dataset.ignore_mask(index)).astype(np.uint8), pad_value=0)
        keep = ~image.iscrowd
        uv, visibility = pad_people(
            box.to_network(image.keypoints_uv[keep]), image.visibility[keep]
        )
        return {
            "color": color,
            "keypoints_uv": uv,
            "visibility": visibility,
            "valid": real,
        }
