"""Penn Action style folders -> DKD training arrays, on a fixture written here."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from scipy.io import savemat

from hand_pose_ros.core.skeletons import COCO_KEYPOINT_NAMES
from training.video.penn_action import (
    PENN_ACTION_JOINTS,
    load_penn_action,
    videos_of_split,
)

SOURCE_W, SOURCE_H = 160, 120  # letterboxed into 64x48: scale 0.4, no padding


def _write_video(root: Path, name: str, frames: int, train: int, rng) -> np.ndarray:
    folder = root / "frames" / name
    folder.mkdir(parents=True)
    for index in range(frames):
        pixels = rng.integers(0, 255, (SOURCE_H, SOURCE_W, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / f"{index + 1:06d}.png")
    x = rng.uniform(10, SOURCE_W - 10, (frames, 13))
    y = rng.uniform(10, SOURCE_H - 10, (frames, 13))
    visibility = np.ones((frames, 13), np.uint8)
    visibility[:, 3] = 0  # left elbow never labelled
    (root / "labels").mkdir(exist_ok=True)
    savemat(
        root / "labels" / f"{name}.mat",
        {"x": x, "y": y, "visibility": visibility, "train": np.array([[train]])},
    )
    return np.stack([x, y], axis=-1)


@pytest.fixture(scope="module")
def penn_root(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("penn_action")
    rng = np.random.default_rng(0)
    points = {
        "0001": _write_video(root, "0001", 9, 1, rng),
        "0002": _write_video(root, "0002", 4, 1, rng),
        "0003": _write_video(root, "0003", 5, -1, rng),
    }
    return root, points


def test_splits_follow_the_train_flag(penn_root) -> None:
    root, _ = penn_root
    assert videos_of_split(root, "test") == ["0003"]
    assert videos_of_split(root, "train") == ["0001"]
    assert videos_of_split(root, "validation") == ["0002"]


def test_videos_become_letterboxed_chunks_with_coco_keypoints(penn_root, tmp_path) -> None:
    root, points = penn_root
    arrays = load_penn_action(root, "train", 64, 48, tmp_path, frames_per_sequence=4)
    # 9 frames -> two chunks of 4 (the last frame does not fill a chunk).
    assert arrays["color"].shape == (2, 4, 48, 64, 3)
    assert arrays["keypoints_uv"].shape[:4] == (2, 4, 16, len(COCO_KEYPOINT_NAMES))
    uv, visibility = arrays["keypoints_uv"], arrays["visibility"]
    wrist = COCO_KEYPOINT_NAMES.index("right_wrist")
    source = points["0001"][5, PENN_ACTION_JOINTS.index("right_wrist")]
    expected = (source + 0.5) * 0.4 - 0.5  # pixel-centre aware scaling
    np.testing.assert_allclose(uv[1, 1, 0, wrist], expected, atol=1e-4)
    elbow = COCO_KEYPOINT_NAMES.index("left_elbow")
    eye = COCO_KEYPOINT_NAMES.index("left_eye")
    assert visibility[0, 0, 0, wrist] == 2
    assert visibility[0, 0, 0, elbow] == 0 and np.isnan(uv[0, 0, 0, elbow]).all()
    assert visibility[0, 0, 0, eye] == 0
    assert (visibility[:, :, 1:] == 0).all()  # one person per video: track slot 0
    again = load_penn_action(root, "train", 64, 48, tmp_path, frames_per_sequence=4)
    np.testing.assert_array_equal(again["color"], arrays["color"])  # from the cache


def test_a_split_without_a_whole_chunk_says_so(penn_root, tmp_path) -> None:
    root, _ = penn_root
    with pytest.raises(SystemExit, match="no test video"):
        load_penn_action(root, "test", 64, 48, tmp_path, frames_per_sequence=8)
