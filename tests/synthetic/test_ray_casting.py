"""Ray casting primitives against closed-form depths."""

from __future__ import annotations

import numpy as np
import pytest

from hand_pose_ros.core.camera import Intrinsics
from hand_pose_ros.synthetic.ray_casting import (
    PrimitiveSet,
    cast_planes,
    cast_primitives,
    ray_grid,
)

K = Intrinsics.from_fov(81, 61, 70.0)  # odd size: the centre pixel looks straight ahead
CENTRE = (30, 40)  # (v, u)
FAR_M = 5.0


def _render(prims: PrimitiveSet) -> tuple[np.ndarray, np.ndarray]:
    grid = ray_grid(K)
    depth = np.full(K.width * K.height, FAR_M, np.float32)
    objects = np.zeros(K.width * K.height, np.int32)
    cast_primitives(grid, prims, depth, objects)
    return depth.reshape(K.height, K.width), objects.reshape(K.height, K.width)


def test_capsule_body_cap_and_silhouette() -> None:
    prims = PrimitiveSet()
    # Horizontal capsule crossing the optical axis 0.5 m away, radius 2 cm.
    prims.add_capsules(np.array([-0.05, 0.0, 0.5]), np.array([0.05, 0.0, 0.5]), 0.02, 7)
    depth, objects = _render(prims)
    assert depth[CENTRE] == pytest.approx(0.48, abs=1e-6)
    assert objects[CENTRE] == 7
    # Silhouette: the capsule spans x in [-0.07, 0.07] and y in [-0.02, 0.02] at ~0.5 m.
    hit = objects == 7
    cols = np.flatnonzero(hit.any(axis=0))
    half_width_px = (cols.max() - cols.min() + 1) / 2
    assert half_width_px == pytest.approx(0.07 / 0.5 * K.fx, abs=1.5)
    rows = np.flatnonzero(hit.any(axis=1))
    assert (rows.max() - rows.min() + 1) / 2 == pytest.approx(0.02 / 0.5 * K.fy, abs=1.5)


def test_sphere_ellipsoid_and_nearest_wins() -> None:
    prims = PrimitiveSet()
    prims.add_capsules(np.array([0.0, 0.0, 1.0]), np.array([0.0, 0.0, 1.0]), 0.1, 1)  # sphere
    semi = np.array([0.05, 0.05, 0.02])
    prims.add_ellipsoids(np.array([0.0, 0.0, 0.6]), np.diag(1.0 / semi)[None], 2)
    depth, objects = _render(prims)
    assert depth[CENTRE] == pytest.approx(0.58, abs=1e-6)
    assert objects[CENTRE] == 2
    assert (objects == 1).any()  # the sphere shows around the smaller ellipsoid


def test_box_and_cylinder() -> None:
    prims = PrimitiveSet()
    prims.add_box(np.array([0.0, 0.0, 0.8]), np.eye(3), np.array([0.1, 0.1, 0.05]), 3)
    depth, objects = _render(prims)
    assert depth[CENTRE] == pytest.approx(0.75, abs=1e-6)
    prims = PrimitiveSet()
    # Cylinder along the optical axis: the flat cap faces the camera.
    prims.add_cylinder(np.array([0.0, 0.0, 0.7]), np.array([0.0, 0.0, 0.9]), 0.05, 4)
    depth, objects = _render(prims)
    assert depth[CENTRE] == pytest.approx(0.7, abs=1e-9)
    assert objects[CENTRE] == 4


def test_bounded_plane_depth() -> None:
    grid = ray_grid(K)
    normal = np.array([0.0, 1.0, 0.0])  # floor 0.4 m below the camera
    axes = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    depth, objects = cast_planes(grid, np.array([normal]), np.array([0.4]),
                                 [(axes, np.array([-0.2, 0.5]), np.array([0.2, 1.0]))],
                                 np.array([9]), FAR_M)
    depth, objects = depth.reshape(K.height, K.width), objects.reshape(K.height, K.width)
    assert (depth[: K.height // 2 + 1] == FAR_M).all()  # above the horizon: nothing
    hit = np.argwhere(objects == 9)
    assert hit.size
    v, u = hit[len(hit) // 2]
    y_n = (v - K.cy) / K.fy
    assert depth[v, u] == pytest.approx(0.4 / y_n)
    assert 0.5 <= depth[v, u] <= 1.0
