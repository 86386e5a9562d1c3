"""Egocentric scene sampling: head pose, room, table, clutter and up to two posed hands.

Everything here is resolution independent: a scene is sampled once from its random stream and
can then be rendered at any image size. Geometry lives in the camera optical frame (x right,
y down, z forward); the "body" frame is gravity aligned (x right, y down, z forward horizontal)
and shares its origin with the camera (the head).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from hand_pose_ros.core.skeletons import HAND_KEYPOSES
from hand_pose_ros.synthetic import hand_kinematics as hk
from hand_pose_ros.synthetic.ray_casting import PrimitiveSet

# Object ids in the rendered object map. Segmentation: LEFT_HAND -> 1, RIGHT_HAND -> 2.
BACKGROUND_ID = 0
LEFT_HAND_ID = 1
RIGHT_HAND_ID = 2
LEFT_FOREARM_ID = 3
RIGHT_FOREARM_ID = 4
TABLE_ID = 5
FIRST_CLUTTER_ID = 6

HAND_COUNT_PROBABILITIES = (0.10, 0.40, 0.50)
CANONICAL_TAN_HALF_FOV = (np.tan(np.deg2rad(35.0)), np.tan(np.deg2rad(35.0)) * 0.75)
MIN_KEYPOINTS_IN_VIEW = 5
SHOULDER_BODY_M = np.array([0.19, 0.24, -0.03])  # right shoulder relative to the camera (head)
UPPER_ARM_LENGTH_RANGE_M = (0.2, 0.38)
UPPER_ARM_RADIUS_M = 0.036
UPPER_ARM_NEAR_M = 0.06
_MIRROR_X = np.diag([-1.0, 1.0, 1.0])


def rotation_x(angle_rad: float) -> np.ndarray:
    c, s = np.cos(angle_rad), np.sin(angle_rad)
    return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])


def rotation_y(angle_rad: float) -> np.ndarray:
    c, s = np.cos(angle_rad), np.sin(angle_rad)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


def rotation_z(angle_rad: float) -> np.ndarray:
    """Rotation about z turning +y towards +x (hand abduction / wrist deviation sense)."""
    c, s = np.cos(angle_rad), np.sin(angle_rad)
    return np.array([[c, s, 0.0], [-s, c, 0.0], [0.0, 0.0, 1.0]])


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


@dataclass
class HandInstance:
    """One posed hand in the camera frame."""

    side: int  # 0 left, 1 right
    keypose: int
    keypoints_xyz_m: np.ndarray  # (21, 3)
    rotation: np.ndarray  # (3, 3) hand frame -> camera (proper rotation; left uses mirrored model)
    wrist_m: np.ndarray  # (3,)
    shape: hk.HandShape
    forearm_dir_model: np.ndarray  # (3,) towards the elbow, in the right-hand model frame
    shoulder_m: np.ndarray | None = None  # (3,) camera frame; the upper arm joins it to the elbow
    sleeve: tuple[float, float] | None = None  # (start from the wrist, radius) metres

    def elbow_m(self) -> np.ndarray:
        return _forearm_segment(self)[1]

    def upper_arm(self) -> tuple[np.ndarray, np.ndarray] | None:
        """Elbow and shoulder ends of the upper arm, cut off just in front of the camera."""
        if self.shoulder_m is None:
            return None
        elbow, shoulder = self.elbow_m(), self.shoulder_m
        if elbow[2] < UPPER_ARM_NEAR_M:
            return None
        if shoulder[2] < UPPER_ARM_NEAR_M:
            shoulder = elbow + (shoulder - elbow) * (
                (elbow[2] - UPPER_ARM_NEAR_M) / (elbow[2] - shoulder[2]))
        return elbow, shoulder

    def add_primitives(self, prims: PrimitiveSet) -> None:
        model = hk.hand_primitives(self.shape, self.model_keypoints(), self.forearm_dir_model)
        mirror = _MIRROR_X if self.side == 0 else np.eye(3)
        to_cam = self.rotation @ mirror
        a = model.capsule_a @ to_cam.T + self.wrist_m
        b = model.capsule_b @ to_cam.T + self.wrist_m
        hand_id = LEFT_HAND_ID if self.side == 0 else RIGHT_HAND_ID
        forearm_id = LEFT_FOREARM_ID if self.side == 0 else RIGHT_FOREARM_ID
        ids = np.where(model.capsule_is_hand, hand_id, forearm_id).astype(np.int32)
        prims.add_capsules(a, b, model.capsule_radius, ids)
        centres = model.ellipsoid_centre @ to_cam.T + self.wrist_m
        # Axis-aligned ellipsoids are mirror symmetric, so only the rotation enters the matrix.
        matrices = (1.0 / model.ellipsoid_semi_axes)[:, :, None] * self.rotation.T[None]
        prims.add_ellipsoids(centres, matrices, hand_id)
        # Forearm spheroid: M = I / radius + (1 / semi_length - 1 / radius) * axis axis^T.
        axis = to_cam @ model.forearm_axis
        matrix = np.eye(3) / model.forearm_radius_m + (
            1.0 / model.forearm_semi_length_m - 1.0 / model.forearm_radius_m) * np.outer(axis, axis)
        prims.add_ellipsoids(to_cam @ model.forearm_centre + self.wrist_m, matrix, forearm_id)
        upper_radius = UPPER_ARM_RADIUS_M * self.shape.scale
        if self.sleeve is not None:
            start_m, sleeve_radius = self.sleeve
            elbow = self.elbow_m()
            direction = _unit(elbow - self.wrist_m)
            prims.add_capsules(self.wrist_m + start_m * direction, elbow, sleeve_radius, forearm_id)
            upper_radius = max(upper_radius, sleeve_radius + 0.004)
        upper = self.upper_arm()
        if upper is not None:
            prims.add_capsules(upper[0], upper[1], upper_radius, forearm_id)

    def rotated(self, rotation: np.ndarray) -> HandInstance:
        """The same hand seen from a camera turned by rotation.T (p_new = rotation @ p)."""
        shoulder = None if self.shoulder_m is None else rotation @ self.shoulder_m
        return HandInstance(self.side, self.keypose, self.keypoints_xyz_m @ rotation.T,
                            rotation @ self.rotation, rotation @ self.wrist_m, self.shape,
                            self.forearm_dir_model, shoulder, self.sleeve)

    def model_keypoints(self) -> np.ndarray:
        """Keypoints back in the right-hand model frame."""
        mirror = _MIRROR_X if self.side == 0 else np.eye(3)
        return (self.keypoints_xyz_m - self.wrist_m) @ (self.rotation @ mirror)


@dataclass
class Background:
    """Room planes (camera frame) and clutter; see ray_casting.cast_planes."""

    plane_normals: np.ndarray  # (p, 3)
    plane_offsets: np.ndarray  # (p,)
    plane_bounds: list
    plane_ids: np.ndarray  # (p,)
    clutter: list = field(default_factory=list)  # (kind, params, object id)

    def rotated(self, rotation: np.ndarray) -> Background:
        """The same room seen from a camera turned by rotation.T (p_new = rotation @ p)."""
        bounds = [None if b is None else (b[0] @ rotation.T, b[1], b[2]) for b in self.plane_bounds]
        clutter = []
        for kind, params, object_id in self.clutter:
            if kind == "box":
                new = (rotation @ params[0], rotation @ params[1], params[2])
            elif kind == "sphere":
                new = (rotation @ params[0], params[1])
            else:
                new = (rotation @ params[0], rotation @ params[1], params[2])
            clutter.append((kind, new, object_id))
        return Background(self.plane_normals @ rotation.T, self.plane_offsets, bounds,
                          self.plane_ids, clutter)

    def add_primitives(self, prims: PrimitiveSet) -> None:
        for kind, params, object_id in self.clutter:
            if kind == "box":
                prims.add_box(params[0], params[1], params[2], object_id)
            elif kind == "sphere":
                prims.add_capsules(params[0], params[0], params[1], object_id)
            elif kind == "cylinder":
                prims.add_cylinder(params[0], params[1], params[2], object_id)
            else:  # "capsule" (pens, sticks: finger-like distractors)
                prims.add_capsules(params[0], params[1], params[2], object_id)


@dataclass
class Scene:
    body_from_camera: np.ndarray  # (3, 3)
    background: Background
    hands: list[HandInstance]
    dark_object_ids: tuple[int, ...]  # low-reflectivity objects (mostly missing ToF returns)

    def rotated(self, rotation: np.ndarray) -> Scene:
        """The scene seen by the camera turned by rotation.T (a head rotation)."""
        return Scene(self.body_from_camera @ rotation.T, self.background.rotated(rotation),
                     [hand.rotated(rotation) for hand in self.hands], self.dark_object_ids)

    def primitives(self) -> PrimitiveSet:
        prims = PrimitiveSet()
        for hand in self.hands:
            hand.add_primitives(prims)
        self.background.add_primitives(prims)
        return prims


def sample_camera(rng: np.random.Generator) -> np.ndarray:
    """Head-mounted camera looking down/forward: body_from_camera rotation."""
    pitch = np.deg2rad(rng.uniform(12.0, 55.0))
    yaw = np.deg2rad(rng.normal(0.0, 8.0))
    roll = np.deg2rad(rng.normal(0.0, 5.0))
    # rotation_x(-pitch) tilts the optical axis (+z) down towards +y; roll turns about +z.
    return rotation_y(yaw) @ rotation_x(-pitch) @ rotation_z(roll)


def in_view_count(points_xyz_m: np.ndarray) -> int:
    """Keypoints inside the canonical 4:3, 70 degree view (resolution independent)."""
    z = points_xyz_m[:, 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        inside = (
            (z > 0.05)
            & (np.abs(points_xyz_m[:, 0] / z) < CANONICAL_TAN_HALF_FOV[0])
            & (np.abs(points_xyz_m[:, 1] / z) < CANONICAL_TAN_HALF_FOV[1])
        )
    return int(inside.sum())


def _supination_rad(rng: np.random.Generator) -> float:
    """Forearm roll: 0 = palm down (back of hand to the camera), pi = palm up."""
    mode = rng.random()
    if mode < 0.5:
        deg = rng.normal(0.0, 30.0)
    elif mode < 0.75:
        deg = rng.normal(85.0, 25.0)
    else:
        deg = rng.normal(165.0, 30.0)
    return float(np.deg2rad(np.clip(deg, -70.0, 200.0)))


def place_hand(side: int, keypose: int, shape: hk.HandShape, pose: hk.HandPose,
               wrist_m: np.ndarray, elbow_m: np.ndarray, down_cam: np.ndarray,
               supination_rad: float, wrist_flex_rad: float,
               wrist_deviation_rad: float, shoulder_m: np.ndarray | None = None,
               sleeve: tuple[float, float] | None = None) -> HandInstance:
    """Orient a posed hand from its forearm (elbow -> wrist), forearm roll and wrist bend."""
    sign = 1.0 if side == 1 else -1.0
    forward = _unit(wrist_m - elbow_m)
    g_perp = down_cam - np.dot(down_cam, forward) * forward
    if np.linalg.norm(g_perp) < 1e-3:  # forearm along gravity: any reference will do
        g_perp = np.array([0.0, 0.0, 1.0]) - forward[2] * forward
    g_perp = _unit(g_perp)
    medial_right = np.cross(forward, g_perp)
    palm = np.cos(supination_rad) * g_perp + sign * np.sin(supination_rad) * medial_right
    forearm_rot = np.stack([np.cross(forward, palm), forward, palm], axis=1)
    # The left model is mirrored in x, so its deviation angle flips sign to stay a mirror image.
    rotation = forearm_rot @ rotation_z(sign * wrist_deviation_rad) @ rotation_x(wrist_flex_rad)
    keypoints_model = hk.forward_kinematics(shape, pose)
    mirror = _MIRROR_X if side == 0 else np.eye(3)
    keypoints = keypoints_model @ (rotation @ mirror).T + wrist_m
    forearm_dir_model = mirror @ (rotation.T @ -forward)
    return HandInstance(side, keypose, keypoints, rotation, np.asarray(wrist_m, float), shape,
                        forearm_dir_model, shoulder_m, sleeve)


@dataclass(frozen=True)
class HandParams:
    """Everything that determines one posed hand (sequences animate these)."""

    side: int
    keypose: int
    shape: hk.HandShape
    pose: hk.HandPose
    wrist_m: np.ndarray  # camera frame
    elbow_m: np.ndarray  # camera frame
    supination_rad: float
    wrist_flex_rad: float
    wrist_deviation_rad: float
    sleeve: tuple[float, float] | None = None  # see HandInstance

    def place(self, body_from_camera: np.ndarray) -> HandInstance:
        down_cam = body_from_camera.T @ np.array([0.0, 1.0, 0.0])
        mirror = np.array([1.0 if self.side == 1 else -1.0, 1.0, 1.0])
        shoulder = body_from_camera.T @ (SHOULDER_BODY_M * mirror)
        return place_hand(self.side, self.keypose, self.shape, self.pose, self.wrist_m,
                          self.elbow_m, down_cam, self.supination_rad, self.wrist_flex_rad,
                          self.wrist_deviation_rad, shoulder, self.sleeve)


def sample_hand_params(rng: np.random.Generator, side: int,
                       body_from_camera: np.ndarray) -> HandParams:
    """Wrist 0.15-0.8 m away, side-biased direction, forearm from a plausible elbow."""
    sign = 1.0 if side == 1 else -1.0
    distance = 0.15 + 0.65 * rng.beta(2.0, 2.6)
    direction = _unit(np.array([rng.normal(sign * 0.2, 0.22), rng.normal(0.10, 0.22), 1.0]))
    elbow_body = np.array([sign * 0.20, 0.42, 0.08]) + rng.normal(0.0, [0.08, 0.06, 0.08])
    keypose = int(rng.integers(len(HAND_KEYPOSES)))
    shape = hk.sample_hand_shape(rng)
    # Half the arms wear a sleeve: a wider cylinder starting somewhere up the forearm.
    sleeve = None
    if rng.random() < 0.5:
        sleeve = (float(rng.uniform(0.04, 0.2)), float(rng.uniform(0.038, 0.055) * shape.scale))
    return HandParams(
        side, keypose, shape, hk.sample_pose(keypose, rng),
        distance * direction, body_from_camera.T @ elbow_body, _supination_rad(rng),
        float(np.deg2rad(rng.uniform(-40.0, 35.0))), float(np.deg2rad(rng.uniform(-15.0, 15.0))),
        sleeve,
    )


def hand_is_acceptable(hand: HandInstance, others: list[HandInstance]) -> bool:
    """In view (>= 5 keypoints), not too close to the camera, not colliding with other hands."""
    if hand.keypoints_xyz_m[:, 2].min() < 0.08:
        return False
    if in_view_count(hand.keypoints_xyz_m) < MIN_KEYPOINTS_IN_VIEW:
        return False
    if hand.shoulder_m is not None:
        upper_arm_m = np.linalg.norm(hand.shoulder_m - hand.elbow_m())
        if not UPPER_ARM_LENGTH_RANGE_M[0] <= upper_arm_m <= UPPER_ARM_LENGTH_RANGE_M[1]:
            return False
    return not any(_hands_collide(hand, other) for other in others)


def sample_hand(rng: np.random.Generator, side: int, body_from_camera: np.ndarray,
                others: list[HandInstance]) -> tuple[HandParams, HandInstance] | None:
    for _ in range(40):
        params = sample_hand_params(rng, side, body_from_camera)
        if np.linalg.norm(params.wrist_m - params.elbow_m) < 0.12:
            continue
        hand = params.place(body_from_camera)
        if hand_is_acceptable(hand, others):
            return params, hand
    return None


def _segment_point_distance(a: np.ndarray, b: np.ndarray, points: np.ndarray) -> np.ndarray:
    ab = b - a
    t = np.clip(((points - a) @ ab) / np.dot(ab, ab), 0.0, 1.0)
    return np.linalg.norm(points - (a + t[:, None] * ab), axis=1)


def _forearm_segment(hand: HandInstance) -> tuple[np.ndarray, np.ndarray]:
    mirror = _MIRROR_X if hand.side == 0 else np.eye(3)
    direction = hand.rotation @ mirror @ hand.forearm_dir_model
    return hand.wrist_m + 0.03 * direction, hand.wrist_m + hk.FOREARM_LENGTH_M * direction


def _hands_collide(a: HandInstance, b: HandInstance) -> bool:
    gaps = np.linalg.norm(a.keypoints_xyz_m[:, None] - b.keypoints_xyz_m[None], axis=2)
    if gaps.min() < 0.03:
        return True
    for one, two in ((a, b), (b, a)):
        fa, fb = _forearm_segment(one)
        if _segment_point_distance(fa, fb, two.keypoints_xyz_m).min() < 0.045:
            return True
    fa, fb = _forearm_segment(a)
    ga, gb = _forearm_segment(b)
    samples = fa + np.linspace(0.0, 1.0, 8)[:, None] * (fb - fa)
    return bool(_segment_point_distance(ga, gb, samples).min() < 0.065)


def _arm_samples(hands: list[HandInstance]) -> tuple[np.ndarray, np.ndarray]:
    """Points (camera frame) along hands, forearms and upper arms, with the limb radius there.

    Used to keep the table below the arms and clutter out of them.
    """
    points, radii = [np.zeros((0, 3))], [np.zeros(0)]
    along = np.linspace(0.0, 1.0, 7)[:, None]
    for hand in hands:
        points.append(hand.keypoints_xyz_m)
        radii.append(np.full(21, 0.014 * hand.shape.scale))
        segments = [_forearm_segment(hand)]
        upper = hand.upper_arm()
        if upper is not None:
            segments.append(upper)
        sleeve_m = 0.0 if hand.sleeve is None else hand.sleeve[1]
        limb_radii = (max(0.032, sleeve_m), max(UPPER_ARM_RADIUS_M, sleeve_m))
        for (a, b), radius in zip(segments, limb_radii):
            points.append(a + along * (b - a))
            radii.append(np.full(along.shape[0], radius * hand.shape.scale))
    return np.concatenate(points), np.concatenate(radii)


def sample_background(rng: np.random.Generator, body_from_camera: np.ndarray,
                       hands: list[HandInstance]) -> tuple[Background, tuple[int, ...]]:
    cam_from_body = body_from_camera.T
    normals, offsets, bounds, ids = [], [], [], []
    arm_points, arm_radii = _arm_samples(hands)
    low = arm_points @ body_from_camera.T
    has_table = rng.random() < 0.85
    table_height = rng.uniform(0.35, 0.80)
    table_near, table_far = rng.uniform(0.05, 0.35), rng.uniform(0.7, 1.4)
    table_left, table_right = -rng.uniform(0.4, 1.2), rng.uniform(0.4, 1.2)
    if has_table and low.shape[0]:
        over = (
            (low[:, 2] > table_near) & (low[:, 2] < table_far)
            & (low[:, 0] > table_left) & (low[:, 0] < table_right)
        )
        if over.any():
            lowest = (low[over, 1] + arm_radii[over]).max()  # skin below the joint centres
            if rng.random() < 0.3:
                table_height = lowest + rng.uniform(0.0, 0.01)  # resting on the table
            else:
                table_height = max(table_height, lowest + rng.uniform(0.01, 0.1))
    floor_height = table_height + rng.uniform(0.65, 0.8) if has_table else rng.uniform(1.1, 1.7)
    if low.shape[0]:
        floor_height = max(floor_height, (low[:, 1] + arm_radii).max() + 0.03)
    up_cam = cam_from_body @ np.array([0.0, -1.0, 0.0])
    axes = np.stack([cam_from_body @ np.array([1.0, 0, 0]), cam_from_body @ np.array([0, 0, 1.0])])
    # Planes: p_body = body_from_camera @ p_cam, so body-axis a gives camera normal cam_from_body@a.
    down = -up_cam
    normals.append(down)
    offsets.append(floor_height)
    bounds.append(None)
    ids.append(BACKGROUND_ID)
    if has_table:
        normals.append(down)
        offsets.append(table_height)
        table_lo, table_hi = np.array([table_left, table_near]), np.array([table_right, table_far])
        bounds.append((axes, table_lo, table_hi))
        ids.append(TABLE_ID)
    wall_index = len(normals)
    wall_yaw = rng.normal(0.0, np.deg2rad(15.0))
    wall_normal_body = np.array([np.sin(wall_yaw), 0.0, np.cos(wall_yaw)])
    normals.append(cam_from_body @ wall_normal_body)
    offsets.append(rng.uniform(max(1.3, table_far + 0.2), 3.6))
    bounds.append(None)
    ids.append(BACKGROUND_ID)
    if rng.random() < 0.5:
        side_sign = rng.choice([-1.0, 1.0])
        normals.append(cam_from_body @ np.array([side_sign, 0.0, 0.0]))
        offsets.append(rng.uniform(0.8, 2.5))
        bounds.append(None)
        ids.append(BACKGROUND_ID)

    clutter = []
    dark = []
    object_id = FIRST_CLUTTER_ID
    # Low-reflectivity flat things (black mats on the table, dark posters on the wall): bounded
    # planes a millimetre in front of their support, mostly giving no ToF return.
    wall_axes = np.stack([cam_from_body @ np.array([np.cos(wall_yaw), 0.0, -np.sin(wall_yaw)]),
                          cam_from_body @ np.array([0.0, 1.0, 0.0])])
    for _ in range(int(rng.integers(0, 3))):
        half = rng.uniform(0.08, 0.35, size=2)
        if has_table and rng.random() < 0.6:
            centre = rng.uniform([table_left, table_near], [table_right, table_far])
            normals.append(down)
            offsets.append(table_height - 0.001)
            bounds.append((axes, centre - half, centre + half))
        else:
            centre = rng.uniform([-1.5, -0.5], [1.5, floor_height - 0.3])
            normals.append(normals[wall_index])
            offsets.append(offsets[wall_index] - 0.002)
            bounds.append((wall_axes, centre - half, centre + half))
        ids.append(object_id)
        dark.append(object_id)
        object_id += 1
    for _ in range(int(rng.integers(0, 8))):
        on_table = has_table and rng.random() < 0.75
        if on_table:
            x = rng.uniform(table_left, table_right)
            z = rng.uniform(table_near + 0.05, table_far)
            support = table_height
        else:
            x = rng.uniform(-1.5, 1.5)
            z = rng.uniform(0.3, 3.0)
            support = floor_height
        kind = rng.choice(["box", "sphere", "cylinder", "capsule"], p=[0.4, 0.2, 0.25, 0.15])
        yaw = rng.uniform(0.0, np.pi)
        if kind == "box":
            half = rng.uniform([0.02, 0.01, 0.02], [0.2, 0.2, 0.2])
            centre_body = np.array([x, support - half[1], z])
            rot_body = rotation_y(yaw)
            params = (cam_from_body @ centre_body, cam_from_body @ rot_body, half)
            bound_r = float(np.linalg.norm(half))
        elif kind == "sphere":
            r = rng.uniform(0.03, 0.12)
            centre_body = np.array([x, support - r, z])
            params = (cam_from_body @ centre_body, r)
            bound_r = r
        elif kind == "cylinder":
            r, h = rng.uniform(0.025, 0.09), rng.uniform(0.05, 0.3)
            a_body = np.array([x, support, z])
            centre_body = a_body - np.array([0.0, h / 2, 0.0])
            params = (cam_from_body @ a_body, cam_from_body @ (a_body - [0.0, h, 0.0]), r)
            bound_r = float(np.hypot(r, h / 2))
        else:
            r, length = rng.uniform(0.004, 0.012), rng.uniform(0.08, 0.2)
            half_axis = 0.5 * length * np.array([np.cos(yaw), 0.0, np.sin(yaw)])
            centre_body = np.array([x, support - r, z])
            params = (cam_from_body @ (centre_body - half_axis),
                      cam_from_body @ (centre_body + half_axis), r)
            bound_r = length / 2 + r
        centre_cam = cam_from_body @ centre_body
        if centre_cam[2] < 0.1 or np.linalg.norm(centre_cam) - bound_r < 0.25:
            continue
        gaps = np.linalg.norm(arm_points - centre_cam, axis=1) - arm_radii
        if gaps.size and gaps.min() < bound_r + 0.01:
            continue
        clutter.append((kind, params, object_id))
        if rng.random() < 0.15:
            dark.append(object_id)
        object_id += 1
    background = Background(np.array(normals), np.array(offsets), bounds, np.array(ids), clutter)
    return background, tuple(dark)


def sample_scene(rng: np.random.Generator) -> Scene:
    """A random egocentric scene with 0, 1 or 2 hands (about 10 / 40 / 50 %)."""
    body_from_camera = sample_camera(rng)
    count = int(rng.choice(3, p=HAND_COUNT_PROBABILITIES))
    sides = [0, 1] if count == 2 else ([int(rng.integers(2))] if count == 1 else [])
    hands: list[HandInstance] = []
    for side in sides:
        sampled = sample_hand(rng, side, body_from_camera, hands)
        if sampled is not None:
            hands.append(sampled[1])
    background, dark = sample_background(rng, body_from_camera, hands)
    return Scene(body_from_camera, background, hands, dark)
