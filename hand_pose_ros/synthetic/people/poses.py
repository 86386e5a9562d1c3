"""Pose sampling: standing, walking, arms raised, reaching, sitting, bending (angles in rad).

Sampling ranges are chosen for plausibility rather than anatomical extremes: the renderer has
no self-collision check, so poses stay where limbs do not pass through the trunk.
"""

from __future__ import annotations

import numpy as np

from hand_pose_ros.synthetic.people.body import Pose

POSE_KINDS: tuple[str, ...] = (
    "standing", "walking", "arms_raised", "reaching", "sitting", "bending", "hands_on_hips",
    "phone", "arms_crossed",
)  # fmt: skip
POSE_PROBABILITIES = (0.22, 0.28, 0.12, 0.1, 0.09, 0.07, 0.04, 0.05, 0.03)


def relaxed_pose(rng: np.random.Generator) -> Pose:
    """Standing at ease with small random variations."""
    trunk = np.array(
        [
            rng.normal(0.03, 0.05),
            rng.normal(0.0, 0.04),
            rng.normal(0.0, 0.12),
            rng.normal(0.0, 0.45),
            rng.normal(0.05, 0.15),
        ]
    )
    arms = np.empty((2, 4))
    legs = np.empty((2, 3))
    for side in range(2):
        arms[side] = (
            rng.normal(0.05, 0.15),
            rng.uniform(0.06, 0.3),
            rng.uniform(-0.2, 0.5),
            rng.uniform(0.05, 0.6),
        )
        legs[side] = (rng.normal(0.0, 0.07), rng.uniform(0.02, 0.12), rng.uniform(0.0, 0.12))
    return Pose(trunk, arms, legs)


def gait(pose: Pose, phase_rad: float, stride: float) -> Pose:
    """Walking cycle on top of a base pose: legs swing, knees flex in swing, arms counter-swing.

    stride in [0, 1] scales the amplitudes (0 = standing still).
    """
    out = Pose(pose.trunk.copy(), pose.arms.copy(), pose.legs.copy(), pose.sitting)
    hip_amp = 0.42 * stride
    knee_amp = 1.0 * stride
    arm_amp = 0.35 * stride
    for side in range(2):
        phi = phase_rad + side * np.pi
        out.legs[side, 0] = pose.legs[side, 0] * (1 - stride) + hip_amp * np.sin(phi)
        swing = max(0.0, np.cos(phi)) ** 2
        out.legs[side, 2] = pose.legs[side, 2] + 0.1 * stride + knee_amp * swing
        out.arms[side, 0] = pose.arms[side, 0] * (1 - stride) - arm_amp * np.sin(phi)
        out.arms[side, 3] = pose.arms[side, 3] + 0.25 * stride * (1 + np.sin(-phi))
    out.trunk[0] = pose.trunk[0] * (1 - stride) + 0.06 * stride
    return out


def sample_pose(rng: np.random.Generator, kind: str | None = None) -> tuple[Pose, str]:
    """A random static pose of the given (or a random) kind."""
    if kind is None:
        kind = POSE_KINDS[int(rng.choice(len(POSE_KINDS), p=POSE_PROBABILITIES))]
    pose = relaxed_pose(rng)
    if kind == "walking":
        pose = gait(pose, rng.uniform(0, 2 * np.pi), rng.uniform(0.6, 1.0))
    elif kind == "arms_raised":
        sides = [0, 1] if rng.random() < 0.5 else [int(rng.integers(2))]
        for side in sides:
            if rng.random() < 0.5:  # overhead
                pose.arms[side] = (
                    rng.uniform(2.2, 3.0),
                    rng.uniform(0.0, 0.5),
                    rng.uniform(-0.3, 0.3),
                    rng.uniform(0.0, 0.9),
                )
            else:  # waving: upper arm sideways, forearm up
                pose.arms[side] = (
                    rng.uniform(-0.2, 0.4),
                    rng.uniform(1.1, 1.7),
                    rng.uniform(1.2, 1.7),
                    rng.uniform(0.5, 1.6),
                )
    elif kind == "reaching":
        side = int(rng.integers(2))
        pose.arms[side] = (
            rng.uniform(0.9, 1.8),
            rng.uniform(-0.2, 0.6),
            rng.uniform(-0.3, 0.3),
            rng.uniform(0.0, 0.4),
        )
        pose.trunk[0] += rng.uniform(0.0, 0.3)
        if rng.random() < 0.3:
            other = 1 - side
            pose.arms[other] = (
                rng.uniform(0.6, 1.4),
                rng.uniform(0.0, 0.4),
                rng.uniform(-0.3, 0.3),
                rng.uniform(0.3, 1.2),
            )
    elif kind == "sitting":
        pose.sitting = True
        for side in range(2):
            pose.legs[side] = (
                rng.uniform(1.35, 1.7),
                rng.uniform(0.05, 0.3),
                rng.uniform(1.2, 1.75),
            )
            pose.arms[side] = (
                rng.uniform(0.2, 0.8),
                rng.uniform(0.05, 0.35),
                rng.uniform(-0.2, 0.4),
                rng.uniform(0.6, 1.4),
            )
        pose.trunk[0] = rng.uniform(-0.15, 0.25)
    elif kind == "bending":
        bend = rng.uniform(0.5, 1.3)
        pose.trunk[0] = bend
        pose.trunk[4] = rng.uniform(-0.6, 0.0)  # looks ahead
        for side in range(2):
            pose.arms[side, 0] = bend + rng.normal(0.0, 0.3)  # arms hang towards the floor
            pose.arms[side, 3] = rng.uniform(0.0, 0.5)
            pose.legs[side, 2] = rng.uniform(0.0, 0.4)
    elif kind == "hands_on_hips":
        for side in range(2):
            pose.arms[side] = (
                rng.uniform(-0.3, 0.0), rng.uniform(0.55, 0.8), rng.uniform(-1.7, -1.3),
                rng.uniform(1.6, 2.0),
            )  # fmt: skip
    elif kind == "phone":  # one hand at the ear or in front of the face
        side = int(rng.integers(2))
        pose.arms[side] = (
            rng.uniform(0.2, 0.7), rng.uniform(0.15, 0.45), rng.uniform(-0.6, 0.0),
            rng.uniform(2.2, 2.55),
        )  # fmt: skip
        pose.trunk[4] = rng.uniform(0.0, 0.4)
    elif kind == "arms_crossed":
        for side in range(2):
            pose.arms[side] = (
                rng.uniform(0.2, 0.45), rng.uniform(0.0, 0.15), rng.uniform(-1.3, -1.0),
                rng.uniform(1.7, 2.0),
            )  # fmt: skip
    return pose, kind
