"""Where the runner's depth frames come from: synthetic hands, a rosbag2 folder, or PNG files.

Every source yields ROS messages exactly as a camera driver would publish them (depth Image in
its own encoding plus CameraInfo with the same header), and ground truth where it exists
(synthetic only). Header stamps are unique per frame so results can be matched to frames.
"""

from __future__ import annotations

import array
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from builtin_interfaces.msg import Time
from sensor_msgs.msg import CameraInfo, Image, RegionOfInterest
from std_msgs.msg import Header

from hand_pose_ros.core.camera import Intrinsics
from hand_pose_ros.ros.camera_info import intrinsics_to_camera_info
from hand_pose_ros.ros.image_conversions import metres_to_depth_image

SYNTHETIC_FRAME_ID = "synthetic_depth_optical_frame"
PNG_FRAME_ID = "depth_optical_frame"
DEFAULT_FPS = 30.0
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


@dataclass
class SourceFrame:
    """One frame to publish."""

    index: int
    image: Image
    camera_info: CameraInfo
    truth: Any | None = None  # hand_pose_ros.synthetic.HandFrame for synthetic sources


def _stamp(seconds: float) -> Time:
    whole = int(np.floor(seconds))
    return Time(sec=whole, nanosec=round((seconds - whole) * 1e9) % 1_000_000_000)


class SyntheticSource:
    """A smooth synthetic HandSequence (ground truth included), rendered on the fly."""

    def __init__(
        self,
        frames: int,
        width: int = 224,
        height: int = 172,
        seed: int = 0,
        encoding: str = "16UC1",
        fps: float = DEFAULT_FPS,
    ) -> None:
        from hand_pose_ros.synthetic import HandSequence

        if frames < 1:
            raise SourceError(f"--frames must be >= 1, got {frames}")
        if width < 16 or height < 16:
            raise SourceError(f"synthetic size {width}x{height} is too small (min 16x16)")
        self.frames, self.width, self.height = frames, width, height
        self.encoding, self.fps, self.seed = encoding, fps, seed
        self.sequence = HandSequence(seed, width=width, height=height, fps=fps)
        self.description = f"synthetic HandSequence seed {seed}, {width}x{height} {encoding}"

    def __len__(self) -> int:
        return self.frames

    def __iter__(self) -> Iterator[SourceFrame]:
        for index in range(self.frames):
            truth = self.sequence.frame(index)
            header = Header(stamp=_stamp(1.0 + index / self.fps), frame_id=SYNTHETIC_FRAME_ID)
            image = metres_to_depth_image(truth.depth_m, self.encoding, header)
            info = intrinsics_to_camera_info(truth.intrinsics, header)
            yield SourceFrame(index, image, info, truth)


# --------------------------------------------------------------------------- PNG folder
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
        intrinsics = Intrinsics(
            float(fx), float(fy), float(cx), float(cy), int(width), int(height)
        )
    except (KeyError, IndexError, TypeError, ValueError) as error:
        raise SourceError(
            f"{path}: intrinsics need fx, fy, cx, cy, width, height (or K + width/height, or a "
            f"ROS camera_calibration file); problem: {error!r}"
        ) from error
    if not (intrinsics.fx > 0 and intrinsics.fy > 0 and intrinsics.width > 0
            and intrinsics.height > 0):
        raise SourceError(f"{path}: focal lengths and image size must be > 0, got {intrinsics}")
    return intrinsics


