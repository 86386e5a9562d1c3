"""Articulated right-hand model: bone lengths, joint angles, keypose prototypes, forward kinematics.

Hand-local frame (right hand): origin at the wrist keypoint, +y along the middle metacarpal
(towards the fingers), +z out of the palm (palmar side), +x = y × z, which points to the thumb
side. A left hand is the exact mirror image (local x negated), so one model serves both sides and
left/right differ only by chirality, as in real hands.

Fingers flex towards +z (into the palm). The fingertip keypoint is the centre of the end cap of
the distal segment, so it lies one tip radius inside the skin, as in common hand datasets.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hand_pose_ros.core.skeletons import HAND_KEYPOINT_NAMES, HAND_KEYPOSES

NUM_KEYPOINTS = len(HAND_KEYPOINT_NAMES)
NUM_FINGERS = 5  # thumb, index, middle, ring, little (HAND_KEYPOINT_NAMES order)

# Thumb CMC and finger MCP joint centres in the right-hand frame (metres, nominal adult hand).
_BASE_POSITIONS_M = np.array(
    [
        [0.021, 0.026, 0.006],  # thumb cmc
        [0.026, 0.083, 0.0],  # index mcp
        [0.007, 0.086, 0.0],  # middle mcp
        [-0.011, 0.081, 0.0],  # ring mcp
        [-0.027, 0.072, 0.0],  # little mcp
    ]
)
# Segment lengths from each base joint outwards (metres). Thumb: metacarpal, proximal, distal;
# fingers: proximal, middle, distal (the distal one ends at the tip keypoint, one radius short
# of the skin).
_SEGMENT_LENGTHS_M = np.array(
    [
        [0.044, 0.032, 0.021],
        [0.040, 0.024, 0.016],
        [0.045, 0.028, 0.017],
        [0.042, 0.027, 0.017],
        [0.033, 0.019, 0.015],
    ]
)
# Capsule radius of each segment (metres), tapering towards the tip.
_SEGMENT_RADII_M = np.array(
    [
        [0.0125, 0.0105, 0.0090],
        [0.0098, 0.0086, 0.0076],
        [0.0100, 0.0089, 0.0078],
        [0.0095, 0.0084, 0.0074],
        [0.0086, 0.0076, 0.0068],
    ]
)
# Rest direction of each finger in the palm plane: rotation about +z in degrees, positive
# towards the thumb side (+x).
_REST_SPREAD_DEG = np.array([0.0, 4.0, 0.0, -4.0, -9.0])
# Thumb base frame: rest direction of the metacarpal and the direction flexion bends it to.
_THUMB_REST_DIR = np.array([0.55, 0.80, 0.15])
_THUMB_FLEX_DIR = np.array([-0.85, 0.0, 0.50])

# Metacarpal capsules from near the wrist to each finger MCP (start point, radius): they make the
# knuckle ridge and the back of the hand.
_METACARPAL_STARTS_M = np.array(
    [[0.012, 0.022, 0.0], [0.004, 0.022, 0.0], [-0.006, 0.022, 0.0], [-0.014, 0.020, 0.0]]
)
_METACARPAL_RADII_M = np.array([0.0112, 0.0115, 0.0108, 0.0098])
# Axis-aligned ellipsoids of the hand (centre, semi-axes), metres: palm body and wrist.
_PALM_CENTRE_M = np.array([0.001, 0.046, 0.002])
_PALM_SEMI_AXES_M = np.array([0.036, 0.036, 0.0125])
_WRIST_CENTRE_M = np.array([0.0, 0.008, 0.0])
_WRIST_SEMI_AXES_M = np.array([0.029, 0.030, 0.0165])
# Thumb web: capsule between the thumb metacarpal and the index metacarpal.
_WEB_RADIUS_M = 0.0085
# Forearm (not part of the hand label), along the forearm direction from the wrist: a capsule
# joining the wrist, a long spheroid for the muscles (widest a third of the way from the elbow)
# and a capsule rounding off the elbow. Distances from the wrist in metres.
FOREARM_LENGTH_M = 0.27
_FOREARM_NEAR = (0.03, 0.10, 0.025)  # start, end, radius
_FOREARM_ELBOW = (0.20, FOREARM_LENGTH_M, 0.028)
_FOREARM_BULK = (0.17, 0.12, 0.034)  # centre, semi-length, radius

# Joint limits in degrees: (min, max) per finger row, columns = flexion of the three joints
# along the chain, then abduction of the base joint.
_FLEX_LIMITS_DEG = np.array(
    [
        [[-15.0, 60.0], [-10.0, 70.0], [-15.0, 85.0]],  # thumb cmc, mcp, ip
        [[-25.0, 95.0], [0.0, 110.0], [-5.0, 90.0]],  # index mcp, pip, dip
        [[-25.0, 95.0], [0.0, 110.0], [-5.0, 90.0]],
        [[-25.0, 95.0], [0.0, 110.0], [-5.0, 90.0]],
        [[-25.0, 95.0], [0.0, 110.0], [-5.0, 90.0]],
    ]
)
_ABD_LIMITS_DEG = np.array(
    [[-25.0, 45.0], [-10.0, 25.0], [-12.0, 12.0], [-20.0, 12.0], [-30.0, 12.0]]
)

# Keypose prototypes (degrees): flex (5 fingers x 3 joints), abduction (5), positive abduction
# = towards the thumb side for fingers; for the thumb, positive abduction = away from the palm.
_PROTOTYPES_DEG: dict[str, tuple[list[list[float]], list[float]]] = {
    "open_palm": (
        [[-5, 5, 5], [5, 5, 3], [5, 5, 3], [5, 5, 3], [5, 5, 3]],
        [5, 12, 0, -8, -18],
    ),
    "fist": (
        [[5, 64, 50], [85, 100, 55], [88, 100, 55], [88, 100, 55], [85, 100, 55]],
        [17, 0, 0, 0, 0],
    ),
    "point": (
        [[13, 62, 47], [3, 5, 3], [88, 100, 55], [88, 100, 55], [85, 100, 55]],
        [16, 5, 0, 0, 0],
    ),
    "pinch": (
        [[26, 16, 15], [50, 48, 28], [20, 15, 8], [22, 15, 8], [25, 15, 8]],
        [27, 2, 0, -6, -14],
    ),
    "victory": (
        [[27, 63, 44], [3, 5, 3], [3, 5, 3], [88, 100, 55], [85, 100, 55]],
        [7, 14, -12, 0, 0],
    ),
}
assert tuple(_PROTOTYPES_DEG) == HAND_KEYPOSES


@dataclass(frozen=True)
class HandShape:
    """One person's hand proportions (right-hand frame), metres."""

    base_positions_m: np.ndarray  # (5, 3)
    segment_lengths_m: np.ndarray  # (5, 3)
    segment_radii_m: np.ndarray  # (5, 3)
    scale: float


