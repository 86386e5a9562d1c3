"""LitePose losses: masked heatmap MSE and associative-embedding pull/push behaviour."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from training.body.losses import (  # noqa: E402
    associative_embedding_loss,
    masked_heatmap_mse,
)

H, W, J = 8, 8, 3


def _joints(people: list[list[int]]) -> torch.Tensor:
    """(1, P, J, 2) index/valid table from per-person flat indices (-1 = not labelled)."""
    table = torch.zeros(1, 4, J, 2, dtype=torch.int64)
    for p, indices in enumerate(people):
        for j, index in enumerate(indices):
            if index >= 0:
                table[0, p, j] = torch.tensor([index, 1])
    return table


def _tags(values: dict[tuple[int, int], float]) -> torch.Tensor:
    """(1, J, H, W) tag maps with given values at (joint, flat index)."""
    tags = torch.zeros(1, J, H * W)
    for (joint, index), value in values.items():
        tags[0, joint, index] = value
    return tags.reshape(1, J, H, W)


def test_heatmap_mse_is_zero_for_perfect_predictions_and_ignores_masked_pixels() -> None:
    target = torch.rand(2, J, H, W)
    mask = torch.ones(2, H, W)
    assert masked_heatmap_mse(target, target, mask).item() == 0.0
    wrong = target.clone()
    wrong[:, :, :4] += 1.0  # errors only in the top half
    mask[:, :4] = 0.0
    assert masked_heatmap_mse(wrong, target, mask).item() == 0.0
    assert masked_heatmap_mse(wrong, target, torch.ones(2, H, W)).item() == pytest.approx(0.5)


def test_perfect_embeddings_give_zero_pull_and_near_zero_push() -> None:
    people = [[1, 2, 3], [10, 11, -1]]
    tags = _tags({(0, 1): 0.0, (1, 2): 0.0, (2, 3): 0.0, (0, 10): 5.0, (1, 11): 5.0})
    pull, push = associative_embedding_loss(tags, _joints(people))
    assert pull.item() == pytest.approx(0.0, abs=1e-7)
    assert push.item() == pytest.approx(float(torch.exp(torch.tensor(-25.0))), rel=1e-4)


def test_pull_grows_with_spread_within_a_person() -> None:
    people = [[1, 2, 3]]
    tight = _tags({(0, 1): 0.0, (1, 2): 0.1, (2, 3): -0.1})
    loose = _tags({(0, 1): 0.0, (1, 2): 1.0, (2, 3): -1.0})
    pull_tight, push = associative_embedding_loss(tight, _joints(people))
    pull_loose, _ = associative_embedding_loss(loose, _joints(people))
    assert pull_loose > pull_tight > 0
    assert pull_loose.item() == pytest.approx(2.0 / 3.0, rel=1e-5)
    assert push.item() == 0.0  # one person: nothing to push apart


def test_push_falls_as_people_separate_and_its_gradient_separates_them() -> None:
    people = [[1, 2, -1], [10, 11, 12]]
    pushes = []
    for gap in (0.0, 0.5, 2.0):
        tags = _tags({(0, 1): 0.0, (1, 2): 0.0, (0, 10): gap, (1, 11): gap, (2, 12): gap})
        pushes.append(associative_embedding_loss(tags, _joints(people))[1].item())
    assert pushes[0] == pytest.approx(1.0)
    assert pushes[0] > pushes[1] > pushes[2]

    tags = _tags({(0, 1): 0.0, (1, 2): 0.0, (0, 10): 0.3, (1, 11): 0.3, (2, 12): 0.3})
    tags.requires_grad_(True)
    associative_embedding_loss(tags, _joints(people))[1].backward()
    grad = tags.grad.reshape(J, H * W)
    # Descent moves person 0's tags down and person 1's up: apart.
    assert grad[0, 1] > 0 and grad[0, 10] < 0


def test_images_without_people_contribute_nothing() -> None:
    tags = torch.randn(2, J, H, W)
    joints = torch.zeros(2, 4, J, 2, dtype=torch.int64)
    joints[1] = _joints([[1, 2, 3]])[0]
    pull, push = associative_embedding_loss(tags, joints)
    pull_one, push_one = associative_embedding_loss(tags[1:], joints[1:])
    assert pull.item() == pytest.approx(pull_one.item())
    assert push.item() == push_one.item() == 0.0
