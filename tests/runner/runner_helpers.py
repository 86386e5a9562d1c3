"""Helpers both runner test modules use: run the CLI capturing its output, read the summary,
and build rosbags messages for the bags they record (one frame = header, camera info, images)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from hand_pose_ros.core.camera import Intrinsics
from hand_pose_ros.runner.cli import main
from hand_pose_ros.runner.report import SUMMARY_NAME

FIRST_STAMP_NS = 1_700_000_000_000_000_000
FRAME_PERIOD_NS = 33_000_000


def run_cli(argv: Sequence[str], capsys: pytest.CaptureFixture) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of one hand_pose_run invocation."""
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def read_summary(out: Path) -> dict:
    return json.loads((out / SUMMARY_NAME).read_text())


def frame_stamp_ns(index: int) -> int:
    """A 30 Hz camera's stamps."""
    return FIRST_STAMP_NS + index * FRAME_PERIOD_NS


def bag_header(types: Any, stamp_ns: int, frame_id: str) -> Any:
    stamp = types["builtin_interfaces/msg/Time"](
        sec=stamp_ns // 1_000_000_000, nanosec=stamp_ns % 1_000_000_000
    )
    return types["std_msgs/msg/Header"](stamp=stamp, frame_id=frame_id)


def bag_camera_info(types: Any, header: Any, camera: Intrinsics) -> Any:
    """A calibrated pinhole CameraInfo as a camera driver records it."""
    return types["sensor_msgs/msg/CameraInfo"](
        header=header,
        height=camera.height,
        width=camera.width,
        distortion_model="plumb_bob",
        d=np.zeros(5),
        k=np.array([camera.fx, 0, camera.cx, 0, camera.fy, camera.cy, 0, 0, 1.0]),
        r=np.eye(3).ravel(),
        p=np.array([camera.fx, 0, camera.cx, 0, 0, camera.fy, camera.cy, 0, 0, 0, 1.0, 0]),
        binning_x=0,
        binning_y=0,
        roi=types["sensor_msgs/msg/RegionOfInterest"](
            x_offset=0, y_offset=0, height=0, width=0, do_rectify=False
        ),
    )


def bag_image(types: Any, header: Any, pixels: np.ndarray, encoding: str) -> Any:
    """An Image of `pixels` (rows x cols [x channels], already in the encoding's byte order)."""
    pixels = np.ascontiguousarray(pixels)
    return types["sensor_msgs/msg/Image"](
        header=header,
        height=pixels.shape[0],
        width=pixels.shape[1],
        encoding=encoding,
        is_bigendian=0,
        step=pixels[0].nbytes,
        data=np.frombuffer(pixels.tobytes(), np.uint8),
    )