@dataclass(frozen=True)
class HandPose:
    """Joint angles in radians: flexion (5, 3) and base abduction (5,)."""

    flexion_rad: np.ndarray
    abduction_rad: np.ndarray


def sample_hand_shape(rng: np.random.Generator) -> HandShape:
    """Per-hand size ~0.85-1.15 plus a few percent of per-bone variation."""
    scale = float(rng.uniform(0.85, 1.15))
    lengths = _SEGMENT_LENGTHS_M * scale * rng.uniform(0.95, 1.05, size=(5, 3))
    radii = _SEGMENT_RADII_M * scale * rng.uniform(0.92, 1.08, size=(5, 1))
    bases = _BASE_POSITIONS_M * scale * rng.uniform(0.97, 1.03, size=(5, 1))
    return HandShape(bases, lengths, radii, scale)


def nominal_hand_shape() -> HandShape:
    """The unscaled average hand (tests, prototype tuning)."""
    return HandShape(_BASE_POSITIONS_M.copy(), _SEGMENT_LENGTHS_M.copy(),
                     _SEGMENT_RADII_M.copy(), 1.0)


def prototype_pose(keypose: int) -> HandPose:
    """The noise-free prototype of HAND_KEYPOSES[keypose]."""
    flex, abd = _PROTOTYPES_DEG[HAND_KEYPOSES[keypose]]
    return HandPose(np.deg2rad(np.array(flex, dtype=float)), np.deg2rad(np.array(abd, dtype=float)))


