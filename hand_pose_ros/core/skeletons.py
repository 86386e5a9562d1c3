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

COCO_KEYPOINT_NAMES: tuple[str, ...] = (
    "nose",
    "left_eye",
    "right_eye",
    "left_ear",
    "right_ear",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
)
"""The 17 body keypoints of the COCO keypoint task, in its order."""

COCO_SKELETON_EDGES: tuple[tuple[int, int], ...] = (
    (15, 13), (13, 11), (16, 14), (14, 12), (11, 12), (5, 11), (6, 12), (5, 6), (5, 7),
    (6, 8), (7, 9), (8, 10), (1, 2), (0, 1), (0, 2), (1, 3), (2, 4), (3, 5), (4, 6),
)  # fmt: skip
"""COCO's 19 limbs, 0-based (the annotation files store them 1-based)."""

COCO_OKS_SIGMAS: tuple[float, ...] = (
    0.026, 0.025, 0.025, 0.035, 0.035, 0.079, 0.079, 0.072, 0.072, 0.062, 0.062,
    0.107, 0.107, 0.087, 0.087, 0.089, 0.089,
)  # fmt: skip
"""Per-keypoint OKS falloff of the COCO evaluation (annotator spread relative to object scale)."""

CROWDPOSE_KEYPOINT_NAMES: tuple[str, ...] = (
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
    "head",
    "neck",
)
"""The 14 keypoints of CrowdPose, in its order (head is the top of the head)."""

CROWDPOSE_SKELETON_EDGES: tuple[tuple[int, int], ...] = (
    (12, 13), (13, 0), (13, 1), (0, 2), (2, 4), (1, 3), (3, 5), (0, 6), (1, 7), (6, 7),
    (6, 8), (8, 10), (7, 9), (9, 11),
)  # fmt: skip

CROWDPOSE_OKS_SIGMAS: tuple[float, ...] = (
    0.079, 0.079, 0.072, 0.072, 0.062, 0.062, 0.107, 0.107, 0.087, 0.087, 0.089, 0.089,
    0.079, 0.079,
)  # fmt: skip


def flip_permutation(names: tuple[str, ...] | list[str]) -> tuple[int, ...]:
    """Index of each keypoint's mirror image: what a horizontal flip swaps (left_* <-> right_*).

    Derived from the names so that any layout whose sides are spelt ``left_``/``right_`` gets a
    correct flip test and flip augmentation without a second table.
    """
    index = {name: i for i, name in enumerate(names)}
    mirrored = []
    for name in names:
        if name.startswith("left_"):
            twin = "right_" + name.removeprefix("left_")
        elif name.startswith("right_"):
            twin = "left_" + name.removeprefix("right_")
        else:
            twin = name
        if twin not in index:
            raise ValueError(f"keypoint '{name}' has no mirror '{twin}' in the layout")
        mirrored.append(index[twin])
    return tuple(mirrored)
