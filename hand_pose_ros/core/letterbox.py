"""Letterbox resizing: fit an image into the network input keeping its aspect, pad right/bottom.

The padding goes right and bottom only, so network pixel (0, 0) is source pixel (0, 0) and the
mapping between the two is a per-axis scale (pixel-centre aware, via ``rescale_px``). Each axis
uses its own exact scale ``resized / source`` (the resized size is rounded to whole pixels), so
coordinates round-trip exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from hand_pose_ros.core.heatmaps import rescale_px


@dataclass(frozen=True)
class Letterbox:
    """How a ``source_height`` x ``source_width`` image sits in a network input.

    The image is resized to ``resized_height`` x ``resized_width`` (aspect kept, as large as
    fits) at the top-left; ``pad_bottom`` / ``pad_right`` rows / columns of padding follow.
    """

    source_height: int
    source_width: int
    network_height: int
    network_width: int
    resized_height: int
    resized_width: int
    _scratch: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    @classmethod
    def fit(cls, src_h: int, src_w: int, dst_h: int, dst_w: int) -> Letterbox:
        """The largest aspect-keeping fit of src into dst."""
        if min(src_h, src_w, dst_h, dst_w) <= 0:
            raise ValueError(f"sizes must be positive, got {src_w}x{src_h} -> {dst_w}x{dst_h}")
        scale = min(dst_h / src_h, dst_w / src_w)
        resized_h = min(dst_h, max(1, round(src_h * scale)))
        resized_w = min(dst_w, max(1, round(src_w * scale)))
        return cls(src_h, src_w, dst_h, dst_w, resized_h, resized_w)

    @property
    def scale_xy(self) -> np.ndarray:
        """(sx, sy): network pixels per source pixel along each axis."""
        return np.array(
            [self.resized_width / self.source_width, self.resized_height / self.source_height]
        )

    @property
    def scale(self) -> float:
        """Nominal (mean) network pixels per source pixel."""
        return float(self.scale_xy.mean())

    @property
    def pad_bottom(self) -> int:
        return self.network_height - self.resized_height

    @property
    def pad_right(self) -> int:
        return self.network_width - self.resized_width

    def to_network(self, uv_src_px: np.ndarray) -> np.ndarray:
        """Source-image pixel coordinates (..., 2) -> network-input pixel coordinates."""
        return rescale_px(uv_src_px, self.scale_xy)

    def to_source(self, uv_net_px: np.ndarray) -> np.ndarray:
        """Network-input pixel coordinates (..., 2) -> source-image pixel coordinates."""
        return rescale_px(uv_net_px, 1.0 / self.scale_xy)

    def apply(self, image: np.ndarray, pad_value: float = 0) -> np.ndarray:
        """(H, W) or (H, W, C) image -> the letterboxed network-size image, same dtype.

        Bilinear (pixel-centre aware); integer images are rounded back to their dtype.
        """
        if image.shape[:2] != (self.source_height, self.source_width):
            raise ValueError(
                f"image is {image.shape[1]}x{image.shape[0]}, this letterbox is for "
                f"{self.source_width}x{self.source_height}"
            )
        out = np.full(
            (self.network_height, self.network_width, *image.shape[2:]), pad_value, image.dtype
        )
        resized = self.resize(image)
        if image.dtype.kind in "iu":
            info = np.iinfo(image.dtype)
            resized = np.clip(np.rint(resized), info.min, info.max)
        elif image.dtype.kind == "b":
            resized = resized >= 0.5
        out[: self.resized_height, : self.resized_width] = resized
        return out

    def resize(self, image: np.ndarray) -> np.ndarray:
        """Bilinear resize of the source image to (resized_height, resized_width), float32.

        The result is a scratch array the next call overwrites: copy it to keep it. One call
        at a time per Letterbox. Separable on an (H, W*C) view: rows first (the big reduction
        for a downscale), then columns, each a gather of two taps and one multiply-add. An
        image that already has the resized size is only converted.
        """
        if image.shape[:2] == (self.resized_height, self.resized_width):
            return image.astype(np.float32, copy=False)
        channels = int(np.prod(image.shape[2:], dtype=np.intp))
        rows = np.ascontiguousarray(image).reshape(self.source_height, -1)  # (H, W*C)
        r0, r1, wy = bilinear_taps(self.source_height, self.resized_height)
        c0, c1, wx = _channel_taps(self.source_width, self.resized_width, channels)
        gathered, top, bottom, left, right = self._buffers(rows.dtype, channels)
        np.take(rows, r0, axis=0, out=gathered)
        np.copyto(top, gathered)
        np.take(rows, r1, axis=0, out=gathered)
        np.copyto(bottom, gathered)
        bottom -= top
        bottom *= wy[:, None]
        top += bottom
        np.take(top, c0, axis=1, out=left)
        np.take(top, c1, axis=1, out=right)
        right -= left
        right *= wx
        left += right
        return left.reshape(self.resized_height, self.resized_width, *image.shape[2:])

    def _buffers(self, dtype: np.dtype, channels: int) -> tuple[np.ndarray, ...]:
        """Scratch arrays kept between calls: fresh multi-100-kB arrays every frame cost more
        in page faults (the allocator hands them back to the OS) than the arithmetic."""
        key = (np.dtype(dtype), channels)
        buffers = self._scratch.get(key)
        if buffers is None:
            row_shape = (self.resized_height, self.source_width * channels)
            out_shape = (self.resized_height, self.resized_width * channels)
            buffers = (
                np.empty(row_shape, dtype),
                np.empty(row_shape, np.float32),
                np.empty(row_shape, np.float32),
                np.empty(out_shape, np.float32),
                np.empty(out_shape, np.float32),
            )
            self._scratch[key] = buffers
        return buffers


@lru_cache(maxsize=32)
def _channel_taps(
    source_width: int, target_width: int, channels: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Column taps on an (H, W*C) view: each pixel's taps repeated for its C channels."""
    lower, upper, weight = bilinear_taps(source_width, target_width)
    channel = np.arange(channels)
    taps = (
        (lower[:, None] * channels + channel).ravel(),
        (upper[:, None] * channels + channel).ravel(),
        np.repeat(weight, channels),
    )
    for array in taps:
        array.flags.writeable = False
    return taps


@lru_cache(maxsize=32)
def bilinear_taps(source_size: int, target_size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lower/upper source index and upper weight for each target pixel (centres aligned)."""
    position = (np.arange(target_size) + 0.5) * (source_size / target_size) - 0.5
    position = np.clip(position, 0.0, source_size - 1)
    lower = np.floor(position).astype(np.intp)
    upper = np.minimum(lower + 1, source_size - 1)
    weight = (position - lower).astype(np.float32)
    for array in (lower, upper, weight):
        array.flags.writeable = False  # Shared through the cache.
    return lower, upper, weight
