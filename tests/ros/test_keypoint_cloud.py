"""Keypoint PointCloud2: schema, round trips, foreign layouts, and malformed clouds."""

from __future__ import annotations

import array

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from rclpy.serialization import deserialize_message, serialize_message
from sensor_msgs.msg import PointCloud2, PointField
from std_msgs.msg import Header

from hand_pose_ros.ros import (
    KEYPOINT_CLOUD_DTYPE,
    KeypointCloud,
    MessageConversionError,
    decode_keypoint_cloud,
    encode_keypoint_cloud,
)

PROPERTY_SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
FLOAT_FIELDS = ("x", "y", "z", "u", "v", "depth", "score")
SCHEMA = {name: PointField.FLOAT32 for name in FLOAT_FIELDS} | {
    "keypoint": PointField.UINT16,
    "instance": PointField.UINT32,
}
ELEMENT_TYPES = {
    PointField.FLOAT32: "f4",
    PointField.UINT16: "u2",
    PointField.UINT32: "u4",
    PointField.FLOAT64: "f8",
    PointField.UINT8: "u1",
}


def random_keypoints(rng: np.random.Generator, count: int) -> dict[str, np.ndarray]:
    xyz = rng.normal(0.0, 0.5, (count, 3)).astype(np.float32)
    depth = xyz[:, 2].copy()
    missing = rng.random(count) < 0.3
    xyz[missing] = np.nan
    depth[missing] = np.nan
    return {
        "xyz_m": xyz,
        "uv_px": rng.uniform(-10, 650, (count, 2)).astype(np.float32),
        "depth_m": depth,
        "score": rng.random(count).astype(np.float32),
        "keypoint": rng.integers(0, 65535, count, endpoint=True).astype(np.uint16),
        "instance": rng.integers(0, 2**32 - 1, count, endpoint=True).astype(np.uint32),
    }


def stamped_header() -> Header:
    header = Header(frame_id="depth_optical")
    header.stamp.sec, header.stamp.nanosec = 1700000000, 123456789
    return header


def assert_cloud_equals(cloud: KeypointCloud, keypoints: dict[str, np.ndarray]) -> None:
    assert len(cloud) == len(keypoints["score"])
    for name, expected in keypoints.items():
        actual = getattr(cloud, name)
        assert actual.dtype == expected.dtype and actual.dtype.isnative, name
        np.testing.assert_array_equal(actual, expected, err_msg=name)


def test_schema_layout():
    msg = encode_keypoint_cloud(stamped_header(), **random_keypoints(np.random.default_rng(0), 42))
    layout = [(f.name, f.offset, f.datatype, f.count) for f in msg.fields]
    assert layout == [
        ("x", 0, PointField.FLOAT32, 1),
        ("y", 4, PointField.FLOAT32, 1),
        ("z", 8, PointField.FLOAT32, 1),
        ("u", 12, PointField.FLOAT32, 1),
        ("v", 16, PointField.FLOAT32, 1),
        ("depth", 20, PointField.FLOAT32, 1),
        ("score", 24, PointField.FLOAT32, 1),
        ("keypoint", 28, PointField.UINT16, 1),
        ("instance", 32, PointField.UINT32, 1),
    ]
    assert KEYPOINT_CLOUD_DTYPE.itemsize == msg.point_step == 36
    assert [KEYPOINT_CLOUD_DTYPE.fields[f.name][1] for f in msg.fields] == [
        f.offset for f in msg.fields
    ]
    assert (msg.height, msg.width, msg.row_step) == (1, 42, 42 * 36)
    assert len(msg.data) == 42 * 36 and isinstance(msg.data, array.array)
    assert msg.is_bigendian is False and msg.is_dense is False
    assert msg.header.frame_id == "depth_optical" and msg.header.stamp.nanosec == 123456789


def test_wire_bytes_are_little_endian_fields_at_their_offsets():
    """Read one point's bytes by hand, as a C++ consumer would."""
    keypoints = random_keypoints(np.random.default_rng(1), 3)
    msg = encode_keypoint_cloud(Header(), **keypoints)
    second = bytes(msg.data)[36:72]
    assert np.frombuffer(second[8:12], "<f4")[0] == pytest.approx(
        keypoints["xyz_m"][1, 2], nan_ok=True
    )
    assert np.frombuffer(second[16:20], "<f4")[0] == keypoints["uv_px"][1, 1]
    assert np.frombuffer(second[28:30], "<u2")[0] == keypoints["keypoint"][1]
    assert np.frombuffer(second[32:36], "<u4")[0] == keypoints["instance"][1]
    assert second[30:32] == b"\x00\x00"  # padding is deterministic


