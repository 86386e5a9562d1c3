"""The robot pipeline of the one-process runner on each source kind: synthetic people (with
OKS accuracy), a colour image folder (no depth) and a rosbag2 with colour, depth and camera
info. Each run goes through the real body_pose_node over real DDS."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image as PilImage

from hand_pose_ros.core.camera import Intrinsics
from hand_pose_ros.runner.robot_report import MOSAIC_NAME
from tests.runner.runner_helpers import (
    bag_camera_info,
    bag_header,
    bag_image,
    frame_stamp_ns,
    read_summary,
    run_cli,
)

WIDTH, HEIGHT = 320, 240


def _run(argv: list[str], capsys: pytest.CaptureFixture) -> tuple[int, str, str]:
    return run_cli(["--pipeline", "robot", *argv], capsys)


_summary = read_summary


def _colour_scene(index: int) -> np.ndarray:
    rows, cols = np.mgrid[0:HEIGHT, 0:WIDTH]
    picture = np.stack([(rows + index) % 256, (cols * 2) % 256, np.full_like(rows, 90)], -1)
    picture[60:200, 100 + index : 140 + index] = (200, 40, 40)  # a "person"-sized block
    return picture.astype(np.uint8)


def test_synthetic_run_reports_accuracy_and_writes_a_mosaic(
    tmp_path: Path, runner_body_model: Path, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "robot"
    code, stdout, stderr = _run(
        [
            "--frames",
            "4",
            "--width",
            str(WIDTH),
            "--height",
            str(HEIGHT),
            "--seed",
            "5",
            "--model",
            str(runner_body_model),
            "--out",
            str(out),
        ],
        capsys,
    )
    assert code == 0, stderr
    summary = _summary(out)
    assert summary["pipeline"] == "robot" and summary["use_depth"] is True
    assert summary["frames"]["published"] == 4
    assert summary["frames"]["keypoints_received"] == 4
    assert summary["latency_ms"]["p50"] > 0
    accuracy = summary["accuracy"]
    assert accuracy["frames"] == 4 and accuracy["truth_people"] >= 1
    for key in (
        "oks_ap",
        "oks_ap50",
        "mean_oks",
        "recall@oks0.5",
        "pck@0.1",
        "mean_3d_error_mm_1_4m",
        "depth_coverage_1_4m",
    ):
        assert key in accuracy
    assert "OKS AP" in stdout and "3D error" in stdout and "frames/s" in stdout
    with PilImage.open(out / MOSAIC_NAME) as picture:
        assert picture.mode == "RGB" and picture.width > WIDTH
        assert np.asarray(picture).std() > 10


def test_image_folder_runs_colour_only(
    tmp_path: Path, runner_body_model: Path, capsys: pytest.CaptureFixture
) -> None:
    folder = tmp_path / "frames"
    folder.mkdir()
    for index in range(3):
        PilImage.fromarray(_colour_scene(index)).save(folder / f"{index:05d}.png")
    PilImage.fromarray(_colour_scene(3)).save(folder / "00003.jpg")
    out = tmp_path / "out"
    code, stdout, stderr = _run(
        ["--source", f"images:{folder}", "--model", str(runner_body_model), "--out", str(out)],
        capsys,
    )
    assert code == 0, stderr
    summary = _summary(out)
    assert summary["use_depth"] is False
    assert summary["frames"]["published"] == 4
    assert summary["frames"]["keypoints_received"] == 4
    assert summary["accuracy"] is None
    assert "no ground truth" in stdout
    assert (out / MOSAIC_NAME).exists()


def _write_video(path: Path, frames: int, fps: int = 10) -> None:
    """An MPEG-4 file (FFmpeg's own encoder, in every PyAV build) of the colour scenes."""
    import av

    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=fps)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        for index in range(frames):
            frame = av.VideoFrame.from_ndarray(_colour_scene(index), format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode())


def test_video_file_runs_colour_only(
    tmp_path: Path, runner_body_model: Path, capsys: pytest.CaptureFixture
) -> None:
    video = tmp_path / "clip.mp4"
    _write_video(video, 5)
    out = tmp_path / "out"
    argv = ["--source", f"video:{video}", "--model", str(runner_body_model), "--out", str(out)]
    code, stdout, stderr = _run([*argv, "--frames", "4"], capsys)
    assert code == 0, stderr
    summary = _summary(out)
    assert summary["use_depth"] is False
    assert summary["frames"]["published"] == 4  # --frames caps the file's 5
    assert summary["frames"]["keypoints_received"] == 4
    assert summary["accuracy"] is None and "no ground truth" in stdout


