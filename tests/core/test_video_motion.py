"""Untracked motion: moving cells outside the tracks' boxes, with the camera's pan undone."""

from __future__ import annotations

import numpy as np
import pytest

from hand_pose_ros.core.video.motion import MotionSettings, UntrackedMotion

HEIGHT, WIDTH = 96, 128
SPEC = {"mean": [0.5, 0.5, 0.5], "std": [0.25, 0.25, 0.25]}
NO_BOXES = np.zeros((0, 4))


def _scene(seed: int = 0) -> np.ndarray:
    """(H, W + 40) brightness 0-1: smooth texture, wider than the view so it can pan."""
    rng = np.random.default_rng(seed)
    coarse = rng.uniform(0.2, 0.8, (HEIGHT // 8, (WIDTH + 40) // 8))
    return np.kron(coarse, np.ones((8, 8)))


def _input(brightness: np.ndarray) -> np.ndarray:
    """(1, 3, H, W) network input of a grey picture under SPEC's normalisation."""
    normalised = (brightness - 0.5) / 0.25
    return np.repeat(normalised[None, None], 3, axis=1).astype(np.float32)


def _view(scene: np.ndarray, pan_px: int = 0, square_x: int | None = None) -> np.ndarray:
    picture = scene[:, 20 + pan_px : 20 + pan_px + WIDTH].copy()
    if square_x is not None:
        picture[40:72, square_x : square_x + 16] = 1.0  # a bright "person"
    return _input(picture)


def test_a_still_scene_and_a_camera_pan_are_not_motion() -> None:
    watch, scene = UntrackedMotion(SPEC), _scene()
    assert watch.update(_view(scene), NO_BOXES) == 0  # first frame: nothing to compare
    assert watch.update(_view(scene), NO_BOXES) == 0
    assert watch.update(_view(scene, pan_px=6), NO_BOXES) == 0  # the shift is undone
    assert watch.update(_view(scene, pan_px=2), NO_BOXES) == 0


def test_a_moving_person_outside_every_box_is_motion_inside_a_box_it_is_not() -> None:
    watch, scene = UntrackedMotion(SPEC), _scene()
    watch.update(_view(scene, square_x=30), NO_BOXES)
    assert watch.update(_view(scene, square_x=38), NO_BOXES) >= 2
    watch.update(_view(scene, square_x=38), NO_BOXES)
    covering = np.array([[20.0, 30.0, 70.0, 80.0]])
    assert watch.update(_view(scene, square_x=46), covering) == 0
    other_place = np.array([[90.0, 10.0, 120.0, 40.0], [np.nan] * 4])
    assert watch.update(_view(scene, square_x=54), other_place) >= 2


def test_reset_and_a_new_input_size_start_afresh() -> None:
    watch, scene = UntrackedMotion(SPEC), _scene()
    watch.update(_view(scene, square_x=30), NO_BOXES)
    watch.reset()
    assert watch.update(_view(scene, square_x=60), NO_BOXES) == 0
    assert watch.update(_view(scene)[:, :, :48], NO_BOXES) == 0


@pytest.mark.parametrize("settings", [{"cell_px": 3}, {"cell_px": 0}, {"min_change": 0.0}])
def test_invalid_settings_are_refused(settings) -> None:
    with pytest.raises(ValueError):
        MotionSettings(**settings)
