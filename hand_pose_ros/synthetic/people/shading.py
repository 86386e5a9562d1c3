"""Colour of every pixel: analytic surface normals, procedural textures, Lambert + ambient.

Per pixel only the object id and the depth come out of the ray caster; the hit point is
depth * (x_n, y_n, 1) and the normal follows from the primitive's geometry (capsule axis,
ellipsoid quadratic form, box face, plane). Textures are evaluated on 3-D coordinates: world
coordinates for the room and clutter, the person's own body frame for clothing, so that
patterns move with the people in sequences.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hand_pose_ros.synthetic.people.scene import CHECKS, NOISE, STRIPES, Material

# Texture lattices are shifted by half a cell so that a plane at a whole number of periods
# (the floor at z = 0) does not sit on a cell boundary, where rounding noise would flicker.
_HALF = np.float32(0.5)
KIND_NONE, KIND_PLANE, KIND_CAPSULE, KIND_ELLIPSOID, KIND_BOX, KIND_CYLINDER = 0, 1, 2, 3, 4, 5


@dataclass
class MaterialTable:
    colour: np.ndarray  # (m, 3) float32
    colour2: np.ndarray  # (m, 3)
    pattern: np.ndarray  # (m,) int
    inv_scale: np.ndarray  # (m,) 1 / period
    axis: np.ndarray  # (m, 3)

    @classmethod
    def build(cls, materials: list[Material]) -> MaterialTable:
        f32 = np.float32
        return cls(
            np.array([m.colour for m in materials], f32),
            np.array([m.colour2 for m in materials], f32),
            np.array([m.pattern for m in materials], np.int64),
            np.array([1.0 / m.scale_m for m in materials], f32),
            np.array([m.axis for m in materials], f32),
        )


@dataclass
class SurfaceGeometry:
    """Camera-frame geometry of everything that was ray cast, indexed per kind."""

    plane_normal: np.ndarray  # (k, 3)
    capsule_a: np.ndarray  # (c, 3)
    capsule_b: np.ndarray
    ellipsoid_centre: np.ndarray  # (e, 3)
    ellipsoid_quadric: np.ndarray  # (e, 3, 3) M^T M
    box_centre: np.ndarray  # (b, 3)
    box_rotation: np.ndarray  # (b, 3, 3)
    box_half: np.ndarray  # (b, 3)
    cylinder_a: np.ndarray  # (y, 3)
    cylinder_b: np.ndarray  # (y, 3)
    cylinder_radius: np.ndarray  # (y,)


def _hash01(cells: np.ndarray) -> np.ndarray:
    """Deterministic pseudo-random value in [0, 1) per integer lattice cell (3, n)."""
    c = cells.astype(np.int32)  # int32 arithmetic wraps around, which a hash may do
    h = (c[0] * np.int32(73856093)) ^ (c[1] * np.int32(19349663)) ^ (c[2] * np.int32(83492791))
    h = (h ^ (h >> 13)) * np.int32(1274126177)
    return ((h >> 8) & 0xFFFF).astype(np.float32) / np.float32(65536.0)


def surface_normals(
    points: np.ndarray, kind: np.ndarray, index: np.ndarray, geometry: SurfaceGeometry
) -> np.ndarray:
    """(3, n) unit normals facing the camera at hit points (3, n) of the given primitives.

    Component-major arrays throughout: numpy is several times faster on (3, n) than on (n, 3).
    """
    normals = np.zeros_like(points)
    sel = np.flatnonzero(kind == KIND_PLANE)
    normals[:, sel] = geometry.plane_normal[index[sel]].T
    sel = np.flatnonzero(kind == KIND_CAPSULE)
    if sel.size:
        i = index[sel]
        a = geometry.capsule_a[i].T
        ab = geometry.capsule_b[i].T - a
        p = points[:, sel]
        s = np.clip(((p - a) * ab).sum(0) / np.maximum((ab * ab).sum(0), 1e-9), 0.0, 1.0)
        normals[:, sel] = p - (a + s * ab)
    sel = np.flatnonzero(kind == KIND_ELLIPSOID)
    if sel.size:
        i = index[sel]
        d = points[:, sel] - geometry.ellipsoid_centre[i].T
        q = geometry.ellipsoid_quadric[i]
        normals[:, sel] = q[:, :, 0].T * d[0] + q[:, :, 1].T * d[1] + q[:, :, 2].T * d[2]
    sel = np.flatnonzero(kind == KIND_BOX)
    if sel.size:
        i = index[sel]
        rot = geometry.box_rotation[i]  # (n, 3, 3) columns = box axes
        d = points[:, sel] - geometry.box_centre[i].T
        local = np.einsum("nji,jn->in", rot, d)
        q = local / geometry.box_half[i].T
        axis = np.abs(q).argmax(axis=0)
        cols = np.arange(sel.size)
        normals[:, sel] = rot[cols, :, axis].T * np.sign(q[axis, cols])
    sel = np.flatnonzero(kind == KIND_CYLINDER)
    if sel.size:
        i = index[sel]
        a = geometry.cylinder_a[i].T
        ab = geometry.cylinder_b[i].T - a
        p = points[:, sel]
        s = ((p - a) * ab).sum(0) / np.maximum((ab * ab).sum(0), 1e-9)
        radial = p - (a + s * ab)
        # On a cap the hit is well inside the rim; there the normal is the axis direction.
        cap = (radial * radial).sum(0) < (0.97 * geometry.cylinder_radius[i]) ** 2
        normals[:, sel] = np.where(cap, ab * np.sign(s - 0.5), radial)
    norm = np.sqrt((normals * normals).sum(0))
    normals /= np.maximum(norm, 1e-9)
    flip = (normals * points).sum(0) > 0.0
    normals[:, flip] *= -1.0
    return normals


def albedo(texture_coords: np.ndarray, material: np.ndarray, table: MaterialTable) -> np.ndarray:
    """(3, n) base colour from each pixel's material and 3-D texture coordinates (3, n), m."""
    pattern = table.pattern[material]
    weight = np.zeros(material.shape[0], np.float32)
    inv_scale = table.inv_scale[material]
    sel = np.flatnonzero(pattern == STRIPES)
    if sel.size:
        m = material[sel]
        phase = (texture_coords[:, sel] * table.axis[m].T).sum(0) * inv_scale[sel]
        weight[sel] = (phase - np.floor(phase)) < 0.5
    sel = np.flatnonzero(pattern == CHECKS)
    if sel.size:
        cells = np.floor(texture_coords[:, sel] * inv_scale[sel] + _HALF).astype(np.int32)
        weight[sel] = (cells[0] + cells[1] + cells[2]) & 1
    sel = np.flatnonzero(pattern == NOISE)
    if sel.size:
        scaled = texture_coords[:, sel] * inv_scale[sel] + _HALF
        coarse = _hash01(np.floor(scaled))
        fine = _hash01(np.floor(scaled * np.float32(2.5) + _HALF) + 1000)
        weight[sel] = 0.75 * coarse + 0.25 * fine
    colour = np.take(np.ascontiguousarray(table.colour.T), material, axis=1)
    textured = np.flatnonzero(weight)
    delta = np.ascontiguousarray((table.colour2 - table.colour).T)
    colour[:, textured] += weight[textured] * np.take(delta, material[textured], axis=1)
    return colour


