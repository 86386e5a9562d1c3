"""Smoothly moving synthetic hands: deterministic, random-access frame sequences.

Every animated quantity is a closed-form function of time (a base value plus a few slow
sinusoids), and keyposes change on a fixed schedule of segments whose content is drawn from a
per-segment random stream. So frame(i) needs no history: any index can be rendered in any order
and always gives the same frame.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from hand_pose_ros.core.skeletons import HAND_KEYPOSES
from hand_pose_ros.synthetic import hand_kinematics as hk
from hand_pose_ros.synthetic.frames import HandFrame, default_intrinsics, render_scene
from hand_pose_ros.synthetic.scene import (
    HAND_COUNT_PROBABILITIES,
    HandParams,
    Scene,
    rotation_x,
    rotation_y,
    sample_background,
    sample_camera,
    sample_hand,
)

KEYPOSE_SEGMENT_S = 2.0
KEYPOSE_TRANSITION_S = 0.5
_ARTEFACT_STREAM, _KEYPOSE_STREAM = 1, 2
_LOW_POINT_SAMPLES = 48


@dataclass(frozen=True)
class _Wobble:
    """Sum of sinusoids: offset(t) = sum_k amplitude_k * sin(2 pi f_k t + phase_k), per channel."""

    amplitude: np.ndarray  # (k, c)
    frequency_hz: np.ndarray  # (k, 1)
    phase_rad: np.ndarray  # (k, c)

    @classmethod
    def sample(cls, rng: np.random.Generator, channel_amplitudes: np.ndarray,
               components: int = 3) -> _Wobble:
        c = channel_amplitudes.shape[0]
        weights = rng.uniform(0.3, 1.0, size=(components, c))
        weights /= weights.sum(axis=0, keepdims=True)
        return cls(weights * channel_amplitudes, rng.uniform(0.08, 0.6, size=(components, 1)),
                   rng.uniform(0.0, 2.0 * np.pi, size=(components, c)))

    def __call__(self, t_s: float) -> np.ndarray:
        return (self.amplitude * np.sin(2.0 * np.pi * self.frequency_hz * t_s
                                        + self.phase_rad)).sum(axis=0)


@dataclass(frozen=True)
class _AnimatedHand:
    base: HandParams
    motion: _Wobble  # wrist xyz (m), elbow xyz (m), supination, flex, deviation (rad)
    segment_offset_s: float

    def params_at(self, seed: int, t_s: float) -> HandParams:
        d = self.motion(t_s)
        pose, keypose = self._pose_at(seed, t_s)
        return replace(
            self.base,
            keypose=keypose,
            pose=pose,
            wrist_m=self.base.wrist_m + d[0:3],
            elbow_m=self.base.elbow_m + d[3:6],
            supination_rad=self.base.supination_rad + d[6],
            wrist_flex_rad=self.base.wrist_flex_rad + d[7],
            wrist_deviation_rad=self.base.wrist_deviation_rad + d[8],
        )

    def _segment(self, seed: int, index: int) -> tuple[int, hk.HandPose]:
        if index <= 0:
            return self.base.keypose, self.base.pose
        rng = np.random.default_rng([seed, _KEYPOSE_STREAM, self.base.side, index])
        keypose = int(rng.integers(len(HAND_KEYPOSES)))
        return keypose, hk.sample_pose(keypose, rng, jitter_deg=6.0)

    def _pose_at(self, seed: int, t_s: float) -> tuple[hk.HandPose, int]:
        local = t_s + self.segment_offset_s
        index = int(np.floor(local / KEYPOSE_SEGMENT_S))
        keypose, pose = self._segment(seed, index)
        into = local - index * KEYPOSE_SEGMENT_S
        if into >= KEYPOSE_TRANSITION_S:
            return pose, keypose
        previous_keypose, previous_pose = self._segment(seed, index - 1)
        x = into / KEYPOSE_TRANSITION_S
        weight = x * x * (3.0 - 2.0 * x)  # smoothstep: no velocity jump at either end
        label = keypose if weight >= 0.5 else previous_keypose
        return hk.blend_poses(previous_pose, pose, weight), label


class HandSequence:
    """A clip of one or two hands moving and changing keypose in front of a head-mounted camera.

    The room is fixed; the head turns slowly (a few degrees), so the background moves a little.
    Hands may drift partly out of view, which makes them absent in those frames.
    """

    def __init__(self, seed: int, width: int = 160, height: int = 120, fps: float = 30.0) -> None:
        self.seed = int(seed)
        self.fps = float(fps)
        self.intrinsics = default_intrinsics(width, height)
        rng = np.random.default_rng(self.seed)
        self._body_from_camera = sample_camera(rng)
        # Sequences exist to show hands: at least one (two about half the time).
        two = rng.random() < HAND_COUNT_PROBABILITIES[2] / sum(HAND_COUNT_PROBABILITIES[1:])
        sides = [0, 1] if two else [int(rng.integers(2))]
        self._hands: list[_AnimatedHand] = []
        placed = []
        for side in sides:
            sampled = sample_hand(rng, side, self._body_from_camera, placed)
            if sampled is None:
                continue
            placed.append(sampled[1])
            amplitudes = np.array([0.06, 0.04, 0.05, 0.05, 0.04, 0.05,
                                   np.deg2rad(25.0), np.deg2rad(15.0), np.deg2rad(8.0)])
            amplitudes *= rng.uniform(0.5, 1.0)
            # Never swing the wrist closer than 12 cm to the camera.
            amplitudes[2] = min(amplitudes[2], max(0.0, sampled[0].wrist_m[2] - 0.12))
            self._hands.append(_AnimatedHand(sampled[0], _Wobble.sample(rng, amplitudes),
                                             float(rng.uniform(0.0, KEYPOSE_SEGMENT_S))))
        self._head_motion = _Wobble.sample(rng, np.deg2rad(np.array([3.0, 4.0])), components=2)
        # Keep the table under the hands for the whole clip: sample the low points over time.
        times = np.linspace(0.0, 30.0, _LOW_POINT_SAMPLES)
        swept = [h.params_at(self.seed, t).place(self._body_from_camera)
                 for h in self._hands for t in times]
        self._background, self._dark = sample_background(rng, self._body_from_camera, swept)

    def scene_at(self, t_s: float) -> Scene:
        """The scene at time t in the current camera frame."""
        hands = [h.params_at(self.seed, t_s).place(self._body_from_camera) for h in self._hands]
        pitch, yaw = self._head_motion(t_s)
        scene = Scene(self._body_from_camera, self._background, hands, self._dark)
        # A head turn by R moves the world by R^T in camera coordinates.
        head = rotation_y(yaw) @ rotation_x(pitch)
        return scene.rotated(head.T)

    def frame(self, index: int) -> HandFrame:
        """Frame at time index / fps; deterministic for (seed, resolution, index)."""
        artefact_rng = np.random.default_rng([self.seed, _ARTEFACT_STREAM, int(index)])
        return render_scene(self.scene_at(index / self.fps), self.intrinsics, artefact_rng)
