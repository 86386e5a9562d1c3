"""Pieces both runners' frame sources share: errors, stamps, image folders, intrinsics files and
rosbag2 reading (message conversion from `rosbags` types, topic listing, unique stamps).

Kept apart from the sources themselves so the wearable (depth) and robot (colour + depth)
sources read bags, folders and intrinsics files the same way.
"""

from __future__ import annotations

import array
import json
from pathlib import Path
from typing import Any

import numpy as np
from builtin_interfaces.msg import Time
from sensor_msgs.msg import CameraInfo, Image, RegionOfInterest
from std_msgs.msg import Header

from hand_pose_ros.core.camera import Intrinsics

IMAGE_TYPE = "sensor_msgs/msg/Image"
CAMERA_INFO_TYPE = "sensor_msgs/msg/CameraInfo"
INTRINSICS_FILE_NAMES: tuple[str, ...] = (
    "intrinsics.json",
    "intrinsics.yaml",
    "intrinsics.yml",
    "camera_info.yaml",
    "camera_info.yml",
    "camera_info.json",
)


class SourceError(ValueError):
    """A source cannot be opened or read; the text says what is wrong and what was expected."""


def frame_stamp(seconds: float) -> Time:
    """A ROS time for a frame's position in a generated or file-based stream."""
    whole = int(np.floor(seconds))
    return Time(sec=whole, nanosec=round((seconds - whole) * 1e9) % 1_000_000_000)


def check_synthetic_request(frames: int, width: int, height: int, min_px: int) -> None:
    """Refuse a synthetic run the generator cannot render, with the option to change."""
    if frames < 1:
        raise SourceError(f"--frames must be >= 1, got {frames}")
    if width < min_px or height < min_px:
        raise SourceError(f"synthetic size {width}x{height} is too small (min {min_px}x{min_px})")


def make_stamp_unique(header: Header, seen: set[tuple[int, int]]) -> None:
    """Results are matched to frames by stamp: bump a repeated stamp by nanoseconds."""
    key = (header.stamp.sec, header.stamp.nanosec)
    while key in seen:
        header.stamp.nanosec = (key[1] + 1) % 1_000_000_000
        key = (header.stamp.sec, header.stamp.nanosec)
    seen.add(key)


# --------------------------------------------------------------------------- folders
def folder_files(
    folder: Path, suffixes: tuple[str, ...], frames: int | None, kind: str, contents: str
) -> list[Path]:
    """The files of `folder` with one of `suffixes`, sorted by name, at most `frames`; `kind`
    and `contents` name the source and what it wants in error messages."""
    if not folder.is_dir():
        raise SourceError(f"{kind} source {folder} is not a folder")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in suffixes)
    if not files:
        raise SourceError(f"no {contents} in {folder}")
    return files if frames is None else files[:frames]


def find_intrinsics_file(folder: Path) -> Path | None:
    """The first of INTRINSICS_FILE_NAMES present in `folder`."""
    candidates = [folder / name for name in INTRINSICS_FILE_NAMES]
    return next((p for p in candidates if p.exists()), None)


def _load_structured(path: Path) -> Any:
    text = path.read_text()
    if path.suffix.lower() == ".json":
        return json.loads(text)
    import yaml  # PyYAML: only needed for YAML intrinsics files.

    return yaml.safe_load(text)