def lambert(
    colour: np.ndarray,
    points: np.ndarray,
    normals: np.ndarray,
    sun_c: np.ndarray,
    sun_rgb: np.ndarray,
    lamp_c: np.ndarray,
    lamp_rgb: np.ndarray,
    ambient_rgb: np.ndarray,
) -> np.ndarray:
    """Ambient + directional (sun/window) + inverse-square point lamp, no shadows; (3, n)."""
    f32 = np.float32
    sun_c = sun_c.astype(f32)
    sun = np.maximum(sun_c[0] * normals[0] + sun_c[1] * normals[1] + sun_c[2] * normals[2], 0.0)
    to_lamp = lamp_c.astype(f32)[:, None] - points
    d2 = (to_lamp * to_lamp).sum(0)
    lamp = np.maximum((normals * to_lamp).sum(0), 0.0) / (np.sqrt(d2) * np.maximum(d2, 0.5))
    light = (
        ambient_rgb.astype(f32)[:, None]
        + sun_rgb.astype(f32)[:, None] * sun
        + lamp_rgb.astype(f32)[:, None] * lamp
    )
    return colour * light


def soften(image: np.ndarray, amount: float) -> np.ndarray:
    """Blend a (c, h, w) float32 image with its separable [1, 2, 1] / 4 blur (optics, demosaic).

    Border rows and columns keep their values.
    """
    quarter = np.float32(0.25 * amount)
    keep = np.float32(1.0 - 0.5 * amount)
    rows = image.copy()
    middle = rows[:, :, 1:-1]
    middle *= keep
    middle += (image[:, :, :-2] + image[:, :, 2:]) * quarter
    out = rows.copy()
    middle = out[:, 1:-1, :]
    middle *= keep
    middle += (rows[:, :-2, :] + rows[:, 2:, :]) * quarter
    return out
