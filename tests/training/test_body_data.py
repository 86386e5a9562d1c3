"""Body training data: warps, augmentation vs the renderer's person masks, targets, cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from hand_pose_ros.core.skeletons import COCO_KEYPOINT_NAMES  # noqa: E402
from hand_pose_ros.synthetic.people import render_people_frame  # noqa: E402
from training.body.data import (  # noqa: E402
    MAX_PEOPLE,
    Augmentation,
    BodySamples,
    Warp,
    load_or_render,
    make_targets,
    random_warp,
    stand_in_sample,
    warp_image,
    warp_keypoints,
)

WIDTH, HEIGHT = 128, 96


def test_warp_inverse_undoes_forward() -> None:
    rng = np.random.default_rng(0)
    for _ in range(10):
        warp = random_warp(rng, (WIDTH, HEIGHT), (64, 64), Augmentation(flip_probability=0.5))
        uv = rng.uniform(0, 100, (5, 2))
        np.testing.assert_allclose(warp.inverse(warp.forward(uv)), uv, atol=1e-9)


def test_identity_warp_keeps_image_and_keypoints() -> None:
    image = np.random.default_rng(1).integers(0, 255, (HEIGHT, WIDTH, 3)).astype(np.float32)
    warp = Warp(
        1.0,
        0.0,
        ((WIDTH - 1) / 2, (HEIGHT - 1) / 2),
        ((WIDTH - 1) / 2, (HEIGHT - 1) / 2),
        WIDTH,
        False,
    )
    np.testing.assert_allclose(warp_image(image, warp, (WIDTH, HEIGHT)), image, atol=1e-3)


def test_augmented_keypoints_land_on_their_warped_person() -> None:
    """Warp a rendered frame and its instance map: visible keypoints stay on their person,
    and a flip relabels left/right (the person's left stays the person's left)."""
    rng = np.random.default_rng(7)
    hits = total = 0
    same_side = opposite_side = flips = 0
    for seed in range(6):
        frame = render_people_frame(seed, WIDTH, HEIGHT)
        for _ in range(3):
            warp = random_warp(rng, (WIDTH, HEIGHT), (96, 80), Augmentation())
            # +1 so that background (-1) becomes 0 = the padding value.
            instance = (
                warp_image(
                    frame.instance_map.astype(np.float32) + 1.0, warp, (96, 80), mode="nearest"
                ).astype(int)
                - 1
            )
            uv, vis = warp_keypoints(frame.keypoints_uv, frame.visibility, warp, 80, 96)
            original_visible = frame.visibility == 2
            if warp.flip:
                flips += 1
                original_visible = original_visible[:, list(_flip())]
            for p in range(len(uv)):
                for j in np.flatnonzero((vis[p] == 2) & original_visible[p]):
                    x, y = np.rint(uv[p, j]).astype(int)
                    window = instance[max(0, y - 1) : y + 2, max(0, x - 1) : x + 2]
                    hits += bool((window == p).any())
                    total += 1
            # A flip mirrors x and swaps the labels, so the x-order of the left and right
            # shoulders is the same after any (near-upright) warp; mirroring without the
            # swap would reverse it.
            ls, rs = (
                COCO_KEYPOINT_NAMES.index("left_shoulder"),
                COCO_KEYPOINT_NAMES.index("right_shoulder"),
            )
            for p in range(len(uv)):
                if (frame.visibility[p, [ls, rs]] > 0).all() and (vis[p, [ls, rs]] > 0).all():
                    before = frame.keypoints_uv[p, ls, 0] - frame.keypoints_uv[p, rs, 0]
                    after = uv[p, ls, 0] - uv[p, rs, 0]
                    if abs(np.rad2deg(warp.angle_rad)) < 10 and abs(before) > 3:
                        same = np.sign(before) == np.sign(after)
                        same_side += int(same)
                        opposite_side += int(not same)
    assert total > 50
    assert hits / total > 0.95
    assert flips > 0 and same_side > 5 and opposite_side == 0


def _flip() -> tuple[int, ...]:
    from hand_pose_ros.core.skeletons import flip_permutation

    return flip_permutation(COCO_KEYPOINT_NAMES)


def test_targets_put_unit_peaks_at_labelled_joints_only() -> None:
    uv = np.full((2, 17, 2), np.nan)
    vis = np.zeros((2, 17), np.uint8)
    uv[0, 0], vis[0, 0] = (33.5, 17.5), 2  # the centre of 1/4 cell (8, 4), 1/2 cell (16.75, 8.75)
    uv[1, 5], vis[1, 5] = (60.0, 40.0), 1  # occluded but labelled: still a target
    uv[1, 6], vis[1, 6] = (10.0, 10.0), 0  # not labelled
    heat4, heat2, joints = make_targets(uv, vis, 64, 96)
    assert heat4.shape == (17, 16, 24) and heat2.shape == (17, 32, 48)
    assert heat4[0, 4, 8] == pytest.approx(1.0)
    assert heat4[5].max() > 0.5 and heat4[6].max() == 0.0
    assert joints.shape == (MAX_PEOPLE, 17, 2)
    assert tuple(joints[0, 0]) == (4 * 24 + 8, 1)
    assert joints[1, 6, 1] == 0 and joints[2:, :, 1].sum() == 0


def test_batches_have_masks_targets_and_people(tmp_path: Path) -> None:
    arrays = load_or_render(
        range(0, 6),
        tmp_path,
        WIDTH,
        HEIGHT,
        workers=1,
        render_fn=stand_in_sample,
        version="stand_in",
    )
    samples = BodySamples(arrays, (64, 64), Augmentation(scale_range=(0.75, 0.75)))
    batch = samples.batch(np.arange(6), np.random.default_rng(0))
    assert batch.inputs.shape == (6, 3, 64, 64)
    assert batch.heatmaps_s4.shape == (6, 17, 16, 16)
    assert batch.heatmaps_s2.shape == (6, 17, 32, 32)
    assert batch.mask_s4.shape == (6, 16, 16) and batch.mask_s2.shape == (6, 32, 32)
    assert batch.joints[..., 1].sum() > 0
    # Scale 0.75 of a 128x96 frame into 64x64 never needs padding horizontally, but the random
    # centre shift (translate_frac) can expose the border: masks are 0 exactly where pixels are.
    assert set(np.unique(batch.mask_s2.numpy())) <= {0.0, 1.0}
    with pytest.raises(ValueError, match="multiple"):
        BodySamples(arrays, (62, 64))


def test_cache_is_reused_and_split_at_chunk_boundaries(tmp_path: Path) -> None:
    first = load_or_render(
        range(498, 503), tmp_path, 32, 24, workers=1, render_fn=stand_in_sample, version="stand_in"
    )
    folder = tmp_path / "body_stand_in" / "32x24"
    assert sorted(p.name for p in folder.iterdir()) == ["seeds_498_500", "seeds_500_503"]
    again = load_or_render(
        range(498, 503), tmp_path, 32, 24, workers=1, render_fn=stand_in_sample, version="stand_in"
    )
    np.testing.assert_array_equal(first["color"], again["color"])
    assert first["color"].shape == (5, 24, 32, 3)
    # Rows are read across chunk files without concatenating them.
    np.testing.assert_array_equal(first["color"][3], stand_in_sample(501, 32, 24)["color"])
