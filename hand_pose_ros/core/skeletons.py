"""Keypoint layouts the package trains and exports.

These tables are read by the synthetic data generators and by export, which copies them into
each model's metadata. Runtime code never imports them: a deployed model describes itself.
"""

from __future__ import annotations

from itertools import pairwise

FINGERS: tuple[str, ...] = ("thumb", "index", "middle", "ring", "little")
THUMB_JOINTS: tuple[str, ...] = ("cmc", "mcp", "ip", "tip")
FINGER_JOINTS: tuple[str, ...] = ("mcp", "pip", "dip", "tip")

HAND_KEYPOINT_NAMES: tuple[str, ...] = ("wrist",) + tuple(
    f"{finger}_{joint}"
    for finger in FINGERS
    for joint in (THUMB_JOINTS if finger == "thumb" else FINGER_JOINTS)
)
"""21 keypoints: the wrist, then four joints per finger from the palm outwards."""

JOINTS_PER_FINGER = 4


def _hand_edges() -> tuple[tuple[int, int], ...]:
    edges: list[tuple[int, int]] = []
    for finger_index in range(len(FINGERS)):
        base = 1 + finger_index * JOINTS_PER_FINGER
        edges.append((0, base))
        edges.extend((base + j, base + j + 1) for j in range(JOINTS_PER_FINGER - 1))
    # Knuckle line across the palm (index to little MCP) closes the palm outline.
    knuckles = [1 + f * JOINTS_PER_FINGER for f in range(1, len(FINGERS))]
    edges.extend(pairwise(knuckles))
    return tuple(edges)


HAND_SKELETON_EDGES: tuple[tuple[int, int], ...] = _hand_edges()

HAND_SIDES: tuple[str, ...] = ("left", "right")
"""Instance index in published clouds: 0 is the left hand, 1 the right hand."""

HAND_KEYPOSES: tuple[str, ...] = ("open_palm", "fist", "point", "pinch", "victory")
"""Discrete static hand poses: the auxiliary classification task of the hand network."""
