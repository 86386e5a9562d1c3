"""What a robot run reached: printed figures, a picture mosaic and summary.json.

Each mosaic tile is the colour frame with the predicted skeletons (thick, one colour per
person, as the node's debug image draws them) and ground truth (thin magenta), beside a
top-down view of the 3D keypoints (x right, z away from the camera) so depth lifting can be
judged by eye.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from hand_pose_ros.core.drawing import TRUTH_COLOR_RGB, draw_hands, draw_lines, draw_skeleton
from hand_pose_ros.runner.records import FrameRecord, RunResult
from hand_pose_ros.runner.report import (
    CAPTION_HEIGHT_PX,
    fmt,
    format_timing_lines,
    latency_text,
    missing_accuracy_line,
    mosaic_canvas,
    save_captioned,
    timing_summary,
)
from hand_pose_ros.runner.robot import predicted_people

MOSAIC_NAME = "people_mosaic.png"
MOSAIC_COLUMNS = 2
TILE_WIDTH_PX = 480
TOP_VIEW_X_RANGE_M = (-3.0, 3.0)
TOP_VIEW_Z_RANGE_M = (0.0, 7.0)
GRID_RGB = (215, 215, 215)
TOP_VIEW_BACKGROUND_RGB = (250, 250, 250)


def summarize_robot(result: RunResult, accuracy: dict[str, Any] | None, run_info: dict) -> dict:
    """All figures of a robot run as one JSON-friendly dict."""
    people = [
        len(predicted_people(r.result, result.keypoint_count).uv_px)
        for r in result.records
        if r.result is not None
    ]
    return {
        **timing_summary(result, run_info),
        "people_per_frame": float(np.mean(people)) if people else float("nan"),
        "accuracy": accuracy,
    }


def format_robot_report(summary: dict) -> str:
    """The lines the runner prints for a robot run."""
    lines = [
        *format_timing_lines(summary),
        f"people detected per frame: {fmt(summary['people_per_frame'])}",
    ]
    acc = summary.get("accuracy")
    if acc:
        lines.append(
            f"accuracy vs ground truth ({acc['frames']} frames, {acc['truth_people']} people): "
            f"OKS AP {fmt(acc['oks_ap'], 3)}, AP50 {fmt(acc['oks_ap50'], 3)}, AP75 "
            f"{fmt(acc['oks_ap75'], 3)}, mean OKS {fmt(acc['mean_oks'], 3)}, recall@OKS0.5 "
            f"{fmt(acc['recall@oks0.5'], 3)}, PCK@0.1 {fmt(acc['pck@0.1'], 3)}"
        )
        lines.append(
            f"3D error of visible keypoints, people at 1-4 m: mean "
            f"{fmt(acc['mean_3d_error_mm_1_4m'], 1)} mm, median "
            f"{fmt(acc['median_3d_error_mm_1_4m'], 1)} mm, depth coverage "
            f"{fmt(acc['depth_coverage_1_4m'], 3)}"
        )
    else:
        lines.append(missing_accuracy_line(summary))
    return "\n".join(lines)


def _top_view(xyz_people: list[np.ndarray], truth_xyz: np.ndarray | None, edges, size_px):
    """(H, W, 3) picture of keypoints seen from above: x right, z up the picture."""
    height, width = size_px
    picture = np.full((height, width, 3), TOP_VIEW_BACKGROUND_RGB, np.uint8)
    (x0, x1), (z0, z1) = TOP_VIEW_X_RANGE_M, TOP_VIEW_Z_RANGE_M

    def to_px(xyz: np.ndarray) -> np.ndarray:
        u = (xyz[..., 0] - x0) / (x1 - x0) * (width - 1)
        v = (z1 - xyz[..., 2]) / (z1 - z0) * (height - 1)
        return np.stack([u, v], axis=-1)

    for metres in range(int(z0), int(z1) + 1):
        row = to_px(np.array([[x0, 0.0, metres], [x1, 0.0, metres]]))
        draw_lines(picture, row[:1], row[1:], GRID_RGB)
    for metres in range(int(x0), int(x1) + 1):
        column = to_px(np.array([[metres, 0.0, z0], [metres, 0.0, z1]]))
        draw_lines(picture, column[:1], column[1:], GRID_RGB)
    if truth_xyz is not None:
        for person in truth_xyz:
            draw_skeleton(picture, to_px(person), edges, TRUTH_COLOR_RGB, joint_radius_px=0)
    draw_hands(picture, [(i, to_px(xyz)) for i, xyz in enumerate(xyz_people)], edges, 2, 2)
    return picture


def _tile(record: FrameRecord, result: RunResult) -> np.ndarray:
    rgb = record.color_rgb
    scale = TILE_WIDTH_PX / rgb.shape[1]
    rows = (np.arange(round(rgb.shape[0] * scale)) / scale).astype(np.intp)
    cols = (np.arange(TILE_WIDTH_PX) / scale).astype(np.intp)
    picture = np.array(rgb[rows][:, cols], dtype=np.uint8)
    uv, xyz, *_ = predicted_people(record.result, result.keypoint_count)
    edges = result.skeleton
    draw_hands(picture, [(i, person) for i, person in enumerate(uv)], edges, 3, 3, scale=scale)
    truth_xyz = None
    if record.truth is not None:
        truth_xyz = np.asarray(record.truth.keypoints_xyz, np.float64)
        edge_array = np.asarray(edges, dtype=np.intp)
        for person, visibility in zip(record.truth.keypoints_uv, record.truth.visibility):
            person_uv = (np.asarray(person, np.float64) + 0.5) * scale - 0.5
            labelled = np.asarray(visibility) > 0
            keep = labelled[edge_array[:, 0]] & labelled[edge_array[:, 1]]
            draw_lines(
                picture,
                person_uv[edge_array[keep, 0]],
                person_uv[edge_array[keep, 1]],
                TRUTH_COLOR_RGB,
            )
    top = _top_view(list(xyz), truth_xyz, edges, (picture.shape[0], picture.shape[0]))
    return np.concatenate([picture, top], axis=1)


def write_people_mosaic(result: RunResult, path: Path) -> Path | None:
    """Up to six frames: colour with skeletons (thick predicted, thin magenta truth) and the
    top-down 3D view beside each, a caption per frame."""
    chosen = [r for r in result.records if r.color_rgb is not None]
    if not chosen:
        return None
    tiles = [_tile(record, result) for record in chosen]
    tile_h = max(t.shape[0] for t in tiles) + CAPTION_HEIGHT_PX
    tile_w = max(t.shape[1] for t in tiles)
    mosaic, columns, rows = mosaic_canvas(len(tiles), MOSAIC_COLUMNS, tile_h, tile_w)
    captions = []
    for i, (record, tile) in enumerate(zip(chosen, tiles)):
        top, left = (i // columns) * tile_h, (i % columns) * tile_w
        mosaic[
            top + CAPTION_HEIGHT_PX : top + CAPTION_HEIGHT_PX + tile.shape[0],
            left : left + tile.shape[1],
        ] = tile
        people = len(predicted_people(record.result, result.keypoint_count).uv_px)
        latency = latency_text(record)
        captions.append(
            ((left + 3, top + 1), f"frame {record.index}  people {people}  latency {latency}")
        )
    legend = (
        "thick: predicted people (one colour each), thin magenta: ground truth; right of each "
        "frame: keypoints seen from above (1 m grid, camera at the bottom centre)"
    )
    return save_captioned(mosaic, [*captions, ((3, rows * tile_h + 3), legend)], path)
