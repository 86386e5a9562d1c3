"""Scene sampling for the people renderer: camera, room, clutter, lighting, people, clothing.

Everything is in a gravity-aligned world frame (x ahead of the camera, y to its left, z up,
floor at z = 0, camera above the origin) and independent of the image resolution.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from hand_pose_ros.synthetic.people.body import (
    PART,
    Accessories,
    BodyShape,
    Pose,
    PosedBody,
    pose_body,
    rot_z,
)
from hand_pose_ros.synthetic.people.poses import sample_pose

CAMERA_HEIGHT_RANGE_M = (0.4, 1.8)
PERSON_DISTANCE_RANGE_M = (1.0, 6.0)
MIN_PERSON_SEPARATION_M = 0.6
HALF_FOV_TAN = np.tan(np.deg2rad(34.5))
# People per image: 1 (30%), 2-4 (35%), 5-10 (35%, skewed towards 5-7).
COUNT_GROUPS = ((0.3, (1,)), (0.35, (2, 3, 4)), (0.35, (5, 5, 6, 6, 7, 7, 8, 9, 10)))

PLAIN, STRIPES, CHECKS, NOISE = 0, 1, 2, 3


@dataclass(frozen=True)
class Material:
    colour: tuple[float, float, float]  # RGB in [0, 1]
    colour2: tuple[float, float, float] = (0.0, 0.0, 0.0)
    pattern: int = PLAIN
    scale_m: float = 0.1  # pattern period
    axis: tuple[float, float, float] = (0.0, 0.0, 1.0)  # stripes run across this axis


@dataclass
class Camera:
    """Optical frame (x right, y down, z forward) in the world: p_world = R @ p + position."""

    rotation: np.ndarray  # (3, 3)
    position: np.ndarray  # (3,)

    def to_camera(self, points_world: np.ndarray) -> np.ndarray:
        return (points_world - self.position) @ self.rotation

    def vector_to_camera(self, vectors_world: np.ndarray) -> np.ndarray:
        return vectors_world @ self.rotation


@dataclass
class Lighting:
    sun_direction: np.ndarray  # (3,) unit, towards the light (world)
    sun_rgb: np.ndarray  # (3,) intensity per channel
    lamp_position: np.ndarray  # (3,) world
    lamp_rgb: np.ndarray  # (3,) intensity at 1 m
    ambient_rgb: np.ndarray  # (3,)
    sensor_noise: float  # std of the colour noise in 0-255 units
    blur: float = 0.0  # 0 = sharp, 1 = one pass of a [1, 2, 1] / 4 filter (optics, demosaicing)


@dataclass
class Box:
    centre: np.ndarray  # (3,) world
    rotation: np.ndarray  # (3, 3) columns = box axes
    half_extent: np.ndarray  # (3,)
    material: Material


@dataclass
class Cylinder:
    """Flat-capped cylinder (bin, pot, pole) between two axis end points (world)."""

    a: np.ndarray
    b: np.ndarray
    radius_m: float
    material: Material


@dataclass
class Room:
    plane_normals: np.ndarray  # (k, 3) world, pointing into the room
    plane_offsets: np.ndarray  # (k,) n . p = offset on the plane
    materials: list[Material]
    yaw: float
    centre: np.ndarray  # (2,) xy of the room centre
    half_size: np.ndarray  # (2,) half extents along the room axes

    def inside(self, xy: np.ndarray, margin_m: float) -> bool:
        local = rot_z(-self.yaw)[:2, :2] @ (np.asarray(xy) - self.centre)
        return bool(np.all(np.abs(local) <= self.half_size - margin_m))


@dataclass
class Clothing:
    """Material per body part (indexed by body.PARTS) and the accessories worn."""

    part_materials: list[Material]
    accessories: Accessories = field(default_factory=Accessories)


@dataclass
class Person:
    shape: BodyShape
    pose: Pose
    kind: str
    body: PosedBody
    clothing: Clothing
    track_id: int = 0


@dataclass
class PeopleScene:
    camera: Camera
    room: Room
    boxes: list[Box]
    lighting: Lighting
    people: list[Person] = field(default_factory=list)
    cylinders: list[Cylinder] = field(default_factory=list)


def _rgb(rng: np.random.Generator, lo: float = 0.05, hi: float = 0.95) -> tuple[float, ...]:
    """A colour with brightness in [lo, hi], mostly muted (low saturation), sometimes vivid."""
    value = rng.uniform(lo, hi)
    saturation = rng.random() ** 1.6
    hue = rng.uniform(0.0, 6.0)
    rgb = np.clip(np.abs(np.mod(hue + np.array([0.0, 4.0, 2.0]), 6.0) - 3.0) - 1.0, 0.0, 1.0)
    return tuple(float(x) for x in value * (1.0 - saturation + saturation * rgb))


def _textured(
    rng: np.random.Generator,
    base: tuple[float, ...],
    patterns: tuple[int, ...],
    probabilities: tuple[float, ...],
    scale_range_m: tuple[float, float],
    axis: tuple[float, float, float] = (0.0, 0.0, 1.0),
) -> Material:
    pattern = int(rng.choice(patterns, p=probabilities))
    second = tuple(
        float(x)
        for x in np.clip(
            np.asarray(base) * rng.uniform(0.3, 0.8) + rng.uniform(0.0, 0.5, 3) * rng.random(), 0, 1
        )
    )
    if rng.random() < 0.4:
        second = _rgb(rng)
    return Material(base, second, pattern, float(rng.uniform(*scale_range_m)), axis)


_SKIN_LIGHT = np.array([0.96, 0.80, 0.69])
_SKIN_DARK = np.array([0.30, 0.19, 0.13])
_HAIR_COLOURS = (
    (0.05, 0.04, 0.03),
    (0.25, 0.15, 0.08),
    (0.45, 0.3, 0.15),
    (0.8, 0.65, 0.4),
    (0.6, 0.6, 0.6),
    (0.5, 0.2, 0.08),
)


def sample_clothing(rng: np.random.Generator) -> Clothing:
    skin = Material(
        tuple(float(x) for x in _SKIN_LIGHT + rng.random() * (_SKIN_DARK - _SKIN_LIGHT))
    )
    hair = Material(_HAIR_COLOURS[int(rng.integers(len(_HAIR_COLOURS)))])
    top = _textured(
        rng, _rgb(rng), (PLAIN, STRIPES, CHECKS, NOISE), (0.45, 0.25, 0.15, 0.15), (0.03, 0.12)
    )
    bottom = _textured(
        rng,
        _rgb(rng, 0.05, 0.7),
        (PLAIN, STRIPES, CHECKS, NOISE),
        (0.7, 0.08, 0.1, 0.12),
        (0.02, 0.08),
        axis=(1.0, 0.0, 0.0),
    )
    shoes = Material(_rgb(rng, 0.02, 0.6))
    long_sleeves = rng.random() < 0.6
    long_legs = rng.random() < 0.75
    by_part = {
        "head": skin, "hair": hair if rng.random() < 0.9 else skin, "neck": skin,
        "chest": top, "waist": top, "pelvis": bottom, "shoulders": top,
        "left_upper_arm": top, "right_upper_arm": top,
        "left_forearm": top if long_sleeves else skin,
        "right_forearm": top if long_sleeves else skin,
        "left_hand": skin, "right_hand": skin,
        "left_thigh": bottom, "right_thigh": bottom,
        "left_shank": bottom if long_legs else skin,
        "right_shank": bottom if long_legs else skin,
        "left_foot": shoes, "right_foot": shoes,
        "hat": _textured(rng, _rgb(rng), (PLAIN, STRIPES, NOISE), (0.6, 0.2, 0.2), (0.02, 0.06)),
        "bag": _textured(rng, _rgb(rng, 0.05, 0.6), (PLAIN, NOISE), (0.7, 0.3), (0.02, 0.05)),
    }  # fmt: skip
    accessories = Accessories(
        hair=by_part["hair"] is hair,
        long_hair=bool(rng.random() < 0.25),
        hat=bool(rng.random() < 0.1),
        backpack=bool(rng.random() < 0.15),
    )
    materials = [by_part[name] for name in sorted(PART, key=PART.get)]
    return Clothing(materials, accessories if accessories.hair else Accessories(hair=False))


def sample_camera(rng: np.random.Generator) -> Camera:
    """Robot-height camera above the world origin looking along +x, pitched towards people."""
    height = rng.uniform(*CAMERA_HEIGHT_RANGE_M)
    pitch = float(np.clip(np.arctan2(1.0 - height, 3.5) + rng.normal(0.0, 0.08), -0.45, 0.3))
    roll = rng.normal(0.0, 0.03)
    forward = np.array([np.cos(pitch), 0.0, np.sin(pitch)])
    right0 = np.array([0.0, -1.0, 0.0])
    down0 = np.array([np.sin(pitch), 0.0, -np.cos(pitch)])
    right = np.cos(roll) * right0 + np.sin(roll) * down0
    down = -np.sin(roll) * right0 + np.cos(roll) * down0
    return Camera(np.stack([right, down, forward], axis=1), np.array([0.0, 0.0, height]))


def sample_room(rng: np.random.Generator) -> Room:
    yaw = float(rng.uniform(-0.5, 0.5))
    ahead = rng.uniform(6.5, 9.5)
    behind = rng.uniform(0.6, 2.5)
    left = rng.uniform(3.0, 6.0)
    right = rng.uniform(3.0, 6.0)
    ceiling = rng.uniform(2.4, 3.4)
    axis_x = np.array([np.cos(yaw), np.sin(yaw), 0.0])
    axis_y = np.array([-np.sin(yaw), np.cos(yaw), 0.0])
    up = np.array([0.0, 0.0, 1.0])
    normals = np.stack([up, -up, -axis_x, axis_x, -axis_y, axis_y])
    offsets = np.array([0.0, -ceiling, -ahead, -behind, -left, -right])
    wall_colour = _rgb(rng, 0.3, 0.95)
    floor = _textured(
        rng,
        _rgb(rng, 0.15, 0.8),
        (PLAIN, STRIPES, CHECKS, NOISE),
        (0.15, 0.3, 0.35, 0.2),
        (0.15, 0.8),
        axis=tuple(axis_x),
    )
    walls = [
        _textured(
            rng,
            wall_colour,
            (PLAIN, STRIPES, NOISE, CHECKS),
            (0.4, 0.25, 0.25, 0.1),
            (0.08, 0.6),
            axis=tuple(axis_y if k < 2 else axis_x),
        )
        if rng.random() < 0.7 or k == 0
        else Material(_rgb(rng, 0.3, 0.95))
        for k in range(4)
    ]
    ceiling_mat = Material(tuple(float(x) for x in rng.uniform(0.75, 0.98, 3)))
    centre_local = np.array([(ahead - behind) / 2, (left - right) / 2])
    centre = rot_z(yaw)[:2, :2] @ centre_local
    half = np.array([(ahead + behind) / 2, (left + right) / 2])
    return Room(normals, offsets, [floor, ceiling_mat, *walls], yaw, centre, half)


def sample_lighting(rng: np.random.Generator, room: Room) -> Lighting:
    elevation = rng.uniform(0.35, 1.35)
    azimuth = rng.uniform(0, 2 * np.pi)
    sun = np.array(
        [
            np.cos(elevation) * np.cos(azimuth),
            np.cos(elevation) * np.sin(azimuth),
            np.sin(elevation),
        ]
    )
    tint = rng.uniform(0.85, 1.15, 3)
    brightness = rng.uniform(0.5, 1.2)
    lamp = np.array([*(room.centre + rng.uniform(-2.0, 2.0, 2)), -room.plane_offsets[1] - 0.3])
    return Lighting(
        sun_direction=sun,
        sun_rgb=brightness * rng.uniform(0.3, 0.75) * tint,
        lamp_position=lamp,
        lamp_rgb=brightness * rng.uniform(0.0, 6.0) * rng.uniform(0.85, 1.15, 3),
        ambient_rgb=brightness * rng.uniform(0.25, 0.55) * tint,
        sensor_noise=float(rng.uniform(1.0, 4.0)),
        blur=float(rng.uniform(0.3, 1.0)) if rng.random() < 0.7 else 0.0,
    )


def sample_people_count(rng: np.random.Generator) -> int:
    group = int(rng.choice(len(COUNT_GROUPS), p=[g[0] for g in COUNT_GROUPS]))
    counts = COUNT_GROUPS[group][1]
    return int(counts[int(rng.integers(len(counts)))])


def sample_position(
    rng: np.random.Generator, room: Room, taken: list[np.ndarray], spread: float = 1.1
) -> np.ndarray | None:
    """A floor point 1-6 m ahead, mostly inside the field of view, clear of other people."""
    for _ in range(40):
        near_m, far_m = PERSON_DISTANCE_RANGE_M
        distance = near_m + (far_m - near_m) * rng.beta(1.4, 1.7)  # mode near 2.5 m
        lateral = distance * HALF_FOV_TAN * rng.uniform(-spread, spread)
        xy = np.array([distance, lateral])
        if not room.inside(xy, 0.45):
            continue
        if all(np.linalg.norm(xy - other) >= MIN_PERSON_SEPARATION_M for other in taken):
            return xy
    return None


def facing_yaw(rng: np.random.Generator, xy: np.ndarray) -> float:
    """Half of the people roughly face the camera, the others face anywhere."""
    towards_camera = float(np.arctan2(-xy[1], -xy[0]))
    if rng.random() < 0.5:
        return towards_camera + rng.normal(0.0, 0.5)
    return float(rng.uniform(-np.pi, np.pi))


def chair_boxes(person: Person, rng: np.random.Generator) -> list[Box]:
    """A seat under a sitting person's thighs and a back rest behind them."""
    body = person.body
    kp = body.keypoints
    hips = 0.5 * (kp[11] + kp[12])
    knees = 0.5 * (kp[13] + kp[14])
    r = person.shape.limb_radius_m
    seat_top = min(kp[11, 2], kp[12, 2]) - r
    r_w = rot_z(body.yaw)
    forward = r_w[:, 0]
    depth = max(0.3, float(np.dot(knees - hips, forward)) * 0.9)
    centre_xy = hips[:2] + forward[:2] * (depth / 2 - 0.1)
    material = Material(
        _rgb(rng, 0.1, 0.7), pattern=NOISE, scale_m=0.03, colour2=_rgb(rng, 0.1, 0.7)
    )
    half_width = 0.24 * person.shape.height_m / 1.75 + 0.05
    seat = Box(
        np.array([*centre_xy, seat_top / 2]),
        r_w,
        np.array([depth / 2 + 0.05, half_width, seat_top / 2]),
        material,
    )
    boxes = [seat]
    if rng.random() < 0.7:
        back_h = 0.5 * person.shape.torso_m
        back_xy = hips[:2] - forward[:2] * (0.15 + 0.06 * person.shape.girth)
        boxes.append(
            Box(
                np.array([*back_xy, seat_top + back_h / 2]),
                r_w,
                np.array([0.025, half_width, back_h / 2]),
                material,
            )
        )
    return boxes