def test_a_file_that_is_not_a_video_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    text = tmp_path / "notes.mp4"
    text.write_text("not a video")
    code, _, stderr = _run(["--source", f"video:{text}"], capsys)
    assert code == 2 and "cannot read video" in stderr


def _write_rgbd_bag(path: Path, frames: int, depth_offset_ns: int = 0) -> None:
    from rosbags.rosbag2 import Writer
    from rosbags.typesys import Stores, get_typestore

    store = get_typestore(Stores.ROS2_HUMBLE)
    types = store.types
    camera = Intrinsics.from_fov(WIDTH, HEIGHT, 69.0)
    with Writer(path, version=8) as writer:
        color_conn = writer.add_connection(
            "/cam/color/image_raw", "sensor_msgs/msg/Image", typestore=store
        )
        depth_conn = writer.add_connection(
            "/cam/aligned_depth_to_color/image_raw", "sensor_msgs/msg/Image", typestore=store
        )
        info_conn = writer.add_connection(
            "/cam/color/camera_info", "sensor_msgs/msg/CameraInfo", typestore=store
        )
        for index in range(frames):
            stamp_ns = frame_stamp_ns(index)
            header = bag_header(types, stamp_ns, "cam_color_optical")
            info = bag_camera_info(types, header, camera)
            color = bag_image(types, header, _colour_scene(index)[:, :, ::-1], "bgr8")
            depth_mm = np.full((HEIGHT // 2, WIDTH // 2), 2500, "<u2")  # half resolution
            depth_header = bag_header(types, stamp_ns + depth_offset_ns, "cam_color_optical")
            depth = bag_image(types, depth_header, depth_mm, "16UC1")
            # Depth recorded just after colour, as drivers often deliver it.
            writer.write(info_conn, stamp_ns, store.serialize_cdr(info, info.__msgtype__))
            writer.write(color_conn, stamp_ns, store.serialize_cdr(color, color.__msgtype__))
            writer.write(depth_conn, stamp_ns + 1000, store.serialize_cdr(depth, depth.__msgtype__))


def test_rosbag2_rgbd_source(
    tmp_path: Path, runner_body_model: Path, capsys: pytest.CaptureFixture
) -> None:
    bag = tmp_path / "recording"
    _write_rgbd_bag(bag, 6)
    out = tmp_path / "out"
    code, _, stderr = _run(
        [
            "--source",
            f"bag:{bag}",
            "--frames",
            "5",
            "--model",
            str(runner_body_model),
            "--out",
            str(out),
        ],
        capsys,
    )
    assert code == 0, stderr
    summary = _summary(out)
    assert "/cam/color/image_raw" in summary["source"]
    assert "/cam/aligned_depth_to_color/image_raw" in summary["source"]
    assert summary["use_depth"] is True
    assert summary["frames"]["published"] == 5
    assert summary["frames"]["keypoints_received"] == 5
    assert summary["frames"]["node_drops"] == {}


def test_rosbag2_with_unsynchronised_depth_is_reported_as_drops(
    tmp_path: Path, runner_body_model: Path, capsys: pytest.CaptureFixture
) -> None:
    bag = tmp_path / "recording"
    _write_rgbd_bag(bag, 6, depth_offset_ns=300_000_000)
    out = tmp_path / "out"
    code, _, stderr = _run(
        ["--source", f"bag:{bag}", "--model", str(runner_body_model), "--out", str(out)], capsys
    )
    assert code == 0, stderr
    summary = _summary(out)
    assert summary["frames"]["keypoints_received"] == 0
    drops = summary["frames"]["node_drops"]
    assert drops.get("unsynchronised", 0) + drops.get("no_depth", 0) >= 4, drops


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("video:clip.mp4", "does not exist"),
        ("images:/does/not/exist", "not a folder"),
        ("nonsense", "unknown robot source"),
    ],
)
def test_source_errors_are_reported(
    source: str, message: str, capsys: pytest.CaptureFixture
) -> None:
    code, _, stderr = _run(["--source", source], capsys)
    assert code == 2
    assert message in stderr


def test_bag_topic_errors_are_reported(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    bag = tmp_path / "recording"
    _write_rgbd_bag(bag, 2)
    code, _, stderr = _run(["--source", f"bag:{bag}", "--color-topic", "/nope"], capsys)
    assert code == 2
    assert "/nope" in stderr and "/cam/color/image_raw" in stderr
