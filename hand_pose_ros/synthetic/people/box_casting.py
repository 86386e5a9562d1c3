"""Z-buffered oriented boxes with tight pixel bounds (thin wall items, table legs, cabinets).

The shared ray caster bounds a box by its circumscribed sphere, which for thin or long boxes
(a door, a table leg) covers many times the box's pixels; here the bound is the projection of
the eight corners, which is exact for boxes entirely in front of the camera.
"""

from __future__ import annotations

import numpy as np

from hand_pose_ros.synthetic.ray_casting import RayGrid, _pairs

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
    prim, u, v = _pairs(grid, _corner_bboxes(grid, centre, rotation, half))
    x = grid.x_n32[u]
    y = grid.y_n32[v]
    f32 = np.float32
    origin = np.einsum("nji,nj->ni", rotation, centre)  # box centre in box coordinates
    t_near = np.full(x.shape, -np.inf, f32)
    t_far = np.full(x.shape, np.inf, f32)
    with np.errstate(divide="ignore", invalid="ignore"):
        for i in range(3):
            r = rotation[:, :, i].astype(f32)[prim]
            d = r[:, 0] * x + r[:, 1] * y + r[:, 2]
            inv = f32(1.0) / d
            lo = (origin[:, i] - half[:, i]).astype(f32)[prim] * inv
            hi = (origin[:, i] + half[:, i]).astype(f32)[prim] * inv
            np.fmax(t_near, np.minimum(lo, hi), out=t_near)
            np.fmin(t_far, np.maximum(lo, hi), out=t_far)
    pix = v * grid.width + u
    hit = (t_near <= t_far) & (t_near > _NEAR_M) & (t_near < depth[pix])
    obj, pix, t = np.asarray(object_ids)[prim[hit]], pix[hit], t_near[hit]
    np.minimum.at(depth, pix, t)
    winner = t == depth[pix]
    object_map[pix[winner]] = obj[winner]
