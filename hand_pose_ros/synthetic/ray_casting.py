"""Z-buffered ray casting of analytic primitives, vectorised over (pixel, primitive) pairs.

Every primitive is intersected only with the pixels of its projected bounding box; the pairs of
all primitives of one kind are processed in one batch of numpy operations, and one
``np.minimum.at`` builds the z-buffer. Rays are r(t) = t * (x_n, y_n, 1) from the optical centre,
so the ray parameter t *is* the depth z of the hit, in metres.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from hand_pose_ros.core.camera import Intrinsics

_MIN_DEPTH_M = 0.02


@dataclass
class PrimitiveSet:
    """Scene primitives in the camera optical frame (metres), each tagged with an object id."""

    capsule_a: list[np.ndarray] = field(default_factory=list)
    capsule_b: list[np.ndarray] = field(default_factory=list)
    capsule_radius: list[np.ndarray] = field(default_factory=list)
    capsule_object: list[np.ndarray] = field(default_factory=list)
    # Ellipsoids: centre and the matrix mapping (p - centre) into the unit sphere.
    ellipsoid_centre: list[np.ndarray] = field(default_factory=list)
    ellipsoid_matrix: list[np.ndarray] = field(default_factory=list)
    ellipsoid_object: list[np.ndarray] = field(default_factory=list)
    # Oriented boxes: centre, rotation (columns = box axes), half extents.
    box_centre: list[np.ndarray] = field(default_factory=list)
    box_rotation: list[np.ndarray] = field(default_factory=list)
    box_half_extent: list[np.ndarray] = field(default_factory=list)
    box_object: list[np.ndarray] = field(default_factory=list)
    # Flat-capped cylinders: axis end points and radius.
    cylinder_a: list[np.ndarray] = field(default_factory=list)
    cylinder_b: list[np.ndarray] = field(default_factory=list)
    cylinder_radius: list[np.ndarray] = field(default_factory=list)
    cylinder_object: list[np.ndarray] = field(default_factory=list)

    def add_capsules(
        self, a: np.ndarray, b: np.ndarray, radius: np.ndarray, object_id: np.ndarray | int
    ) -> None:
        a = np.asarray(a, float).reshape(-1, 3)
        self.capsule_a.append(a)
        self.capsule_b.append(np.asarray(b, float).reshape(-1, 3))
        self.capsule_radius.append(np.broadcast_to(np.asarray(radius, float), a.shape[:1]))
        self.capsule_object.append(np.broadcast_to(np.asarray(object_id, np.int32), a.shape[:1]))

    def add_ellipsoids(
        self, centre: np.ndarray, matrix: np.ndarray, object_id: np.ndarray | int
    ) -> None:
        centre = np.asarray(centre, float).reshape(-1, 3)
        self.ellipsoid_centre.append(centre)
        self.ellipsoid_matrix.append(np.asarray(matrix, float).reshape(-1, 3, 3))
        self.ellipsoid_object.append(
            np.broadcast_to(np.asarray(object_id, np.int32), centre.shape[:1])
        )

    def add_box(
        self, centre: np.ndarray, rotation: np.ndarray, half_extent: np.ndarray, object_id: int
    ) -> None:
        self.box_centre.append(np.asarray(centre, float).reshape(1, 3))
        self.box_rotation.append(np.asarray(rotation, float).reshape(1, 3, 3))
        self.box_half_extent.append(np.asarray(half_extent, float).reshape(1, 3))
        self.box_object.append(np.array([object_id], np.int32))

    def add_cylinder(self, a: np.ndarray, b: np.ndarray, radius: float, object_id: int) -> None:
        self.cylinder_a.append(np.asarray(a, float).reshape(1, 3))
        self.cylinder_b.append(np.asarray(b, float).reshape(1, 3))
        self.cylinder_radius.append(np.array([radius], float))
        self.cylinder_object.append(np.array([object_id], np.int32))


class RayGrid:
    """Per-resolution normalised ray coordinates (cached: they only depend on the intrinsics)."""

    def __init__(self, intrinsics: Intrinsics) -> None:
        self.intrinsics = intrinsics
        self.width = intrinsics.width
        self.height = intrinsics.height
        self.x_n = (np.arange(self.width) - intrinsics.cx) / intrinsics.fx  # (W,)
        self.y_n = (np.arange(self.height) - intrinsics.cy) / intrinsics.fy  # (H,)
        self.x_n32 = self.x_n.astype(np.float32)
        self.y_n32 = self.y_n.astype(np.float32)


_GRID_CACHE: dict[Intrinsics, RayGrid] = {}


def ray_grid(intrinsics: Intrinsics) -> RayGrid:
    grid = _GRID_CACHE.get(intrinsics)
    if grid is None:
        if len(_GRID_CACHE) > 16:
            _GRID_CACHE.clear()
        grid = _GRID_CACHE[intrinsics] = RayGrid(intrinsics)
    return grid


def _sphere_bboxes(grid: RayGrid, centre: np.ndarray, radius: np.ndarray) -> np.ndarray:
    """(n, 4) pixel boxes u0, u1, v0, v1 (inclusive) containing the projections of spheres.

    Conservative: the projection of the sphere's axis-aligned bounding box. Spheres reaching
    behind the near plane get the whole image.
    """
    k = grid.intrinsics
    zmin = centre[:, 2] - radius
    zmax = centre[:, 2] + radius
    near = zmin <= _MIN_DEPTH_M
    zmin_safe = np.where(near, 1.0, zmin)
    out = np.empty((centre.shape[0], 4))
    for axis, (f, c) in enumerate(((k.fx, k.cx), (k.fy, k.cy))):
        lo = centre[:, axis] - radius
        hi = centre[:, axis] + radius
        lo_n = np.minimum(lo / zmin_safe, lo / zmax)
        hi_n = np.maximum(hi / zmin_safe, hi / zmax)
        out[:, 2 * axis] = np.where(near, -np.inf, lo_n * f + c)
        out[:, 2 * axis + 1] = np.where(near, np.inf, hi_n * f + c)
    return out


def pixel_pairs(grid: RayGrid, boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Expand pixel boxes (n, 4: u0, u1, v0, v1) into (primitive index, u, v) pairs, one per
    covered pixel: the rays each primitive has to be tested against."""
    u0 = np.clip(np.floor(boxes[:, 0]), 0, grid.width).astype(np.int64)
    u1 = np.clip(np.ceil(boxes[:, 1]), -1, grid.width - 1).astype(np.int64)
    v0 = np.clip(np.floor(boxes[:, 2]), 0, grid.height).astype(np.int64)
    v1 = np.clip(np.ceil(boxes[:, 3]), -1, grid.height - 1).astype(np.int64)
    box_w = np.maximum(u1 - u0 + 1, 0)
    box_h = np.maximum(v1 - v0 + 1, 0)
    sizes = box_w * box_h
    total = int(sizes.sum())
    prim = np.repeat(np.arange(boxes.shape[0]), sizes)
    starts = np.cumsum(sizes) - sizes
    local = np.arange(total) - starts[prim]
    bw = box_w[prim]
    u = u0[prim] + local % bw
    v = v0[prim] + local // bw
    return prim, u, v


