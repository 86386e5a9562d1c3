"""Hand-centred crops: the second stage's view of one hand, scale-normalised and one-sided.

The full-frame network places keypoints to within a few input pixels whatever the hand's size,
while PCK's tolerance is a tenth of the hand's box (3.4 px at the median hand at 160x120). A
crop around each found hand, resampled so that the hand fills it, gives the refiner network the
same number of pixels per hand at any distance; mirroring one side onto the other lets one set
of weights serve both hands. The geometry and the input normalisation live here so that training
(crops around labelled hands) and the estimator (crops around detected ones) cut them alike.

Pixel convention as everywhere in the core: pixel j's centre is at coordinate j, so the image
spans [-0.5, size - 0.5].
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import ndimage

MIN_BOX_PX = 8.0
"""Smallest hand box (image pixels) a crop is cut for: keeps a collapsed detection croppable."""


@dataclass(frozen=True)
class CropSpec:
    """How a refiner model wants its crops (the ``input`` block of its metadata)."""

    size_px: int  # crop side in network-input pixels (square crops)
    margin: float  # crop side / hand box side
    depth_range_m: float  # depth relative to the hand's reference, +- this maps to +-1
    reference_percentile: float  # of the valid depths in the crop's central half
    invalid_value: float  # network value of missing depth (and of pixels off the image)
    mirrored_side: str  # the side whose crops are mirrored onto the other

    @classmethod
    def from_metadata(cls, spec: dict[str, Any]) -> CropSpec:
        if int(spec["height"]) != int(spec["width"]):
            raise ValueError(f"crops are square, got {spec['width']}x{spec['height']}")
        return cls(
            size_px=int(spec["height"]),
            margin=float(spec["crop_margin"]),
            depth_range_m=float(spec["depth_range_m"]),
            reference_percentile=float(spec["reference_percentile"]),
            invalid_value=float(spec["invalid_value"]),
            mirrored_side=str(spec["mirrored_side"]),
        )


@dataclass(frozen=True)
class HandCrop:
    """Where a crop lies in its image: left/top edge (image coordinates), image pixels per crop
    pixel, and whether it is mirrored."""

    left_px: float
    top_px: float
    scale: float
    size_px: int
    mirrored: bool

    def to_image(self, uv_crop: np.ndarray) -> np.ndarray:
        """(..., 2) crop pixel coordinates -> image pixel coordinates."""
        uv = np.array(uv_crop, dtype=np.float64)
        if self.mirrored:
            uv[..., 0] = (self.size_px - 1) - uv[..., 0]
        return (uv + 0.5) * self.scale + np.array([self.left_px, self.top_px])

    def to_crop(self, uv_image: np.ndarray) -> np.ndarray:
        """(..., 2) image pixel coordinates -> crop pixel coordinates (inverse of to_image)."""
        uv = (np.asarray(uv_image, dtype=np.float64) - [self.left_px, self.top_px]) / self.scale
        uv -= 0.5
        if self.mirrored:
            uv[..., 0] = (self.size_px - 1) - uv[..., 0]
        return uv


_FOUR_CONNECTED = ndimage.generate_binary_structure(2, 1)


def largest_region_corners(masks: Sequence[np.ndarray]) -> list[np.ndarray | None]:
    """Per (h, w) boolean mask, the corners ((left, top), (right, bottom)), outer pixel edges in
    the mask's own pixel frame, of its largest 4-connected region; None where it is empty. The
    largest region, because a stray patch of a hand's label on the other hand or at the image
    edge must not stretch its box."""
    if not masks:
        return []
    height, width = masks[0].shape
    pitch = width + 1
    # The masks side by side with a background column between them: one labelling pass serves
    # them all (it has a fixed cost of tens of microseconds) and touching regions of different
    # masks stay apart.
    strip = np.zeros((height, len(masks) * pitch), bool)
    for index, mask in enumerate(masks):
        strip[:, index * pitch : index * pitch + width] = mask
    regions, count = ndimage.label(strip, structure=_FOUR_CONNECTED)
    sizes = np.bincount(regions.reshape(-1), minlength=count + 1)[1:].tolist()
    best: list[tuple[int, slice, slice] | None] = [None] * len(masks)
    for size, (rows, columns) in zip(sizes, ndimage.find_objects(regions)):
        index = columns.start // pitch
        if best[index] is None or size > best[index][0]:
            best[index] = (size, rows, columns)
    corners: list[np.ndarray | None] = []
    for index, region in enumerate(best):
        if region is None:
            corners.append(None)
            continue
        _, rows, columns = region
        left = columns.start - index * pitch
        corners.append(
            np.array([[left - 0.5, rows.start - 0.5],
                      [left + columns.stop - columns.start - 0.5, rows.stop - 0.5]])
        )
    return corners


def keypoint_box(uv_px: np.ndarray) -> tuple[np.ndarray, float]:
    """Centre (2,) and side (longer extent) of the box around (K, 2) keypoints, NaN ignored."""
    low, high = np.nanmin(uv_px, axis=0), np.nanmax(uv_px, axis=0)
    return (low + high) / 2.0, float(np.max(high - low))


def crop_around(
    centre_px: np.ndarray, box_side_px: float, spec: CropSpec, mirrored: bool
) -> HandCrop:
    """The square crop of ``spec.margin`` times the box side, centred on the box."""
    side_px = max(float(box_side_px), MIN_BOX_PX) * spec.margin
    return HandCrop(
        left_px=float(centre_px[0]) - side_px / 2.0,
        top_px=float(centre_px[1]) - side_px / 2.0,
        scale=side_px / spec.size_px,
        size_px=spec.size_px,
        mirrored=mirrored,
    )


def crop_input(
    depth_m: np.ndarray, crop: HandCrop, spec: CropSpec, out: np.ndarray | None = None
) -> tuple[np.ndarray, float]:
    """(H, W) depth in metres (NaN/<=0/inf invalid) -> (size, size) float32 refiner input and
    its reference depth in metres.

    Nearest-neighbour sampling, for the reason `core.preprocess` gives. Depth becomes relative
    to a reference near the hand's front (a low percentile of the central half's valid depths),
    so the input does not depend on how far the hand is; pixels off the image are invalid. The
    refiner's keypoint depths are relative to the same reference, which is NaN when the central
    half holds no valid depth (the input is then relative to 0: all far or invalid).
    """
    size = crop.size_px
    centres = (np.arange(size) + 0.5) * crop.scale
    columns = np.floor(crop.left_px + centres + 0.5).astype(np.intp)
    rows = np.floor(crop.top_px + centres + 0.5).astype(np.intp)
    height, width = depth_m.shape
    sampled = depth_m.take(np.clip(rows, 0, height - 1), axis=0).take(
        np.clip(columns, 0, width - 1), axis=1
    )
    with np.errstate(invalid="ignore"):
        valid = (sampled > 0.0) & (sampled < np.inf)
    valid &= ((rows >= 0) & (rows < height))[:, None] & ((columns >= 0) & (columns < width))
    quarter = size // 4
    central = sampled[quarter:size - quarter, quarter:size - quarter]
    central_valid = central[valid[quarter:size - quarter, quarter:size - quarter]]
    reference = (
        percentile(central_valid, spec.reference_percentile) if central_valid.size else 0.0
    )
    if out is None:
        out = np.empty((size, size), dtype=np.float32)
    with np.errstate(invalid="ignore"):
        np.clip((sampled - reference) / spec.depth_range_m, -1.0, 1.0, out=out, casting="unsafe")
    out[~valid] = spec.invalid_value
    if crop.mirrored:
        out[:] = out[:, ::-1].copy()
    return out, reference if central_valid.size else float("nan")


def percentile(values: np.ndarray, q: float) -> float:
    """``np.percentile(values, q)`` (linear interpolation) of a non-empty 1-D array, from a
    partial sort of the two order statistics it needs: 10x faster on a crop's thousand pixels."""
    position = q / 100.0 * (values.size - 1)
    low = int(position)
    high = min(low + 1, values.size - 1)
    ordered = np.partition(values, (low, high))
    return float(ordered[low] + (position - low) * (ordered[high] - ordered[low]))
