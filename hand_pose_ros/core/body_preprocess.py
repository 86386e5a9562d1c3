"""RGB image -> body network input, exactly as the body model file contract says.

Letterbox (bilinear, aspect kept, pad right/bottom with the raw pixel value ``pad_value``), then
``(pixel * scale - mean[c]) / std[c]`` into an (1, 3, H, W) float32 tensor. Normalisation is one
multiply-add per channel written straight into the NCHW buffer.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hand_pose_ros.core.letterbox import Letterbox


def normalisation(input_spec: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel gain and offset: normalised = pixel * gain + offset."""
    std = np.asarray(input_spec["std"], np.float64)
    gain = float(input_spec["scale"]) / std
    offset = -np.asarray(input_spec["mean"], np.float64) / std
    return gain.astype(np.float32), offset.astype(np.float32)


def make_body_input(
    rgb: np.ndarray,
    input_spec: dict[str, Any],
    letterbox: Letterbox | None = None,
    out: np.ndarray | None = None,
) -> tuple[np.ndarray, Letterbox]:
    """(H, W, 3) uint8 RGB -> ((1, 3, h, w) float32 network input, its Letterbox).

    ``letterbox`` may be passed to reuse one fitted for this image size; ``out`` (float32,
    (1, 3, h, w)) to reuse a buffer frame after frame.
    """
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"expected an (H, W, 3) RGB image, got shape {rgb.shape}")
    height, width = int(input_spec["height"]), int(input_spec["width"])
    if letterbox is None:
        letterbox = Letterbox.fit(rgb.shape[0], rgb.shape[1], height, width)
    if out is None:
        out = np.empty((1, 3, height, width), np.float32)
    elif out.shape != (1, 3, height, width) or out.dtype != np.float32:
        raise ValueError(
            f"out must be float32 (1, 3, {height}, {width}), got {out.dtype} {out.shape}"
        )
    gain, offset = normalisation(input_spec)
    resized = letterbox.resize(rgb)  # (h', w', 3) float32
    h, w = letterbox.resized_height, letterbox.resized_width
    content = out[0, :, :h, :w]
    np.multiply(resized.transpose(2, 0, 1), gain[:, None, None], out=content)
    content += offset[:, None, None]
    pad = float(input_spec.get("pad_value", 0)) * gain + offset  # (3,)
    if letterbox.pad_bottom:
        out[0, :, h:, :] = pad[:, None, None]
    if letterbox.pad_right:
        out[0, :, :h, w:] = pad[:, None, None]
    return out, letterbox