def _sphere_t(xn, yn, rr, c, r2):
    """Nearest hit depth of rays (xn, yn, 1) with spheres (centre c (m,3), radius^2)."""
    b = xn * c[:, 0] + yn * c[:, 1] + c[:, 2]
    cc = (c * c).sum(axis=1) - r2
    h = b * b - rr * cc
    with np.errstate(invalid="ignore"):
        t = (b - np.sqrt(h)) / rr
    return np.where(h >= 0.0, t, np.inf)


def _capsule_boxes(grid: RayGrid, a: np.ndarray, b: np.ndarray, radius: np.ndarray):
    """Pixel boxes of capsules, long capsules split into pieces (tighter for oblique ones).

    Returns (boxes (q, 4), capsule index of each box). A pixel may be listed twice where the
    pieces' boxes overlap; the z-buffer minimum makes that harmless.
    """
    length = np.linalg.norm(b - a, axis=1)
    pieces = np.clip(np.ceil(length / (3.0 * radius)), 1, 6).astype(np.int64)
    owner = np.repeat(np.arange(a.shape[0]), pieces)
    first = np.cumsum(pieces) - pieces
    k = np.arange(owner.shape[0]) - first[owner]
    f0 = (k / pieces[owner])[:, None]
    f1 = ((k + 1) / pieces[owner])[:, None]
    ab = b[owner] - a[owner]
    rad = radius[owner]
    box0 = _sphere_bboxes(grid, a[owner] + f0 * ab, rad)
    box1 = _sphere_bboxes(grid, a[owner] + f1 * ab, rad)
    boxes = np.empty_like(box0)
    boxes[:, 0::2] = np.minimum(box0[:, 0::2], box1[:, 0::2])
    boxes[:, 1::2] = np.maximum(box0[:, 1::2], box1[:, 1::2])
    return boxes, owner


