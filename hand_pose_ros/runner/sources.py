"""Where the runner's depth frames come from: synthetic hands, a rosbag2 folder, or PNG files.

Every source yields ROS messages exactly as a camera driver would publish them (depth Image in
its own encoding plus CameraInfo with the same header), and ground truth where it exists
(synthetic only). Header stamps are unique per frame so results can be matched to frames.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import Header

from hand_pose_ros.ros.camera_info import intrinsics_to_camera_info
from hand_pose_ros.ros.image_conversions import metres_to_depth_image
from hand_pose_ros.runner.source_common import (
    CAMERA_INFO_TYPE,
    IMAGE_TYPE,
    INTRINSICS_FILE_NAMES,
    SourceError,
    bag_topics,
    camera_info_from_bag,
    check_synthetic_request,
    find_intrinsics_file,
    folder_files,
    frame_stamp,
    image_from_bag,
    make_stamp_unique,
    open_bag_reader,
    read_intrinsics_file,
)

__all__ = ["SourceError", "SourceFrame", "open_source", "read_intrinsics_file"]

SYNTHETIC_FRAME_ID = "synthetic_depth_optical_frame"
PNG_FRAME_ID = "depth_optical_frame"
DEFAULT_FPS = 30.0


@dataclass
class SourceFrame:
    """One frame to publish."""

    index: int
    image: Image
    camera_info: CameraInfo
    truth: Any | None = None  # hand_pose_ros.synthetic.HandFrame for synthetic sources


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

        check_synthetic_request(frames, width, height, min_px=16)
        self.frames, self.width, self.height = frames, width, height
        self.encoding, self.fps, self.seed = encoding, fps, seed
        self.sequence = HandSequence(seed, width=width, height=height, fps=fps)
        self.description = f"synthetic HandSequence seed {seed}, {width}x{height} {encoding}"

    def __len__(self) -> int:
        return self.frames

    def __iter__(self) -> Iterator[SourceFrame]:
        for index in range(self.frames):
            truth = self.sequence.frame(index)
            header = Header(stamp=frame_stamp(1.0 + index / self.fps), frame_id=SYNTHETIC_FRAME_ID)
            image = metres_to_depth_image(truth.depth_m, self.encoding, header)
            info = intrinsics_to_camera_info(truth.intrinsics, header)
            yield SourceFrame(index, image, info, truth)


# --------------------------------------------------------------------------- PNG folder
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
        self.files = folder_files(folder, (".png",), frames, "PNG", ".png files")
        if intrinsics_path is None:
            intrinsics_path = find_intrinsics_file(folder)
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
            header = Header(stamp=frame_stamp(1.0 + index / self.fps), frame_id=PNG_FRAME_ID)
            depth_m = np.where(depth_mm > 0, depth_mm.astype(np.float32) / 1000.0, np.nan)
            image = metres_to_depth_image(depth_m, "16UC1", header)
            info = intrinsics_to_camera_info(self.intrinsics, header)
            yield SourceFrame(index, image, info, None)


# --------------------------------------------------------------------------- rosbag2
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
        self.path = Path(path)
        topics, counts = bag_topics(self.path)
        self.depth_topic = self._pick(topics, IMAGE_TYPE, depth_topic, "--depth-topic")
        self.info_topic = self._pick(
            topics, CAMERA_INFO_TYPE, camera_info_topic, "--camera-info-topic"
        )
        count = counts.get(self.depth_topic, 0)
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
        with open_bag_reader(self.path) as reader:
            info_connections = [c for c in reader.connections if c.topic == self.info_topic]
            latest_info: CameraInfo | None = None
            for connection, _, raw in reader.messages(connections=info_connections):
                latest_info = camera_info_from_bag(reader.deserialize(raw, connection.msgtype))
                break  # The first one, for images recorded before any camera info.
            if latest_info is None:
                raise SourceError(f"bag {self.path} has no messages on {self.info_topic}")
            wanted = [
                c for c in reader.connections if c.topic in (self.depth_topic, self.info_topic)
            ]
            index = 0
            seen_stamps: set[tuple[int, int]] = set()
            for connection, _, raw in reader.messages(connections=wanted):
                msg = reader.deserialize(raw, connection.msgtype)
                if connection.topic == self.info_topic:
                    latest_info = camera_info_from_bag(msg)
                    continue
                image = image_from_bag(msg)
                make_stamp_unique(image.header, seen_stamps)
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
        return PngFolderSource(Path(location), frames, Path(intrinsics) if intrinsics else None)
    raise SourceError(f"unknown source {spec!r}; expected 'synthetic', 'bag:PATH' or 'pngdir:PATH'")
