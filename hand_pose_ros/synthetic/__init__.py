"""Synthetic egocentric depth frames of articulated hands with exact labels (numpy only).

Used by training (pre-rendered data sets) and by the runner (demo input without a camera).
"""

from __future__ import annotations

from hand_pose_ros.synthetic.frames import HandFrame, default_intrinsics, render_frame

__all__ = ["HandFrame", "HandSequence", "default_intrinsics", "render_frame"]


def __getattr__(name: str):
    # Sequences are imported lazily so render_frame users do not pay for them.
    if name == "HandSequence":
        from hand_pose_ros.synthetic.sequences import HandSequence

        return HandSequence
    raise AttributeError(name)
