"""CameraInfoPairing: an image's own CameraInfo when the camera sends one per image."""

from __future__ import annotations

import threading
import time

from hand_pose_ros.nodes.camera_info_pairing import CameraInfoPairing

GRACE_S = 0.2


def _timed(pairing: CameraInfoPairing, stamp_s: float) -> tuple[object, float]:
    start_s = time.monotonic()
    info = pairing.for_image(stamp_s)
    return info, time.monotonic() - start_s


def test_the_image_gets_its_own_info_not_the_latest() -> None:
    pairing = CameraInfoPairing(GRACE_S)
    for stamp_s in (1.0, 2.0, 3.0):
        pairing.add(f"info {stamp_s}", stamp_s)
    assert pairing.for_image(2.0) == "info 2.0"


def test_without_any_info_the_image_waits_the_grace_period_then_gets_none() -> None:
    info, waited_s = _timed(CameraInfoPairing(GRACE_S), 1.0)
    assert info is None
    assert waited_s >= GRACE_S * 0.9


def test_an_info_arriving_after_its_image_is_waited_for() -> None:
    pairing = CameraInfoPairing(GRACE_S)
    pairing.add("info 1", 1.0)
    assert pairing.for_image(1.0) == "info 1"
    late = threading.Timer(GRACE_S / 4, pairing.add, args=("info 2", 2.0))
    late.start()
    info, waited_s = _timed(pairing, 2.0)
    late.join()
    assert info == "info 2"
    assert waited_s < GRACE_S * 0.9  # woken by its arrival, not by the deadline


def test_a_lost_info_costs_one_grace_period_and_the_latest_serves() -> None:
    pairing = CameraInfoPairing(GRACE_S)
    pairing.add("info 1", 1.0)
    pairing.for_image(1.0)
    info, waited_s = _timed(pairing, 2.0)
    assert info == "info 1" and waited_s >= GRACE_S * 0.9


def test_a_static_camera_info_serves_at_once_after_the_first_image() -> None:
    """Stamp 0: no CameraInfo per image."""
    pairing = CameraInfoPairing(GRACE_S)
    pairing.add("static", 0.0)
    assert pairing.for_image(10.0) == "static"  # first image: the info might still be per image
    for stamp_s in (10.1, 10.2, 10.3):
        info, waited_s = _timed(pairing, stamp_s)
        assert info == "static"
        assert waited_s < GRACE_S / 2


def test_info_stamps_offset_from_the_images_cost_one_grace_period() -> None:
    """A driver that stamps its CameraInfo a little before its image: never an exact pair."""
    pairing = CameraInfoPairing(GRACE_S)
    waits_s = []
    for stamp_s in (1.0, 2.0, 3.0, 4.0):
        pairing.add(f"info {stamp_s}", stamp_s - 0.001)
        info, waited_s = _timed(pairing, stamp_s)
        assert info == f"info {stamp_s}"
        waits_s.append(waited_s)
    assert waits_s[0] >= GRACE_S * 0.9
    assert max(waits_s[1:]) < GRACE_S / 2


def test_waiting_resumes_once_an_image_is_paired_again() -> None:
    pairing = CameraInfoPairing(GRACE_S)
    pairing.add("info 1", 1.0)
    pairing.for_image(1.0)
    pairing.for_image(2.0)  # its CameraInfo was lost: the latest served after a grace period
    assert _timed(pairing, 3.0)[1] < GRACE_S / 2  # not waiting now
    pairing.add("info 4", 4.0)
    assert pairing.for_image(4.0) == "info 4"  # paired again
    late = threading.Timer(GRACE_S / 4, pairing.add, args=("info 5", 5.0))
    late.start()
    info, waited_s = _timed(pairing, 5.0)
    late.join()
    assert info == "info 5" and waited_s < GRACE_S * 0.9


def test_an_info_newer_than_the_image_serves_at_once() -> None:
    pairing = CameraInfoPairing(GRACE_S)
    pairing.add("info 5", 5.0)
    info, waited_s = _timed(pairing, 4.0)
    assert info == "info 5" and waited_s < GRACE_S / 2


def test_only_the_recent_infos_are_kept() -> None:
    pairing = CameraInfoPairing(GRACE_S, history=2)
    for stamp_s in (1.0, 2.0, 3.0):
        pairing.add(f"info {stamp_s}", stamp_s)
    assert pairing.for_image(1.0) == "info 3.0"  # its own is gone; the newer latest serves
