"""Synthetic egocentric depth frames of articulated hands with exact labels (numpy only).

Used by training (pre-rendered data sets) and by the runner (demo input without a camera).

- ``render_frame(seed, width, height)``: an independent frame. The scene (hands, poses, room)
  depends on the seed only, so any resolution shows the same hands; the ToF artefacts are drawn
  per pixel and therefore differ between resolutions.
- ``HandSequence(seed, width, height, fps).frame(i)``: smooth motion, random access.
- Labels (see HandFrame): keypoints are joint centres inside the hand (fingertips one tip radius
  inside the skin); ``keypoint_depth_m`` is the clean surface depth at the keypoint's nearest
  pixel (half-up rounding) for visible keypoints, which is nearer than the joint centre by
  roughly the finger / palm half-thickness.
"""

from __future__ import annotations

from hand_pose_ros.synthetic.frames import HandFrame, default_intrinsics, render_frame
from hand_pose_ros.synthetic.sequences import HandSequence

__all__ = ["HandFrame", "HandSequence", "default_intrinsics", "render_frame"]
