"""Where the robot runner's colour (+ registered depth) frames come from.

Sources: a synthetic PeopleSequence (default; ground truth included), a rosbag2 folder with
colour, depth and camera-info topics, a folder of colour images or a video file (colour only,
optional intrinsics). Every source yields ROS messages as a camera driver publishes them;
header stamps are unique per frame, so results can be matched to frames.

Video files are decoded with PyAV (``pip install av``, about 35 MB with its own FFmpeg): an
optional dependency, since neither the nodes nor the demo need it.
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
from hand_pose_ros.ros.image_conversions import COLOR_ENCODINGS, numpy_to_image
from hand_pose_ros.ros.stamps import stamp_seconds
from hand_pose_ros.runner.source_common import (
    CAMERA_INFO_TYPE,
    IMAGE_TYPE,
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

SYNTHETIC_FRAME_ID = "synthetic_color_optical_frame"
IMAGES_FRAME_ID = "camera_color_optical_frame"
DEFAULT_SYNTHETIC_FPS = 15.0
DEFAULT_IMAGES_FPS = 30.0
IMAGE_SUFFIXES: tuple[str, ...] = (".png", ".jpg", ".jpeg", ".bmp", ".ppm")


@dataclass
class RgbdSourceFrame:
    """One frame to publish: colour, optional registered depth, optional camera info."""

    index: int
    color: Image
    depth: Image | None
    camera_info: CameraInfo | None
    truth: Any | None = None  # hand_pose_ros.synthetic.people.PeopleFrame for synthetic


class SyntheticPeopleSource:
    """A synthetic PeopleSequence rendered on the fly (ground truth included)."""

    has_depth = True

    def __init__(
        self,
        frames: int,
        width: int = 640,
        height: int = 480,
        seed: int = 0,
        encoding: str = "16UC1",
        fps: float = DEFAULT_SYNTHETIC_FPS,
    ) -> None:
        from hand_pose_ros.synthetic.people.sequences import PeopleSequence

        check_synthetic_request(frames, width, height, min_px=32)
        if encoding not in ("16UC1", "32FC1"):
            raise SourceError(f"depth encoding {encoding!r}: expected 16UC1 or 32FC1")
        self.frames, self.encoding, self.fps = frames, encoding, fps
        self.sequence = PeopleSequence(seed, frames, width, height, fps=fps)
        self.description = (
            f"synthetic PeopleSequence seed {seed}, {width}x{height} rgb8 + {encoding} depth"
        )

    def __len__(self) -> int:
        return self.frames

    def __iter__(self) -> Iterator[RgbdSourceFrame]:
        for index in range(self.frames):
            truth = self.sequence.frame(index)
            header = Header(stamp=frame_stamp(1.0 + index / self.fps), frame_id=SYNTHETIC_FRAME_ID)
            color = numpy_to_image(truth.color, "rgb8", header)
            if self.encoding == "16UC1":
                depth = numpy_to_image(truth.depth_mm, "16UC1", header)
            else:
                depth_m = np.where(truth.depth_mm > 0, truth.depth_mm / 1000.0, np.nan)
                depth = numpy_to_image(depth_m.astype(np.float32), "32FC1", header)
            info = intrinsics_to_camera_info(truth.intrinsics, header)
            yield RgbdSourceFrame(index, color, depth, info, truth)


class ImageFolderSource:
    """Colour images (PNG/JPEG/...) sorted by name; intrinsics optional (no depth anyway)."""

    has_depth = False

    def __init__(
        self,
        folder: Path,
        frames: int | None = None,
        intrinsics_path: Path | None = None,
        fps: float = DEFAULT_IMAGES_FPS,
    ) -> None:
        folder = Path(folder)
        contents = f"{'/'.join(IMAGE_SUFFIXES)} images"
        self.files = folder_files(folder, IMAGE_SUFFIXES, frames, "image", contents)
        if intrinsics_path is None:
            intrinsics_path = find_intrinsics_file(folder)
        self.intrinsics = read_intrinsics_file(Path(intrinsics_path)) if intrinsics_path else None
        self.fps = fps
        self.description = f"image folder {folder} ({len(self.files)} colour frames, no depth)"

    def __len__(self) -> int:
        return len(self.files)

    def __iter__(self) -> Iterator[RgbdSourceFrame]:
        from PIL import Image as PilImage

        for index, path in enumerate(self.files):
            try:
                with PilImage.open(path) as picture:
                    rgb = np.asarray(picture.convert("RGB"))
            except Exception as error:
                raise SourceError(f"cannot read image {path}: {error}") from error
            header = Header(stamp=frame_stamp(1.0 + index / self.fps), frame_id=IMAGES_FRAME_ID)
            color = numpy_to_image(rgb, "rgb8", header)
            info = None
            if self.intrinsics is not None:
                info = intrinsics_to_camera_info(self.intrinsics, header)
            yield RgbdSourceFrame(index, color, None, info, None)


class VideoFileSource:
    """Colour frames of a video file (MP4, MKV, AVI, ... whatever FFmpeg decodes) through
    PyAV; intrinsics optional (no depth anyway). Stamps follow the frames' presentation times."""

    has_depth = False

    def __init__(
        self, path: Path, frames: int | None = None, intrinsics_path: Path | None = None
    ) -> None:
        try:
            import av
        except ImportError as error:
            raise SourceError(
                "video sources need PyAV (pip install av); or extract the frames, e.g. "
                "`ffmpeg -i clip.mp4 frames/%05d.png`, and use images:frames"
            ) from error
        self.path = Path(path)
        if not self.path.is_file():
            raise SourceError(f"video file {self.path} does not exist")
        try:
            with av.open(str(self.path)) as container:
                stream = container.streams.video[0]
                self.fps = float(stream.average_rate or DEFAULT_IMAGES_FPS)
                # Containers that do not store a frame count are counted by demuxing.
                count = stream.frames or sum(
                    1 for packet in container.demux(stream) if packet.size
                )
        except (av.FFmpegError, IndexError) as error:
            raise SourceError(f"cannot read video {self.path}: {error}") from error
        self.frames = min(count, frames) if frames else count
        if self.frames < 1:
            raise SourceError(f"video {self.path} has no frames")
        self.intrinsics = read_intrinsics_file(Path(intrinsics_path)) if intrinsics_path else None
        self.description = f"video {self.path} ({self.frames} colour frames, no depth)"

    def __len__(self) -> int:
        return self.frames

    def __iter__(self) -> Iterator[RgbdSourceFrame]:
        import av

        seen: set[tuple[int, int]] = set()
        try:
            with av.open(str(self.path)) as container:
                decoded = container.decode(video=0)
                for index, frame in zip(range(self.frames), decoded, strict=False):
                    seconds = frame.time if frame.time is not None else index / self.fps
                    header = Header(stamp=frame_stamp(1.0 + seconds), frame_id=IMAGES_FRAME_ID)
                    make_stamp_unique(header, seen)
                    color = numpy_to_image(frame.to_ndarray(format="rgb24"), "rgb8", header)
                    info = None
                    if self.intrinsics is not None:
                        info = intrinsics_to_camera_info(self.intrinsics, header)
                    yield RgbdSourceFrame(index, color, None, info, None)
        except av.FFmpegError as error:
            raise SourceError(f"cannot decode video {self.path}: {error}") from error


