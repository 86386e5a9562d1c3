"""Penn Action style pose videos -> the DKD training arrays (one person per video).

Layout (as the Penn Action release ships it)::

    ROOT/frames/<video>/000001.jpg, 000002.jpg, ...
    ROOT/labels/<video>.mat    x, y (frames x 13), visibility (frames x 13), train (1 / -1)

Its 13 joints map onto COCO-17 by name (the head point is taken as the nose; eyes and ears are
unlabelled). Frames are letterboxed to the network input exactly as the runtime does, videos are
cut into chunks of ``frames_per_sequence`` frames, and the ``train`` flag of each video picks
the split (validation: the last tenth of the training videos).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
from PIL import Image
from scipy.io import loadmat

from hand_pose_ros.core.letterbox import Letterbox
from hand_pose_ros.core.skeletons import COCO_KEYPOINT_NAMES
from training.video.data import FIELDS, MAX_TRACKS

PENN_ACTION_JOINTS: tuple[str, ...] = (
    "nose",  # Penn Action's "head"
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
)
TO_COCO = np.array([COCO_KEYPOINT_NAMES.index(name) for name in PENN_ACTION_JOINTS])
VALIDATION_FRACTION = 0.1
DEFAULT_CHUNK_FRAMES = 32


def read_video_labels(path: Path) -> dict[str, np.ndarray]:
    """One labels/<video>.mat: x, y, visibility (F, 13) and the train flag."""
    mat = loadmat(str(path))
    return {
        "x": np.asarray(mat["x"], np.float64),
        "y": np.asarray(mat["y"], np.float64),
        "visibility": np.asarray(mat["visibility"], np.uint8),
        "train": int(np.asarray(mat["train"]).reshape(-1)[0]),
    }


def videos_of_split(root: Path, split: str) -> list[str]:
    """Video names of a split, sorted: test = train flag -1; the training videos' last tenth
    is the validation split."""
    names = sorted(p.stem for p in (root / "labels").glob("*.mat"))
    flags = {name: read_video_labels(root / "labels" / f"{name}.mat")["train"] for name in names}
    if split == "test":
        return [n for n in names if flags[n] != 1]
    training = [n for n in names if flags[n] == 1]
    held = max(1, round(VALIDATION_FRACTION * len(training))) if len(training) > 1 else 0
    return (
        training[len(training) - held :]
        if split == "validation"
        else training[: len(training) - held]
    )


def video_arrays(
    root: Path, name: str, width: int, height: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A whole video letterboxed: color (F, H, W, 3), uv (F, 17, 2) in network pixels (NaN
    unlabelled), COCO visibility (F, 17) (2 labelled, 0 not)."""
    labels = read_video_labels(root / "labels" / f"{name}.mat")
    frames = sorted((root / "frames" / name).glob("*.jpg")) + sorted(
        (root / "frames" / name).glob("*.png")
    )
    count = min(len(frames), len(labels["x"]))
    color = np.zeros((count, height, width, 3), np.uint8)
    uv = np.full((count, len(COCO_KEYPOINT_NAMES), 2), np.nan, np.float32)
    visibility = np.zeros((count, len(COCO_KEYPOINT_NAMES)), np.uint8)
    letterbox = None
    for index in range(count):
        rgb = np.asarray(Image.open(frames[index]).convert("RGB"))
        if letterbox is None:
            letterbox = Letterbox.fit(rgb.shape[0], rgb.shape[1], height, width)
        color[index] = letterbox.apply(rgb)
        points = np.stack([labels["x"][index], labels["y"][index]], axis=-1)
        labelled = labels["visibility"][index] > 0
        uv[index, TO_COCO[labelled]] = letterbox.to_network(points[labelled])
        visibility[index, TO_COCO[labelled]] = 2
    return color, uv, visibility


def load_penn_action(
    root: Path,
    split: str,
    width: int,
    height: int,
    cache_dir: Path,
    frames_per_sequence: int = DEFAULT_CHUNK_FRAMES,
) -> dict[str, np.ndarray]:
    """The split as DKD training arrays (see training.video.data), cached under cache_dir."""
    names = videos_of_split(root, split)
    key = hashlib.sha256(
        f"{root.resolve()}|{split}|{width}x{height}|{frames_per_sequence}|{names}".encode()
    ).hexdigest()[:12]
    folder = cache_dir / f"penn_action_{key}"
    if not (folder / "done").exists():
        chunks: dict[str, list[np.ndarray]] = {name: [] for name in FIELDS}
        for name in names:
            color, uv, visibility = video_arrays(root, name, width, height)
            for start in range(0, len(color) - frames_per_sequence + 1, frames_per_sequence):
                window = slice(start, start + frames_per_sequence)
                tracks_uv = np.full((frames_per_sequence, MAX_TRACKS, *uv.shape[1:]), np.nan)
                tracks_vis = np.zeros((frames_per_sequence, MAX_TRACKS, uv.shape[1]), np.uint8)
                tracks_uv[:, 0], tracks_vis[:, 0] = uv[window], visibility[window]
                chunks["color"].append(color[window])
                chunks["keypoints_uv"].append(tracks_uv.astype(np.float32))
                chunks["visibility"].append(tracks_vis)
        if not chunks["color"]:
            raise SystemExit(f"{root}: no {split} video has {frames_per_sequence} labelled frames")
        folder.mkdir(parents=True, exist_ok=True)
        for name in FIELDS:
            np.save(folder / f"{name}.npy", np.stack(chunks[name]))
        (folder / "done").touch()
    return {name: np.load(folder / f"{name}.npy", mmap_mode="r") for name in FIELDS}