def _wall_point(
    rng: np.random.Generator, room: Room, half: np.ndarray, wall: int
) -> tuple[np.ndarray, np.ndarray]:
    """xy against one wall (0 far, 1 back, 2 left, 3 right) and the box rotation facing it."""
    sign = 1.0 if wall % 2 == 0 else -1.0
    axis = 0 if wall < 2 else 1
    local = rng.uniform(-1.0, 1.0, 2) * np.maximum(room.half_size - half[:2].max() - 0.05, 0.0)
    local[axis] = sign * (room.half_size[axis] - (half[0] if axis == 0 else half[1]) - 0.01)
    return room.centre + rot_z(room.yaw)[:2, :2] @ local, rot_z(room.yaw)


def _wall_items(rng: np.random.Generator, room: Room) -> list[Box]:
    """Doors, pictures and windows: thin boxes on the walls (textures the network must ignore)."""
    boxes = []
    for _ in range(int(rng.integers(0, 5))):
        wall = int(rng.choice(4, p=(0.4, 0.0, 0.3, 0.3)))
        kind = rng.choice(3, p=(0.25, 0.5, 0.25))
        if kind == 0:  # door
            width, height, bottom = rng.uniform(0.8, 1.0), rng.uniform(1.95, 2.15), 0.0
            material = _textured(
                rng, _rgb(rng, 0.2, 0.9), (PLAIN, STRIPES, NOISE), (0.5, 0.25, 0.25), (0.05, 0.2)
            )
        elif kind == 1:  # picture / poster
            width, height = rng.uniform(0.3, 1.4), rng.uniform(0.3, 1.0)
            bottom = rng.uniform(0.9, 1.6)
            material = _textured(
                rng,
                _rgb(rng),
                (NOISE, STRIPES, CHECKS),
                (0.5, 0.3, 0.2),
                (0.02, 0.25),
                axis=tuple(rng.normal(size=3)),
            )
        else:  # window: bright
            width, height, bottom = rng.uniform(0.8, 2.0), rng.uniform(0.8, 1.5), 0.8
            material = Material(tuple(float(x) for x in rng.uniform(0.8, 1.0, 3) * 1.4))
        half_along, half_thick = width / 2, rng.uniform(0.01, 0.04)
        half = (
            np.array([half_thick, half_along, height / 2])
            if wall < 2
            else np.array([half_along, half_thick, height / 2])
        )
        xy, r_w = _wall_point(rng, room, half, wall)
        boxes.append(Box(np.array([xy[0], xy[1], bottom + height / 2]), r_w, half, material))
    return boxes


