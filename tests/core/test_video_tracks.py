"""Track identities across keyframes: association by OKS, birth, death, no reused ids."""

from __future__ import annotations

import numpy as np
import pytest

from hand_pose_ros.core.skeletons import COCO_KEYPOINT_NAMES
from hand_pose_ros.core.video.tracks import TrackingSettings, TrackSet

JOINTS = len(COCO_KEYPOINT_NAMES)
SIGMAS = np.full(JOINTS, 0.07)


def _person(x: float, y: float = 200.0, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.array([x, y]) + rng.uniform(-1, 1, (JOINTS, 2)) * [25.0, 80.0]


def _detections(*people: np.ndarray):
    uv = np.stack(people) if people else np.zeros((0, JOINTS, 2))
    return uv, np.ones(uv.shape[:2], np.float32), np.ones(len(uv), np.float32)


def _ids_by_x(tracks: TrackSet) -> list[int]:
    return [t.track_id for t in sorted(tracks.tracks, key=lambda t: t.uv_px[:, 0].mean())]


def test_people_keep_their_ids_when_they_move_a_little_and_the_order_changes() -> None:
    tracks = TrackSet(SIGMAS, smoothing=None)
    tracks.associate(*_detections(_person(100, seed=1), _person(400, seed=2)), 0.0)
    assert _ids_by_x(tracks) == [0, 1]
    moved = _detections(_person(410, seed=2), _person(108, seed=1))  # detection order swapped
    tracks.associate(*moved, 0.1)
    assert _ids_by_x(tracks) == [0, 1]
    np.testing.assert_allclose(tracks.tracks[0].uv_px, _person(108, seed=1))


def test_a_new_person_is_born_with_a_new_id_and_a_vanished_one_dies_after_misses() -> None:
    settings = TrackingSettings(max_keyframe_misses=2)
    tracks = TrackSet(SIGMAS, settings, smoothing=None)
    tracks.associate(*_detections(_person(100, seed=1)), 0.0)
    tracks.associate(*_detections(_person(100, seed=1), _person(500, seed=3)), 0.1)
    assert _ids_by_x(tracks) == [0, 1]
    tracks.associate(*_detections(_person(500, seed=3)), 0.2)  # person 0 missed once: kept
    assert sorted(t.track_id for t in tracks.tracks) == [0, 1]
    tracks.associate(*_detections(_person(500, seed=3)), 0.3)  # missed twice: ended
    assert [t.track_id for t in tracks.tracks] == [1]
    tracks.associate(*_detections(_person(500, seed=3), _person(100, seed=1)), 0.4)
    assert _ids_by_x(tracks) == [2, 1]  # ids are never reused


def test_unconfident_detections_start_no_track() -> None:
    tracks = TrackSet(SIGMAS, TrackingSettings(min_birth_score=0.5), smoothing=None)
    uv, score, _ = _detections(_person(100), _person(400, seed=5))
    tracks.associate(uv, score, np.array([0.9, 0.2], np.float32), 0.0)
    assert len(tracks) == 1


def test_a_far_jump_is_a_new_person_not_the_same_track() -> None:
    tracks = TrackSet(SIGMAS, TrackingSettings(max_keyframe_misses=1), smoothing=None)
    tracks.associate(*_detections(_person(100, seed=1)), 0.0)
    tracks.associate(*_detections(_person(600, seed=1)), 0.1)
    assert [t.track_id for t in tracks.tracks] == [1]


def test_propagation_updates_every_track_and_lost_ones_are_dropped() -> None:
    tracks = TrackSet(SIGMAS, smoothing=None)
    tracks.associate(*_detections(_person(100, seed=1), _person(400, seed=2)), 0.0)
    uv = np.stack([_person(102, seed=1), _person(403, seed=2)])
    score = np.stack([np.full(JOINTS, 0.8), np.full(JOINTS, 0.05)]).astype(np.float32)
    tracks.propagate(uv, score, 0.1)
    np.testing.assert_allclose(tracks.tracks[0].uv_px, uv[0])
    np.testing.assert_allclose(tracks.tracks[1].score, 0.05)
    tracks.drop_lost(0.1)
    assert [t.track_id for t in tracks.tracks] == [0]
    assert tracks.tracks[0].confidence == np.float32(0.8)


def test_smoothing_follows_the_raw_pose_but_damps_a_jump() -> None:
    tracks = TrackSet(SIGMAS)
    pose = _person(100, seed=1)
    tracks.associate(*_detections(pose), 0.0)
    np.testing.assert_allclose(tracks.tracks[0].smoothed_uv_px, pose)
    tracks.propagate((pose + 10.0)[None], np.ones((1, JOINTS), np.float32), 1 / 30)
    track = tracks.tracks[0]
    np.testing.assert_allclose(track.uv_px, pose + 10.0)
    assert np.all((track.smoothed_uv_px > pose) & (track.smoothed_uv_px < pose + 10.0))


def test_two_tracks_on_one_person_keep_the_older_id() -> None:
    tracks = TrackSet(SIGMAS, smoothing=None)
    tracks.associate(*_detections(_person(100, seed=1), _person(400, seed=2)), 0.0)
    onto_one = np.stack([_person(400, seed=2) + 1.0, _person(400, seed=2)])
    tracks.propagate(onto_one, np.ones((2, JOINTS), np.float32), 0.1)
    tracks.drop_lost(0.1)
    assert [t.track_id for t in tracks.tracks] == [0]


def test_the_reference_confidence_is_the_first_propagated_one_after_a_keyframe() -> None:
    tracks = TrackSet(SIGMAS, smoothing=None)
    pose = _person(100, seed=1)
    tracks.associate(*_detections(pose), 0.0)
    assert np.isnan(tracks.tracks[0].reference_confidence)
    for step, level in enumerate((0.8, 0.5), start=1):
        tracks.propagate(pose[None], np.full((1, JOINTS), level, np.float32), 0.1 * step)
    assert tracks.tracks[0].reference_confidence == pytest.approx(0.8)
    tracks.associate(*_detections(pose), 0.3)
    assert np.isnan(tracks.tracks[0].reference_confidence)


def _predicted(*people: np.ndarray, score: float = 0.8) -> tuple[np.ndarray, np.ndarray]:
    uv = np.stack(people)
    return uv, np.full(uv.shape[:2], score, np.float32)


def test_a_keyframe_matches_detections_to_where_the_tracks_were_predicted() -> None:
    tracks = TrackSet(SIGMAS, TrackingSettings(max_keyframe_misses=1), smoothing=None)
    tracks.associate(*_detections(_person(100, seed=1)), 0.0)
    # The person ran far between keyframes; DKD followed: the detection continues the track.
    tracks.associate(*_detections(_person(600, seed=1)), 0.1, _predicted(_person(590, seed=1)))
    assert [t.track_id for t in tracks.tracks] == [0]
    np.testing.assert_allclose(tracks.tracks[0].uv_px, _person(600, seed=1))


def test_a_track_the_keyframe_missed_follows_its_prediction() -> None:
    tracks = TrackSet(SIGMAS, TrackingSettings(max_keyframe_misses=2), smoothing=None)
    tracks.associate(*_detections(_person(100, seed=1), _person(400, seed=2)), 0.0)
    predicted = _predicted(_person(105, seed=1), _person(410, seed=2))
    tracks.associate(*_detections(_person(106, seed=1)), 0.1, predicted)
    assert _ids_by_x(tracks) == [0, 1]
    np.testing.assert_allclose(tracks.tracks[1].uv_px, _person(410, seed=2))
    assert tracks.tracks[1].keyframe_misses == 1


def test_joints_the_detector_missed_keep_the_prediction() -> None:
    tracks = TrackSet(SIGMAS, smoothing=None)
    tracks.associate(*_detections(_person(100, seed=1)), 0.0)
    uv, score, person_score = _detections(_person(104, seed=1))
    score[0, :3] = 0.0  # three joints not found by the keyframe model
    tracks.associate(uv, score, person_score, 0.1, _predicted(_person(102, seed=1)))
    track = tracks.tracks[0]
    np.testing.assert_allclose(track.uv_px[:3], _person(102, seed=1)[:3])
    np.testing.assert_allclose(track.uv_px[3:], _person(104, seed=1)[3:])
    np.testing.assert_allclose(track.score[:3], 0.8)


def test_joints_propagated_too_weakly_stay_where_they_were() -> None:
    tracks = TrackSet(SIGMAS, TrackingSettings(min_propagated_score=0.25), smoothing=None)
    pose = _person(100, seed=1)
    tracks.associate(*_detections(pose), 0.0)
    score = np.full((1, JOINTS), 0.9, np.float32)
    score[0, :4] = 0.2
    tracks.propagate((pose + 5.0)[None], score, 0.1)
    track = tracks.tracks[0]
    np.testing.assert_allclose(track.uv_px[:4], pose[:4])
    np.testing.assert_allclose(track.uv_px[4:], pose[4:] + 5.0)
    np.testing.assert_allclose(track.score[:4], 0.2)  # the loss still shows
