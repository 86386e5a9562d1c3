"""What a run reached, for people: printed figures, a picture mosaic and summary.json.

Pictures are drawn with core.drawing (the node's debug image looks the same) and written with
Pillow, which only the runner needs.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from hand_pose_ros.core.drawing import (
    TRUTH_COLOR_RGB,
    depth_to_rgb,
    draw_hands,
    draw_lines,
    upscale,
)
from hand_pose_ros.runner.wearable import FrameRecord, RunResult, predicted_hands

MOSAIC_COLUMNS = 3
MIN_TILE_WIDTH_PX = 400
CAPTION_HEIGHT_PX = 14
BACKGROUND_RGB = (255, 255, 255)
MOSAIC_NAME = "hands_mosaic.png"
SUMMARY_NAME = "summary.json"


def _percentile_ms(values_s: np.ndarray, q: float) -> float:
    finite = values_s[np.isfinite(values_s)]
    return float(np.percentile(finite, q) * 1e3) if finite.size else float("nan")


def timing_summary(result: RunResult, run_info: dict) -> dict:
    """Run info, model, frame counts, rates and latencies: what every pipeline reports.

    ``rate_hz.through_node`` (frames per second of publish -> result time) only means the
    node's sustainable rate in closed loop; open loop it is left out (null).
    """
    latencies = np.array([r.latency_s for r in result.records])
    received = int(np.isfinite(latencies).sum())
    busy_s = float(np.nansum(latencies))
    return {
        **run_info,
        "model": {"name": result.model_name, "path": result.model_path},
        "frames": {
            "published": len(result.records),
            "keypoints_received": received,
            "lost": len(result.records) - received,
            "node_received": result.node_frames_received,
            "node_drops": dict(sorted(result.drop_counts.items())),
        },
        "rate_hz": {
            "through_node": (
                received / busy_s
                if busy_s > 0 and run_info.get("mode") == "closed loop"
                else float("nan")
            ),
            "wall_clock": received / result.wall_s if result.wall_s > 0 else float("nan"),
        },
        "latency_ms": {
            "p50": _percentile_ms(latencies, 50),
            "p90": _percentile_ms(latencies, 90),
            "max": _percentile_ms(latencies, 100),
            "node_internal_p50": result.node_latency_p50_s * 1e3,
            "onnx_inference_p50": result.node_inference_p50_s * 1e3,
        },
    }


def summarize(result: RunResult, accuracy: dict[str, Any] | None, run_info: dict) -> dict:
    """All figures of a wearable run as one JSON-friendly dict."""
    hands = [
        int(predicted_hands(r.result, result.keypoint_count)[2].sum())
        for r in result.records
        if r.result is not None
    ]
    return {
        **timing_summary(result, run_info),
        "hands_per_frame": float(np.mean(hands)) if hands else float("nan"),
        "accuracy": accuracy,
    }


def fmt(value: Any, digits: int = 2) -> str:
    """A printed figure: floats rounded, NaN as n/a."""
    if isinstance(value, float):
        return "n/a" if math.isnan(value) else f"{value:.{digits}f}"
    return str(value)


def format_timing_lines(summary: dict) -> list[str]:
    """The printed lines every pipeline shares: source, model, frames, rate, latency."""
    frames, rate, latency = summary["frames"], summary["rate_hz"], summary["latency_ms"]
    drops = ", ".join(f"{k} {v}" for k, v in frames["node_drops"].items()) or "none"
    return [
        f"pipeline {summary['pipeline']}: {summary['source']}",
        f"model: {summary['model']['name']} ({summary['model']['path']})",
        f"frames: {frames['published']} published, {frames['keypoints_received']} keypoint "
        f"messages received, {frames['lost']} without result; node drops: {drops}",
        (
            f"rate: {fmt(rate['through_node'], 1)} frames/s through the node (closed loop), "
            if summary["mode"] == "closed loop"
            else f"rate: {summary['mode']}, "
        )
        + f"{fmt(rate['wall_clock'], 1)} frames/s wall clock (incl. reading/rendering the source)",
        f"latency publish -> keypoints received: p50 {fmt(latency['p50'])} ms, "
        f"p90 {fmt(latency['p90'])} ms (node-internal p50 {fmt(latency['node_internal_p50'])}"
        f" ms, ONNX inference p50 {fmt(latency['onnx_inference_p50'], 3)} ms)",
    ]


def format_report(summary: dict) -> str:
    """The lines the runner prints for a wearable run."""
    refiner = summary.get("refiner")
    lines = [
        *format_timing_lines(summary),
        (
            f"refiner: {refiner['name']} ({refiner['path']}), {refiner['passes']} pass(es) per hand"
            f" where the first model ran; first model at least every "
            f"{refiner['redetect_interval_frames']} frame(s), hands tracked by the refiner alone "
            f"(one pass) on {refiner['frames_tracked']} frames; keypoints "
            + ("One-Euro smoothed" if refiner["smoothing"] else "not smoothed")
            if refiner
            else "refiner: none"
        ),
        f"hands detected per frame: {fmt(summary['hands_per_frame'])}",
    ]
    acc = summary.get("accuracy")
    if acc:
        lines.append(
            f"accuracy vs ground truth ({acc['frames']} frames, HandMetrics): "
            f"PCK@0.1 {fmt(acc['pck@0.1'], 3)}, median 2D error "
            f"{fmt(acc['median_2d_error_px'])} px, mean 3D error "
            f"{fmt(acc['mean_3d_error_mm'], 1)} mm, presence accuracy "
            f"{fmt(acc['presence_accuracy'], 3)}, jitter {fmt(acc['jitter_px'])} px "
            f"(true motion {fmt(acc['truth_acceleration_px'])} px)"
        )
    else:
        lines.append(missing_accuracy_line(summary))
    return "\n".join(lines)


def missing_accuracy_line(summary: dict) -> str:
    """Why a run printed no accuracy: not computed, or nothing to compare with."""
    if summary.get("source_kind") == "synthetic":
        return "accuracy: not computed"
    return "accuracy: no ground truth for this source"


def _tile(record: FrameRecord, result: RunResult, scale: int) -> np.ndarray:
    picture = upscale(depth_to_rgb(record.depth_m), scale)
    uv, _, present = predicted_hands(record.result, result.keypoint_count)
    draw_hands(
        picture,
        [(side, uv[side]) for side in np.flatnonzero(present)],
        result.skeleton,
        line_thickness_px=3 if scale > 1 else 2,
        joint_radius_px=2 if scale > 1 else 1,
        scale=scale,
    )
    if record.truth is not None:
        edges = np.asarray(result.skeleton, dtype=np.intp)
        for side in np.flatnonzero(record.truth.present):
            truth_uv = (np.asarray(record.truth.keypoints_uv[side], float) + 0.5) * scale - 0.5
            draw_lines(picture, truth_uv[edges[:, 0]], truth_uv[edges[:, 1]], TRUTH_COLOR_RGB)
    return picture


def write_mosaic(result: RunResult, path: Path) -> Path | None:
    """Up to six frames side by side: depth colormap, predicted skeletons (thick, blue = left,
    orange = right), ground truth thin magenta, a caption per frame."""
    chosen = [r for r in result.records if r.depth_m is not None]
    if not chosen:
        return None
    height, width = chosen[0].depth_m.shape
    scale = max(1, math.ceil(MIN_TILE_WIDTH_PX / width))
    tile_h, tile_w = height * scale + CAPTION_HEIGHT_PX, width * scale
    mosaic, columns, rows = mosaic_canvas(len(chosen), MOSAIC_COLUMNS, tile_h, tile_w)
    captions = []
    for i, record in enumerate(chosen):
        if record.depth_m.shape != (height, width):
            continue
        top, left = (i // columns) * tile_h, (i % columns) * tile_w
        mosaic[top + CAPTION_HEIGHT_PX : top + tile_h, left : left + tile_w] = _tile(
            record, result, scale
        )
        latency = latency_text(record)
        captions.append(((left + 3, top + 1), f"frame {record.index}  latency {latency}"))
    captions.append(
        (
            (3, rows * tile_h + 3),
            "thick: predicted (blue left, orange right)\nthin magenta: ground truth, black: no "
            "depth",
        )
    )
    return save_captioned(mosaic, captions, path)


def mosaic_canvas(
    tiles: int, max_columns: int, tile_h: int, tile_w: int
) -> tuple[np.ndarray, int, int]:
    """A blank mosaic for `tiles` tiles (caption included in tile_h) and a two-line legend
    below; returns it with its column and row counts."""
    columns = min(max_columns, tiles)
    rows = math.ceil(tiles / columns)
    legend_h = 2 * CAPTION_HEIGHT_PX + 4
    mosaic = np.full((rows * tile_h + legend_h, columns * tile_w, 3), BACKGROUND_RGB, np.uint8)
    return mosaic, columns, rows


def latency_text(record: FrameRecord) -> str:
    """A frame's publish -> result latency for a caption, or "lost"."""
    return "lost" if record.result is None else f"{record.latency_s * 1e3:.1f} ms"


def save_captioned(
    mosaic: np.ndarray, captions: list[tuple[tuple[int, int], str]], path: Path
) -> Path:
    """Write the mosaic as a PNG with black caption text at the given positions."""
    from PIL import Image as PilImage
    from PIL import ImageDraw

    picture = PilImage.fromarray(mosaic)
    draw = ImageDraw.Draw(picture)
    for position, text in captions:
        draw.text(position, text, fill=(0, 0, 0))
    path.parent.mkdir(parents=True, exist_ok=True)
    picture.save(path)
    return path


def write_summary(summary: dict, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(_json_safe(summary), indent=2) + "\n")
    return path


def _json_safe(value: Any) -> Any:
    """NaN is not JSON: write null instead; numpy scalars become Python numbers."""
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, (np.floating, float)):
        return None if not math.isfinite(float(value)) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    return value
