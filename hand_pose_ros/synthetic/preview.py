"""Write a few synthetic frames as PNGs so a person can check them.

    python -m hand_pose_ros.synthetic.preview --out DIR [--count 8] [--seed 0]
        [--width 320 --height 240] [--sequence]

Each PNG shows the ToF depth (colour mapped, missing returns black), the clean depth with the
segmentation tinted (left blue, right red), and the keypoints (filled = visible, hollow =
occluded) with the skeleton. A mosaic.png of all frames is written too. Pillow is needed here
only; the generator itself is numpy only.
"""

from __future__ import annotations

import numpy as np

from hand_pose_ros.core.skeletons import HAND_KEYPOSES, HAND_SIDES, HAND_SKELETON_EDGES
from hand_pose_ros.synthetic.frames import HandFrame, render_frame
from hand_pose_ros.synthetic.preview_sheets import preview_parser, write_sheets

_SIDE_COLOURS = ((60, 140, 255), (255, 70, 60))


def colourise_depth(depth_m: np.ndarray, near_m: float = 0.15, far_m: float = 2.0) -> np.ndarray:
    """(H, W) metres -> (H, W, 3) uint8; near = warm, far = cool, missing = black."""
    x = np.clip((np.nan_to_num(depth_m, nan=far_m) - near_m) / (far_m - near_m), 0.0, 1.0)
    r = np.clip(1.5 - np.abs(4.0 * x - 1.0), 0.0, 1.0)
    g = np.clip(1.5 - np.abs(4.0 * x - 2.0), 0.0, 1.0)
    b = np.clip(1.5 - np.abs(4.0 * x - 3.0), 0.0, 1.0)
    rgb = (np.stack([r, g, b], axis=-1) * 255).astype(np.uint8)
    rgb[~np.isfinite(depth_m)] = 0
    return rgb


def shade_depth(depth_m: np.ndarray, fx: float, fy: float) -> np.ndarray:
    """(H, W) float32 in [0, 1]: Lambert shading with a light at the camera (shows 3D shape)."""
    gv, gu = np.gradient(depth_m.astype(np.float64))
    # Normal of z(u, v) in metric units: (-dz/dx, -dz/dy, 1) with dx = z / fx per pixel.
    nx = -gu * fx / depth_m
    ny = -gv * fy / depth_m
    return (1.0 / np.sqrt(nx * nx + ny * ny + 1.0)).astype(np.float32)


def frame_panels(frame: HandFrame):
    """PIL image: ToF depth with labels | shaded clean depth with segmentation tint."""
    from PIL import Image, ImageDraw

    left = colourise_depth(frame.depth_m)
    k = frame.intrinsics
    shade = 40.0 + 200.0 * shade_depth(frame.clean_depth_m, k.fx, k.fy)
    right = np.repeat(shade[:, :, None], 3, axis=2)
    for side in range(2):
        mask = frame.segmentation == side + 1
        right[mask] = right[mask] * (0.35 + 0.65 * np.array(_SIDE_COLOURS[side]) / 255.0)
    h, w = frame.depth_m.shape
    canvas = Image.new("RGB", (2 * w, h))
    canvas.paste(Image.fromarray(left), (0, 0))
    canvas.paste(Image.fromarray(right.astype(np.uint8)), (w, 0))
    draw = ImageDraw.Draw(canvas)
    radius = max(1.5, w / 200)
    for side in range(2):
        if not frame.present[side]:
            continue
        uv = frame.keypoints_uv[side]
        colour = _SIDE_COLOURS[side]
        for i, j in HAND_SKELETON_EDGES:
            draw.line([tuple(uv[i]), tuple(uv[j])], fill=colour, width=1)
        for k, (u, v) in enumerate(uv):
            box = [u - radius, v - radius, u + radius, v + radius]
            if frame.visibility[side, k] == 2:
                draw.ellipse(box, fill=(255, 255, 255), outline=colour)
            elif frame.visibility[side, k] == 1:
                draw.ellipse(box, outline=(255, 255, 255))
        label = f"{HAND_SIDES[side]}:{HAND_KEYPOSES[frame.keypose[side]]}"
        draw.text((w + 3, 3 + 11 * side), label, fill=colour)
    return canvas


def main(argv: list[str] | None = None) -> int:
    parser = preview_parser(
        __doc__.split("\n\n")[0],
        count=8,
        width=320,
        height=240,
        sequence_help="consecutive frames of one HandSequence instead of independent ones",
        stride=3,
    )
    args = parser.parse_args(argv)
    if args.sequence:
        from hand_pose_ros.synthetic.sequences import HandSequence

        sequence = HandSequence(args.seed, args.width, args.height)
        frames = [sequence.frame(i * args.stride) for i in range(args.count)]
    else:
        frames = [render_frame(args.seed + i, args.width, args.height) for i in range(args.count)]
    return write_sheets(frames, frame_panels, args.out)


if __name__ == "__main__":
    raise SystemExit(main())