@PROPERTY_SETTINGS
@given(count=st.integers(0, 60), seed=st.integers(0, 2**32 - 1))
def test_round_trip(count, seed):
    keypoints = random_keypoints(np.random.default_rng(seed), count)
    msg = encode_keypoint_cloud(stamped_header(), **keypoints)
    assert_cloud_equals(decode_keypoint_cloud(msg), keypoints)
    wire = deserialize_message(serialize_message(msg), PointCloud2)  # survives real ROS CDR
    assert_cloud_equals(decode_keypoint_cloud(wire), keypoints)


def test_encode_accepts_python_and_float64_inputs():
    msg = encode_keypoint_cloud(
        Header(), [[0.1, 0.2, 0.3]], [[10.5, 20.25]], [0.3], [0.9], [20], [1]
    )
    cloud = decode_keypoint_cloud(msg)
    np.testing.assert_allclose(cloud.xyz_m, [[0.1, 0.2, 0.3]], rtol=1e-7)
    assert cloud.keypoint.tolist() == [20] and cloud.instance.tolist() == [1]


@pytest.mark.parametrize(
    ("override", "match"),
    [
        ({"xyz_m": np.zeros((3, 2))}, "xyz_m has shape"),
        ({"uv_px": np.zeros((2, 2))}, "uv_px has shape"),
        ({"depth_m": np.zeros(4)}, "depth_m has shape"),
        ({"keypoint": np.array([0, 1, 65536])}, "keypoint values"),
        ({"instance": np.array([0, -1, 2])}, "instance values"),
        ({"keypoint": np.array([0.0, 1.5, 2.0])}, "integers"),
        ({"score": np.zeros((3, 1))}, "score has shape"),
    ],
)
def test_encode_rejects_inconsistent_inputs(override, match):
    keypoints = random_keypoints(np.random.default_rng(2), 3) | override
    with pytest.raises(MessageConversionError, match=match):
        encode_keypoint_cloud(Header(), **keypoints)


def foreign_cloud(
    keypoints: dict[str, np.ndarray],
    order: list[str],
    gaps: list[int],
    extra_fields: bool,
    tail_padding: int,
    row_padding: int,
    height: int,
    big_endian: bool,
) -> PointCloud2:
    """A cloud another producer might send: other field order, offsets, extras, byte order."""
    columns = {
        "x": keypoints["xyz_m"][:, 0],
        "y": keypoints["xyz_m"][:, 1],
        "z": keypoints["xyz_m"][:, 2],
        "u": keypoints["uv_px"][:, 0],
        "v": keypoints["uv_px"][:, 1],
        "depth": keypoints["depth_m"],
        "score": keypoints["score"],
        "keypoint": keypoints["keypoint"],
        "instance": keypoints["instance"],
    }
    datatypes = dict(SCHEMA)
    if extra_fields:
        columns |= {
            "intensity": keypoints["score"].astype(np.float64) * 7,
            "flag": np.ones_like(keypoints["keypoint"], dtype=np.uint8),
        }
        datatypes |= {"intensity": PointField.FLOAT64, "flag": PointField.UINT8}
        order = [*order[:2], "intensity", *order[2:], "flag"]
    byte_order = ">" if big_endian else "<"
    names, formats, offsets, fields = [], [], [], []
    offset = 0
    for index, name in enumerate(order):
        offset += gaps[index % len(gaps)]
        element = np.dtype(ELEMENT_TYPES[datatypes[name]]).newbyteorder(byte_order)
        names.append(name)
        formats.append(element)
        offsets.append(offset)
        fields.append(PointField(name=name, offset=offset, datatype=datatypes[name], count=1))
        offset += element.itemsize
    point_step = offset + tail_padding
    points = np.zeros(
        len(keypoints["score"]),
        np.dtype({"names": names, "formats": formats, "offsets": offsets, "itemsize": point_step}),
    )
    for name in names:
        points[name] = columns[name]
    width = len(points) // height
    rows = points.reshape(height, width)
    payload = b"".join(row.tobytes() + b"\xee" * row_padding for row in rows)
    return PointCloud2(
        height=height,
        width=width,
        fields=fields,
        is_bigendian=big_endian,
        point_step=point_step,
        row_step=width * point_step + row_padding,
        data=array.array("B", payload),
        is_dense=False,
    )


