"""Keypoint labels of a rendered people scene: projections, COCO visibility, boxes.

3-D keypoints are joint centres in the optical frame (face keypoints are points on the head
surface); 2-D keypoints are their projections (NaN for a point behind the camera). A keypoint
is visible (2) when its pixel (half-up rounding) shows its own person, one of the body parts the
keypoint belongs to, and a surface at most that part's radius (plus a small margin) in front
of the joint; face keypoints must also be on the side of the head that faces the camera. It is
occluded (1) when it is inside the image otherwise, and 0 outside the image or behind the
camera.
"""

from __future__ import annotations

import numpy as np

from hand_pose_ros.core.camera import Intrinsics
from hand_pose_ros.synthetic.people.body import KEYPOINT_PARTS, NUM_KEYPOINTS, PART, PARTS
from hand_pose_ros.synthetic.people.scene import PeopleScene

VISIBLE_MARGIN_M = 0.03
MIN_VISIBLE_DEPTH_M = 0.05
GRAZING_SLACK_PX = 1.5
"""Extra depth slack, in pixels' worth of lateral distance, for sub-pixel offsets at edges."""
# Face keypoints count as visible while their side of the head faces the camera: the cosine
# between the outward direction and the viewing ray stays below this (ears stick out, so they
# stay visible a little past the silhouette).
_FACE_MAX_COSINE = np.array([0.0, 0.0, 0.0, 0.3, 0.3])
# keypoint x part -> does the part's surface count as seeing the keypoint? (last = no part)
KEYPOINT_PART_OK = np.zeros((NUM_KEYPOINTS, len(PARTS) + 1), bool)
for _k, _names in enumerate(KEYPOINT_PARTS):
    for _name in _names:
        KEYPOINT_PART_OK[_k, PART[_name]] = True


def nearest_pixel(uv: np.ndarray) -> np.ndarray:
    """Pixel-centre rounding (half up): the pixel a keypoint label refers to."""
    return np.floor(np.asarray(uv, np.float64) + 0.5).astype(np.int64)


def keypoint_labels(
    scene: PeopleScene,
    intrinsics: Intrinsics,
    listed: np.ndarray,
    depth_m: np.ndarray,
    instance_map: np.ndarray,
    part_map: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(uv (P, 17, 2), xyz (P, 17, 3), visibility (P, 17)) of the listed scene people.

    instance_map holds output indices (position in listed), part_map body-part indices.
    """
    h, w = depth_m.shape
    n = listed.size
    xyz = np.zeros((n, NUM_KEYPOINTS, 3))
    uv = np.zeros((n, NUM_KEYPOINTS, 2))
    visibility = np.zeros((n, NUM_KEYPOINTS), np.uint8)
    slack_per_m = GRAZING_SLACK_PX / intrinsics.fx
    joints = np.arange(NUM_KEYPOINTS)
    for out, p in enumerate(listed):
        body = scene.people[p].body
        kp = scene.camera.to_camera(body.keypoints)
        xyz[out] = kp
        uv[out] = intrinsics.project(kp)
        pix = nearest_pixel(np.nan_to_num(uv[out], nan=-1.0))
        inside = (
            (kp[:, 2] > MIN_VISIBLE_DEPTH_M)
            & (pix[:, 0] >= 0)
            & (pix[:, 0] < w)
            & (pix[:, 1] >= 0)
            & (pix[:, 1] < h)
        )
        pu, pv = np.where(inside, pix[:, 0], 0), np.where(inside, pix[:, 1], 0)
        in_front = kp[:, 2] - depth_m[pv, pu]
        margin = VISIBLE_MARGIN_M + slack_per_m * kp[:, 2]
        visible = (
            inside
            & (instance_map[pv, pu] == out)
            & KEYPOINT_PART_OK[joints, part_map[pv, pu]]
            & (in_front >= -margin)
            & (in_front <= body.keypoint_tolerance_m + margin)
        )
        outward = kp[:5] - scene.camera.to_camera(body.head_centre)
        cosine = (outward * kp[:5]).sum(1) / (
            np.linalg.norm(outward, axis=1) * np.linalg.norm(kp[:5], axis=1)
        )
        visible[:5] &= cosine < _FACE_MAX_COSINE
        visibility[out] = np.where(visible, 2, np.where(inside, 1, 0))
    return uv, xyz, visibility


def visible_boxes(instance_map: np.ndarray, count: int) -> np.ndarray:
    """(count, 4) x, y, w, h boxes of each instance's pixels, edges at pixel borders (±0.5)."""
    v, u = np.nonzero(instance_map >= 0)
    ids = instance_map[v, u]
    lo_u = np.full(count, np.iinfo(np.int64).max)
    lo_v = lo_u.copy()
    hi_u = np.full(count, -1)
    hi_v = hi_u.copy()
    np.minimum.at(lo_u, ids, u)
    np.minimum.at(lo_v, ids, v)
    np.maximum.at(hi_u, ids, u)
    np.maximum.at(hi_v, ids, v)
    return np.stack([lo_u - 0.5, lo_v - 0.5, hi_u - lo_u + 1, hi_v - lo_v + 1], axis=1).astype(
        np.float64
    )