def _capsule_hits(grid: RayGrid, a: np.ndarray, b: np.ndarray, radius: np.ndarray):
    """(capsule index, u, v, depth) for every ray that hits a capsule.

    The capsule lies inside the infinite cylinder around its axis, so rays missing that cylinder
    are dropped first; only the survivors get the body and end-cap solutions (float32 math).
    """
    boxes, owner = _capsule_boxes(grid, a, b, radius)
    piece, u, v = pixel_pairs(grid, boxes)
    prim = owner[piece]
    f32 = np.float32
    xn = grid.x_n32[u]
    yn = grid.y_n32[v]
    # Per-capsule constants (ray origin at 0, so oa = -a), computed in float64.
    ba = b - a
    baba = (ba * ba).sum(axis=1)
    baoa = -(ba * a).sum(axis=1)
    oaoa = (a * a).sum(axis=1)
    r2 = radius * radius
    k0 = (baba * oaoa - baoa * baoa - r2 * baba).astype(f32)
    ba32, a32 = ba.astype(f32), a.astype(f32)
    baba32, baoa32 = baba.astype(f32), baoa.astype(f32)
    bap = ba32[prim]
    ap = a32[prim]
    bard = xn * bap[:, 0] + yn * bap[:, 1] + bap[:, 2]
    rdoa = -(xn * ap[:, 0] + yn * ap[:, 1] + ap[:, 2])
    babap = baba32[prim]
    baoap = baoa32[prim]
    rr = xn * xn + yn * yn + f32(1.0)
    k2 = babap * rr - bard * bard
    k1 = babap * rdoa - baoap * bard
    h = k1 * k1 - k2 * k0[prim]
    keep = np.flatnonzero(h >= 0.0)
    prim, u, v, xn, yn, rr = (x[keep] for x in (prim, u, v, xn, yn, rr))
    k1, k2, h, bard, babap, baoap = (x[keep] for x in (k1, k2, h, bard, babap, baoap))
    with np.errstate(invalid="ignore", divide="ignore"):
        t_body = (-k1 - np.sqrt(h)) / k2
        y = baoap + t_body * bard
    on_body = (y > 0.0) & (y < babap)
    # Off the body: the ray can only hit the end sphere on the side where it left the body.
    cap = np.flatnonzero(~on_body)
    centre = np.where((y[cap] <= 0.0)[:, None], ap[keep][cap], (a32 + ba32)[prim[cap]])
    t = np.where(on_body, t_body, np.inf).astype(f32)
    t[cap] = _sphere_t(xn[cap], yn[cap], rr[cap], centre, (r2.astype(f32))[prim[cap]])
    return prim, u, v, t


