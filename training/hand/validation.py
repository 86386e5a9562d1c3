"""Validation during training, through the core decoder the node uses."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch

from hand_pose_ros.core.depth_sampling import DEFAULT_FOREGROUND_BAND_M, DEFAULT_WINDOW_PX
from hand_pose_ros.core.hand_crops import crop_input
from hand_pose_ros.core.hand_estimator import HandDecoder, lift_hands
from hand_pose_ros.core.hand_metrics import HandMetrics
from hand_pose_ros.core.hand_refiner import RefinerDecoder
from hand_pose_ros.core.preprocess import make_network_input
from hand_pose_ros.synthetic import HandFrame, render_frame
from training.common.device import module_device
from training.hand.data import INPUT_SPEC
from training.hand.losses import AUXILIARY_TASKS, PRIMARY_TASKS
from training.hand.metadata import build_metadata, build_refiner_metadata

BATCH_SIZE = 64


@lru_cache(maxsize=2)
def validation_frames(seeds: range) -> tuple[list[HandFrame], np.ndarray]:
    frames = [render_frame(seed, INPUT_SPEC["width"], INPUT_SPEC["height"]) for seed in seeds]
    inputs = np.concatenate([make_network_input(f.depth_m, INPUT_SPEC) for f in frames])
    return frames, inputs


def validate(model: torch.nn.Module, seeds: range) -> dict[str, float]:
    """HandMetrics summary of the model on validation frames (never the test split)."""
    frames, inputs = validation_frames(seeds)
    decoder = HandDecoder(build_metadata("validation", PRIMARY_TASKS + AUXILIARY_TASKS, {}))
    metrics = HandMetrics()
    device = module_device(model)
    model.eval()
    with torch.no_grad():
        for start in range(0, len(frames), BATCH_SIZE):
            outputs = model(torch.from_numpy(inputs[start:start + BATCH_SIZE]).to(device))
            outputs = {name: value.cpu().numpy() for name, value in outputs.items()}
            for offset, frame in enumerate(frames[start:start + BATCH_SIZE]):
                sample = {name: value[offset] for name, value in outputs.items()}
                hands = decoder.decode(sample, *frame.depth_m.shape)
                lift_hands(hands, frame.depth_m, frame.intrinsics, DEFAULT_WINDOW_PX,
                           DEFAULT_FOREGROUND_BAND_M)
                metrics.add_hands(hands, frame)
    return metrics.summary()


def validate_refiner(model: torch.nn.Module, seeds: range) -> dict[str, float]:
    """PCK and 3D error of the refiner's own keypoints and depths on crops around the labelled
    hands of validation frames: its accuracy given a good crop (the pipeline's figures, crops
    from the first stage, are `training.hand.evaluate --refiner`)."""
    frames, _ = validation_frames(seeds)
    decoder = RefinerDecoder(build_refiner_metadata("validation", {}))
    metrics = HandMetrics()
    device = module_device(model)
    model.eval()
    with torch.no_grad():
        for frame in frames:
            hands = [(frame.keypoints_uv[side], side) for side in np.flatnonzero(frame.present)]
            uv = np.full(frame.keypoints_uv.shape, np.nan)
            xyz = np.full(uv.shape[:2] + (3,), np.nan)
            if hands:
                crops = [decoder.crop_for(keypoints, int(side)) for keypoints, side in hands]
                inputs, references_m = zip(
                    *(crop_input(frame.depth_m, crop, decoder.spec) for crop in crops)
                )
                outputs = model(torch.from_numpy(np.stack(inputs)[:, None]).to(device))
                refined = decoder.decode(
                    outputs["heatmaps"].cpu().numpy(), crops,
                    outputs["keypoint_depth"].cpu().numpy(), list(references_m),
                )
                sides = [side for _, side in hands]
                uv[sides] = refined.uv_px
                xyz[sides] = frame.intrinsics.back_project(refined.uv_px, refined.depth_m)
            metrics.add(uv, xyz, frame.present, frame)
    summary = metrics.summary()
    return {key: summary[key] for key in ("frames", "visible_keypoints", "pck@0.1",
                                          "median_2d_error_px", "mean_3d_error_mm",
                                          "median_3d_error_mm")}
