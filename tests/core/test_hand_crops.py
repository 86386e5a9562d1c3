"""Crop geometry and the refiner's input: where crop pixels come from and where they map back."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hand_pose_ros.core.hand_crops import (
    MIN_BOX_PX,
    CropSpec,
    HandCrop,
    crop_around,
    crop_input,
    keypoint_box,
    largest_region_corners,
    percentile,
)

SPEC = CropSpec(
    size_px=16,
    margin=1.5,
    depth_range_m=0.1,
    reference_percentile=20.0,
    invalid_value=1.0,
    mirrored_side="left",
)


# No subnormal floats: ONNX Runtime sessions created earlier in this thread flush them to zero
# (core.model_runtime.session_options), which hypothesis refuses to generate under.
@given(
    left=st.floats(-50, 200, allow_subnormal=False),
    top=st.floats(-50, 200, allow_subnormal=False),
    scale=st.floats(0.2, 8.0),
    mirrored=st.booleans(),
    uv=st.tuples(
        st.floats(-20, 40, allow_subnormal=False), st.floats(-20, 40, allow_subnormal=False)
    ),
)
def test_crop_and_image_coordinates_invert_each_other(left, top, scale, mirrored, uv) -> None:
    crop = HandCrop(left, top, scale, 32, mirrored)
    point = np.array([uv])
    np.testing.assert_allclose(crop.to_crop(crop.to_image(point)), point, atol=1e-9)


def test_crop_pixel_centres_land_on_the_image_pixels_they_sample() -> None:
    # A crop at scale 1 whose edges lie on pixel edges samples the image pixels one to one.
    depth = np.arange(40 * 50, dtype=np.float32).reshape(40, 50) * 1e-4 + 0.5
    crop = HandCrop(left_px=9.5, top_px=4.5, scale=1.0, size_px=16, mirrored=False)
    spec = CropSpec(16, 1.0, 1e3, 0.0, -7.0, "left")  # huge range: values stay distinguishable
    values, _ = crop_input(depth, crop, spec)
    reference = depth[9:17, 14:22].min()  # percentile 0 of the crop's central half
    np.testing.assert_allclose(values, (depth[5:21, 10:26] - reference) / 1e3, atol=1e-7)
    assert np.allclose(crop.to_image(np.array([[0.0, 0.0]])), [[10.0, 5.0]])


def test_mirrored_crops_are_flipped_and_map_back_through_the_flip() -> None:
    depth = np.tile(np.linspace(0.4, 0.6, 30, dtype=np.float32), (30, 1))  # rises to the right
    plain = crop_around(np.array([15.0, 15.0]), 10.0, SPEC, mirrored=False)
    mirrored = crop_around(np.array([15.0, 15.0]), 10.0, SPEC, mirrored=True)
    np.testing.assert_array_equal(
        crop_input(depth, mirrored, SPEC)[0], crop_input(depth, plain, SPEC)[0][:, ::-1]
    )
    # Crop column 0 of a mirrored crop is the right-most column of the plain one.
    assert mirrored.to_image(np.array([[0.0, 3.0]]))[0, 0] == pytest.approx(
        plain.to_image(np.array([[15.0, 3.0]]))[0, 0]
    )


def test_depth_is_relative_to_the_hand_and_clipped_and_invalid_pixels_are_marked() -> None:
    depth = np.full((40, 40), 2.0, np.float32)  # a wall
    depth[15:25, 15:25] = 0.5  # the hand, filling the crop's central half
    depth[20, 20] = np.nan  # a missing return
    crop = crop_around(np.array([20.0, 20.0]), 10.0, SPEC, mirrored=False)
    values, reference_m = crop_input(depth, crop, SPEC)
    assert reference_m == pytest.approx(0.5)
    row, col = np.round(crop.to_crop(np.array([[17.0, 17.0]]))[0]).astype(int)[::-1]
    assert values[row, col] == pytest.approx(0.0)  # the reference is the hand's own depth
    assert values[0, 0] == pytest.approx(1.0)  # the wall: 1.5 m behind, clipped to +1
    hole_row, hole_col = np.round(crop.to_crop(np.array([[20.0, 20.0]]))[0]).astype(int)[::-1]
    assert values[hole_row, hole_col] == SPEC.invalid_value


def test_pixels_off_the_image_are_invalid_whatever_the_edge_pixel_holds() -> None:
    depth = np.full((20, 20), 0.5, np.float32)
    crop = crop_around(np.array([0.0, 10.0]), 10.0, SPEC, mirrored=False)  # half off the left
    values, _ = crop_input(depth, crop, SPEC)
    off = crop.to_image(np.column_stack([np.arange(16.0), np.zeros(16)]))[:, 0] < -0.5
    assert off.any() and (values[:, off] == SPEC.invalid_value).all()
    assert (values[:, ~off] == 0.0).all()


def test_crop_side_is_the_margin_times_the_box_with_a_floor() -> None:
    crop = crop_around(np.array([30.0, 20.0]), 20.0, SPEC, mirrored=False)
    assert crop.scale * crop.size_px == pytest.approx(30.0)
    assert (crop.left_px, crop.top_px) == pytest.approx((15.0, 5.0))
    tiny = crop_around(np.array([30.0, 20.0]), 0.0, SPEC, mirrored=False)
    assert tiny.scale * tiny.size_px == pytest.approx(MIN_BOX_PX * SPEC.margin)


def test_keypoint_box_ignores_missing_keypoints() -> None:
    uv = np.array([[10.0, 5.0], [np.nan, np.nan], [30.0, 11.0]])
    centre, side = keypoint_box(uv)
    np.testing.assert_allclose(centre, [20.0, 8.0])
    assert side == pytest.approx(20.0)


def test_a_label_regions_corners_are_its_outer_pixel_edges() -> None:
    labels = np.zeros((6, 8), np.int64)
    labels[1:4, 2:7] = 2
    corners = largest_region_corners([labels == 2, labels == 1])
    np.testing.assert_array_equal(corners[0], [[1.5, 0.5], [6.5, 3.5]])
    assert corners[1] is None


def test_only_the_largest_region_of_each_label_is_boxed() -> None:
    labels = np.zeros((10, 10), np.int64)
    labels[2:6, 2:5] = 1  # a hand: 12 pixels
    labels[8, 9] = 1  # a stray pixel of the same label
    labels[6, 5] = 1  # touching the hand only diagonally: a region of its own
    labels[2:6, 5:9] = 2  # the other hand, touching the first: 16 pixels
    labels[0, 0:3] = 2  # a stray patch of the other hand's label
    left, right = largest_region_corners([labels == 1, labels == 2])
    np.testing.assert_array_equal(left, [[1.5, 1.5], [4.5, 5.5]])
    np.testing.assert_array_equal(right, [[4.5, 1.5], [8.5, 5.5]])
    np.testing.assert_array_equal(largest_region_corners([labels == 2])[0], right)
    assert largest_region_corners([]) == []


def test_spec_from_metadata_refuses_non_square_crops() -> None:
    block = {"height": 64, "width": 48, "crop_margin": 1.3, "depth_range_m": 0.15,
             "reference_percentile": 20.0, "invalid_value": 1.0, "mirrored_side": "left"}
    with pytest.raises(ValueError, match="square"):
        CropSpec.from_metadata(block)


@given(
    values=st.lists(st.floats(0.125, 5.0, width=32), min_size=1, max_size=300),
    q=st.floats(0.0, 100.0, allow_subnormal=False),
)
def test_percentile_matches_numpys_linear_percentile(values, q) -> None:
    array = np.array(values, np.float32)
    assert percentile(array, q) == pytest.approx(float(np.percentile(array, q)), abs=1e-6)


def test_a_crop_without_depth_in_its_centre_has_no_reference() -> None:
    depth = np.full((40, 40), np.nan, np.float32)
    depth[:, :5] = 0.8  # only the far left edge returns anything
    crop = crop_around(np.array([20.0, 20.0]), 10.0, SPEC, mirrored=False)
    values, reference_m = crop_input(depth, crop, SPEC)
    assert np.isnan(reference_m)
    assert np.isfinite(values).all()