def _clear(xy: np.ndarray, radius: float, room: Room, keep_clear: list[np.ndarray]) -> bool:
    if not room.inside(xy, 0.0) or np.linalg.norm(xy) < radius + 0.6:
        return False
    return all(np.linalg.norm(xy - other) >= radius + 0.45 for other in keep_clear)


def sample_clutter(rng: np.random.Generator, room: Room, keep_clear: list[np.ndarray]) -> list[Box]:
    """Cabinets, tables, boxes and wall items, away from people and the camera."""
    boxes = _wall_items(rng, room)
    for _ in range(int(rng.integers(0, 7))):
        r_w = rot_z(room.yaw + (rng.uniform(-0.6, 0.6) if rng.random() < 0.4 else 0.0))
        base = _rgb(rng, 0.1, 0.9)
        material = _textured(
            rng, base, (PLAIN, NOISE, STRIPES, CHECKS), (0.4, 0.3, 0.2, 0.1), (0.03, 0.3)
        )
        if rng.random() < 0.3:  # table: a top on four legs
            half = np.array([rng.uniform(0.3, 0.8), rng.uniform(0.25, 0.45), 0.02])
            top_z = rng.uniform(0.45, 0.76)
            xy = np.array([rng.uniform(1.5, 8.0), rng.uniform(-4.0, 4.0)])
            if not _clear(xy, float(np.linalg.norm(half[:2])), room, keep_clear):
                continue
            boxes.append(Box(np.array([*xy, top_z - half[2]]), r_w, half, material))
            leg = np.array([0.025, 0.025, (top_z - 2 * half[2]) / 2])
            for sx in (-1, 1):
                for sy in (-1, 1):
                    offset = r_w[:2, :2] @ (np.array([sx, sy]) * (half[:2] - 0.05))
                    boxes.append(Box(np.array([*(xy + offset), leg[2]]), r_w, leg, material))
            continue
        half = np.array([rng.uniform(0.15, 0.7), rng.uniform(0.15, 0.6), rng.uniform(0.1, 0.9)])
        if rng.random() < 0.5:
            xy, r_w = _wall_point(rng, room, half, int(rng.integers(4)))
        else:
            xy = np.array([rng.uniform(1.0, 8.0), rng.uniform(-4.0, 4.0)])
        if not _clear(xy, float(np.linalg.norm(half[:2])), room, keep_clear):
            continue
        boxes.append(Box(np.array([xy[0], xy[1], half[2]]), r_w, half, material))
    return boxes