@PROPERTY_SETTINGS
@given(
    width=st.integers(0, 12),
    height=st.integers(1, 3),
    order=st.permutations(list(SCHEMA)),
    gaps=st.lists(st.integers(0, 5), min_size=1, max_size=4),
    extra_fields=st.booleans(),
    tail_padding=st.integers(0, 9),
    row_padding=st.integers(0, 9),
    big_endian=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_decodes_foreign_layouts(
    width, height, order, gaps, extra_fields, tail_padding, row_padding, big_endian, seed
):
    keypoints = random_keypoints(np.random.default_rng(seed), width * height)
    msg = foreign_cloud(
        keypoints, order, gaps, extra_fields, tail_padding, row_padding, height, big_endian
    )
    assert_cloud_equals(decode_keypoint_cloud(msg), keypoints)


def valid_cloud(count: int = 5) -> PointCloud2:
    return encode_keypoint_cloud(Header(), **random_keypoints(np.random.default_rng(3), count))


@pytest.mark.parametrize("missing", list(SCHEMA))
def test_missing_field_is_rejected(missing):
    msg = valid_cloud()
    msg.fields = [f for f in msg.fields if f.name != missing]
    with pytest.raises(MessageConversionError, match=f"lacks keypoint fields \\['{missing}'\\]"):
        decode_keypoint_cloud(msg)


@pytest.mark.parametrize(
    ("name", "datatype"),
    [
        ("x", PointField.FLOAT64),
        ("score", PointField.UINT32),
        ("keypoint", PointField.UINT32),
        ("instance", PointField.INT32),
        ("depth", 99),
    ],
)
def test_wrong_datatype_is_rejected(name, datatype):
    msg = valid_cloud()
    for field in msg.fields:
        if field.name == name:
            field.datatype = datatype
    with pytest.raises(MessageConversionError, match=f"field '{name}' is"):
        decode_keypoint_cloud(msg)


def test_structural_errors_are_rejected():
    msg = valid_cloud()
    msg.point_step = 34  # instance (offset 32, 4 bytes) no longer fits
    with pytest.raises(MessageConversionError, match="does not fit point_step"):
        decode_keypoint_cloud(msg)
    msg = valid_cloud()
    msg.row_step -= 1
    with pytest.raises(MessageConversionError, match="row_step"):
        decode_keypoint_cloud(msg)
    msg = valid_cloud()
    msg.fields[3].count = 3
    with pytest.raises(MessageConversionError, match="count 3"):
        decode_keypoint_cloud(msg)
    msg = valid_cloud()
    msg.fields = [*msg.fields, PointField(name="x", offset=0, datatype=PointField.FLOAT32, count=1)]
    with pytest.raises(MessageConversionError, match="two fields named 'x'"):
        decode_keypoint_cloud(msg)


@PROPERTY_SETTINGS
@given(count=st.integers(1, 8), data=st.data())
def test_data_length_mismatch_is_rejected(count, data):
    msg = valid_cloud(count)
    size = data.draw(st.integers(0, len(msg.data) + 40).filter(lambda n: n != len(msg.data)))
    payload = bytes(msg.data)
    msg.data = array.array("B", (payload * 2)[:size])
    with pytest.raises(MessageConversionError, match="data has"):
        decode_keypoint_cloud(msg)


@example(  # found by this test: a point_step too large for a numpy dtype
    height=0,
    width=0,
    point_step=2**31,
    row_step=0,
    offsets=[0] * 9,
    drop=set(),
    big_endian=False,
    payload=b"",
)
@example(  # field offsets too large for a numpy dtype
    height=1,
    width=0,
    point_step=2**32 - 1,
    row_step=0,
    offsets=[3_000_000_000] + [0] * 8,
    drop=set(),
    big_endian=True,
    payload=b"",
)
@PROPERTY_SETTINGS
@given(
    height=st.integers(0, 2**32 - 1) | st.integers(0, 4),
    width=st.integers(0, 2**32 - 1) | st.integers(0, 4),
    point_step=st.integers(0, 2**32 - 1) | st.integers(0, 48),
    row_step=st.integers(0, 2**32 - 1) | st.integers(0, 200),
    offsets=st.lists(st.integers(0, 60) | st.integers(0, 2**32 - 1), min_size=9, max_size=9),
    drop=st.sets(st.sampled_from(list(SCHEMA)), max_size=2),
    big_endian=st.booleans(),
    payload=st.binary(max_size=300),
)
def test_arbitrary_clouds_raise_only_conversion_errors(
    height, width, point_step, row_step, offsets, drop, big_endian, payload
):
    fields = [
        PointField(name=name, offset=offset, datatype=datatype, count=1)
        for (name, datatype), offset in zip(SCHEMA.items(), offsets)
        if name not in drop
    ]
    msg = PointCloud2(
        height=height,
        width=width,
        fields=fields,
        is_bigendian=big_endian,
        point_step=point_step,
        row_step=row_step,
        data=array.array("B", payload),
    )
    try:
        cloud = decode_keypoint_cloud(msg)
    except MessageConversionError:
        return
    assert len(cloud) == height * width
    assert row_step * height == len(payload)