class PngFolderSource:
    """16-bit PNG depth images in millimetres (0 = invalid), sorted by name, plus intrinsics."""

    def __init__(
        self,
        folder: Path,
        frames: int | None = None,
        intrinsics_path: Path | None = None,
        fps: float = DEFAULT_FPS,
    ) -> None:
        folder = Path(folder)
        if not folder.is_dir():
            raise SourceError(f"PNG source {folder} is not a folder")
        self.files = sorted(p for p in folder.iterdir() if p.suffix.lower() == ".png")
        if not self.files:
            raise SourceError(f"no .png files in {folder}")
        if frames is not None:
            self.files = self.files[:frames]
        if intrinsics_path is None:
            candidates = [folder / name for name in INTRINSICS_FILE_NAMES]
            intrinsics_path = next((p for p in candidates if p.exists()), None)
            if intrinsics_path is None:
                looked_for = ", ".join(INTRINSICS_FILE_NAMES)
                raise SourceError(
                    f"no intrinsics file in {folder} (looked for {looked_for}); "
                    "pass --intrinsics FILE"
                )
        self.intrinsics = read_intrinsics_file(Path(intrinsics_path))
        self.fps = fps
        self.description = f"PNG folder {folder} ({len(self.files)} frames)"

    def __len__(self) -> int:
        return len(self.files)

    def __iter__(self) -> Iterator[SourceFrame]:
        from PIL import Image as PilImage

        for index, path in enumerate(self.files):
            with PilImage.open(path) as picture:
                if picture.mode not in ("I;16", "I;16B", "I;16L", "I"):
                    raise SourceError(
                        f"{path} is a {picture.mode} PNG; expected 16-bit greyscale depth in "
                        "millimetres"
                    )
                depth_mm = np.asarray(picture)
            if depth_mm.min() < 0 or depth_mm.max() > np.iinfo(np.uint16).max:
                raise SourceError(f"{path}: values outside 16-bit range")
            header = Header(stamp=_stamp(1.0 + index / self.fps), frame_id=PNG_FRAME_ID)
            depth_m = np.where(depth_mm > 0, depth_mm.astype(np.float32) / 1000.0, np.nan)
            image = metres_to_depth_image(depth_m, "16UC1", header)
            info = intrinsics_to_camera_info(self.intrinsics, header)
            yield SourceFrame(index, image, info, None)


# --------------------------------------------------------------------------- rosbag2
def _rosbags_typestore():
    """Typestore for bags without embedded definitions (sqlite3 bags from Humble/Jazzy)."""
    from rosbags.typesys import Stores, get_typestore

    store = getattr(Stores, "ROS2_JAZZY", None) or Stores.ROS2_HUMBLE
    return get_typestore(store)


def _bytes_array(data: Any) -> array.array:
    payload = array.array("B")
    payload.frombytes(np.asarray(data, dtype=np.uint8).tobytes())
    return payload


def _header_from_bag(header: Any) -> Header:
    return Header(
        stamp=Time(sec=int(header.stamp.sec), nanosec=int(header.stamp.nanosec)),
        frame_id=str(header.frame_id),
    )


def _image_from_bag(msg: Any) -> Image:
    image = Image()
    image.header = _header_from_bag(msg.header)
    image.height, image.width = int(msg.height), int(msg.width)
    image.encoding = str(msg.encoding)
    image.is_bigendian = int(msg.is_bigendian)
    image.step = int(msg.step)
    image.data = _bytes_array(msg.data)
    return image


def _camera_info_from_bag(msg: Any) -> CameraInfo:
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


IMAGE_TYPE = "sensor_msgs/msg/Image"
CAMERA_INFO_TYPE = "sensor_msgs/msg/CameraInfo"


