"""ROI geometry shared by DKD training and the tracker: boxes, cell coordinates, pose maps."""

from __future__ import annotations

import numpy as np
import pytest

from hand_pose_ros.core.video.rois import (
    RoiSpec,
    cells_to_input_px,
    decode_roi_heatmaps,
    input_px_to_cells,
    person_boxes,
    render_pose_maps,
)

SPEC = RoiSpec()


def _pose(rng: np.random.Generator, centre=(120.0, 90.0), height_px=80.0) -> np.ndarray:
    return np.asarray(centre) + rng.uniform(-0.5, 0.5, (17, 2)) * [height_px * 0.6, height_px]


def test_box_has_the_grid_aspect_and_covers_the_expanded_pose() -> None:
    uv = _pose(np.random.default_rng(0))[None]
    box = person_boxes(uv, np.ones((1, 17)), SPEC)[0]
    width, height = box[2] - box[0], box[3] - box[1]
    assert height / width == pytest.approx(SPEC.aspect_hw, rel=1e-5)
    extent = uv[0].max(axis=0) - uv[0].min(axis=0)
    assert height >= SPEC.expand * extent[1] - 1e-3
    assert width >= SPEC.expand * extent[0] - 1e-3
    np.testing.assert_allclose(0.5 * (box[:2] + box[2:]), 0.5 * (uv[0].min(0) + uv[0].max(0)))


def test_far_people_get_the_minimum_box_and_people_without_keypoints_nan() -> None:
    tiny = np.full((1, 17, 2), 50.0) + np.linspace(0, 2, 17)[None, :, None]
    empty = np.full((1, 17, 2), np.nan)
    boxes = person_boxes(np.concatenate([tiny, empty]), np.ones((2, 17)), SPEC)
    assert boxes[0, 3] - boxes[0, 1] == pytest.approx(SPEC.min_height_px)
    assert np.isnan(boxes[1]).all()


def test_low_score_keypoints_do_not_shape_the_box() -> None:
    uv = _pose(np.random.default_rng(1))[None]
    score = np.ones((1, 17))
    outlier = uv.copy()
    outlier[0, 0] = [1000.0, 1000.0]
    score[0, 0] = 0.0
    np.testing.assert_allclose(
        person_boxes(outlier, score, SPEC), person_boxes(uv[:, 1:], score[:, 1:], SPEC)
    )


def test_cell_coordinates_round_trip_and_cell_centres() -> None:
    boxes = np.array([[10.0, 20.0, 58.0, 84.0]], np.float32)  # 48 x 64 px: 2 px per cell
    centre_px = np.array([[[10.0 + 1.0, 20.0 + 1.0]]])  # centre of cell (0, 0)
    np.testing.assert_allclose(input_px_to_cells(centre_px, boxes, SPEC), [[[0.0, 0.0]]])
    xy = np.random.default_rng(2).uniform(0, 100, (1, 17, 2))
    np.testing.assert_allclose(
        cells_to_input_px(input_px_to_cells(xy, boxes, SPEC), boxes, SPEC), xy, atol=1e-9
    )


def test_pose_maps_decode_back_to_their_keypoints_with_their_scores() -> None:
    rng = np.random.default_rng(3)
    uv = np.stack([_pose(rng), _pose(rng, centre=(60.0, 100.0), height_px=50.0)])
    score = rng.uniform(0.3, 1.0, (2, 17)).astype(np.float32)
    boxes = person_boxes(uv, score, SPEC)
    maps = render_pose_maps(uv, score, boxes, SPEC)
    assert maps.shape == (2, 17, SPEC.height_cells, SPEC.width_cells)
    decoded, peak = decode_roi_heatmaps(maps, boxes, SPEC)
    cell_px = (boxes[:, 3] - boxes[:, 1]) / SPEC.height_cells
    error_cells = np.linalg.norm(decoded - uv, axis=-1) / cell_px[:, None]
    assert error_cells.max() < 0.05
    np.testing.assert_allclose(peak, score, atol=0.02)


def test_unconfident_keypoints_leave_their_map_empty() -> None:
    uv = _pose(np.random.default_rng(4))[None]
    score = np.ones((1, 17), np.float32)
    score[0, 5] = SPEC.min_keypoint_score / 2
    maps = render_pose_maps(uv, score, person_boxes(uv, score, SPEC), SPEC)
    assert maps[0, 5].max() == 0.0
    assert maps[0, 4].max() > 0.9


def test_no_people_decode_to_empty_arrays() -> None:
    xy, peak = decode_roi_heatmaps(np.zeros((0, 17, 32, 24), np.float32), np.zeros((0, 4)), SPEC)
    assert xy.shape == (0, 17, 2) and peak.shape == (0, 17)


def test_metadata_round_trip() -> None:
    spec = RoiSpec(height_cells=16, width_cells=12, expand=1.5)
    assert RoiSpec.from_metadata(spec.to_metadata()) == spec
