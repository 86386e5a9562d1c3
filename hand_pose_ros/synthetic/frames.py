"""Rendering a sampled scene into a labelled depth frame (HandFrame)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hand_pose_ros.core.camera import Intrinsics
from hand_pose_ros.synthetic.hand_kinematics import NUM_KEYPOINTS
from hand_pose_ros.synthetic.ray_casting import cast_planes, cast_primitives, ray_grid
from hand_pose_ros.synthetic.scene import LEFT_HAND_ID, RIGHT_HAND_ID, Scene, sample_scene
from hand_pose_ros.synthetic.tof_artefacts import apply_tof_artefacts

HORIZONTAL_FOV_DEG = 70.0
FAR_FALLBACK_M = 8.0
VISIBLE_DEPTH_TOLERANCE_M = 0.025
MIN_KEYPOINTS_IN_IMAGE = 5
_SCENE_STREAM, _ARTEFACT_STREAM = 0, 1


def default_intrinsics(width: int, height: int) -> Intrinsics:
    """ToF-like camera: square pixels, 70 degree horizontal field of view, centred."""
    return Intrinsics.from_fov(int(width), int(height), HORIZONTAL_FOV_DEG)


@dataclass
class HandFrame:
    """One labelled synthetic depth frame; per-side arrays are indexed 0 = left, 1 = right."""

    depth_m: np.ndarray  # (H, W) float32, ToF artefacts, NaN = missing return
    clean_depth_m: np.ndarray  # (H, W) float32, exact render, finite everywhere
    segmentation: np.ndarray  # (H, W) uint8: 0 background (incl. forearm), 1 left, 2 right
    keypoints_uv: np.ndarray  # (2, 21, 2) float32 pixels; NaN for an absent side
    keypoints_xyz_m: np.ndarray  # (2, 21, 3) float32 optical frame; NaN for an absent side
    keypoint_depth_m: np.ndarray  # (2, 21) float32 clean depth at the nearest pixel if visible
    visibility: np.ndarray  # (2, 21) uint8: 0 out of frame / absent, 1 occluded, 2 visible
    present: np.ndarray  # (2,) bool: >= 5 keypoints inside the image
    keypose: np.ndarray  # (2,) int64 index into HAND_KEYPOSES, -1 where absent
    intrinsics: Intrinsics


def nearest_pixel(uv: np.ndarray) -> np.ndarray:
    """Pixel-centre rounding (half up), int64; the pixel a keypoint label refers to."""
    return np.floor(np.asarray(uv, np.float64) + 0.5).astype(np.int64)


def render_scene(scene: Scene, intrinsics: Intrinsics,
                 artefact_rng: np.random.Generator) -> HandFrame:
    """Ray-cast the scene at the given camera resolution, add ToF artefacts, derive labels."""
    grid = ray_grid(intrinsics)
    bg = scene.background
    depth, object_map = cast_planes(grid, bg.plane_normals, bg.plane_offsets, bg.plane_bounds,
                                    bg.plane_ids, FAR_FALLBACK_M)
    cast_primitives(grid, scene.primitives(), depth, object_map)
    h, w = intrinsics.height, intrinsics.width
    clean = depth.reshape(h, w).astype(np.float32)
    object_map = object_map.reshape(h, w)
    segmentation = np.zeros((h, w), np.uint8)
    segmentation[object_map == LEFT_HAND_ID] = 1
    segmentation[object_map == RIGHT_HAND_ID] = 2

    keypoints_xyz = np.full((2, NUM_KEYPOINTS, 3), np.nan, np.float32)
    keypoints_uv = np.full((2, NUM_KEYPOINTS, 2), np.nan, np.float32)
    keypoint_depth = np.full((2, NUM_KEYPOINTS), np.nan, np.float32)
    visibility = np.zeros((2, NUM_KEYPOINTS), np.uint8)
    present = np.zeros(2, bool)
    keypose = np.full(2, -1, np.int64)
    for hand in scene.hands:
        xyz = hand.keypoints_xyz_m.astype(np.float32)
        uv = intrinsics.project(xyz)
        pix = nearest_pixel(np.nan_to_num(uv, nan=-1.0))
        in_frame = (
            np.isfinite(uv).all(axis=1)
            & (pix[:, 0] >= 0) & (pix[:, 0] < w) & (pix[:, 1] >= 0) & (pix[:, 1] < h)
        )
        if int(in_frame.sum()) < MIN_KEYPOINTS_IN_IMAGE:
            continue  # the hand's pixels stay in the segmentation, but it is not "present"
        s = hand.side
        present[s] = True
        keypose[s] = hand.keypose
        keypoints_xyz[s] = xyz
        keypoints_uv[s] = uv.astype(np.float32)
        pu = np.where(in_frame, pix[:, 0], 0)
        pv = np.where(in_frame, pix[:, 1], 0)
        surface = clean[pv, pu]
        visible = (
            in_frame
            & (segmentation[pv, pu] == s + 1)
            & (np.abs(surface - xyz[:, 2]) <= VISIBLE_DEPTH_TOLERANCE_M)
        )
        visibility[s] = np.where(visible, 2, np.where(in_frame, 1, 0))
        keypoint_depth[s] = np.where(visible, surface, np.nan)

    depth_m = apply_tof_artefacts(clean, object_map, scene.dark_object_ids, intrinsics.fx,
                                  intrinsics.fy, artefact_rng)
    return HandFrame(depth_m, clean, segmentation, keypoints_uv, keypoints_xyz, keypoint_depth,
                     visibility, present, keypose, intrinsics)


def render_frame(seed: int, width: int = 160, height: int = 120) -> HandFrame:
    """An independent random frame; the scene depends on the seed only, not on the resolution."""
    scene_rng, artefact_rng = np.random.default_rng(seed).spawn(2)
    scene = sample_scene(scene_rng)
    return render_scene(scene, default_intrinsics(width, height), artefact_rng)
