"""Keypoints as sensor_msgs/PointCloud2 (design.md section 3), built and read with numpy only.

One point per keypoint per instance: x, y, z, u, v, depth, score (float32), keypoint (uint16),
instance (uint32). Standard fields mean RViz, Foxglove, rosbag2 and sensor_msgs_py read it as is;
decoding goes by field name so clouds from other producers (other offsets, padding, byte order,
organised height > 1) are read too.
"""

from __future__ import annotations

import array
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sensor_msgs.msg import PointCloud2, PointField
from std_msgs.msg import Header

from hand_pose_ros.ros.errors import MessageConversionError

# PointField datatype constant -> numpy element type (little-endian form).
_POINT_FIELD_TYPES: dict[int, str] = {
    PointField.INT8: "i1",
    PointField.UINT8: "u1",
    PointField.INT16: "<i2",
    PointField.UINT16: "<u2",
    PointField.INT32: "<i4",
    PointField.UINT32: "<u4",
    PointField.FLOAT32: "<f4",
    PointField.FLOAT64: "<f8",
}
_POINT_FIELD_TYPE_NAMES: dict[int, str] = {
    PointField.INT8: "INT8",
    PointField.UINT8: "UINT8",
    PointField.INT16: "INT16",
    PointField.UINT16: "UINT16",
    PointField.INT32: "INT32",
    PointField.UINT32: "UINT32",
    PointField.FLOAT32: "FLOAT32",
    PointField.FLOAT64: "FLOAT64",
}

# The schema: (name, PointField datatype, byte offset). uint16 keypoint is followed by 2 bytes of
# padding so instance stays 4-byte aligned.
KEYPOINT_CLOUD_FIELDS: tuple[tuple[str, int, int], ...] = (
    ("x", PointField.FLOAT32, 0),
    ("y", PointField.FLOAT32, 4),
    ("z", PointField.FLOAT32, 8),
    ("u", PointField.FLOAT32, 12),
    ("v", PointField.FLOAT32, 16),
    ("depth", PointField.FLOAT32, 20),
    ("score", PointField.FLOAT32, 24),
    ("keypoint", PointField.UINT16, 28),
    ("instance", PointField.UINT32, 32),
)
KEYPOINT_CLOUD_POINT_STEP = 36
KEYPOINT_CLOUD_DTYPE: np.dtype = np.dtype(
    {
        "names": [name for name, _, _ in KEYPOINT_CLOUD_FIELDS],
        "formats": [_POINT_FIELD_TYPES[datatype] for _, datatype, _ in KEYPOINT_CLOUD_FIELDS],
        "offsets": [offset for _, _, offset in KEYPOINT_CLOUD_FIELDS],
        "itemsize": KEYPOINT_CLOUD_POINT_STEP,
    }
)


@dataclass
class KeypointCloud:
    """Decoded keypoint cloud: M points as parallel arrays (native byte order, owned copies)."""

    xyz_m: np.ndarray  # (M, 3) float32, NaN where no valid depth
    uv_px: np.ndarray  # (M, 2) float32
    depth_m: np.ndarray  # (M,) float32, NaN where invalid
    score: np.ndarray  # (M,) float32
    keypoint: np.ndarray  # (M,) uint16
    instance: np.ndarray  # (M,) uint32

    def __len__(self) -> int:
        return int(self.score.shape[0])


def _column(name: str, values: np.ndarray, count: int, width: int) -> np.ndarray:
    """Check one input's shape against the point count M."""
    column = np.asarray(values)
    expected = (count,) if width == 1 else (count, width)
    if column.shape != expected:
        raise MessageConversionError(
            f"{name} has shape {column.shape}; expected {expected} for {count} keypoints"
        )
    return column


def _integer_column(name: str, values: np.ndarray, count: int, dtype: str) -> np.ndarray:
    """Integer ids must fit their field exactly; a silent wrap would mislabel keypoints."""
    column = _column(name, values, count, 1)
    limits = np.iinfo(dtype)
    if column.size:
        if column.dtype.kind not in "iub" and not np.array_equal(column, np.round(column)):
            raise MessageConversionError(f"{name} must hold integers, got {column.dtype}")
        if column.min() < limits.min or column.max() > limits.max:
            raise MessageConversionError(
                f"{name} values {column.min()}..{column.max()} do not fit {np.dtype(dtype).name}"
            )
    return column


