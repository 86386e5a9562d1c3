"""Weight decay groups of the body training: norm scales and biases can be exempted."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from training.body.networks import build_litepose  # noqa: E402
from training.body.train import parameter_groups, parse_args  # noqa: E402


def _groups(*flags: str) -> list[dict]:
    args = parse_args(["--out", "unused", *flags])
    return parameter_groups(build_litepose("XS"), args)


def test_every_parameter_is_in_exactly_one_group() -> None:
    model = build_litepose("XS")
    groups = parameter_groups(model, parse_args(["--out", "unused"]))
    grouped = [id(p) for group in groups for p in group["params"]]
    assert sorted(grouped) == sorted(id(p) for p in model.parameters())


def test_norm_decay_defaults_to_the_weight_decay_and_can_be_switched_off() -> None:
    weights, vectors = _groups("--weight-decay", "1e-4")
    assert weights["weight_decay"] == vectors["weight_decay"] == 1e-4
    weights, vectors = _groups("--weight-decay", "1e-4", "--norm-weight-decay", "0")
    assert weights["weight_decay"] == 1e-4 and vectors["weight_decay"] == 0.0
    assert all(p.ndim == 1 for p in vectors["params"]) and vectors["params"]
    assert all(p.ndim > 1 for p in weights["params"])