def read_intrinsics_file(path: Path) -> Intrinsics:
    """Intrinsics from JSON/YAML: {fx, fy, cx, cy, width, height}, {K: [9], width, height},
    or a ROS camera_calibration file (image_width, image_height, camera_matrix.data)."""
    try:
        data = _load_structured(path)
    except Exception as error:
        raise SourceError(f"cannot read intrinsics file {path}: {error}") from error
    if not isinstance(data, dict):
        raise SourceError(f"{path}: expected a mapping of intrinsics, got {type(data).__name__}")
    try:
        if "camera_matrix" in data:  # ROS camera_calibration YAML
            k = list(data["camera_matrix"]["data"])
            width, height = data["image_width"], data["image_height"]
            fx, cx, fy, cy = k[0], k[2], k[4], k[5]
        elif "K" in data or "k" in data:
            k = list(data.get("K", data.get("k")))
            width, height = data["width"], data["height"]
            fx, cx, fy, cy = k[0], k[2], k[4], k[5]
        else:
            fx, fy, cx, cy = data["fx"], data["fy"], data["cx"], data["cy"]
            width, height = data["width"], data["height"]
        intrinsics = Intrinsics(float(fx), float(fy), float(cx), float(cy), int(width), int(height))
    except (KeyError, IndexError, TypeError, ValueError) as error:
        raise SourceError(
            f"{path}: intrinsics need fx, fy, cx, cy, width, height (or K + width/height, or a "
            f"ROS camera_calibration file); problem: {error!r}"
        ) from error
    if not (
        intrinsics.fx > 0 and intrinsics.fy > 0 and intrinsics.width > 0 and intrinsics.height > 0
    ):
        raise SourceError(f"{path}: focal lengths and image size must be > 0, got {intrinsics}")
    return intrinsics


# --------------------------------------------------------------------------- rosbag2
def rosbags_typestore():
    """Typestore for bags without embedded definitions (sqlite3 bags from Humble/Jazzy)."""
    from rosbags.typesys import Stores, get_typestore

    store = getattr(Stores, "ROS2_JAZZY", None) or Stores.ROS2_HUMBLE
    return get_typestore(store)


def open_bag_reader(path: Path):
    """A `rosbags` AnyReader (a context manager) for a rosbag2 folder."""
    from rosbags.highlevel import AnyReader

    return AnyReader([path], default_typestore=rosbags_typestore())


def bag_topics(path: Path) -> tuple[dict[str, str], dict[str, int]]:
    """Message type and message count of every topic in a rosbag2 folder; problems reading it
    become SourceErrors."""
    from rosbags.highlevel import AnyReader

    if not path.exists():
        raise SourceError(f"bag {path} does not exist")
    try:
        with AnyReader([path], default_typestore=rosbags_typestore()) as reader:
            types = {c.topic: c.msgtype for c in reader.connections}
            counts: dict[str, int] = {}
            for c in reader.connections:
                counts[c.topic] = counts.get(c.topic, 0) + c.msgcount
    except Exception as error:
        raise SourceError(f"cannot read rosbag2 folder {path}: {error}") from error
    return types, counts


def _bytes_array(data: Any) -> array.array:
    payload = array.array("B")
    payload.frombytes(np.asarray(data, dtype=np.uint8).tobytes())
    return payload


def _header_from_bag(header: Any) -> Header:
    return Header(
        stamp=Time(sec=int(header.stamp.sec), nanosec=int(header.stamp.nanosec)),
        frame_id=str(header.frame_id),
    )


def image_from_bag(msg: Any) -> Image:
    """A `rosbags` Image as an rclpy message."""
    image = Image()
    image.header = _header_from_bag(msg.header)
    image.height, image.width = int(msg.height), int(msg.width)
    image.encoding = str(msg.encoding)
    image.is_bigendian = int(msg.is_bigendian)
    image.step = int(msg.step)
    image.data = _bytes_array(msg.data)
    return image


def camera_info_from_bag(msg: Any) -> CameraInfo:
    """A `rosbags` CameraInfo as an rclpy message."""
    info = CameraInfo()
    info.header = _header_from_bag(msg.header)
    info.height, info.width = int(msg.height), int(msg.width)
    info.distortion_model = str(msg.distortion_model)
    info.d = [float(v) for v in msg.d]
    info.k = [float(v) for v in msg.k]
    info.r = [float(v) for v in msg.r]
    info.p = [float(v) for v in msg.p]
    info.binning_x, info.binning_y = int(msg.binning_x), int(msg.binning_y)
    info.roi = RegionOfInterest(
        x_offset=int(msg.roi.x_offset),
        y_offset=int(msg.roi.y_offset),
        height=int(msg.roi.height),
        width=int(msg.roi.width),
        do_rectify=bool(msg.roi.do_rectify),
    )
    return info
