"""Skeletons as visualization_msgs/MarkerArray for RViz: LINE_LIST bones, SPHERE_LIST joints.

Marker ids come from the instance id alone (bones 2 * id, joints 2 * id + 1), so each frame
replaces the previous frame's markers of the same instance instead of piling up, and a vanished
instance can be deleted by id. Colours come from a fixed palette indexed by instance id, so a hand
side or a track keeps its colour across frames and runs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from builtin_interfaces.msg import Duration, Time
from geometry_msgs.msg import Point
from std_msgs.msg import ColorRGBA, Header
from visualization_msgs.msg import Marker, MarkerArray

# Distinct, saturated colours (r, g, b in 0-1); instance 0 (left hand) blue, 1 (right hand) orange.
INSTANCE_PALETTE: tuple[tuple[float, float, float], ...] = (
    (0.10, 0.45, 0.85),
    (1.00, 0.50, 0.05),
    (0.15, 0.70, 0.25),
    (0.85, 0.15, 0.20),
    (0.60, 0.35, 0.80),
    (0.55, 0.35, 0.25),
    (0.90, 0.40, 0.75),
    (0.60, 0.65, 0.10),
    (0.10, 0.75, 0.80),
    (0.45, 0.45, 0.45),
)
JOINT_LIGHTEN_FRACTION = 0.35  # joints are drawn a little lighter than bones to stand out
MAX_INSTANCE_ID = (2**31 - 2) // 2  # both marker ids must fit Marker.id (int32)


def marker_ids(instance_id: int) -> tuple[int, int]:
    """(bones marker id, joints marker id) for an instance id in 0..MAX_INSTANCE_ID."""
    if isinstance(instance_id, bool) or not 0 <= int(instance_id) <= MAX_INSTANCE_ID:
        raise ValueError(f"instance id {instance_id!r} outside 0..{MAX_INSTANCE_ID}")
    return 2 * int(instance_id), 2 * int(instance_id) + 1


def instance_colour(instance_id: int, lighten: float = 0.0) -> ColorRGBA:
    """Opaque palette colour for an instance, optionally mixed towards white by `lighten`."""
    r, g, b = INSTANCE_PALETTE[int(instance_id) % len(INSTANCE_PALETTE)]
    mix = float(np.clip(lighten, 0.0, 1.0))
    return ColorRGBA(r=r + (1.0 - r) * mix, g=g + (1.0 - g) * mix, b=b + (1.0 - b) * mix, a=1.0)


def _duration(seconds: float) -> Duration:
    if not (math.isfinite(seconds) and seconds >= 0):
        raise ValueError(f"marker lifetime {seconds!r} s must be finite and >= 0 (0 = forever)")
    whole = math.floor(seconds)
    nanoseconds = min(round((seconds - whole) * 1e9), 999_999_999)
    return Duration(sec=int(whole), nanosec=int(nanoseconds))


def _header_copy(header: Header) -> Header:
    """Own copy so later edits of the caller's header cannot change queued markers."""
    stamp = Time(sec=header.stamp.sec, nanosec=header.stamp.nanosec)
    return Header(stamp=stamp, frame_id=header.frame_id)


def _marker(header: Header, namespace: str, marker_id: int, action: int) -> Marker:
    marker = Marker()
    marker.header = _header_copy(header)
    marker.ns = namespace
    marker.id = marker_id
    marker.action = action
    marker.pose.orientation.w = 1.0  # identity; RViz rejects an all-zero quaternion
    return marker


def _points(xyz: np.ndarray) -> list[Point]:
    return [Point(x=float(x), y=float(y), z=float(z)) for x, y, z in xyz.tolist()]


def _validated_edges(edges: Sequence[Sequence[int]], keypoint_count: int) -> np.ndarray:
    pairs = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    if pairs.size and (pairs.min() < 0 or pairs.max() >= keypoint_count):
        raise ValueError(
            f"skeleton edges index keypoints {pairs.min()}..{pairs.max()}; "
            f"the instances have {keypoint_count} keypoints"
        )
    return pairs


def skeleton_markers(
    header: Header,
    instances: Sequence[tuple[int, np.ndarray]],
    edges: Sequence[Sequence[int]],
    namespace: str,
    lifetime_s: float,
    joint_diameter_m: float = 0.012,
    bone_width_m: float = 0.006,
) -> MarkerArray:
    """Markers for instances given as (instance id, (K, 3) xyz metres, NaN where no depth).

    Per instance: a LINE_LIST with the bones whose two ends are finite and a SPHERE_LIST with
    the finite joints. A list that would be empty is sent as a DELETE of that id instead (RViz
    warns about empty point lists, and the delete clears the previous frame's marker at once).
    """
    lifetime = _duration(float(lifetime_s))
    result = MarkerArray()
    for instance_id, xyz_in in instances:
        bones_id, joints_id = marker_ids(instance_id)
        xyz = np.asarray(xyz_in, dtype=np.float64)
        if xyz.ndim != 2 or xyz.shape[1] != 3:
            raise ValueError(f"instance {instance_id}: xyz has shape {xyz.shape}; expected (K, 3)")
        finite = np.isfinite(xyz).all(axis=1)
        pairs = _validated_edges(edges, xyz.shape[0])
        pairs = pairs[finite[pairs[:, 0]] & finite[pairs[:, 1]]]

        if len(pairs):
            bones = _marker(header, namespace, bones_id, Marker.ADD)
            bones.type = Marker.LINE_LIST
            bones.scale.x = float(bone_width_m)
            bones.color = instance_colour(instance_id)
            bones.lifetime = lifetime
            bones.points = _points(xyz[pairs.reshape(-1)])
        else:
            bones = _marker(header, namespace, bones_id, Marker.DELETE)
        result.markers.append(bones)

        if finite.any():
            joints = _marker(header, namespace, joints_id, Marker.ADD)
            joints.type = Marker.SPHERE_LIST
            joints.scale.x = joints.scale.y = joints.scale.z = float(joint_diameter_m)
            joints.color = instance_colour(instance_id, JOINT_LIGHTEN_FRACTION)
            joints.lifetime = lifetime
            joints.points = _points(xyz[finite])
        else:
            joints = _marker(header, namespace, joints_id, Marker.DELETE)
        result.markers.append(joints)
    return result


def delete_instance_markers(
    header: Header, namespace: str, instance_ids: Sequence[int]
) -> MarkerArray:
    """DELETE both markers of each given instance (one vanished track), leaving others alone."""
    result = MarkerArray()
    for instance_id in instance_ids:
        for marker_id in marker_ids(instance_id):
            result.markers.append(_marker(header, namespace, marker_id, Marker.DELETE))
    return result


def delete_all_markers(header: Header, namespace: str) -> MarkerArray:
    """A single DELETEALL: clears what this publisher drew (e.g. when all instances vanish)."""
    result = MarkerArray()
    result.markers.append(_marker(header, namespace, 0, Marker.DELETEALL))
    return result
