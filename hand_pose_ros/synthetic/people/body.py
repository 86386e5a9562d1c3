"""An articulated human figure: body proportions, joint angles, forward kinematics, solids.

The body frame is gravity aligned with its origin on the floor under the pelvis: x forward (the
way the person faces), y to the person's own **left**, z up. COCO "left_*" keypoints are on the
+y side, so a person facing the camera shows their left shoulder on the image's right.

A pose is a few arrays of angles (radians) so that poses can be blended and animated:
``trunk`` = (bend forward, lean to the left, twist to the left, head yaw left, head pitch down),
``arms[side]`` = (flexion forward, abduction outwards, twist, elbow flexion),
``legs[side]`` = (hip flexion forward, hip abduction outwards, knee flexion), side 0 = left.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hand_pose_ros.core.skeletons import COCO_KEYPOINT_NAMES

NUM_KEYPOINTS = len(COCO_KEYPOINT_NAMES)
KP = {name: i for i, name in enumerate(COCO_KEYPOINT_NAMES)}

# Body parts (a solid's label; visibility checks a keypoint against the parts it belongs to).
PARTS: tuple[str, ...] = (
    "head", "hair", "neck", "chest", "waist", "pelvis", "shoulders",
    "left_upper_arm", "right_upper_arm", "left_forearm", "right_forearm",
    "left_hand", "right_hand", "left_thigh", "right_thigh", "left_shank", "right_shank",
    "left_foot", "right_foot", "hat", "bag",
)  # fmt: skip
PART = {name: i for i, name in enumerate(PARTS)}

_FACE = ("head", "hair", "hat")
KEYPOINT_PARTS: tuple[tuple[str, ...], ...] = (
    _FACE, _FACE, _FACE, _FACE, _FACE,
    ("shoulders", "chest", "left_upper_arm", "neck"),
    ("shoulders", "chest", "right_upper_arm", "neck"),
    ("left_upper_arm", "left_forearm"), ("right_upper_arm", "right_forearm"),
    ("left_forearm", "left_hand"), ("right_forearm", "right_hand"),
    ("pelvis", "waist", "left_thigh"), ("pelvis", "waist", "right_thigh"),
    ("left_thigh", "left_shank"), ("right_thigh", "right_shank"),
    ("left_shank", "left_foot"), ("right_shank", "right_foot"),
)  # fmt: skip
"""Per COCO keypoint, the parts whose visible surface counts as seeing that keypoint."""

# Directions (head frame: x forward, y left, z up) of the face keypoints on the head ellipsoid.
FACE_DIRECTIONS = np.array([
    [1.0, 0.0, -0.3],     # nose
    [1.0, 0.36, 0.12],    # left eye
    [1.0, -0.36, 0.12],   # right eye
    [-0.12, 1.0, 0.0],    # left ear
    [-0.12, -1.0, 0.0],   # right ear
])  # fmt: skip


HEAD_AXIS_RATIOS = (0.43, 0.35, 0.5)
"""Head semi-axes (forward, side, up) as fractions of the chin-to-crown head height."""


def rot_x(a: float) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])


def rot_y(a: float) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


def rot_z(a: float) -> np.ndarray:
    """Counter-clockwise seen from above: turns +x towards +y (the person's left)."""
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


@dataclass(frozen=True)
class BodyShape:
    """Segment lengths and radii in metres (joint centre to joint centre)."""

    height_m: float
    leg_m: float  # hip joint height when standing straight
    thigh_m: float
    shank_m: float
    ankle_height_m: float
    foot_m: float
    torso_m: float  # hip-joint centre line to shoulder-joint centre line
    neck_m: float  # shoulder line to head centre
    head_axes_m: tuple[float, float, float]  # semi-axes forward, side, up
    shoulder_half_m: float
    hip_half_m: float
    upper_arm_m: float
    forearm_m: float
    hand_m: float
    girth: float  # 1 = average build; scales trunk depth and limb radii
    limb_radius_m: float  # thigh radius; other radii are fixed fractions of it

    @classmethod
    def sample(cls, rng: np.random.Generator, child: bool | None = None) -> BodyShape:
        if child is None:
            child = bool(rng.random() < 0.18)
        height = (
            rng.uniform(0.95, 1.5) if child else float(np.clip(rng.normal(1.72, 0.09), 1.5, 1.98))
        )
        # A child's head is proportionally larger; it grows slowly with height.
        head_height = 0.23 * (height / 1.75) ** 0.45 * rng.uniform(0.94, 1.06)
        neck_len = 0.045 * height
        shoulder_height = height - head_height - neck_len
        leg = (0.53 if not child else 0.50) * height * rng.uniform(0.96, 1.04)
        torso = shoulder_height - leg
        girth = rng.uniform(0.85, 1.35) if not child else rng.uniform(0.8, 1.1)
        scale = height / 1.75
        return cls(
            height_m=height,
            leg_m=leg,
            thigh_m=0.49 * (leg - 0.039 * height),
            shank_m=0.51 * (leg - 0.039 * height),
            ankle_height_m=0.039 * height,
            foot_m=0.13 * height,
            torso_m=torso,
            neck_m=neck_len + 0.45 * head_height,
            head_axes_m=tuple(r * head_height for r in HEAD_AXIS_RATIOS),
            shoulder_half_m=0.105 * height * rng.uniform(0.9, 1.1),
            hip_half_m=0.052 * height * rng.uniform(0.9, 1.15),
            upper_arm_m=0.186 * height * rng.uniform(0.95, 1.05),
            forearm_m=0.146 * height * rng.uniform(0.95, 1.05),
            hand_m=0.1 * height,
            girth=girth,
            limb_radius_m=0.072 * scale * girth,
        )


@dataclass(frozen=True)
class Accessories:
    """Optional solids that change a person's outline (they occlude, they carry no keypoint)."""

    hair: bool = True
    long_hair: bool = False
    hat: bool = False
    backpack: bool = False


@dataclass
class Pose:
    trunk: np.ndarray  # (5,)
    arms: np.ndarray  # (2, 4)
    legs: np.ndarray  # (2, 3)
    sitting: bool = False

    def blend(self, other: Pose, w: float) -> Pose:
        return Pose(
            self.trunk + w * (other.trunk - self.trunk),
            self.arms + w * (other.arms - self.arms),
            self.legs + w * (other.legs - self.legs),
            self.sitting,
        )


@dataclass
class PosedBody:
    """A posed person in the world frame (z up, metres)."""

    keypoints: np.ndarray  # (17, 3) joint centres (face points on the head surface)
    capsule_a: np.ndarray  # (c, 3)
    capsule_b: np.ndarray  # (c, 3)
    capsule_radius: np.ndarray  # (c,)
    capsule_part: np.ndarray  # (c,) int
    ellipsoid_centre: np.ndarray  # (e, 3)
    ellipsoid_axes: np.ndarray  # (e, 3, 3) columns = semi-axis vectors (direction * length)
    ellipsoid_part: np.ndarray  # (e,) int
    keypoint_tolerance_m: np.ndarray  # (17,) how far in front of a joint its surface can be
    head_rotation: np.ndarray  # (3, 3) head frame -> world
    head_centre: np.ndarray  # (3,)
    root: np.ndarray  # (3,) floor point under the pelvis
    yaw: float


def _on_ellipsoid(direction: np.ndarray, axes: tuple[float, float, float]) -> np.ndarray:
    """Points along directions (head frame) on the surface of an axis-aligned ellipsoid."""
    scale = np.sqrt(((direction / np.asarray(axes)) ** 2).sum(axis=-1, keepdims=True))
    return direction / scale


def pose_body(
    shape: BodyShape,
    pose: Pose,
    root_xy: np.ndarray,
    yaw: float,
    accessories: Accessories = Accessories(),
) -> PosedBody:
    """Forward kinematics in the body frame, then placement on the floor at root_xy, yaw."""
    s = shape
    bend, lean, twist, head_yaw, head_pitch = pose.trunk
    kp = np.zeros((NUM_KEYPOINTS, 3))
    pelvis = np.array([0.0, 0.0, s.leg_m])
    r_torso = rot_z(twist) @ rot_x(-lean) @ rot_y(bend)
    neck_base = pelvis + r_torso @ np.array([0.0, 0.0, s.torso_m])
    r_head = r_torso @ rot_z(head_yaw) @ rot_y(head_pitch)
    head_centre = (
        neck_base
        + r_torso @ np.array([0.0, 0.0, s.neck_m * 0.55])
        + r_head @ np.array([0.0, 0.0, s.neck_m * 0.45])
    )
    kp[:5] = head_centre + _on_ellipsoid(FACE_DIRECTIONS, s.head_axes_m) @ r_head.T

    r_limb = s.limb_radius_m
    caps_a, caps_b, caps_r, caps_p = [], [], [], []

    def capsule(a, b, radius, part):
        caps_a.append(a)
        caps_b.append(b)
        caps_r.append(radius)
        caps_p.append(PART[part])

    down = np.array([0.0, 0.0, -1.0])
    for side, name in enumerate(("left", "right")):
        sign = 1.0 if side == 0 else -1.0
        flex, abd, arm_twist, elbow = pose.arms[side]
        shoulder = neck_base + r_torso @ np.array([0.0, sign * s.shoulder_half_m, -0.02])
        r_upper = r_torso @ rot_x(sign * abd) @ rot_y(-flex) @ rot_z(sign * arm_twist)
        elbow_p = shoulder + r_upper @ down * s.upper_arm_m
        r_fore = r_upper @ rot_y(-elbow)
        wrist = elbow_p + r_fore @ down * s.forearm_m
        hand_end = wrist + r_fore @ down * (0.75 * s.hand_m)
        kp[KP[f"{name}_shoulder"]] = shoulder
        kp[KP[f"{name}_elbow"]] = elbow_p
        kp[KP[f"{name}_wrist"]] = wrist
        capsule(shoulder, elbow_p, 0.62 * r_limb, f"{name}_upper_arm")
        capsule(elbow_p, wrist, 0.5 * r_limb, f"{name}_forearm")
        capsule(wrist + r_fore @ down * 0.02, hand_end, 0.42 * r_limb, f"{name}_hand")

        hip_flex, hip_abd, knee = pose.legs[side]
        hip = pelvis + np.array([0.0, sign * s.hip_half_m, 0.0])
        r_thigh = rot_x(sign * hip_abd) @ rot_y(-hip_flex)
        knee_p = hip + r_thigh @ down * s.thigh_m
        r_shank = r_thigh @ rot_y(knee)
        ankle = knee_p + r_shank @ down * s.shank_m
        heel = ankle + r_shank @ np.array(
            [-0.03 * s.height_m / 1.75, 0.0, -0.55 * s.ankle_height_m]
        )
        toe = heel + r_shank @ np.array([s.foot_m, 0.0, 0.0])
        kp[KP[f"{name}_hip"]] = hip
        kp[KP[f"{name}_knee"]] = knee_p
        kp[KP[f"{name}_ankle"]] = ankle
        capsule(hip, knee_p, r_limb, f"{name}_thigh")
        capsule(knee_p, ankle, 0.68 * r_limb, f"{name}_shank")
        capsule(heel, toe, 0.5 * r_limb, f"{name}_foot")

    ls, rs = kp[KP["left_shoulder"]], kp[KP["right_shoulder"]]
    capsule(ls, rs, 0.62 * r_limb, "shoulders")
    neck_top = head_centre - r_head @ np.array([0.0, 0.0, 0.4 * s.head_axes_m[2]])
    capsule(neck_base, neck_top, 0.33 * r_limb / s.girth**0.5, "neck")

    # Trunk ellipsoids: chest and waist move with the torso, the pelvis with the legs.
    scale = s.height_m / 1.75
    depth = 0.058 * s.height_m * s.girth**0.8
    ell_c, ell_axes, ell_p = [], [], []

    def ellipsoid(centre, rotation, semi, part):
        ell_c.append(centre)
        ell_axes.append(rotation * np.asarray(semi)[None, :])
        ell_p.append(PART[part])

    ellipsoid(
        pelvis + r_torso @ np.array([0.0, 0.0, 0.66 * s.torso_m]),
        r_torso,
        (depth, s.shoulder_half_m * 1.02, 0.36 * s.torso_m),
        "chest",
    )
    ellipsoid(
        pelvis + r_torso @ np.array([0.0, 0.0, 0.36 * s.torso_m]),
        r_torso,
        (depth * 0.92, s.hip_half_m + 0.75 * r_limb, 0.3 * s.torso_m),
        "waist",
    )
    ellipsoid(
        pelvis + np.array([0.0, 0.0, 0.08 * s.torso_m]),
        np.eye(3),
        (depth * 0.95, s.hip_half_m + r_limb, 0.2 * s.torso_m),
        "pelvis",
    )
    ellipsoid(head_centre, r_head, s.head_axes_m, "head")
    nose_scale = s.head_axes_m[2] / 0.115
    ellipsoid(kp[0], r_head, (0.016 * nose_scale, 0.011 * nose_scale, 0.022 * nose_scale), "head")
    ha = np.asarray(s.head_axes_m)
    if accessories.hair:
        ellipsoid(
            head_centre + r_head @ np.array([-0.2 * ha[0], 0.0, 0.12 * ha[2]]),
            r_head,
            ha * np.array([0.95, 1.06, 0.97]),
            "hair",
        )
    if accessories.long_hair:
        ellipsoid(
            head_centre + r_head @ np.array([-0.45 * ha[0], 0.0, -0.75 * ha[2]]),
            r_head,
            ha * np.array([0.55, 0.95, 0.95]),
            "hair",
        )
    if accessories.hat:
        ellipsoid(
            head_centre + r_head @ np.array([-0.05 * ha[0], 0.0, 0.45 * ha[2]]),
            r_head,
            ha * np.array([1.05, 1.1, 0.62]),
            "hat",
        )
    if accessories.backpack:
        ellipsoid(
            pelvis + r_torso @ np.array([-depth - 0.07 * scale, 0.0, 0.62 * s.torso_m]),
            r_torso,
            np.array([0.085, 0.16, 0.21]) * scale,
            "bag",
        )

    # Keep the lowest point of the body on the floor.
    capsule_a, capsule_b = np.array(caps_a), np.array(caps_b)
    capsule_r = np.array(caps_r)
    lowest = min((capsule_a[:, 2] - capsule_r).min(), (capsule_b[:, 2] - capsule_r).min())
    r_world = rot_z(yaw)
    offset = np.array([root_xy[0], root_xy[1], -lowest])

    def place(p):
        return p @ r_world.T + offset

    tolerance = np.empty(NUM_KEYPOINTS)
    tolerance[:3] = 0.02  # nose and eyes lie on the face surface (the nose solid sticks out)
    tolerance[3:5] = 0.06  # ears may be under hair
    for k in (5, 6):
        tolerance[k] = max(depth, 0.62 * r_limb)
    tolerance[7:9] = 0.62 * r_limb
    tolerance[9:11] = 0.5 * r_limb
    tolerance[11:13] = max(depth, s.hip_half_m + r_limb)
    tolerance[13:15] = r_limb
    tolerance[15:17] = 0.68 * r_limb
    return PosedBody(
        keypoints=place(kp),
        capsule_a=place(capsule_a),
        capsule_b=place(capsule_b),
        capsule_radius=capsule_r,
        capsule_part=np.array(caps_p, np.int64),
        ellipsoid_centre=place(np.array(ell_c)),
        ellipsoid_axes=np.einsum("ij,njk->nik", r_world, np.array(ell_axes)),
        ellipsoid_part=np.array(ell_p, np.int64),
        keypoint_tolerance_m=tolerance,
        head_rotation=r_world @ r_head,
        head_centre=place(head_centre),
        root=offset * np.array([1.0, 1.0, 0.0]),
        yaw=float(yaw),
    )
