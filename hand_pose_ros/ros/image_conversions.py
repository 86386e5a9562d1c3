"""sensor_msgs/Image <-> numpy without cv_bridge (not installable here), fast enough for 30 Hz VGA.

Decoding returns a read-only view of the message buffer where the byte order allows it (no copy;
row padding is skipped with strides), so a node pays nothing before its own preprocessing.
Encoding writes little-endian, unpadded rows and hands rclpy an `array.array('B')`, the one type
its generated setters store without a per-byte Python loop.
"""

from __future__ import annotations

import array as pyarray
import re

import numpy as np
from sensor_msgs.msg import Image
from std_msgs.msg import Header

from hand_pose_ros.ros.errors import MessageConversionError

# Named encodings from sensor_msgs/image_encodings.hpp: (element type, channels).
_NAMED_ENCODINGS: dict[str, tuple[str, int]] = {
    "mono8": ("u1", 1),
    "mono16": ("u2", 1),
    "rgb8": ("u1", 3),
    "bgr8": ("u1", 3),
    "rgba8": ("u1", 4),
    "bgra8": ("u1", 4),
    "rgb16": ("u2", 3),
    "bgr16": ("u2", 3),
    "rgba16": ("u2", 4),
    "bgra16": ("u2", 4),
}
# OpenCV-style type encodings ("16UC1", "32FC1", ...): the combinations image_encodings defines.
_ELEMENT_TYPES = {
    "8U": "u1",
    "8S": "i1",
    "16U": "u2",
    "16S": "i2",
    "32S": "i4",
    "32F": "f4",
    "64F": "f8",
}
_TYPE_ENCODING_PATTERN = re.compile(r"^(8U|8S|16U|16S|32S|32F|64F)C([1-4])$")

SUPPORTED_IMAGE_ENCODINGS: frozenset[str] = frozenset(
    list(_NAMED_ENCODINGS) + [f"{t}C{c}" for t in _ELEMENT_TYPES for c in range(1, 5)]
)
DEPTH_ENCODINGS: tuple[str, ...] = ("16UC1", "32FC1")
_MM_PER_M = 1000.0
_MAX_DEPTH_MM = np.iinfo(np.uint16).max


def image_encoding_layout(encoding: str) -> tuple[np.dtype, int]:
    """(native element dtype, channel count) of an encoding; MessageConversionError if unknown."""
    if encoding in _NAMED_ENCODINGS:
        element, channels = _NAMED_ENCODINGS[encoding]
        return np.dtype(element), channels
    match = _TYPE_ENCODING_PATTERN.match(encoding) if isinstance(encoding, str) else None
    if match is None:
        raise MessageConversionError(
            f"unsupported image encoding {encoding!r}; expected one of "
            f"{', '.join(sorted(SUPPORTED_IMAGE_ENCODINGS))}"
        )
    return np.dtype(_ELEMENT_TYPES[match.group(1)]), int(match.group(2))


def _byte_buffer(data: object) -> np.ndarray:
    """The message payload as a flat uint8 array, sharing memory when data exposes a buffer."""
    try:
        return np.frombuffer(data, dtype=np.uint8)
    except (TypeError, ValueError, BufferError):
        pass  # not a contiguous buffer (e.g. a list of ints): copy below
    try:
        return np.asarray(data, dtype=np.uint8).reshape(-1)
    except (TypeError, ValueError, OverflowError) as error:
        raise MessageConversionError(
            f"image data must be a byte sequence, got {type(data).__name__}: {error}"
        ) from error


def image_to_numpy(msg: Image) -> np.ndarray:
    """Image -> read-only (H, W) or (H, W, C) array in native byte order.

    A view of msg.data when the payload is already in host byte order (padding skipped with
    strides, so the result may be non-contiguous); a byte-swapped copy otherwise.
    """
    dtype, channels = image_encoding_layout(msg.encoding)
    height, width, step = int(msg.height), int(msg.width), int(msg.step)
    if height <= 0 or width <= 0:
        raise MessageConversionError(
            f"empty image: {width}x{height} ({msg.encoding}); expected width and height > 0"
        )
    pixel_bytes = dtype.itemsize * channels
    row_bytes = width * pixel_bytes
    if step < row_bytes:
        raise MessageConversionError(
            f"image step {step} is smaller than width {width} x {pixel_bytes} bytes per pixel "
            f"= {row_bytes} for {msg.encoding}"
        )
    buffer = _byte_buffer(msg.data)
    if buffer.size < step * height:
        raise MessageConversionError(
            f"image data has {buffer.size} bytes; expected step {step} x height {height} = "
            f"{step * height} for a {width}x{height} {msg.encoding} image"
        )
    wire_dtype = dtype.newbyteorder(">" if msg.is_bigendian else "<")
    if channels == 1:
        shape: tuple[int, ...] = (height, width)
        strides: tuple[int, ...] = (step, dtype.itemsize)
    else:
        shape = (height, width, channels)
        strides = (step, pixel_bytes, dtype.itemsize)
    image = np.ndarray(shape, dtype=wire_dtype, buffer=buffer, strides=strides)
    if not wire_dtype.isnative:
        image = image.astype(dtype.newbyteorder("="))
    image.flags.writeable = False
    return image