def _ellipsoid_hits(grid: RayGrid, centre: np.ndarray, matrix: np.ndarray):
    """Rays (x, y, 1) t against ellipsoids |M (p - c)| = 1.

    |M (t r - c)|^2 = 1 is a quadratic in t whose coefficients are a quadratic form (G = M^T M)
    and a linear form (w = M^T M c) in (x, y, 1); these per-ellipsoid coefficients are computed
    in float64, the per-pixel work in float32.
    """
    # Bounding sphere radius = largest semi-axis = 1 / smallest singular value of the matrix.
    radius = 1.0 / np.linalg.svd(matrix, compute_uv=False)[:, -1]
    prim, u, v = pixel_pairs(grid, _sphere_bboxes(grid, centre, radius))
    x = grid.x_n32[u]
    y = grid.y_n32[v]
    g = np.einsum("nki,nkj->nij", matrix, matrix)
    w = np.einsum("nij,nj->ni", g, centre)
    qc = np.einsum("ni,ni->n", w, centre) - 1.0
    f32 = np.float32
    coeff = np.stack(
        [
            g[:, 0, 0],
            g[:, 1, 1],
            g[:, 2, 2],
            2 * g[:, 0, 1],
            2 * g[:, 0, 2],
            2 * g[:, 1, 2],
            w[:, 0],
            w[:, 1],
            w[:, 2],
            qc,
        ],
        axis=0,
    ).astype(f32)
    c = coeff[:, prim]
    qa = (c[0] * x + c[3] * y + c[4]) * x + (c[1] * y + c[5]) * y + c[2]
    qb = c[6] * x + c[7] * y + c[8]  # sign flipped: t = (qb - sqrt(h)) / qa
    h = qb * qb - qa * c[9]
    keep = np.flatnonzero(h >= 0.0)
    t = (qb[keep] - np.sqrt(h[keep])) / qa[keep]
    return prim[keep], u[keep], v[keep], t


def _box_hits(grid: RayGrid, centre: np.ndarray, rotation: np.ndarray, half: np.ndarray):
    """Slab test against oriented boxes, one box axis at a time on 1-D float32 arrays."""
    radius = np.linalg.norm(half, axis=1)
    prim, u, v = pixel_pairs(grid, _sphere_bboxes(grid, centre, radius))
    t = box_entry_depths(grid, prim, u, v, centre, rotation, half)
    return prim, u, v, np.where(t > _MIN_DEPTH_M, t, np.inf).astype(np.float32)


def box_entry_depths(
    grid: RayGrid,
    prim: np.ndarray,
    u: np.ndarray,
    v: np.ndarray,
    centre: np.ndarray,
    rotation: np.ndarray,
    half: np.ndarray,
) -> np.ndarray:
    """Depth (float32) at which ray (u, v) enters oriented box `prim`, inf where it misses.

    Slab test one box axis at a time on 1-D float32 arrays; shared by every caller that
    bounds boxes its own way (sphere bounds here, corner bounds for thin furniture)."""
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
    return np.where(t_near <= t_far, t_near, f32(np.inf))


def _cylinder_hits(grid: RayGrid, a: np.ndarray, b: np.ndarray, radius: np.ndarray):
    prim, u, v = pixel_pairs(
        grid,
        _sphere_bboxes(grid, 0.5 * (a + b), np.hypot(radius, 0.5 * np.linalg.norm(b - a, axis=1))),
    )
    xn = grid.x_n[u]
    yn = grid.y_n[v]
    rd = np.stack([xn, yn, np.ones_like(xn)], axis=1)
    ap, bp = a[prim], b[prim]
    ba = bp - ap
    baba = (ba * ba).sum(axis=1)
    bard = (ba * rd).sum(axis=1)
    baoa = -(ba * ap).sum(axis=1)
    rdoa = -(rd * ap).sum(axis=1)
    oaoa = (ap * ap).sum(axis=1)
    r2 = radius[prim] ** 2
    rr = (rd * rd).sum(axis=1)
    k2 = baba * rr - bard * bard
    k1 = baba * rdoa - baoa * bard
    k0 = baba * oaoa - baoa * baoa - r2 * baba
    h = k1 * k1 - k2 * k0
    with np.errstate(invalid="ignore", divide="ignore"):
        t_body = (-k1 - np.sqrt(h)) / k2
        y = baoa + t_body * bard
        t_body = np.where((h >= 0) & (y > 0) & (y < baba), t_body, np.inf)
        t = t_body
        for end in (ap, bp):
            t_cap = (ba * end).sum(axis=1) / bard
            p = rd * t_cap[:, None] - end
            inside = ((p * p).sum(axis=1) <= r2) & (t_cap > _MIN_DEPTH_M)
            t = np.minimum(t, np.where(inside, t_cap, np.inf))
    return prim, u, v, t