def clip_to_limits(pose: HandPose) -> HandPose:
    """Respect anatomical joint limits."""
    flex = np.clip(np.rad2deg(pose.flexion_rad), _FLEX_LIMITS_DEG[..., 0], _FLEX_LIMITS_DEG[..., 1])
    abd = np.clip(np.rad2deg(pose.abduction_rad), _ABD_LIMITS_DEG[:, 0], _ABD_LIMITS_DEG[:, 1])
    return HandPose(np.deg2rad(flex), np.deg2rad(abd))


def sample_pose(keypose: int, rng: np.random.Generator, jitter_deg: float = 8.0) -> HandPose:
    """Prototype joint angles plus Gaussian jitter, clipped to the joint limits."""
    proto = prototype_pose(keypose)
    jitter = np.deg2rad(jitter_deg)
    flex = proto.flexion_rad + rng.normal(0.0, jitter, size=(5, 3))
    # Distal joints follow the middle joint (tendon coupling) rather than moving independently.
    flex[1:, 2] = proto.flexion_rad[1:, 2] + 0.6 * (flex[1:, 1] - proto.flexion_rad[1:, 1])
    flex[1:, 2] += rng.normal(0.0, 0.3 * jitter, size=4)
    abd = proto.abduction_rad + rng.normal(0.0, 0.6 * jitter, size=5)
    return clip_to_limits(HandPose(flex, abd))


def blend_poses(a: HandPose, b: HandPose, weight_b: float) -> HandPose:
    """Linear interpolation of joint angles (smooth keypose transitions in sequences)."""
    w = float(weight_b)
    return HandPose(
        (1.0 - w) * a.flexion_rad + w * b.flexion_rad,
        (1.0 - w) * a.abduction_rad + w * b.abduction_rad,
    )


def _rot_x(angle_rad: np.ndarray) -> np.ndarray:
    """(n,) -> (n, 3, 3) rotations about x that turn +y towards +z (flexion)."""
    c, s = np.cos(angle_rad), np.sin(angle_rad)
    out = np.zeros((angle_rad.shape[0], 3, 3))
    out[:, 0, 0] = 1.0
    out[:, 1, 1] = c
    out[:, 1, 2] = -s
    out[:, 2, 1] = s
    out[:, 2, 2] = c
    return out


def _rot_z(angle_rad: np.ndarray) -> np.ndarray:
    """(n,) -> (n, 3, 3) rotations about z that turn +y towards +x (abduction / spread)."""
    c, s = np.cos(angle_rad), np.sin(angle_rad)
    out = np.zeros((angle_rad.shape[0], 3, 3))
    out[:, 0, 0] = c
    out[:, 0, 1] = s
    out[:, 1, 0] = -s
    out[:, 1, 1] = c
    out[:, 2, 2] = 1.0
    return out


def _base_frames() -> np.ndarray:
    """(5, 3, 3) rest frames (columns: lateral x, along-finger y, flexion z) of the five chains."""
    frames = np.zeros((5, 3, 3))
    frames[1:] = _rot_z(np.deg2rad(_REST_SPREAD_DEG[1:]))
    y = _THUMB_REST_DIR / np.linalg.norm(_THUMB_REST_DIR)
    z = _THUMB_FLEX_DIR - np.dot(_THUMB_FLEX_DIR, y) * y
    z /= np.linalg.norm(z)
    frames[0] = np.stack([np.cross(y, z), y, z], axis=1)
    return frames