def sample_cylinders(
    rng: np.random.Generator, room: Room, keep_clear: list[np.ndarray]
) -> list[Cylinder]:
    """Bins, pots and the odd pillar standing on the floor."""
    cylinders = []
    ceiling = -room.plane_offsets[1]
    for _ in range(int(rng.integers(0, 4))):
        pillar = rng.random() < 0.2
        radius = rng.uniform(0.15, 0.35) if pillar else rng.uniform(0.12, 0.3)
        height = ceiling if pillar else rng.uniform(0.25, 0.9)
        xy = np.array([rng.uniform(1.0, 8.0), rng.uniform(-4.0, 4.0)])
        if not _clear(xy, radius, room, keep_clear):
            continue
        material = _textured(
            rng, _rgb(rng, 0.1, 0.9), (PLAIN, NOISE, STRIPES), (0.5, 0.3, 0.2), (0.02, 0.2)
        )
        cylinders.append(
            Cylinder(np.array([*xy, 0.0]), np.array([*xy, height]), float(radius), material)
        )
    return cylinders


def make_person(
    rng: np.random.Generator, xy: np.ndarray, yaw: float, kind: str | None = None, track_id: int = 0
) -> Person:
    shape = BodyShape.sample(rng)
    pose, kind = sample_pose(rng, kind)
    clothing = sample_clothing(rng)
    body = pose_body(shape, pose, xy, yaw, clothing.accessories)
    return Person(shape, pose, kind, body, clothing, track_id)


def sample_scene(rng: np.random.Generator, num_people: int | None = None) -> PeopleScene:
    camera = sample_camera(rng)
    room = sample_room(rng)
    lighting = sample_lighting(rng, room)
    count = sample_people_count(rng) if num_people is None else int(num_people)
    people: list[Person] = []
    taken: list[np.ndarray] = []
    boxes: list[Box] = []
    for index in range(count):
        # The first person stands well inside the view, so that nearly every frame has one.
        xy = sample_position(rng, room, taken, spread=0.75 if index == 0 else 1.1)
        if xy is None:
            continue
        taken.append(xy)
        person = make_person(rng, xy, facing_yaw(rng, xy), track_id=index)
        people.append(person)
        if person.pose.sitting:
            boxes.extend(chair_boxes(person, rng))
    boxes.extend(sample_clutter(rng, room, taken))
    cylinders = sample_cylinders(rng, room, taken)
    return PeopleScene(camera, room, boxes, lighting, people, cylinders)