def _cat(parts: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(parts) if len(parts) > 1 else parts[0]


def cast_primitives(
    grid: RayGrid, prims: PrimitiveSet, depth: np.ndarray, object_map: np.ndarray
) -> None:
    """Z-buffer all primitives into ``depth`` (H*W float32) and ``object_map`` (H*W int32)."""
    results = []
    if prims.capsule_a:
        prim, u, v, t = _capsule_hits(
            grid, _cat(prims.capsule_a), _cat(prims.capsule_b), _cat(prims.capsule_radius)
        )
        results.append((_cat(prims.capsule_object)[prim], u, v, t))
    if prims.ellipsoid_centre:
        prim, u, v, t = _ellipsoid_hits(
            grid, _cat(prims.ellipsoid_centre), _cat(prims.ellipsoid_matrix)
        )
        results.append((_cat(prims.ellipsoid_object)[prim], u, v, t))
    if prims.box_centre:
        prim, u, v, t = _box_hits(
            grid, _cat(prims.box_centre), _cat(prims.box_rotation), _cat(prims.box_half_extent)
        )
        results.append((_cat(prims.box_object)[prim], u, v, t))
    if prims.cylinder_a:
        prim, u, v, t = _cylinder_hits(
            grid, _cat(prims.cylinder_a), _cat(prims.cylinder_b), _cat(prims.cylinder_radius)
        )
        results.append((_cat(prims.cylinder_object)[prim], u, v, t))
    if not results:
        return
    obj = np.concatenate([r[0] for r in results])
    pix = np.concatenate([r[2] * grid.width + r[1] for r in results])
    t = np.concatenate([r[3] for r in results]).astype(np.float32, copy=False)
    z_buffer(depth, object_map, obj, pix, t)


def z_buffer(
    depth: np.ndarray, object_map: np.ndarray, obj: np.ndarray, pix: np.ndarray, t: np.ndarray
) -> None:
    """Keep, per pixel, the nearest hit beyond the near plane: depth and the object hit there."""
    hit = (t > _MIN_DEPTH_M) & (t < depth[pix])
    obj, pix, t = obj[hit], pix[hit], t[hit]
    np.minimum.at(depth, pix, t)
    winner = t == depth[pix]
    object_map[pix[winner]] = obj[winner]


def cast_planes(
    grid: RayGrid,
    normals: np.ndarray,
    offsets: np.ndarray,
    bounds: list[tuple[np.ndarray, np.ndarray, np.ndarray] | None],
    object_ids: np.ndarray,
    far_m: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Depth (H*W float32) and object map (H*W int32) of planes n·p = offset (camera frame).

    bounds[i], if given, is (axes (2, 3), lo (2,), hi (2,)): the plane only exists where the hit
    point's coordinates along the two axes lie within [lo, hi] (a table top). Pixels no plane hits
    get far_m and object id 0.
    """
    f32 = np.float32
    xn = grid.x_n32[None, :]
    yn = grid.y_n32[:, None]
    depth = np.full((grid.height, grid.width), far_m, f32)
    object_map = np.zeros((grid.height, grid.width), np.int32)
    for n, offset, bound, obj in zip(normals, offsets, bounds, object_ids):
        n = n.astype(f32)
        # offset / (n . r) with r = (x, y, 1); rays parallel to the plane give inf (no hit).
        with np.errstate(divide="ignore", invalid="ignore"):
            t = f32(offset) / ((n[0] * xn + n[2]) + n[1] * yn)
            closer = (t > _MIN_DEPTH_M) & (t < depth)
            if bound is not None:
                axes, lo, hi = bound
                for axis, lo_m, hi_m in zip(axes.astype(f32), lo, hi):
                    coord = t * ((axis[0] * xn + axis[2]) + axis[1] * yn)
                    closer &= (coord >= lo_m) & (coord <= hi_m)
        np.copyto(depth, t, where=closer)
        object_map[closer] = obj
    return depth.reshape(-1), object_map.reshape(-1)
