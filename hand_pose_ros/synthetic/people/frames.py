"""Rendering a people scene into a labelled RGB-D frame (PeopleFrame).

Planes (the room), then capsules and ellipsoids (people), then boxes (furniture) are ray cast
into one z-buffer with an object id per pixel; the object id gives the person, body part,
material and geometry for shading and labels (see labels.py for the visibility rule).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hand_pose_ros.core.camera import Intrinsics
from hand_pose_ros.synthetic.people.body import (
    FACE_DIRECTIONS,
    HEAD_AXIS_RATIOS,
    PART,
    PARTS,
)
from hand_pose_ros.synthetic.people.box_casting import cast_boxes
from hand_pose_ros.synthetic.people.depth_noise import apply_depth_artefacts, clean_depth_mm
from hand_pose_ros.synthetic.people.labels import keypoint_labels, visible_boxes
from hand_pose_ros.synthetic.people.scene import Material, PeopleScene, sample_scene
from hand_pose_ros.synthetic.people.shading import (
    KIND_BOX,
    KIND_CAPSULE,
    KIND_CYLINDER,
    KIND_ELLIPSOID,
    KIND_PLANE,
    MaterialTable,
    SurfaceGeometry,
    albedo,
    lambert,
    soften,
    surface_normals,
)
from hand_pose_ros.synthetic.ray_casting import PrimitiveSet, cast_planes, cast_primitives, ray_grid

HORIZONTAL_FOV_DEG = 69.0
"""About a RealSense D4xx colour camera."""
FAR_FALLBACK_M = 30.0
_FIRST_PRIMITIVE_ID = 16


def default_intrinsics(width: int, height: int) -> Intrinsics:
    """Square pixels, 69 degree horizontal field of view, centred principal point."""
    return Intrinsics.from_fov(int(width), int(height), HORIZONTAL_FOV_DEG)


@dataclass
class PeopleFrame:
    """One labelled synthetic RGB-D frame; person arrays are indexed like instance_map."""

    color: np.ndarray  # (H, W, 3) uint8 RGB
    depth_mm: np.ndarray  # (H, W) uint16, 0 = no return, registered to color
    intrinsics: Intrinsics
    keypoints_uv: np.ndarray  # (P, 17, 2) float64 px (pixel-centre convention)
    keypoints_xyz: np.ndarray  # (P, 17, 3) float64 m, optical frame, joint centres
    visibility: np.ndarray  # (P, 17) uint8, COCO 0/1/2
    instance_map: np.ndarray  # (H, W) int16, -1 background, p = person p (visible pixels)
    boxes_xywh: np.ndarray  # (P, 4) float64 box of the person's visible pixels
    areas_px: np.ndarray  # (P,) visible pixel count (COCO "area")
    track_ids: np.ndarray  # (P,) int, stable ids in sequences (arange(P) for frames)


@dataclass
class _ObjectTable:
    kind: np.ndarray  # per object id
    index: np.ndarray
    person: np.ndarray
    part: np.ndarray
    material: np.ndarray


def _build(scene: PeopleScene):
    """Primitives in the camera frame plus per-object lookup tables."""
    cam = scene.camera
    rot = cam.rotation
    materials: list[Material] = list(scene.room.materials)
    n_planes = len(materials)
    plane_normals = scene.room.plane_normals @ rot
    plane_offsets = scene.room.plane_offsets - scene.room.plane_normals @ cam.position

    caps_a, caps_b, caps_r, caps_person, caps_part = [], [], [], [], []
    ell_c, ell_m, ell_person, ell_part = [], [], [], []
    for p, person in enumerate(scene.people):
        body = person.body
        caps_a.append(cam.to_camera(body.capsule_a))
        caps_b.append(cam.to_camera(body.capsule_b))
        caps_r.append(body.capsule_radius)
        caps_person.append(np.full(len(body.capsule_radius), p))
        caps_part.append(body.capsule_part)
        ell_c.append(cam.to_camera(body.ellipsoid_centre))
        axes_c = np.einsum("ji,njk->nik", rot, body.ellipsoid_axes)
        ell_m.append(np.linalg.inv(axes_c))
        ell_person.append(np.full(len(body.ellipsoid_part), p))
        ell_part.append(body.ellipsoid_part)
    person_material_base = []
    for person in scene.people:
        person_material_base.append(len(materials))
        materials.extend(person.clothing.part_materials)

    def cat(parts, shape, dtype=float):
        return np.concatenate(parts).astype(dtype) if parts else np.zeros(shape, dtype)

    capsule_a, capsule_b = cat(caps_a, (0, 3)), cat(caps_b, (0, 3))
    capsule_r = cat(caps_r, (0,))
    capsule_person = cat(caps_person, (0,), np.int64)
    capsule_part = cat(caps_part, (0,), np.int64)
    ell_centre = cat(ell_c, (0, 3))
    ell_matrix = cat(ell_m, (0, 3, 3))
    ellipsoid_person = cat(ell_person, (0,), np.int64)
    ellipsoid_part = cat(ell_part, (0,), np.int64)
    box_centre = np.array([cam.to_camera(b.centre) for b in scene.boxes]).reshape(-1, 3)
    box_rotation = np.array([rot.T @ b.rotation for b in scene.boxes]).reshape(-1, 3, 3)
    box_half = np.array([b.half_extent for b in scene.boxes]).reshape(-1, 3)
    box_material = np.arange(len(scene.boxes)) + len(materials)
    materials.extend(b.material for b in scene.boxes)
    cyl_a = np.array([cam.to_camera(c.a) for c in scene.cylinders]).reshape(-1, 3)
    cyl_b = np.array([cam.to_camera(c.b) for c in scene.cylinders]).reshape(-1, 3)
    cyl_r = np.array([c.radius_m for c in scene.cylinders])
    cyl_material = np.arange(len(scene.cylinders)) + len(materials)
    materials.extend(c.material for c in scene.cylinders)

    n_c, n_e, n_b, n_y = len(capsule_r), len(ell_centre), len(box_half), len(cyl_r)
    first_c = _FIRST_PRIMITIVE_ID
    first_e, first_b = first_c + n_c, first_c + n_c + n_e
    first_y = first_b + n_b
    n_obj = first_y + n_y
    table = _ObjectTable(
        np.zeros(n_obj, np.int64),
        np.zeros(n_obj, np.int64),
        np.full(n_obj, -1, np.int64),
        np.full(n_obj, len(PARTS), np.int64),
        np.zeros(n_obj, np.int64),
    )
    plane_ids = np.arange(1, n_planes + 1)
    table.kind[plane_ids] = KIND_PLANE
    table.index[plane_ids] = np.arange(n_planes)
    table.material[plane_ids] = np.arange(n_planes)
    base = np.array(person_material_base, np.int64)
    for first, n, kind, person, part in (
        (first_c, n_c, KIND_CAPSULE, capsule_person, capsule_part),
        (first_e, n_e, KIND_ELLIPSOID, ellipsoid_person, ellipsoid_part),
    ):
        ids = np.arange(first, first + n)
        table.kind[ids] = kind
        table.index[ids] = np.arange(n)
        table.person[ids] = person
        table.part[ids] = part
        if n:
            table.material[ids] = base[person] + part
    ids = np.arange(first_b, first_y)
    table.kind[ids] = KIND_BOX
    table.index[ids] = np.arange(n_b)
    table.material[ids] = box_material
    ids = np.arange(first_y, n_obj)
    table.kind[ids] = KIND_CYLINDER
    table.index[ids] = np.arange(n_y)
    table.material[ids] = cyl_material

    prims = PrimitiveSet()
    if n_c:
        prims.add_capsules(capsule_a, capsule_b, capsule_r, np.arange(first_c, first_e))
    if n_e:
        prims.add_ellipsoids(ell_centre, ell_matrix, np.arange(first_e, first_b))
    for k in range(n_y):
        prims.add_cylinder(cyl_a[k], cyl_b[k], cyl_r[k], first_y + k)
    geometry = SurfaceGeometry(
        plane_normal=plane_normals.astype(np.float32),
        capsule_a=capsule_a.astype(np.float32),
        capsule_b=capsule_b.astype(np.float32),
        ellipsoid_centre=ell_centre.astype(np.float32),
        ellipsoid_quadric=np.einsum("nki,nkj->nij", ell_matrix, ell_matrix).astype(np.float32),
        box_centre=box_centre.astype(np.float32),
        box_rotation=box_rotation.astype(np.float32),
        box_half=box_half.astype(np.float32),
        cylinder_a=cyl_a.astype(np.float32),
        cylinder_b=cyl_b.astype(np.float32),
        cylinder_radius=cyl_r.astype(np.float32),
    )
    planes = (plane_normals, plane_offsets, [None] * n_planes, plane_ids)
    return prims, planes, table, geometry, MaterialTable.build(materials)


_EYE_DIRECTIONS = FACE_DIRECTIONS[1:3] / np.asarray(HEAD_AXIS_RATIOS)
_EYE_DIRECTIONS /= np.linalg.norm(_EYE_DIRECTIONS, axis=1, keepdims=True)
_MOUTH_HEIGHT = -0.62  # unit-sphere z of the mouth line on the head
_EYE_RADIUS = 0.13  # on the unit sphere
_EYE_RGB = np.array([0.08, 0.06, 0.05], np.float32)
_LIP_RGB = np.array([0.55, 0.22, 0.2], np.float32)


def _paint_faces(
    scene: PeopleScene, colour: np.ndarray, world: np.ndarray, person: np.ndarray, part: np.ndarray
) -> None:
    """Dark eyes and a mouth on the head ellipsoid, in place on (3, n) colours."""
    sel = np.flatnonzero((part == PART["head"]) & (person >= 0))
    if not sel.size:
        return
    who = person[sel]
    centres = np.array([p.body.head_centre for p in scene.people], np.float32)
    rotations = np.array([p.body.head_rotation for p in scene.people], np.float32)
    axes = np.array([p.shape.head_axes_m for p in scene.people], np.float32)
    d = world[:, sel] - centres[who].T
    # Unit-sphere head coordinates: x forward, y left, z up.
    q = np.einsum("nji,jn->in", rotations[who], d) / axes[who].T
    eye = np.zeros(sel.size, bool)
    for direction in _EYE_DIRECTIONS:
        diff = q - direction[:, None].astype(np.float32)
        eye |= (diff * diff).sum(0) < _EYE_RADIUS**2
    mouth = (q[0] > 0.5) & (np.abs(q[1]) < 0.22) & (np.abs(q[2] - _MOUTH_HEIGHT) < 0.05)
    colour[:, sel[eye]] = _EYE_RGB[:, None]
    colour[:, sel[mouth]] = 0.5 * colour[:, sel[mouth]] + 0.5 * _LIP_RGB[:, None]


def _contact_shadows(
    scene: PeopleScene, colour: np.ndarray, world: np.ndarray, kind: np.ndarray, index: np.ndarray
) -> None:
    """Soft dark patches on the floor under each person (no real shadows are cast)."""
    if not scene.people:
        return
    sel = np.flatnonzero((kind == KIND_PLANE) & (index == 0))
    if not sel.size:
        return
    shade = np.ones(sel.size, np.float32)
    for person in scene.people:
        root = person.body.root.astype(np.float32)
        d2 = (world[0, sel] - root[0]) ** 2 + (world[1, sel] - root[1]) ** 2
        shade *= 1.0 - 0.5 * np.exp(-d2 / np.float32(0.09 * person.shape.height_m / 1.75))
    colour[:, sel] *= shade


def _affine(rotation: np.ndarray, offset: np.ndarray, points: np.ndarray) -> np.ndarray:
    """rotation @ points + offset for (3, n) float32 points, without BLAS.

    A (3, 3) x (3, n) matmul goes through multi-threaded BLAS, which is slower than plain
    element-wise work here and badly so on a busy machine.
    """
    r = rotation.astype(np.float32)
    out = np.empty_like(points)
    for i in range(3):
        out[i] = r[i, 0] * points[0] + r[i, 1] * points[1] + r[i, 2] * points[2] + offset[i]
    return out


def _shade(
    scene: PeopleScene,
    intrinsics: Intrinsics,
    depth: np.ndarray,
    obj: np.ndarray,
    table: _ObjectTable,
    geometry: SurfaceGeometry,
    materials: MaterialTable,
    rng: np.random.Generator,
) -> np.ndarray:
    grid = ray_grid(intrinsics)
    h, w = intrinsics.height, intrinsics.width
    f32 = np.float32
    xn = np.broadcast_to(grid.x_n32[None, :], (h, w)).reshape(-1)
    yn = np.broadcast_to(grid.y_n32[:, None], (h, w)).reshape(-1)
    points = np.stack([xn * depth, yn * depth, depth])  # (3, n) camera frame
    kind = table.kind[obj]
    normals = surface_normals(points, kind, table.index[obj], geometry)
    cam = scene.camera
    world = _affine(cam.rotation, cam.position, points)
    person = table.person[obj]
    on_person = np.flatnonzero(person >= 0)
    coords = world
    if on_person.size:
        roots = np.array([p.body.root for p in scene.people], f32)
        yaws = np.array([p.body.yaw for p in scene.people])
        c, s = np.cos(yaws).astype(f32), np.sin(yaws).astype(f32)
        who = person[on_person]
        d = world[:, on_person] - roots[who].T
        coords = world.copy()
        coords[0, on_person] = c[who] * d[0] + s[who] * d[1]
        coords[1, on_person] = -s[who] * d[0] + c[who] * d[1]
        coords[2, on_person] = d[2]
    colour = albedo(coords, table.material[obj], materials)
    part = table.part[obj]
    _paint_faces(scene, colour, world, person, part)
    _contact_shadows(scene, colour, world, kind, table.index[obj])
    light = scene.lighting
    colour = lambert(
        colour,
        points,
        normals,
        cam.vector_to_camera(light.sun_direction),
        light.sun_rgb,
        cam.to_camera(light.lamp_position),
        light.lamp_rgb,
        light.ambient_rgb,
    )
    # Vignetting, then uniform sensor noise (cheaper than Gaussian) of the sampled std.
    colour *= f32(255.0) * (f32(1.0) - f32(0.35) * (xn * xn + yn * yn))
    if light.blur > 0.0:
        colour = soften(colour.reshape(3, h, w), light.blur).reshape(3, -1)
    noise = rng.random(colour.shape, dtype=f32)
    noise -= f32(0.5)
    noise *= f32(light.sensor_noise * np.sqrt(12.0))
    colour += noise
    np.clip(colour, 0, 255, out=colour)
    return np.ascontiguousarray(colour.astype(np.uint8).reshape(3, h, w).transpose(1, 2, 0))


def render_scene(
    scene: PeopleScene,
    intrinsics: Intrinsics,
    noise_rng: np.random.Generator,
    depth_artefacts: bool = True,
    track_ids: np.ndarray | None = None,
) -> PeopleFrame:
    """Ray-cast and shade the scene at the camera's resolution and derive the labels."""
    grid = ray_grid(intrinsics)
    prims, planes, table, geometry, materials = _build(scene)
    depth, obj = cast_planes(grid, planes[0], planes[1], planes[2], planes[3], FAR_FALLBACK_M)
    cast_primitives(grid, prims, depth, obj)
    cast_boxes(
        grid,
        geometry.box_centre.astype(np.float64),
        geometry.box_rotation.astype(np.float64),
        geometry.box_half.astype(np.float64),
        np.flatnonzero(table.kind == KIND_BOX),
        depth,
        obj,
    )
    h, w = intrinsics.height, intrinsics.width
    color = _shade(scene, intrinsics, depth, obj, table, geometry, materials, noise_rng)
    depth_img = depth.reshape(h, w)
    person_flat = table.person[obj]
    part_img = table.part[obj].reshape(h, w)

    n_people = len(scene.people)
    areas_all = np.bincount(person_flat[person_flat >= 0], minlength=n_people)
    listed = np.flatnonzero(areas_all > 0)
    remap = np.full(n_people + 1, -1, np.int16)
    remap[listed] = np.arange(listed.size)
    instance_map = remap[person_flat].reshape(h, w)  # index -1 maps to the last entry (-1)

    uv, xyz, visibility = keypoint_labels(
        scene, intrinsics, listed, depth_img, instance_map, part_img
    )
    boxes = visible_boxes(instance_map, listed.size)
    n = listed.size
    if depth_artefacts:
        depth_mm = apply_depth_artefacts(depth_img, noise_rng)
    else:
        depth_mm = clean_depth_mm(depth_img)
    ids = np.arange(n) if track_ids is None else np.asarray(track_ids)[listed]
    return PeopleFrame(
        color,
        depth_mm,
        intrinsics,
        uv,
        xyz,
        visibility,
        instance_map,
        boxes,
        areas_all[listed].astype(np.int64),
        ids.astype(np.int64),
    )


def render_people_frame(
    seed: int,
    width: int = 640,
    height: int = 480,
    num_people: int | None = None,
    depth_artefacts: bool = True,
    horizontal_fov_deg: float = HORIZONTAL_FOV_DEG,
) -> PeopleFrame:
    """An independent random frame; the scene depends on the seed only, not on the resolution.

    num_people forces the number of people placed (some may still be out of view);
    depth_artefacts=False gives the exact depth (quantised to mm).
    """
    scene_rng, noise_rng = np.random.default_rng(seed).spawn(2)
    scene = sample_scene(scene_rng, num_people)
    intrinsics = Intrinsics.from_fov(int(width), int(height), horizontal_fov_deg)
    return render_scene(scene, intrinsics, noise_rng, depth_artefacts)
