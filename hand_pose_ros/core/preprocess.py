"""Depth image -> network input, exactly as the model file contract says.

Nearest-neighbour resizing on purpose: interpolating depth averages a hand with the wall behind
it (flying pixels the network never saw) and would mix NaN holes into valid neighbours.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np


@lru_cache(maxsize=32)
def _nearest_indices(source_size: int, target_size: int) -> np.ndarray:
    """Source index whose pixel contains each target pixel centre (centres at i + 0.5 / size)."""
    scale = source_size / target_size
    index = np.floor((np.arange(target_size) + 0.5) * scale).astype(np.intp)
    np.clip(index, 0, source_size - 1, out=index)
    index.flags.writeable = False  # Shared through the cache.
    return index


def resize_nearest(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Nearest-neighbour resize of the first two axes, pixel-centre aware, per-axis scale.

    Each output pixel copies the input pixel under its centre, so NaN (invalid) stays NaN and
    no new depth values are invented. Returns ``image`` itself when the size already matches.
    """
    if image.ndim < 2:
        raise ValueError(f"expected an image with at least 2 dimensions, got shape {image.shape}")
    if height <= 0 or width <= 0:
        raise ValueError(f"target size must be positive, got {height}x{width}")
    source_height, source_width = image.shape[:2]
    if (source_height, source_width) == (height, width):
        return image
    rows = _nearest_indices(source_height, height)
    cols = _nearest_indices(source_width, width)
    # Two 1-D takes beat one 2-D fancy index (no (h, w) index grid to build).
    return image.take(rows, axis=0).take(cols, axis=1)


def make_network_input(
    depth_m: np.ndarray, input_spec: dict[str, Any], out: np.ndarray | None = None
) -> np.ndarray:
    """(H, W) depth in metres (NaN/<=0/inf invalid) -> (1, 1, h, w) float32 network input.

    Per the contract: resize to (input.height, input.width) by nearest neighbour, then
    ``min(depth, clip_max_m) * scale`` for valid pixels and ``invalid_value`` elsewhere.
    ``out`` (shape (1, 1, h, w), float32) may be passed to reuse a buffer frame after frame.
    """
    if depth_m.ndim != 2:
        raise ValueError(f"depth image must be 2-D (H, W), got shape {depth_m.shape}")
    height, width = int(input_spec["height"]), int(input_spec["width"])
    if out is None:
        out = np.empty((1, 1, height, width), dtype=np.float32)
    elif out.shape != (1, 1, height, width) or out.dtype != np.float32:
        raise ValueError(
            f"out must be float32 (1, 1, {height}, {width}), got {out.dtype} {out.shape}"
        )
    resized = resize_nearest(depth_m, height, width)
    plane = out[0, 0]
    # NaN compares False, so `valid` excludes NaN, <= 0 and +inf in one pass.
    with np.errstate(invalid="ignore"):
        valid = (resized > 0.0) & (resized < np.inf)
    np.minimum(resized, float(input_spec["clip_max_m"]), out=plane, casting="unsafe")
    plane *= np.float32(input_spec["scale"])
    plane[~valid] = np.float32(input_spec["invalid_value"])
    return out
