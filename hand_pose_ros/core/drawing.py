"""Pictures of depth images and skeletons with numpy only.

The node's debug image and the runner's mosaics are drawn here so both look the same and core
stays free of image libraries (Pillow is only used by the runner to write PNG files).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

# Anchor colours of the depth colormap, near (index 0) to far: a light-to-dark "bone" ramp, so
# near hands are bright and the saturated skeleton colours stand out on any depth.
_COLORMAP_ANCHORS_RGB = np.array(
    [
        [250, 250, 245],
        [200, 205, 210],
        [140, 150, 165],
        [85, 95, 115],
        [40, 45, 60],
        [20, 22, 30],
    ],
    dtype=np.float64,
)
COLORMAP_SIZE = 256


def _build_colormap() -> np.ndarray:
    positions = np.linspace(0.0, 1.0, len(_COLORMAP_ANCHORS_RGB))
    samples = np.linspace(0.0, 1.0, COLORMAP_SIZE)
    channels = [np.interp(samples, positions, _COLORMAP_ANCHORS_RGB[:, c]) for c in range(3)]
    return np.round(np.stack(channels, axis=-1)).astype(np.uint8)


DEPTH_COLORMAP_RGB: np.ndarray = _build_colormap()
"""(256, 3) uint8 lookup table, near to far."""

INSTANCE_COLORS_RGB: tuple[tuple[int, int, int], ...] = (
    (26, 115, 217),  # instance 0 (left hand): blue, as the RViz skeleton markers
    (255, 128, 13),  # instance 1 (right hand): orange
    (38, 179, 64),
    (217, 38, 51),
    (153, 89, 204),
    (140, 89, 64),
)
"""Per-instance colours, the same palette as the skeleton markers so pictures match RViz."""

TRUTH_COLOR_RGB = (255, 0, 255)
"""Ground truth is drawn thin in magenta over the predictions."""

INVALID_DEPTH_RGB = (0, 0, 0)
_COLORMAP_WITH_INVALID = np.vstack([DEPTH_COLORMAP_RGB, np.array([INVALID_DEPTH_RGB], np.uint8)])
_RANGE_SAMPLE_STEP = 4  # pixels: quantiles are estimated on every 4th row and column
_EQUALISATION_LEVELS = 64  # depth quantiles of the equalised mapping


def instance_color(instance: int) -> tuple[int, int, int]:
    """Deterministic colour of an instance id (wraps around the palette)."""
    return INSTANCE_COLORS_RGB[int(instance) % len(INSTANCE_COLORS_RGB)]


def depth_to_rgb(
    depth_m: np.ndarray,
    near_m: float | None = None,
    far_m: float | None = None,
) -> np.ndarray:
    """(H, W) metres -> (H, W, 3) uint8; invalid (NaN, <= 0) pixels are black.

    With an explicit near/far range the mapping is linear. Without one it is equalised: a
    pixel's colour is its depth rank among the valid pixels (quantiles estimated on a
    subsample, since this runs per frame in the node), so a hand in front of a table keeps
    contrast whatever the far wall or a few flying pixels do.
    """
    depth = np.asarray(depth_m, dtype=np.float32)
    with np.errstate(invalid="ignore"):
        invalid = ~((depth > 0) & (depth < np.inf))
    if near_m is not None and far_m is not None:
        span_m = max(far_m - near_m, 1e-6)
        scaled = (depth - np.float32(near_m)) * np.float32((COLORMAP_SIZE - 1) / span_m)
        np.clip(scaled, 0, COLORMAP_SIZE - 1, out=scaled)
    else:
        sample = depth[::_RANGE_SAMPLE_STEP, ::_RANGE_SAMPLE_STEP]
        sample = sample[~invalid[::_RANGE_SAMPLE_STEP, ::_RANGE_SAMPLE_STEP]]
        if sample.size == 0:
            sample = depth[~invalid]
        if sample.size == 0:
            return np.zeros(depth.shape + (3,), dtype=np.uint8)
        sample.sort()
        positions = np.linspace(0, sample.size - 1, _EQUALISATION_LEVELS).astype(np.intp)
        quantiles = sample[positions]
        scaled = np.searchsorted(quantiles, depth).astype(np.float32)
        scaled *= np.float32((COLORMAP_SIZE - 1) / (_EQUALISATION_LEVELS - 1))
        np.clip(scaled, 0, COLORMAP_SIZE - 1, out=scaled)
    scaled[invalid] = COLORMAP_SIZE  # the black entry appended to the lookup table
    return np.take(_COLORMAP_WITH_INVALID, scaled.astype(np.intp), axis=0)


def upscale(image: np.ndarray, factor: int) -> np.ndarray:
    """Nearest-neighbour enlargement by an integer factor (small images are hard to look at)."""
    if factor <= 1:
        return image
    return np.repeat(np.repeat(image, factor, axis=0), factor, axis=1)


def _stamp(image: np.ndarray, rows: np.ndarray, cols: np.ndarray, color, radius_px: int) -> None:
    """Paint square stamps of half-size radius_px centred on the given integer pixels."""
    height, width = image.shape[:2]
    if radius_px > 0:
        offsets = np.arange(-radius_px, radius_px + 1)
        dr, dc = np.meshgrid(offsets, offsets, indexing="ij")
        round_mask = dr**2 + dc**2 <= radius_px**2 + radius_px  # a rounder dot than a square
        dr, dc = dr[round_mask], dc[round_mask]
        rows = (rows[:, None] + dr[None, :]).ravel()
        cols = (cols[:, None] + dc[None, :]).ravel()
    inside = (rows >= 0) & (rows < height) & (cols >= 0) & (cols < width)
    image[rows[inside], cols[inside]] = color


def draw_lines(
    image: np.ndarray,
    starts_uv: np.ndarray,
    ends_uv: np.ndarray,
    color: Sequence[int],
    thickness_px: int = 1,
) -> np.ndarray:
    """Draw segments (N, 2) -> (N, 2) in place; segments with a non-finite end are skipped.

    Each segment is sampled at one point per pixel of its longer axis (a vectorised DDA), which
    gives the same pixels as Bresenham for our purposes.
    """
    starts = np.asarray(starts_uv, dtype=np.float64).reshape(-1, 2)
    ends = np.asarray(ends_uv, dtype=np.float64).reshape(-1, 2)
    finite = np.isfinite(starts).all(axis=1) & np.isfinite(ends).all(axis=1)
    starts, ends = starts[finite], ends[finite]
    if len(starts) == 0:
        return image
    # Clamp far-away points so a wild coordinate cannot ask for millions of samples.
    limit = 4.0 * max(image.shape[:2])
    starts = np.clip(starts, -limit, limit)
    ends = np.clip(ends, -limit, limit)
    lengths = np.ceil(np.abs(ends - starts).max(axis=1)).astype(np.intp) + 1
    segment = np.repeat(np.arange(len(starts)), lengths)
    first = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    step = np.arange(lengths.sum()) - np.repeat(first, lengths)
    fraction = step / np.maximum(np.repeat(lengths, lengths) - 1, 1)
    points = starts[segment] + (ends[segment] - starts[segment]) * fraction[:, None]
    cols = np.floor(points[:, 0] + 0.5).astype(np.intp)
    rows = np.floor(points[:, 1] + 0.5).astype(np.intp)
    _stamp(image, rows, cols, np.asarray(color, dtype=np.uint8), (thickness_px - 1) // 2)
    return image


def draw_points(
    image: np.ndarray, uv_px: np.ndarray, color: Sequence[int], radius_px: int = 1
) -> np.ndarray:
    """Draw dots at (N, 2) pixel positions in place; non-finite positions are skipped."""
    uv = np.asarray(uv_px, dtype=np.float64).reshape(-1, 2)
    uv = uv[np.isfinite(uv).all(axis=1)]
    if len(uv) == 0:
        return image
    cols = np.floor(uv[:, 0] + 0.5).astype(np.intp)
    rows = np.floor(uv[:, 1] + 0.5).astype(np.intp)
    _stamp(image, rows, cols, np.asarray(color, dtype=np.uint8), radius_px)
    return image


def draw_skeleton(
    image: np.ndarray,
    uv_px: np.ndarray,
    edges: Sequence[Sequence[int]],
    color: Sequence[int],
    line_thickness_px: int = 1,
    joint_radius_px: int = 1,
    scale: float = 1.0,
) -> np.ndarray:
    """Draw one instance's bones and joints in place.

    uv_px is (K, 2) in the original image's pixels; ``scale`` maps them into an enlarged image
    (pixel-centre aware) so a skeleton can be drawn sharply over an upscaled depth picture.
    """
    uv = (np.asarray(uv_px, dtype=np.float64) + 0.5) * scale - 0.5
    edge_array = np.asarray(edges, dtype=np.intp).reshape(-1, 2)
    if len(edge_array):
        draw_lines(image, uv[edge_array[:, 0]], uv[edge_array[:, 1]], color, line_thickness_px)
    if joint_radius_px >= 0:
        draw_points(image, uv, color, joint_radius_px)
    return image


def draw_hands(
    image: np.ndarray,
    instances: Sequence[tuple[int, np.ndarray]],
    edges: Sequence[Sequence[int]],
    line_thickness_px: int = 1,
    joint_radius_px: int = 1,
    scale: float = 1.0,
) -> np.ndarray:
    """Draw several instances (id, (K, 2) uv) with their palette colours, in place."""
    for instance, uv in instances:
        draw_skeleton(
            image,
            uv,
            edges,
            instance_color(instance),
            line_thickness_px=line_thickness_px,
            joint_radius_px=joint_radius_px,
            scale=scale,
        )
    return image
