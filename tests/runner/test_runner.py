"""The one-process runner on each source kind: synthetic (with accuracy), PNG folder, rosbag2.

Each run goes through the real node over real DDS (the runner owns its rclpy context)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image as PilImage

from hand_pose_ros.core.camera import Intrinsics
from hand_pose_ros.nodes.hand_pose_parameters import SHIPPED_REFINER_NAME
from hand_pose_ros.runner.report import MOSAIC_NAME
from tests.runner.runner_helpers import (
    bag_camera_info,
    bag_header,
    bag_image,
    frame_stamp_ns,
    read_summary,
    run_cli,
)

WIDTH, HEIGHT = 160, 120


_run = run_cli
_summary = read_summary


def _depth_scene_mm(index: int) -> np.ndarray:
    """A table plane with a box on it, moving a little per frame; 0 = no return."""
    rows = np.arange(HEIGHT)[:, None] + np.zeros((1, WIDTH), int)
    depth_mm = (700 + rows * 2 + index).astype(np.uint16)
    depth_mm[40:80, 50 + index : 90 + index] = 450
    depth_mm[::17, ::13] = 0
    return depth_mm


def test_synthetic_run_writes_pictures_and_summary(
    tmp_path: Path, runner_model: Path, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "demo"
    code, stdout, stderr = _run(
        [
            "--pipeline",
            "wearable",
            "--frames",
            "20",
            "--seed",
            "3",
            "--model",
            str(runner_model),
            "--out",
            str(out),
        ],
        capsys,
    )
    assert code == 0, stderr
    summary = _summary(out)
    assert summary["frames"]["published"] == 20
    assert summary["frames"]["keypoints_received"] == 20
    assert summary["latency_ms"]["p50"] > 0
    assert summary["rate_hz"]["through_node"] > 0
    accuracy = summary["accuracy"]
    assert accuracy["frames"] == 20
    for key in ("pck@0.1", "mean_3d_error_mm", "presence_accuracy"):
        assert key in accuracy
    assert "PCK@0.1" in stdout and "latency" in stdout and "frames/s" in stdout
    # The node's default second stage ran, and the summary says which.
    shipped_refiner = Path(SHIPPED_REFINER_NAME).stem
    assert summary["refiner"]["name"] == shipped_refiner and summary["refiner"]["passes"] >= 1
    assert f"refiner: {shipped_refiner}" in stdout
    mosaic = out / MOSAIC_NAME
    with PilImage.open(mosaic) as picture:
        assert picture.mode == "RGB"
        assert picture.width >= 2 * WIDTH and picture.height >= HEIGHT
        pixels = np.asarray(picture)
    assert pixels.std() > 10  # a real picture, not a blank canvas


def test_refiner_can_be_switched_off(
    tmp_path: Path, runner_model: Path, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "first_stage_only"
    code, stdout, stderr = _run(
        ["--pipeline", "wearable", "--frames", "5", "--model", str(runner_model),
         "--refiner-model", "none", "--out", str(out)],
        capsys,
    )
    assert code == 0, stderr
    assert _summary(out)["refiner"] is None and "refiner: none" in stdout
    assert _summary(out)["frames"]["keypoints_received"] == 5


def _write_png_folder(folder: Path, frames: int, intrinsics_text: str, name: str) -> None:
    folder.mkdir()
    for index in range(frames):
        PilImage.fromarray(_depth_scene_mm(index)).save(folder / f"depth_{index:04d}.png")
    (folder / name).write_text(intrinsics_text)


@pytest.mark.parametrize("style", ["json", "ros_yaml"])
def test_png_folder_source(
    tmp_path: Path, runner_model: Path, capsys: pytest.CaptureFixture, style: str
) -> None:
    camera = Intrinsics.from_fov(WIDTH, HEIGHT, 70.0)
    if style == "json":
        text = json.dumps(
            {
                "fx": camera.fx,
                "fy": camera.fy,
                "cx": camera.cx,
                "cy": camera.cy,
                "width": WIDTH,
                "height": HEIGHT,
            }
        )
        name = "intrinsics.json"
    else:  # the file ROS camera_calibration writes
        text = (
            f"image_width: {WIDTH}\nimage_height: {HEIGHT}\ncamera_name: depth\n"
            f"camera_matrix:\n  rows: 3\n  cols: 3\n  data: [{camera.fx}, 0, {camera.cx}, 0, "
            f"{camera.fy}, {camera.cy}, 0, 0, 1]\n"
        )
        name = "camera_info.yaml"
    folder = tmp_path / "pngs"
    _write_png_folder(folder, 6, text, name)
    out = tmp_path / "out"
    code, stdout, stderr = _run(
        ["--source", f"pngdir:{folder}", "--model", str(runner_model), "--out", str(out)], capsys
    )
    assert code == 0, stderr
    summary = _summary(out)
    assert summary["frames"]["published"] == 6
    assert summary["frames"]["keypoints_received"] == 6
    assert summary["accuracy"] is None
    assert "no ground truth" in stdout
    assert (out / MOSAIC_NAME).exists()


def test_png_folder_errors_are_reported(
    tmp_path: Path, runner_model: Path, capsys: pytest.CaptureFixture
) -> None:
    folder = tmp_path / "eight_bit"
    folder.mkdir()
    PilImage.fromarray(np.zeros((HEIGHT, WIDTH), np.uint8)).save(folder / "a.png")
    code, _, stderr = _run(["--source", f"pngdir:{folder}", "--out", str(tmp_path)], capsys)
    assert code == 2 and "no intrinsics file" in stderr
    (folder / "intrinsics.json").write_text(
        json.dumps({"fx": 100, "fy": 100, "cx": 80, "cy": 60, "width": WIDTH, "height": HEIGHT})
    )
    code, _, stderr = _run(
        ["--source", f"pngdir:{folder}", "--model", str(runner_model), "--out", str(tmp_path)],
        capsys,
    )
    assert code == 2 and "16-bit" in stderr


def _write_bag(path: Path, frames: int) -> None:
    from rosbags.rosbag2 import Writer
    from rosbags.typesys import Stores, get_typestore

    store = get_typestore(Stores.ROS2_HUMBLE)
    types = store.types
    camera = Intrinsics.from_fov(WIDTH, HEIGHT, 70.0)
    with Writer(path, version=8) as writer:
        image_conn = writer.add_connection(
            "/cam/depth/image_rect_raw", "sensor_msgs/msg/Image", typestore=store
        )
        info_conn = writer.add_connection(
            "/cam/depth/camera_info", "sensor_msgs/msg/CameraInfo", typestore=store
        )
        other_conn = writer.add_connection("/chatter", "std_msgs/msg/String", typestore=store)
        for index in range(frames):
            stamp_ns = frame_stamp_ns(index)
            header = bag_header(types, stamp_ns, "cam_depth_optical")
            info = bag_camera_info(types, header, camera)
            image = bag_image(types, header, _depth_scene_mm(index).astype("<u2"), "16UC1")
            writer.write(info_conn, stamp_ns, store.serialize_cdr(info, info.__msgtype__))
            writer.write(image_conn, stamp_ns, store.serialize_cdr(image, image.__msgtype__))
            chatter = types["std_msgs/msg/String"](data="hello")
            writer.write(other_conn, stamp_ns, store.serialize_cdr(chatter, chatter.__msgtype__))


def test_rosbag2_source(tmp_path: Path, runner_model: Path, capsys: pytest.CaptureFixture) -> None:
    bag = tmp_path / "recording"
    _write_bag(bag, 8)
    out = tmp_path / "out"
    code, _, stderr = _run(
        [
            "--source",
            f"bag:{bag}",
            "--frames",
            "5",
            "--model",
            str(runner_model),
            "--out",
            str(out),
        ],
        capsys,
    )
    assert code == 0, stderr
    summary = _summary(out)
    assert summary["frames"]["published"] == 5
    assert summary["frames"]["keypoints_received"] == 5
    assert "/cam/depth/image_rect_raw" in summary["source"]
    code, _, stderr = _run(
        ["--source", f"bag:{bag}", "--depth-topic", "/nope", "--out", str(out)], capsys
    )
    assert code == 2 and "/nope" in stderr
