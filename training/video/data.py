"""Pose-video clips for DKD training: synthetic people sequences or Penn Action style folders.

Every source is reduced to the same arrays, cached once as .npy files and memory-mapped:
``color`` (S, F, H, W, 3) uint8 at the network input size, ``keypoints_uv`` (S, F, T, J, 2)
float32 (NaN where a track is absent), ``visibility`` (S, F, T, J) uint8 (COCO 0/1/2), with
the track axis T stable across a sequence's frames. :class:`ClipSampler` draws short clips of
one person from them, with the noisy previous poses the tracker will really see.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from multiprocessing import Pool
from pathlib import Path

import numpy as np
from tqdm import tqdm

from training.body.data import FLIP_INDEX, NUM_JOINTS, renderer_version

SPLITS_FILE = Path(__file__).with_name("splits.json")
MAX_TRACKS = 16
"""Track slots per sequence; synthetic sequences of 32 frames have at most about 10."""
MIN_VISIBLE_KEYPOINTS = 6
"""A person is a training target in a frame when at least this many keypoints are visible."""
FIELDS = ("color", "keypoints_uv", "visibility")


def split_seeds(split: str, count: int | None = None) -> range:
    """Sequence seeds of a split from the committed list; ``count`` takes a prefix."""
    spec = json.loads(SPLITS_FILE.read_text())[split]
    n = spec["count"] if count is None else min(count, spec["count"])
    return range(spec["first_seed"], spec["first_seed"] + n)


def render_sequence(args: tuple[int, int, int, int]) -> dict[str, np.ndarray]:
    """One synthetic sequence (seed, frames, width, height) as training arrays."""
    from hand_pose_ros.synthetic.people import PeopleSequence

    seed, frames, width, height = args
    sequence = PeopleSequence(seed, frames, width=width, height=height, depth_artefacts=False)
    color = np.zeros((frames, height, width, 3), np.uint8)
    uv = np.full((frames, MAX_TRACKS, NUM_JOINTS, 2), np.nan, np.float32)
    visibility = np.zeros((frames, MAX_TRACKS, NUM_JOINTS), np.uint8)
    slots: dict[int, int] = {}
    for index in range(frames):
        frame = sequence.frame(index)
        color[index] = frame.color
        for person, track_id in enumerate(frame.track_ids):
            slot = slots.setdefault(int(track_id), len(slots))
            if slot >= MAX_TRACKS:
                continue
            uv[index, slot] = frame.keypoints_uv[person]
            visibility[index, slot] = frame.visibility[person]
    return {"color": color, "keypoints_uv": uv, "visibility": visibility}


def load_or_render_sequences(
    seeds: range, frames: int, width: int, height: int, cache_dir: Path, workers: int = 2
) -> dict[str, np.ndarray]:
    """Memory-mapped arrays of the sequences ``seeds``, rendered on first use."""
    folder = (
        cache_dir
        / f"video_{renderer_version()}"
        / f"{width}x{height}_f{frames}_seeds_{seeds.start}_{seeds.stop}"
    )
    if not (folder / "done").exists():
        folder.mkdir(parents=True, exist_ok=True)
        jobs = [(seed, frames, width, height) for seed in seeds]
        arrays = {
            "color": np.zeros((len(seeds), frames, height, width, 3), np.uint8),
            "keypoints_uv": np.zeros((len(seeds), frames, MAX_TRACKS, NUM_JOINTS, 2), np.float32),
            "visibility": np.zeros((len(seeds), frames, MAX_TRACKS, NUM_JOINTS), np.uint8),
        }
        with Pool(workers) as pool:
            results = pool.imap(render_sequence, jobs)
            for index, result in enumerate(
                tqdm(results, total=len(jobs), desc=f"render {folder.name}", unit="seq")
            ):
                for name in FIELDS:
                    arrays[name][index] = result[name]
        for name in FIELDS:
            np.save(folder / f"{name}.npy", arrays[name])
        (folder / "done").touch()
    return {name: np.load(folder / f"{name}.npy", mmap_mode="r") for name in FIELDS}


@dataclass
class Clip:
    """A batch of one-person clips: frames 0..T-1, the tracker predicts frames 1..T-1."""

    color: np.ndarray  # (N, T, H, W, 3) uint8
    keypoints_uv: np.ndarray  # (N, T, J, 2) float32, NaN where not labelled
    visibility: np.ndarray  # (N, T, J) uint8


class ClipSampler:
    """Random clips of ``length`` frames (frame step 1 or 2) following one visible person,
    horizontally flipped (with the left/right swap) half of the time."""

    def __init__(self, arrays: dict[str, np.ndarray], length: int, max_frame_step: int = 2):
        self.arrays = arrays
        self.length = int(length)
        self.max_frame_step = int(max_frame_step)
        visible = (np.asarray(arrays["visibility"]) > 0).sum(axis=-1) >= MIN_VISIBLE_KEYPOINTS
        self.width = int(arrays["color"].shape[3])
        self._candidates = {
            step: self._clip_starts(visible, step) for step in range(1, self.max_frame_step + 1)
        }

    def _clip_starts(self, visible: np.ndarray, step: int) -> np.ndarray:
        """(K, 3) (sequence, first frame, track) whose person is visible (S, F, T) in every
        frame of a clip with this frame step."""
        span = (self.length - 1) * step
        frames = visible.shape[1]
        ok = np.ones_like(visible[:, : frames - span])
        for offset in range(0, span + 1, step):
            ok &= visible[:, offset : frames - span + offset]
        return np.argwhere(ok)

    def sample(self, count: int, rng: np.random.Generator) -> Clip:
        step = int(rng.integers(1, self.max_frame_step + 1))
        candidates = self._candidates[step]
        if not len(candidates):
            raise ValueError("no sequence has a person visible for a whole clip")
        picks = candidates[rng.integers(0, len(candidates), count)]
        frames = picks[:, 1:2] + step * np.arange(self.length)[None]  # (N, T)
        sequences, tracks = picks[:, 0:1], picks[:, 2:3]
        color = np.asarray(self.arrays["color"][sequences, frames])  # (N, T, H, W, 3)
        uv = np.array(self.arrays["keypoints_uv"][sequences, frames, tracks])  # (N, T, J, 2)
        visibility = np.array(self.arrays["visibility"][sequences, frames, tracks])
        flip = rng.random(count) < 0.5
        color[flip] = color[flip][:, :, :, ::-1]
        uv[flip, ..., 0] = self.width - 1 - uv[flip, ..., 0]
        uv[flip] = uv[flip][:, :, FLIP_INDEX]
        visibility[flip] = visibility[flip][:, :, FLIP_INDEX]
        uv[visibility == 0] = np.nan
        return Clip(color, uv, visibility)


def noisy_previous_pose(
    uv: np.ndarray, box_heights_px: np.ndarray, rng: np.random.Generator, noise: float
) -> tuple[np.ndarray, np.ndarray]:
    """What the tracker knows of a person's previous pose: labels displaced by Gaussian noise
    of ``noise`` x box height, some keypoints lost, scores in [0.3, 1]. Returns (uv, score)."""
    people, joints = uv.shape[:2]
    sigma = noise * box_heights_px[:, None, None]
    noisy = uv + rng.normal(size=uv.shape) * sigma
    score = rng.uniform(0.3, 1.0, (people, joints)).astype(np.float32)
    score[rng.random((people, joints)) < 0.1] = 0.0
    score[~np.isfinite(noisy).all(axis=-1)] = 0.0
    return noisy, score
