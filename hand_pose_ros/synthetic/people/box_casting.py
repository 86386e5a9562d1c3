"""Z-buffered oriented boxes with tight pixel bounds (thin wall items, table legs, cabinets).

The shared ray caster bounds a box by its circumscribed sphere, which for thin or long boxes
(a door, a table leg) covers many times the box's pixels; here the bound is the projection of
the eight corners, which is exact for boxes entirely in front of the camera.
"""

from __future__ import annotations

import numpy as np

from hand_pose_ros.synthetic.ray_casting import (
    RayGrid,
    box_entry_depths,
    pixel_pairs,
    z_buffer,
)

_NEAR_M = 0.02
_CORNERS = np.array([[sx, sy, sz] for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)], float)


def _corner_bboxes(grid: RayGrid, centre, rotation, half) -> np.ndarray:
    """(n, 4) pixel boxes u0, u1, v0, v1; boxes reaching behind the near plane get the image."""
    k = grid.intrinsics
    corners = centre[:, None, :] + np.einsum(
        "nij,ncj->nci", rotation, _CORNERS[None] * half[:, None]
    )
    z = corners[..., 2]
    near = (z <= _NEAR_M).any(axis=1)
    zs = np.where(z > _NEAR_M, z, 1.0)
    u = corners[..., 0] / zs * k.fx + k.cx
    v = corners[..., 1] / zs * k.fy + k.cy
    out = np.stack([u.min(1), u.max(1), v.min(1), v.max(1)], axis=1)
    out[near] = (-np.inf, np.inf, -np.inf, np.inf)
    behind = (z <= _NEAR_M).all(axis=1)
    out[behind] = (1.0, 0.0, 1.0, 0.0)  # empty
    return out


def cast_boxes(
    grid: RayGrid,
    centre: np.ndarray,
    rotation: np.ndarray,
    half: np.ndarray,
    object_ids: np.ndarray,
    depth: np.ndarray,
    object_map: np.ndarray,
) -> None:
    """Slab test of every ray in each box's bounds; z-buffer into depth / object_map (H*W)."""
    if centre.shape[0] == 0:
        return
    prim, u, v = pixel_pairs(grid, _corner_bboxes(grid, centre, rotation, half))
    t = box_entry_depths(grid, prim, u, v, centre, rotation, half)
    z_buffer(depth, object_map, np.asarray(object_ids)[prim], v * grid.width + u, t)
