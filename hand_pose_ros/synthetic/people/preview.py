"""Write synthetic people frames as PNG picture sheets so a person can check them.

    python -m hand_pose_ros.synthetic.people.preview --out DIR [--count 6] [--seed 0]
        [--width 640 --height 480] [--sequence --stride 5]

Each frame_NNN.png shows the colour image with every person's skeleton and box (filled dots =
visible keypoints, hollow = occluded; left side drawn in the person's colour, right side in
white), and the depth image (colour mapped, missing returns black) with the instance masks
tinted. mosaic.png holds all frames. Pillow is needed here only.
"""

from __future__ import annotations

import numpy as np

from hand_pose_ros.core.skeletons import COCO_KEYPOINT_NAMES, COCO_SKELETON_EDGES
from hand_pose_ros.synthetic.people.frames import PeopleFrame, render_people_frame
from hand_pose_ros.synthetic.preview import colourise_depth
from hand_pose_ros.synthetic.preview_sheets import preview_parser, write_sheets

_PALETTE = np.array(
    [
        (230, 25, 75), (60, 180, 75), (255, 225, 25), (0, 130, 200), (245, 130, 48),
        (145, 30, 180), (70, 240, 240), (240, 50, 230), (210, 245, 60), (250, 190, 190),
    ],
    np.uint8,
)  # fmt: skip
_RIGHT_SIDE = {i for i, name in enumerate(COCO_KEYPOINT_NAMES) if name.startswith("right_")}


def person_colour(track_id: int) -> tuple[int, int, int]:
    return tuple(int(c) for c in _PALETTE[int(track_id) % len(_PALETTE)])


def frame_panels(frame: PeopleFrame):
    """PIL image: colour with labels | depth with instance tint."""
    from PIL import Image, ImageDraw

    h, w = frame.depth_mm.shape
    depth_m = np.where(frame.depth_mm > 0, frame.depth_mm / 1000.0, np.nan)
    right = colourise_depth(depth_m, near_m=0.5, far_m=8.0).astype(np.float32)
    for p, track in enumerate(frame.track_ids):
        mask = frame.instance_map == p
        right[mask] = 0.45 * right[mask] + 0.55 * np.asarray(person_colour(track), np.float32)
    canvas = Image.new("RGB", (2 * w, h))
    canvas.paste(Image.fromarray(frame.color), (0, 0))
    canvas.paste(Image.fromarray(right.astype(np.uint8)), (w, 0))
    draw = ImageDraw.Draw(canvas)
    radius = max(1.5, w / 250)
    for p, track in enumerate(frame.track_ids):
        colour = person_colour(track)
        uv, vis = frame.keypoints_uv[p], frame.visibility[p]
        x, y, bw, bh = frame.boxes_xywh[p]
        draw.rectangle([x, y, x + bw, y + bh], outline=colour)
        draw.text((x + 2, y + 1), str(int(track)), fill=colour)
        for i, j in COCO_SKELETON_EDGES:
            if vis[i] and vis[j]:
                side = (255, 255, 255) if i in _RIGHT_SIDE and j in _RIGHT_SIDE else colour
                draw.line([tuple(uv[i]), tuple(uv[j])], fill=side, width=1)
        for k, (u, v) in enumerate(uv):
            box = [u - radius, v - radius, u + radius, v + radius]
            fill = (255, 255, 255) if k in _RIGHT_SIDE else colour
            if vis[k] == 2:
                draw.ellipse(box, fill=fill, outline=(0, 0, 0))
            elif vis[k] == 1:
                draw.ellipse(box, outline=fill)
    draw.text((3, 3), f"{len(frame.track_ids)} people", fill=(255, 255, 255))
    return canvas


def main(argv: list[str] | None = None) -> int:
    parser = preview_parser(
        __doc__.split("\n\n")[0],
        count=6,
        width=640,
        height=480,
        sequence_help="frames of one PeopleSequence instead",
        stride=5,
    )
    args = parser.parse_args(argv)
    if args.sequence:
        from hand_pose_ros.synthetic.people.sequences import PeopleSequence

        sequence = PeopleSequence(args.seed, args.count * args.stride, args.width, args.height)
        frames = [sequence.frame(i * args.stride) for i in range(args.count)]
    else:
        frames = [
            render_people_frame(args.seed + i, args.width, args.height) for i in range(args.count)
        ]
    return write_sheets(frames, frame_panels, args.out)


if __name__ == "__main__":
    raise SystemExit(main())