_BASE_FRAMES = _base_frames()


def forward_kinematics(shape: HandShape, pose: HandPose) -> np.ndarray:
    """(21, 3) keypoints of a right hand in the hand frame, HAND_KEYPOINT_NAMES order."""
    rot = _BASE_FRAMES @ _rot_z(pose.abduction_rad)
    position = shape.base_positions_m.copy()
    joints = np.empty((5, 4, 3))
    joints[:, 0] = position
    for j in range(3):
        rot = rot @ _rot_x(pose.flexion_rad[:, j])
        position = position + shape.segment_lengths_m[:, j, None] * rot[:, :, 1]
        joints[:, j + 1] = position
    keypoints = np.empty((NUM_KEYPOINTS, 3))
    keypoints[0] = 0.0
    keypoints[1:] = joints.reshape(20, 3)
    return keypoints


@dataclass(frozen=True)
class HandPrimitives:
    """Solid geometry of one hand in the hand frame (right hand), metres."""

    capsule_a: np.ndarray  # (n, 3)
    capsule_b: np.ndarray  # (n, 3)
    capsule_radius: np.ndarray  # (n,)
    capsule_is_hand: np.ndarray  # (n,) bool, False for the forearm
    ellipsoid_centre: np.ndarray  # (m, 3) axis-aligned in the hand frame
    ellipsoid_semi_axes: np.ndarray  # (m, 3)
    forearm_centre: np.ndarray  # (3,) spheroid of the forearm (not part of the hand label)
    forearm_axis: np.ndarray  # (3,) unit, towards the elbow
    forearm_semi_length_m: float
    forearm_radius_m: float


def hand_primitives(shape: HandShape, keypoints: np.ndarray,
                    forearm_dir_local: np.ndarray) -> HandPrimitives:
    """Capsules and ellipsoids for a posed right hand plus its forearm.

    forearm_dir_local: unit vector from the wrist towards the elbow in the hand frame (the wrist
    joint bends the hand relative to the forearm).
    """
    s = shape.scale
    chains = keypoints[1:].reshape(5, 4, 3)
    a = [chains[:, :3].reshape(15, 3)]
    b = [chains[:, 1:].reshape(15, 3)]
    r = [shape.segment_radii_m.reshape(15)]
    # Metacarpals of the four fingers (fixed in the palm).
    a.append(_METACARPAL_STARTS_M * s)
    b.append(chains[1:, 0])
    r.append(_METACARPAL_RADII_M * s)
    # Thumb web from the middle of the thumb metacarpal to the index metacarpal.
    web_a = chains[0, 0] + 0.55 * (chains[0, 1] - chains[0, 0])
    web_b = 0.55 * chains[1, 0] + 0.45 * _METACARPAL_STARTS_M[0] * s
    a.append(web_a[None])
    b.append(web_b[None])
    r.append(np.array([_WEB_RADIUS_M * s]))
    hand_count = 15 + 4 + 1
    # Forearm: wrist capsule and elbow capsule (the spheroid in between is returned apart).
    d = forearm_dir_local / np.linalg.norm(forearm_dir_local)
    near, elbow = _FOREARM_NEAR, _FOREARM_ELBOW
    a.append(np.stack([d * near[0] * s, d * elbow[0]]))
    b.append(np.stack([d * near[1], d * elbow[1]]))
    r.append(np.array([near[2] * s, elbow[2] * s]))
    is_hand = np.zeros(hand_count + 2, dtype=bool)
    is_hand[:hand_count] = True
    centres = np.stack([_PALM_CENTRE_M * s, _WRIST_CENTRE_M * s])
    semi = np.stack([_PALM_SEMI_AXES_M * s, _WRIST_SEMI_AXES_M * s])
    return HandPrimitives(np.concatenate(a), np.concatenate(b), np.concatenate(r), is_hand,
                          centres, semi, d * _FOREARM_BULK[0], d, _FOREARM_BULK[1],
                          _FOREARM_BULK[2] * s)
