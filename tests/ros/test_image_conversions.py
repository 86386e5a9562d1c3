"""sensor_msgs/Image <-> numpy: round trips for every encoding, malformed input, depth semantics."""

from __future__ import annotations

import array
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rclpy.serialization import deserialize_message, serialize_message
from sensor_msgs.msg import Image
from std_msgs.msg import Header

from hand_pose_ros.ros import (
    SUPPORTED_IMAGE_ENCODINGS,
    MessageConversionError,
    depth_image_to_metres,
    image_encoding_layout,
    image_to_numpy,
    metres_to_depth_image,
    numpy_to_image,
)

PROPERTY_SETTINGS = settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
ENCODINGS = sorted(SUPPORTED_IMAGE_ENCODINGS)
REQUIRED_ENCODINGS = ("16UC1", "32FC1", "mono8", "mono16", "rgb8", "bgr8", "rgba8", "bgra8")


def random_pixels(rng: np.random.Generator, encoding: str, height: int, width: int) -> np.ndarray:
    """Arbitrary values of the encoding's type, (H, W) or (H, W, C) like image_to_numpy returns."""
    dtype, channels = image_encoding_layout(encoding)
    shape = (height, width) if channels == 1 else (height, width, channels)
    if dtype.kind == "f":
        values = rng.normal(0.0, 1e3, size=shape).astype(dtype)
        values.reshape(-1)[:: max(3, values.size // 2)] = np.nan  # NaN survives the trip too
        return values
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max, size=shape, endpoint=True, dtype=dtype)


def hand_built_image(pixels: np.ndarray, encoding: str, padding: int, big_endian: bool) -> Image:
    """Image assembled row by row, independently of numpy_to_image, with garbage row padding."""
    wire = pixels.astype(pixels.dtype.newbyteorder(">" if big_endian else "<"))
    filler = bytes([0xAB]) * padding
    payload = b"".join(row.tobytes() + filler for row in wire)
    row_bytes = (
        pixels.shape[1] * pixels.dtype.itemsize * (pixels.shape[2] if pixels.ndim == 3 else 1)
    )
    return Image(
        height=pixels.shape[0],
        width=pixels.shape[1],
        encoding=encoding,
        is_bigendian=int(big_endian),
        step=row_bytes + padding,
        data=array.array("B", payload),
    )


def assert_same_pixels(actual: np.ndarray, expected: np.ndarray) -> None:
    assert actual.shape == expected.shape
    assert actual.dtype == expected.dtype.newbyteorder("=")
    np.testing.assert_array_equal(actual, expected)  # NaN == NaN here


@PROPERTY_SETTINGS
@given(
    encoding=st.sampled_from(ENCODINGS),
    height=st.integers(1, 7),
    width=st.integers(1, 9),
    padding=st.integers(0, 7),
    big_endian=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_decode_honours_padding_and_byte_order(encoding, height, width, padding, big_endian, seed):
    pixels = random_pixels(np.random.default_rng(seed), encoding, height, width)
    msg = hand_built_image(pixels, encoding, padding, big_endian)
    decoded = image_to_numpy(msg)
    assert_same_pixels(decoded, pixels)
    assert not decoded.flags.writeable  # never lets a consumer scribble on a shared message


@PROPERTY_SETTINGS
@given(
    encoding=st.sampled_from(ENCODINGS),
    height=st.integers(1, 7),
    width=st.integers(1, 9),
    seed=st.integers(0, 2**32 - 1),
)
def test_encode_decode_round_trip(encoding, height, width, seed):
    pixels = random_pixels(np.random.default_rng(seed), encoding, height, width)
    header = Header(frame_id="camera_optical")
    header.stamp.sec, header.stamp.nanosec = 12, 345
    msg = numpy_to_image(pixels, encoding, header)
    dtype, channels = image_encoding_layout(encoding)
    assert (msg.height, msg.width, msg.encoding) == (height, width, encoding)
    assert msg.is_bigendian == 0
    assert msg.step == width * channels * dtype.itemsize
    assert len(msg.data) == msg.step * height
    assert msg.header.frame_id == "camera_optical" and msg.header.stamp.nanosec == 345
    # little-endian on the wire regardless of the host
    expected_bytes = pixels.astype(dtype.newbyteorder("<")).tobytes()
    assert bytes(msg.data) == expected_bytes
    assert_same_pixels(image_to_numpy(msg), pixels)


def test_required_encodings_are_supported():
    assert set(REQUIRED_ENCODINGS) <= SUPPORTED_IMAGE_ENCODINGS
    assert image_encoding_layout("rgb8") == (np.dtype(np.uint8), 3)
    assert image_encoding_layout("16UC1") == (np.dtype(np.uint16), 1)
    assert image_encoding_layout("32FC1") == (np.dtype(np.float32), 1)
    assert image_encoding_layout("bgra8") == (np.dtype(np.uint8), 4)


def test_native_order_decode_is_a_zero_copy_view():
    pixels = np.arange(6 * 5, dtype=np.uint16).reshape(6, 5)
    msg = hand_built_image(pixels, "16UC1", padding=2, big_endian=False)
    decoded = image_to_numpy(msg)
    assert np.shares_memory(decoded, np.frombuffer(msg.data, dtype=np.uint8))
    assert decoded.strides == (12, 2)
    assert_same_pixels(decoded, pixels)


def test_decode_accepts_other_message_libraries_data_types():
    """Duck-typed messages (e.g. rosbags' numpy-backed ones) carry bytes, lists or arrays."""
    pixels = np.array([[1, 2, 3], [4, 5, 6]], dtype=np.uint8)
    for data in (pixels.tobytes(), pixels.reshape(-1).tolist(), pixels.reshape(-1)):
        msg = SimpleNamespace(
            height=2, width=3, encoding="mono8", step=3, is_bigendian=0, data=data
        )
        assert_same_pixels(image_to_numpy(msg), pixels)
    bad = SimpleNamespace(
        height=1, width=2, encoding="mono8", step=2, is_bigendian=0, data=[1, 300]
    )
    with pytest.raises(MessageConversionError, match="byte sequence"):
        image_to_numpy(bad)


def test_encoded_image_survives_ros_serialization():
    pixels = np.random.default_rng(1).integers(0, 255, (5, 7, 3), dtype=np.uint8)
    wire = deserialize_message(serialize_message(numpy_to_image(pixels, "bgr8")), Image)
    assert_same_pixels(image_to_numpy(wire), pixels)


def test_encoded_image_data_is_a_byte_array():
    """rclpy copies an array.array in one step; bytes or a list cost a per-byte Python loop."""
    depth_msg = numpy_to_image(np.zeros((480, 640), np.uint16), "16UC1")
    assert isinstance(depth_msg.data, array.array)
    assert len(depth_msg.data) == 480 * 640 * 2


@pytest.mark.parametrize(
    ("values", "encoding"),
    [
        (np.zeros((2, 3), np.float32), "16UC1"),  # metres given for millimetres
        (np.full((2, 3), 70000, np.int64), "16UC1"),  # does not fit uint16
        (np.full((2, 3), -1, np.int32), "mono8"),
        (np.zeros((2, 3), np.uint8), "rgb8"),  # channels missing
        (np.zeros((2, 3, 4), np.uint8), "rgb8"),
        (np.zeros((0, 3), np.uint16), "16UC1"),
        (np.zeros((2, 3), np.uint8), "yuv422"),
        (np.zeros(5, np.uint8), "mono8"),
    ],
)
def test_encode_rejects_arrays_that_do_not_fit(values, encoding):
    with pytest.raises(MessageConversionError):
        numpy_to_image(values, encoding)


def test_encode_converts_lossless_dtypes():
    msg = numpy_to_image(np.array([[1.5, 2.0]], np.float64), "32FC1")
    assert_same_pixels(image_to_numpy(msg), np.array([[1.5, 2.0]], np.float32))
    msg = numpy_to_image(np.array([[0, 65535]], np.int64), "16UC1")
    assert_same_pixels(image_to_numpy(msg), np.array([[0, 65535]], np.uint16))
    msg = numpy_to_image(np.zeros((2, 3, 1), np.uint8), "mono8")
    assert image_to_numpy(msg).shape == (2, 3)


def valid_message(encoding="16UC1", height=3, width=4, padding=2) -> Image:
    pixels = random_pixels(np.random.default_rng(0), encoding, height, width)
    return hand_built_image(pixels, encoding, padding, big_endian=False)


@PROPERTY_SETTINGS
@given(encoding=st.sampled_from(ENCODINGS), data=st.data())
def test_truncated_data_is_rejected(encoding, data):
    msg = valid_message(encoding)
    keep = data.draw(st.integers(0, msg.step * msg.height - 1))
    msg.data = msg.data[:keep]
    with pytest.raises(MessageConversionError, match="expected step"):
        image_to_numpy(msg)


@PROPERTY_SETTINGS
@given(encoding=st.sampled_from(ENCODINGS), data=st.data())
def test_step_smaller_than_a_row_is_rejected(encoding, data):
    msg = valid_message(encoding)
    dtype, channels = image_encoding_layout(encoding)
    msg.step = data.draw(st.integers(0, msg.width * channels * dtype.itemsize - 1))
    with pytest.raises(MessageConversionError, match="step"):
        image_to_numpy(msg)


@PROPERTY_SETTINGS
@given(encoding=st.text(max_size=12).filter(lambda e: e not in SUPPORTED_IMAGE_ENCODINGS))
def test_unknown_encoding_is_rejected(encoding):
    msg = valid_message()
    msg.encoding = encoding
    with pytest.raises(MessageConversionError, match="unsupported image encoding"):
        image_to_numpy(msg)


@pytest.mark.parametrize(("height", "width"), [(0, 4), (3, 0), (0, 0)])
def test_zero_size_is_rejected(height, width):
    msg = valid_message()
    msg.height, msg.width = height, width
    with pytest.raises(MessageConversionError, match="empty image"):
        image_to_numpy(msg)


@PROPERTY_SETTINGS
@given(
    encoding=st.one_of(st.sampled_from(ENCODINGS), st.sampled_from(["", "16UC", "yuv422", "8UC9"])),
    height=st.integers(0, 2**32 - 1) | st.integers(0, 6),
    width=st.integers(0, 2**32 - 1) | st.integers(0, 6),
    step=st.integers(0, 2**32 - 1) | st.integers(0, 60),
    big_endian=st.integers(0, 255),
    payload=st.binary(max_size=300),
)
def test_arbitrary_headers_raise_only_conversion_errors(
    encoding, height, width, step, big_endian, payload
):
    msg = Image(
        height=height,
        width=width,
        step=step,
        encoding=encoding,
        is_bigendian=big_endian,
        data=array.array("B", payload),
    )
    try:
        decoded = image_to_numpy(msg)
    except MessageConversionError:
        return
    dtype, channels = image_encoding_layout(encoding)
    assert decoded.shape == ((height, width) if channels == 1 else (height, width, channels))
    assert decoded.dtype == dtype
    assert step * height <= len(payload)


def depth_message(values: np.ndarray, encoding: str) -> Image:
    return hand_built_image(values, encoding, padding=3, big_endian=False)


def test_16uc1_millimetres_with_zero_invalid():
    raw = np.array([[0, 1, 1000], [1234, 65535, 0]], np.uint16)
    depth_m = depth_image_to_metres(depth_message(raw, "16UC1"))
    assert depth_m.dtype == np.float32 and depth_m.flags.writeable and depth_m.flags.c_contiguous
    expected = np.array([[np.nan, 0.001, 1.0], [1.234, 65.535, np.nan]], np.float32)
    np.testing.assert_allclose(depth_m, expected, rtol=1e-6)


def test_32fc1_non_finite_and_non_positive_invalid():
    raw = np.array([[np.nan, np.inf, -np.inf], [-0.5, 0.0, 1.25]], np.float32)
    depth_m = depth_image_to_metres(depth_message(raw, "32FC1"))
    expected = np.array([[np.nan] * 3, [np.nan, np.nan, 1.25]], np.float32)
    np.testing.assert_array_equal(depth_m, expected)
    assert depth_m.dtype == np.float32 and depth_m.flags.writeable


def test_depth_result_never_aliases_the_message():
    raw = np.array([[1.0, 2.0]], np.float32)
    msg = depth_message(raw, "32FC1")
    depth_m = depth_image_to_metres(msg)
    depth_m[:] = 7.0
    assert_same_pixels(image_to_numpy(msg), raw)


@PROPERTY_SETTINGS
@given(big_endian=st.booleans(), seed=st.integers(0, 2**32 - 1), width=st.integers(1, 9))
def test_big_endian_depth(big_endian, seed, width):
    raw = np.random.default_rng(seed).integers(0, 3, (2, width), dtype=np.uint16) * 700
    depth_m = depth_image_to_metres(hand_built_image(raw, "16UC1", 1, big_endian))
    np.testing.assert_allclose(depth_m, np.where(raw == 0, np.nan, raw / 1000.0), rtol=1e-6)


@pytest.mark.parametrize("encoding", ["mono16", "mono8", "32FC3", "16SC1", "64FC1", "rgb8"])
def test_other_encodings_are_not_depth(encoding):
    dtype, channels = image_encoding_layout(encoding)
    shape = (2, 2) if channels == 1 else (2, 2, channels)
    msg = numpy_to_image(np.ones(shape, dtype), encoding)
    with pytest.raises(MessageConversionError, match="16UC1"):
        depth_image_to_metres(msg)


@pytest.mark.parametrize("encoding", ["16UC1", "32FC1"])
def test_metres_to_depth_image_round_trip(encoding):
    depth_m = np.array([[np.nan, 0.0, -1.0, 0.2504], [1.5, np.inf, 70.0, 3.0]], np.float32)
    decoded = depth_image_to_metres(metres_to_depth_image(depth_m, encoding))
    if encoding == "16UC1":
        expected = np.array([[np.nan, np.nan, np.nan, 0.250], [1.5, np.nan, np.nan, 3.0]])
    else:
        expected = np.array([[np.nan, np.nan, np.nan, 0.2504], [1.5, np.nan, 70.0, 3.0]])
    np.testing.assert_allclose(decoded, expected.astype(np.float32), rtol=1e-6)
    with pytest.raises(MessageConversionError):
        metres_to_depth_image(depth_m, "mono16")
