"""The preview CLI writes viewable PNGs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from hand_pose_ros.synthetic import preview


def test_preview_writes_frames_and_mosaic(tmp_path: Path) -> None:
    assert preview.main(["--out", str(tmp_path), "--count", "3", "--width", "80",
                         "--height", "60"]) == 0
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["frame_000.png", "frame_001.png", "frame_002.png", "mosaic.png"]
    image = np.asarray(Image.open(tmp_path / "frame_000.png"))
    assert image.shape == (60, 160, 3)
    assert image.std() > 5  # not blank


def test_preview_sequence_mode(tmp_path: Path) -> None:
    assert preview.main(["--out", str(tmp_path), "--count", "2", "--width", "64",
                         "--height", "48", "--sequence"]) == 0
    assert (tmp_path / "mosaic.png").is_file()


def test_colourise_depth_marks_missing_black() -> None:
    depth = np.array([[0.5, np.nan]], np.float32)
    rgb = preview.colourise_depth(depth)
    assert rgb.dtype == np.uint8 and rgb.shape == (1, 2, 3)
    assert (rgb[0, 1] == 0).all() and rgb[0, 0].any()