class RgbdBagSource:
    """Colour, registered depth and colour CameraInfo from a rosbag2 folder (``rosbags``).

    Topics are guessed when unambiguous (the Image topic with "depth" in its name is the depth
    image, the other one the colour image, the CameraInfo topic without "depth" in its name the
    colour camera info); otherwise name them. A bag without a depth topic runs colour only.
    Each colour image is yielded with the depth image nearest to it in stamp among those around
    it in the recording; the node does the real pairing with its own tolerance.
    """

    def __init__(
        self,
        path: Path,
        frames: int | None = None,
        color_topic: str | None = None,
        depth_topic: str | None = None,
        camera_info_topic: str | None = None,
    ) -> None:
        self.path = Path(path)
        topics, counts = bag_topics(self.path)
        self._pick_topics(topics, color_topic, depth_topic, camera_info_topic)
        count = counts.get(self.color_topic, 0)
        self.frames = count if frames is None else min(count, frames)
        if self.frames == 0:
            raise SourceError(f"bag {self.path} has no messages on {self.color_topic}")
        self.has_depth = self.depth_topic is not None
        depth_text = self.depth_topic or "no depth"
        self.description = (
            f"rosbag2 {self.path} ({self.color_topic} + {depth_text} + {self.info_topic}, "
            f"{self.frames} frames)"
        )

    def _pick_topics(
        self,
        topics: dict[str, str],
        color: str | None,
        depth: str | None,
        info: str | None,
    ) -> None:
        images = sorted(t for t, kind in topics.items() if kind == IMAGE_TYPE)
        infos = sorted(t for t, kind in topics.items() if kind == CAMERA_INFO_TYPE)
        for requested, kind, option in (
            (color, IMAGE_TYPE, "--color-topic"),
            (depth, IMAGE_TYPE, "--depth-topic"),
            (info, CAMERA_INFO_TYPE, "--camera-info-topic"),
        ):
            if requested is not None and topics.get(requested) != kind:
                raise SourceError(
                    f"bag {self.path} has no {kind} topic {requested!r} ({option}); topics: "
                    f"{sorted(topics)}"
                )
        if depth is None:
            depth_candidates = [t for t in images if "depth" in t.lower() and t != color]
            depth = depth_candidates[0] if len(depth_candidates) == 1 else None
            if len(depth_candidates) > 1:
                raise SourceError(
                    f"bag {self.path} has several depth-like Image topics {depth_candidates}; "
                    "choose one with --depth-topic"
                )
        if color is None:
            color_candidates = [t for t in images if t != depth]
            if len(color_candidates) != 1:
                raise SourceError(
                    f"bag {self.path} has Image topics {images}; choose the colour one with "
                    "--color-topic"
                )
            color = color_candidates[0]
        if info is None:
            info_candidates = [t for t in infos if "depth" not in t.lower()] or infos
            if len(info_candidates) != 1:
                raise SourceError(
                    f"bag {self.path} has CameraInfo topics {infos}; choose the colour camera's "
                    "with --camera-info-topic"
                )
            info = info_candidates[0]
        self.color_topic, self.depth_topic, self.info_topic = color, depth, info

    def __len__(self) -> int:
        return self.frames

    def __iter__(self) -> Iterator[RgbdSourceFrame]:
        wanted_topics = {self.color_topic, self.info_topic}
        if self.depth_topic is not None:
            wanted_topics.add(self.depth_topic)
        with open_bag_reader(self.path) as reader:
            wanted = [c for c in reader.connections if c.topic in wanted_topics]
            latest_info: CameraInfo | None = None
            depths: list[Image] = []  # the two most recent depth images
            waiting: list[Image] = []  # colour images waiting for a later depth image
            index = 0
            seen_stamps: set[tuple[int, int]] = set()
            for connection, _, raw in reader.messages(connections=wanted):
                msg = reader.deserialize(raw, connection.msgtype)
                if connection.topic == self.info_topic:
                    latest_info = camera_info_from_bag(msg)
                    continue
                if connection.topic == self.depth_topic:
                    depths = [*depths[-1:], image_from_bag(msg)]
                else:
                    color = image_from_bag(msg)
                    if color.encoding not in COLOR_ENCODINGS:
                        raise SourceError(
                            f"{self.color_topic} has encoding {color.encoding!r}; expected one "
                            f"of {', '.join(COLOR_ENCODINGS)} (use --color-topic)"
                        )
                    waiting.append(color)
                ready = self._ready(waiting, depths)
                for color in ready:
                    waiting.remove(color)
                    yield self._frame(index, color, depths, latest_info, seen_stamps)
                    index += 1
                    if index >= self.frames:
                        return
            for color in waiting:
                yield self._frame(index, color, depths, latest_info, seen_stamps)
                index += 1
                if index >= self.frames:
                    return

    def _ready(self, waiting: list[Image], depths: list[Image]) -> list[Image]:
        """Colour frames whose nearest depth image is known (a depth at or after their stamp)."""
        if self.depth_topic is None:
            return list(waiting)
        if not depths:
            return waiting[:-2]  # no depth yet: do not hold more than two frames back
        newest = stamp_seconds(depths[-1].header)
        return [c for c in waiting if stamp_seconds(c.header) <= newest] or waiting[:-2]

    def _frame(
        self,
        index: int,
        color: Image,
        depths: list[Image],
        info: CameraInfo | None,
        seen_stamps: set[tuple[int, int]],
    ) -> RgbdSourceFrame:
        make_stamp_unique(color.header, seen_stamps)
        depth = None
        if depths:
            color_s = stamp_seconds(color.header)
            depth = min(depths, key=lambda d: abs(stamp_seconds(d.header) - color_s))
        if info is not None:
            info.header = color.header
        return RgbdSourceFrame(index, color, depth, info, None)


def open_rgbd_source(spec: str, frames: int, **options: Any):
    """``synthetic`` | ``bag:PATH`` | ``images:DIR`` | ``video:FILE`` -> a robot source."""
    kind, _, location = spec.partition(":")
    if kind == "synthetic":
        return SyntheticPeopleSource(
            frames,
            width=options.get("width") or 640,
            height=options.get("height") or 480,
            seed=options.get("seed", 0),
            encoding=options.get("encoding", "16UC1"),
        )
    if kind == "bag" and location:
        return RgbdBagSource(
            Path(location),
            frames,
            color_topic=options.get("color_topic"),
            depth_topic=options.get("depth_topic"),
            camera_info_topic=options.get("camera_info_topic"),
        )
    if kind == "images" and location:
        intrinsics = options.get("intrinsics")
        return ImageFolderSource(Path(location), frames, Path(intrinsics) if intrinsics else None)
    if kind == "video" and location:
        intrinsics = options.get("intrinsics")
        return VideoFileSource(Path(location), frames, Path(intrinsics) if intrinsics else None)
    raise SourceError(
        f"unknown robot source {spec!r}; expected 'synthetic', 'bag:PATH', 'images:DIR' or "
        "'video:FILE'"
    )