def encode_keypoint_cloud(
    header: Header,
    xyz_m: np.ndarray,
    uv_px: np.ndarray,
    depth_m: np.ndarray,
    score: np.ndarray,
    keypoint: np.ndarray,
    instance: np.ndarray,
) -> PointCloud2:
    """Parallel arrays for M keypoints -> PointCloud2 (height 1, width M, little-endian).

    M = 0 gives a valid empty cloud (nothing detected this frame).
    """
    count = int(np.shape(score)[0]) if np.ndim(score) == 1 else -1
    if count < 0:
        raise MessageConversionError(f"score has shape {np.shape(score)}; expected (M,)")
    points = np.zeros(count, dtype=KEYPOINT_CLOUD_DTYPE)  # zeros: padding bytes deterministic
    xyz = _column("xyz_m", xyz_m, count, 3)
    uv = _column("uv_px", uv_px, count, 2)
    points["x"], points["y"], points["z"] = xyz[:, 0], xyz[:, 1], xyz[:, 2]
    points["u"], points["v"] = uv[:, 0], uv[:, 1]
    points["depth"] = _column("depth_m", depth_m, count, 1)
    points["score"] = _column("score", score, count, 1)
    points["keypoint"] = _integer_column("keypoint", keypoint, count, "uint16")
    points["instance"] = _integer_column("instance", instance, count, "uint32")
    payload = array.array("B")
    payload.frombytes(points.tobytes())
    msg = PointCloud2()
    msg.header = header
    msg.height = 1
    msg.width = count
    msg.fields = [
        PointField(name=name, offset=offset, datatype=datatype, count=1)
        for name, datatype, offset in KEYPOINT_CLOUD_FIELDS
    ]
    msg.is_bigendian = False
    msg.point_step = KEYPOINT_CLOUD_POINT_STEP
    msg.row_step = KEYPOINT_CLOUD_POINT_STEP * count
    msg.data = payload
    msg.is_dense = False
    return msg


def _type_name(datatype: int) -> str:
    return _POINT_FIELD_TYPE_NAMES.get(datatype, f"unknown datatype {datatype}")


def _field_layout(msg: PointCloud2) -> dict[str, tuple[np.dtype, int]]:
    """Schema field name -> (wire element dtype, byte offset) in this message's point layout."""
    by_name: dict[str, PointField] = {}
    for field in msg.fields:
        if field.name in by_name and field.name in KEYPOINT_CLOUD_DTYPE.names:
            raise MessageConversionError(f"PointCloud2 has two fields named {field.name!r}")
        by_name[field.name] = field
    missing = [name for name, _, _ in KEYPOINT_CLOUD_FIELDS if name not in by_name]
    if missing:
        raise MessageConversionError(
            f"PointCloud2 lacks keypoint fields {missing}; has {list(by_name)}, expected "
            f"{[name for name, _, _ in KEYPOINT_CLOUD_FIELDS]}"
        )
    point_step = int(msg.point_step)
    byte_order = ">" if msg.is_bigendian else "<"
    layout: dict[str, tuple[np.dtype, int]] = {}
    for name, datatype, _ in KEYPOINT_CLOUD_FIELDS:
        field = by_name[name]
        if field.datatype != datatype:
            raise MessageConversionError(
                f"PointCloud2 field {name!r} is {_type_name(field.datatype)}; "
                f"expected {_type_name(datatype)}"
            )
        if field.count not in (0, 1):  # some producers write 0 for a scalar
            raise MessageConversionError(
                f"PointCloud2 field {name!r} has count {field.count}; expected 1"
            )
        element = np.dtype(_POINT_FIELD_TYPES[datatype]).newbyteorder(byte_order)
        if field.offset + element.itemsize > point_step:
            raise MessageConversionError(
                f"PointCloud2 field {name!r} at offset {field.offset} ({element.itemsize} bytes) "
                f"does not fit point_step {point_step}"
            )
        layout[name] = (element, int(field.offset))
    return layout


def _empty_cloud() -> KeypointCloud:
    return KeypointCloud(
        xyz_m=np.zeros((0, 3), np.float32),
        uv_px=np.zeros((0, 2), np.float32),
        depth_m=np.zeros(0, np.float32),
        score=np.zeros(0, np.float32),
        keypoint=np.zeros(0, np.uint16),
        instance=np.zeros(0, np.uint32),
    )


