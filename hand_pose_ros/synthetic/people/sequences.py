"""Smoothly moving people: deterministic, random-access RGB-D sequences with track ids.

Every track is a closed-form function of time: walkers follow a circular arc (straight when
the turn rate is zero) at constant speed with a gait phase tied to the distance walked, and
leave when they reach the edge of the walkable area; standers stay put and move their head and
arms with slow sinusoids. New walkers enter from outside the field of view during the sequence.
So frame(i) needs no history and any index renders the same frame in any order.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from hand_pose_ros.core.camera import Intrinsics
from hand_pose_ros.synthetic.people.body import BodyShape, Pose, pose_body, rot_z
from hand_pose_ros.synthetic.people.frames import HORIZONTAL_FOV_DEG, PeopleFrame, render_scene
from hand_pose_ros.synthetic.people.poses import gait, relaxed_pose, sample_pose
from hand_pose_ros.synthetic.people.scene import (
    HALF_FOV_TAN,
    MIN_PERSON_SEPARATION_M,
    Camera,
    Clothing,
    PeopleScene,
    Person,
    Room,
    chair_boxes,
    facing_yaw,
    sample_camera,
    sample_clothing,
    sample_clutter,
    sample_cylinders,
    sample_lighting,
    sample_people_count,
    sample_position,
    sample_room,
)

ARRIVALS_PER_S = 0.25
WALK_SPEED_RANGE_M_S = (0.5, 1.4)
MAX_TURN_RATE_RAD_S = 0.2
STAGE_MARGIN_M = 0.4
CAMERA_CLEARANCE_M = 1.0
MAX_INITIAL_PEOPLE = 8
_PATH_STEP_S = 0.25
_STANDER_KINDS = ("standing", "arms_raised", "reaching", "sitting", "bending")


@dataclass
class _Track:
    track_id: int
    shape: BodyShape
    clothing: Clothing
    base: Pose
    kind: str
    start_s: float
    end_s: float
    origin: np.ndarray  # (2,) xy at start_s
    heading_rad: float  # walking direction (walkers) / facing (standers) at start_s
    speed_m_s: float  # 0 for standers
    turn_rad_s: float
    phase_rad: float
    wobble_hz: np.ndarray  # (3,) head, arm, body frequencies
    wobble_phase: np.ndarray  # (3,)
    chair_seed: int

    def place(self, t_s: float) -> tuple[np.ndarray, float]:
        dt = t_s - self.start_s
        if self.speed_m_s == 0.0:
            yaw = self.heading_rad + 0.25 * np.sin(
                2 * np.pi * self.wobble_hz[2] * t_s + self.wobble_phase[2]
            )
            return self.origin, float(yaw)
        heading = self.heading_rad + self.turn_rad_s * dt
        if abs(self.turn_rad_s) < 1e-6:
            step = self.speed_m_s * dt * np.array([np.cos(heading), np.sin(heading)])
        else:
            r = self.speed_m_s / self.turn_rad_s
            step = r * np.array(
                [
                    np.sin(heading) - np.sin(self.heading_rad),
                    np.cos(self.heading_rad) - np.cos(heading),
                ]
            )
        return self.origin + step, float(heading)

    def pose(self, t_s: float) -> Pose:
        dt = t_s - self.start_s
        pose = Pose(
            self.base.trunk.copy(), self.base.arms.copy(), self.base.legs.copy(), self.base.sitting
        )
        head = np.sin(2 * np.pi * self.wobble_hz[0] * t_s + self.wobble_phase[0])
        arm = np.sin(2 * np.pi * self.wobble_hz[1] * t_s + self.wobble_phase[1])
        pose.trunk[3] += 0.5 * head
        if self.speed_m_s > 0.0:
            stride_m = 1.5 * self.shape.leg_m
            phase = self.phase_rad + 2 * np.pi * self.speed_m_s * dt / stride_m
            return gait(pose, phase, float(np.clip(self.speed_m_s / 1.2, 0.5, 1.0)))
        if self.kind == "arms_raised":
            pose.arms[:, 3] += 0.35 * arm  # waving
        else:
            pose.arms[:, 0] += 0.15 * arm
            pose.arms[:, 3] += 0.1 * arm
        return pose


def _walk_end(track: _Track, room: Room, duration_s: float) -> float | None:
    """Time the walker leaves the walkable area, or None if its path nears the camera."""
    t = track.start_s
    while t <= duration_s + _PATH_STEP_S:
        xy, _ = track.place(t)
        if np.linalg.norm(xy) < CAMERA_CLEARANCE_M:
            return None
        if not room.inside(xy, STAGE_MARGIN_M):
            return t
        t += _PATH_STEP_S
    return np.inf


def _collides(track: _Track, others: list[_Track], duration_s: float) -> bool:
    """Would the track come closer than MIN_PERSON_SEPARATION_M to another while both exist?"""
    for other in others:
        start = max(track.start_s, other.start_s)
        end = min(track.end_s, other.end_s, duration_s)
        for t in np.arange(start, end + _PATH_STEP_S, _PATH_STEP_S):
            if np.linalg.norm(track.place(t)[0] - other.place(t)[0]) < MIN_PERSON_SEPARATION_M:
                return True
    return False


class PeopleSequence:
    """A robot camera in a room watching people walk, stand, wave, sit; 15 fps by default.

    The camera stays in place; in about half of the sequences it pans slowly (a sinusoidal yaw
    of up to 0.2 rad), as a robot turning its head would.
    """

    def __init__(
        self,
        seed: int,
        n_frames: int,
        width: int = 640,
        height: int = 480,
        fps: float = 15.0,
        depth_artefacts: bool = True,
    ) -> None:
        self.seed = int(seed)
        self.n_frames = int(n_frames)
        self.fps = float(fps)
        self.depth_artefacts = depth_artefacts
        self.intrinsics = Intrinsics.from_fov(int(width), int(height), HORIZONTAL_FOV_DEG)
        scene_rng, track_rng = np.random.default_rng([self.seed, 7]).spawn(2)
        self.camera = sample_camera(scene_rng)
        self.room = sample_room(scene_rng)
        self.lighting = sample_lighting(scene_rng, self.room)
        pan = scene_rng.random() < 0.5
        self.pan_amplitude_rad = float(scene_rng.uniform(0.05, 0.2)) if pan else 0.0
        self.pan_period_s = float(scene_rng.uniform(8.0, 20.0))
        self.pan_phase_rad = float(scene_rng.uniform(0.0, 2 * np.pi))
        self.tracks = self._sample_tracks(track_rng)
        keep_clear = [t.origin for t in self.tracks]
        for track in self.tracks:
            if track.speed_m_s > 0:
                end = min(track.end_s, self.duration_s)
                keep_clear.extend(track.place(s)[0] for s in np.arange(track.start_s, end, 0.5))
        self.boxes = sample_clutter(scene_rng, self.room, keep_clear)
        self.cylinders = sample_cylinders(scene_rng, self.room, keep_clear)

    @property
    def duration_s(self) -> float:
        return self.n_frames / self.fps

    def _new_track(
        self,
        rng: np.random.Generator,
        track_id: int,
        start_s: float,
        taken: list[np.ndarray],
        entering: bool,
    ) -> _Track | None:
        walker = entering or rng.random() < 0.55
        if entering:  # from outside the field of view, towards a point inside it
            side = 1.0 if rng.random() < 0.5 else -1.0
            distance = rng.uniform(1.5, 6.0)
            origin = np.array([distance, side * distance * HALF_FOV_TAN * rng.uniform(1.25, 1.8)])
            if not self.room.inside(origin, STAGE_MARGIN_M + 0.05):
                return None
            target = np.array([rng.uniform(1.5, 6.0), rng.uniform(-1.0, 1.0) * 4.0 * HALF_FOV_TAN])
            heading = float(np.arctan2(*(target - origin)[::-1]))
        else:
            origin = sample_position(rng, self.room, taken, spread=1.0)
            if origin is None:
                return None
            heading = float(rng.uniform(-np.pi, np.pi)) if walker else facing_yaw(rng, origin)
        if any(np.linalg.norm(origin - other) < 0.6 for other in taken):
            return None
        shape = BodyShape.sample(rng)
        clothing = sample_clothing(rng)
        if walker:
            base, kind = relaxed_pose(rng), "walking"
        else:
            base, kind = sample_pose(rng, _STANDER_KINDS[int(rng.integers(len(_STANDER_KINDS)))])
        track = _Track(
            track_id=track_id,
            shape=shape,
            clothing=clothing,
            base=base,
            kind=kind,
            start_s=start_s,
            end_s=np.inf,
            origin=origin,
            heading_rad=heading,
            speed_m_s=float(rng.uniform(*WALK_SPEED_RANGE_M_S)) if walker else 0.0,
            turn_rad_s=float(rng.uniform(-MAX_TURN_RATE_RAD_S, MAX_TURN_RATE_RAD_S))
            if walker and rng.random() < 0.6
            else 0.0,
            phase_rad=float(rng.uniform(0, 2 * np.pi)),
            wobble_hz=rng.uniform(0.1, 0.6, 3) * np.array([1.0, 2.0, 0.5]),
            wobble_phase=rng.uniform(0, 2 * np.pi, 3),
            chair_seed=int(rng.integers(2**31)),
        )
        if walker:
            end = _walk_end(track, self.room, self.duration_s)
            if end is None:
                return None
            track.end_s = end
        return track

    def _sample_tracks(self, rng: np.random.Generator) -> list[_Track]:
        tracks: list[_Track] = []
        taken: list[np.ndarray] = []
        for _ in range(min(sample_people_count(rng), MAX_INITIAL_PEOPLE)):
            for _attempt in range(5):
                track = self._new_track(rng, len(tracks), 0.0, taken, entering=False)
                if track is not None and not _collides(track, tracks, self.duration_s):
                    tracks.append(track)
                    taken.append(track.origin)
                    break
        t = 0.0
        while True:
            t += rng.exponential(1.0 / ARRIVALS_PER_S)
            if t >= self.duration_s:
                break
            for _attempt in range(5):
                track = self._new_track(rng, len(tracks), t, [], entering=True)
                if track is not None and not _collides(track, tracks, self.duration_s):
                    tracks.append(track)
                    break
        return tracks

    def camera_at(self, t_s: float) -> Camera:
        yaw = self.pan_amplitude_rad * np.sin(
            2 * np.pi * t_s / self.pan_period_s + self.pan_phase_rad
        )
        return Camera(rot_z(yaw) @ self.camera.rotation, self.camera.position)

    def scene(self, index: int) -> tuple[PeopleScene, np.ndarray]:
        """The scene at frame index and the track ids of its people."""
        t_s = index / self.fps
        people, ids, boxes = [], [], list(self.boxes)
        for track in self.tracks:
            if not track.start_s <= t_s < track.end_s:
                continue
            xy, yaw = track.place(t_s)
            pose = track.pose(t_s)
            body = pose_body(track.shape, pose, xy, yaw, track.clothing.accessories)
            person = Person(track.shape, pose, track.kind, body, track.clothing, track.track_id)
            people.append(person)
            ids.append(track.track_id)
            if pose.sitting:
                boxes.extend(chair_boxes(person, np.random.default_rng(track.chair_seed)))
        scene = PeopleScene(
            self.camera_at(t_s), self.room, boxes, self.lighting, people, self.cylinders
        )
        return scene, np.array(ids, np.int64)

    def frame(self, index: int) -> PeopleFrame:
        if not 0 <= index < self.n_frames:
            raise IndexError(f"frame {index} outside 0..{self.n_frames - 1}")
        scene, ids = self.scene(index)
        noise_rng = np.random.default_rng([self.seed, 11, index])
        return render_scene(scene, self.intrinsics, noise_rng, self.depth_artefacts, ids)

    def __len__(self) -> int:
        return self.n_frames

    def __iter__(self) -> Iterator[PeopleFrame]:
        for index in range(self.n_frames):
            yield self.frame(index)