def _as_encoding_dtype(image: np.ndarray, dtype: np.dtype, encoding: str) -> np.ndarray:
    """The encoding's dtype: floats (or ints) into float encodings; ints into int encodings only
    when every value fits. Floats into int encodings are refused (metres vs millimetres)."""
    if image.dtype == dtype:
        return image
    source_kind, target_kind = image.dtype.kind, dtype.kind
    if target_kind == "f" and source_kind in "fiu":
        return image.astype(dtype)
    if target_kind in "iu" and source_kind in "iu":
        limits = np.iinfo(dtype)
        if image.size and (image.min() < limits.min or image.max() > limits.max):
            raise MessageConversionError(
                f"values {image.min()}..{image.max()} do not fit {encoding} "
                f"({dtype.name}, {limits.min}..{limits.max})"
            )
        return image.astype(dtype)
    raise MessageConversionError(
        f"array of dtype {image.dtype} cannot be written as {encoding}; expected {dtype.name}"
        + (" (convert metres to millimetres explicitly)" if encoding == "16UC1" else "")
    )


def numpy_to_image(array: np.ndarray, encoding: str, header: Header | None = None) -> Image:
    """(H, W) or (H, W, C) array -> Image: little-endian, rows unpadded (step = width x bpp)."""
    dtype, channels = image_encoding_layout(encoding)
    image = np.asarray(array)
    if image.ndim == 3 and image.shape[2] == channels:
        pass
    elif not (image.ndim == 2 and channels == 1):
        expected = "(H, W) or (H, W, 1)" if channels == 1 else f"(H, W, {channels})"
        raise MessageConversionError(
            f"array of shape {image.shape} does not fit {encoding}; expected {expected}"
        )
    height, width = image.shape[:2]
    if height == 0 or width == 0:
        raise MessageConversionError(f"empty array of shape {image.shape}; expected H, W > 0")
    wire = np.ascontiguousarray(
        _as_encoding_dtype(image, dtype, encoding), dtype=dtype.newbyteorder("<")
    )
    payload = pyarray.array("B")
    payload.frombytes(memoryview(wire).cast("B"))
    msg = Image()
    if header is not None:
        msg.header = header
    msg.height = height
    msg.width = width
    msg.encoding = encoding
    msg.is_bigendian = 0
    msg.step = width * channels * dtype.itemsize
    msg.data = payload
    return msg


def depth_image_to_metres(msg: Image) -> np.ndarray:
    """Depth image -> new float32 (H, W) array in metres with NaN where invalid.

    16UC1 is millimetres with 0 invalid; 32FC1 is metres with non-finite and <= 0 invalid
    (the ROS depth conventions, REP 118).
    """
    if msg.encoding not in DEPTH_ENCODINGS:
        raise MessageConversionError(
            f"depth image encoding {msg.encoding!r} is not supported; expected 16UC1 "
            "(millimetres, 0 invalid) or 32FC1 (metres, non-finite invalid)"
        )
    raw = image_to_numpy(msg)
    if msg.encoding == "16UC1":
        depth_m = np.multiply(raw, np.float32(1.0 / _MM_PER_M), dtype=np.float32)
        depth_m[raw == 0] = np.nan
        return depth_m
    depth_m = np.array(raw, dtype=np.float32, order="C")
    depth_m[~((depth_m > 0) & (depth_m < np.inf))] = np.nan
    return depth_m


def metres_to_depth_image(
    depth_m: np.ndarray, encoding: str = "16UC1", header: Header | None = None
) -> Image:
    """Float metres (NaN invalid) -> depth Image, the inverse of depth_image_to_metres.

    16UC1 rounds to whole millimetres; invalid, <= 0 or beyond 65.535 m becomes 0.
    """
    depth = np.asarray(depth_m, dtype=np.float32)
    if encoding == "32FC1":
        valid = (depth > 0) & (depth < np.inf)
        return numpy_to_image(np.where(valid, depth, np.float32(np.nan)), encoding, header)
    if encoding != "16UC1":
        raise MessageConversionError(
            f"depth image encoding {encoding!r} is not supported; expected 16UC1 or 32FC1"
        )
    with np.errstate(invalid="ignore"):
        depth_mm = np.rint(depth * np.float32(_MM_PER_M))
        valid = (depth_mm > 0) & (depth_mm <= _MAX_DEPTH_MM)
    return numpy_to_image(np.where(valid, depth_mm, 0).astype(np.uint16), encoding, header)


COLOR_ENCODINGS: tuple[str, ...] = ("rgb8", "bgr8", "rgba8", "bgra8", "mono8")
"""Colour encodings a colour-image consumer accepts (8 bits per channel, as camera drivers
publish them)."""


def color_image_to_rgb(msg: Image) -> np.ndarray:
    """Colour Image (rgb8, bgr8, rgba8, bgra8 or mono8) -> (H, W, 3) uint8 RGB.

    rgb8 with unpadded rows comes back as a read-only view of the message (no copy); the other
    encodings are reordered / expanded into a new array. Alpha is dropped.
    """
    if msg.encoding not in COLOR_ENCODINGS:
        raise MessageConversionError(
            f"colour image encoding {msg.encoding!r} is not supported; expected one of "
            f"{', '.join(COLOR_ENCODINGS)}"
        )
    pixels = image_to_numpy(msg)
    if msg.encoding == "rgb8":
        return pixels
    if msg.encoding == "mono8":
        return np.repeat(pixels[:, :, None], 3, axis=2)
    if msg.encoding == "rgba8":
        return np.ascontiguousarray(pixels[:, :, :3])
    return np.ascontiguousarray(pixels[:, :, 2::-1])  # bgr8 / bgra8: B, G, R -> R, G, B
