"""Synthetic multi-person RGB-D frames with exact COCO-17 labels (numpy only).

- ``render_people_frame(seed, width, height, **options)``: an independent frame; the scene
  (room, people, poses, clothing, lighting) depends on the seed only, so any resolution shows
  the same people (intrinsics scale with the resolution, 69 degree horizontal field of view).
- ``PeopleSequence(seed, n_frames, width, height, fps)``: smooth walking motion with stable
  track ids, people entering and leaving; random access by frame index.
- ``coco_export``: COCO keypoint annotation export and a CLI writing colour/depth PNGs.
- ``preview``: picture sheets a person can look at.
"""

from __future__ import annotations

from hand_pose_ros.synthetic.people.frames import (
    HORIZONTAL_FOV_DEG,
    PeopleFrame,
    default_intrinsics,
    render_people_frame,
)
from hand_pose_ros.synthetic.people.sequences import PeopleSequence

__all__ = [
    "HORIZONTAL_FOV_DEG",
    "PeopleFrame",
    "PeopleSequence",
    "default_intrinsics",
    "render_people_frame",
]