def decode_keypoint_cloud(msg: PointCloud2) -> KeypointCloud:
    """PointCloud2 with the keypoint fields -> KeypointCloud; MessageConversionError if malformed.

    Points are read in row-major order over height x width, honouring row_step padding.
    """
    layout = _field_layout(msg)
    height, width = int(msg.height), int(msg.width)
    point_step, row_step = int(msg.point_step), int(msg.row_step)
    if height * width and row_step < width * point_step:
        raise MessageConversionError(
            f"PointCloud2 row_step {row_step} is smaller than width {width} x point_step "
            f"{point_step} = {width * point_step}"
        )
    try:
        data = np.frombuffer(msg.data, dtype=np.uint8)
    except (TypeError, ValueError, BufferError):
        data = np.asarray(msg.data, dtype=np.uint8).reshape(-1)
    if data.size != row_step * height:
        raise MessageConversionError(
            f"PointCloud2 data has {data.size} bytes; expected row_step {row_step} x height "
            f"{height} = {row_step * height}"
        )
    if height * width == 0:
        return _empty_cloud()
    # A structured view over just the schema's fields: offsets relative to the first one read,
    # point_step and row_step as strides (padding and foreign fields skipped without copying).
    base = min(offset for _, offset in layout.values())
    span = max(offset + element.itemsize for element, offset in layout.values()) - base
    if span > np.iinfo(np.int32).max:
        raise MessageConversionError(
            f"PointCloud2 keypoint fields span {span} bytes per point; expected under 2 GiB"
        )
    wire = np.dtype(
        {
            "names": list(layout),
            "formats": [element for element, _ in layout.values()],
            "offsets": [offset - base for _, offset in layout.values()],
            "itemsize": span,
        }
    )
    points = np.ndarray(
        (height, width), dtype=wire, buffer=data, offset=base, strides=(row_step, point_step)
    ).reshape(-1)

    def native(name: str) -> np.ndarray:
        return points[name].astype(wire[name].newbyteorder("="))

    return KeypointCloud(
        xyz_m=np.stack([native("x"), native("y"), native("z")], axis=-1),
        uv_px=np.stack([native("u"), native("v")], axis=-1),
        depth_m=native("depth"),
        score=native("score"),
        keypoint=native("keypoint"),
        instance=native("instance"),
    )


def encode_instances_cloud(
    header: Header,
    instance_ids: Sequence[int],
    xyz_m: Sequence[np.ndarray],
    uv_px: Sequence[np.ndarray],
    depth_m: Sequence[np.ndarray],
    score: Sequence[np.ndarray],
) -> PointCloud2:
    """Per-instance arrays ((K, 3), (K, 2), (K,), (K,) each) -> one cloud, every instance with
    all K keypoints in index order (the fixed-count layout of design.md section 3).

    No instances gives a valid empty cloud.
    """
    count = len(instance_ids)
    if not (len(xyz_m) == len(uv_px) == len(depth_m) == len(score) == count):
        raise MessageConversionError(
            f"{count} instance ids but {len(xyz_m)} xyz, {len(uv_px)} uv, {len(depth_m)} depth "
            f"and {len(score)} score arrays"
        )
    if count == 0:
        return encode_keypoint_cloud(
            header,
            np.zeros((0, 3), np.float32),
            np.zeros((0, 2), np.float32),
            np.zeros(0, np.float32),
            np.zeros(0, np.float32),
            np.zeros(0, np.uint16),
            np.zeros(0, np.uint32),
        )
    keypoint_count = int(np.shape(score[0])[0])
    return encode_keypoint_cloud(
        header,
        np.concatenate([np.asarray(a, np.float32).reshape(-1, 3) for a in xyz_m]),
        np.concatenate([np.asarray(a, np.float32).reshape(-1, 2) for a in uv_px]),
        np.concatenate([np.asarray(a, np.float32).reshape(-1) for a in depth_m]),
        np.concatenate([np.asarray(a, np.float32).reshape(-1) for a in score]),
        np.tile(np.arange(keypoint_count, dtype=np.uint16), count),
        np.repeat(np.asarray(instance_ids, dtype=np.int64), keypoint_count),
    )