class BagSource:
    """Depth images and camera info read from a rosbag2 folder with the `rosbags` library.

    Topics default to the only Image / CameraInfo topic in the bag; with several, name them.
    Each image is published with the newest camera info seen before it (or the first one in
    the bag when the image comes first).
    """

    def __init__(
        self,
        path: Path,
        frames: int | None = None,
        depth_topic: str | None = None,
        camera_info_topic: str | None = None,
    ) -> None:
        from rosbags.highlevel import AnyReader

        self.path = Path(path)
        if not self.path.exists():
            raise SourceError(f"bag {self.path} does not exist")
        self._reader_class = AnyReader
        try:
            with AnyReader([self.path], default_typestore=_rosbags_typestore()) as reader:
                topics = {c.topic: c.msgtype for c in reader.connections}
                self.depth_topic = self._pick(topics, IMAGE_TYPE, depth_topic, "--depth-topic")
                self.info_topic = self._pick(
                    topics, CAMERA_INFO_TYPE, camera_info_topic, "--camera-info-topic"
                )
                count = sum(c.msgcount for c in reader.connections if c.topic == self.depth_topic)
        except SourceError:
            raise
        except Exception as error:
            raise SourceError(f"cannot read rosbag2 folder {self.path}: {error}") from error
        self.frames = count if frames is None else min(count, frames)
        if self.frames == 0:
            raise SourceError(f"bag {self.path} has no messages on {self.depth_topic}")
        self.description = (
            f"rosbag2 {self.path} ({self.depth_topic} + {self.info_topic}, {self.frames} frames)"
        )

    def _pick(
        self, topics: dict[str, str], msgtype: str, requested: str | None, option: str
    ) -> str:
        candidates = sorted(topic for topic, kind in topics.items() if kind == msgtype)
        if requested is not None:
            if topics.get(requested) != msgtype:
                raise SourceError(
                    f"bag {self.path} has no {msgtype} topic {requested!r}; {msgtype} topics: "
                    f"{candidates or 'none'}"
                )
            return requested
        if len(candidates) != 1:
            raise SourceError(
                f"bag {self.path} has {len(candidates)} {msgtype} topics {candidates}; "
                f"choose one with {option}"
            )
        return candidates[0]

    def __len__(self) -> int:
        return self.frames

    def __iter__(self) -> Iterator[SourceFrame]:
        with self._reader_class([self.path], default_typestore=_rosbags_typestore()) as reader:
            info_connections = [c for c in reader.connections if c.topic == self.info_topic]
            latest_info: CameraInfo | None = None
            for connection, _, raw in reader.messages(connections=info_connections):
                latest_info = _camera_info_from_bag(reader.deserialize(raw, connection.msgtype))
                break  # The first one, for images recorded before any camera info.
            if latest_info is None:
                raise SourceError(f"bag {self.path} has no messages on {self.info_topic}")
            wanted = [c for c in reader.connections if c.topic in (self.depth_topic,
                                                                    self.info_topic)]
            index = 0
            seen_stamps: set[tuple[int, int]] = set()
            for connection, _, raw in reader.messages(connections=wanted):
                msg = reader.deserialize(raw, connection.msgtype)
                if connection.topic == self.info_topic:
                    latest_info = _camera_info_from_bag(msg)
                    continue
                image = _image_from_bag(msg)
                key = (image.header.stamp.sec, image.header.stamp.nanosec)
                while key in seen_stamps:  # Results are matched by stamp: keep them unique.
                    image.header.stamp.nanosec = (key[1] + 1) % 1_000_000_000
                    key = (image.header.stamp.sec, image.header.stamp.nanosec)
                seen_stamps.add(key)
                latest_info.header = image.header
                yield SourceFrame(index, image, latest_info, None)
                index += 1
                if index >= self.frames:
                    return


def open_source(spec: str, frames: int, **options: Any):
    """``synthetic`` | ``bag:PATH`` | ``pngdir:PATH`` -> a source object."""
    kind, _, location = spec.partition(":")
    if kind == "synthetic":
        return SyntheticSource(
            frames,
            width=options.get("width", 224),
            height=options.get("height", 172),
            seed=options.get("seed", 0),
            encoding=options.get("encoding", "16UC1"),
        )
    if kind == "bag" and location:
        return BagSource(
            Path(location),
            frames,
            depth_topic=options.get("depth_topic"),
            camera_info_topic=options.get("camera_info_topic"),
        )
    if kind == "pngdir" and location:
        intrinsics = options.get("intrinsics")
        return PngFolderSource(
            Path(location), frames, Path(intrinsics) if intrinsics else None
        )
    raise SourceError(
        f"unknown source {spec!r}; expected 'synthetic', 'bag:PATH' or 'pngdir:PATH'"
    )
