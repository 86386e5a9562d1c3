"""LitePose architecture: output layout, and MACs of exported graphs at the published sizes."""

from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from training.body.networks import (  # noqa: E402
    LITEPOSE_CONFIGS,
    build_litepose,
    export_onnx,
    published_convention_macs,
)
from training.common.onnx_complexity import count_complexity  # noqa: E402

MACS_TOLERANCE = 0.10


def test_outputs_follow_the_model_contract() -> None:
    torch.set_num_threads(1)
    for head in ("fusion", "plain"):
        model = build_litepose("XS", head=head, tag_dim=2).eval()
        with torch.no_grad():
            heatmaps, tags, fine = model(torch.zeros(2, 3, 64, 96))
        assert heatmaps.shape == (2, 17, 16, 24)
        assert tags.shape == (2, 34, 16, 24)
        assert fine.shape == (2, 17, 32, 48)


def test_bad_configuration_is_rejected() -> None:
    with pytest.raises(ValueError, match="size"):
        build_litepose("XXL")
    with pytest.raises(ValueError, match="head"):
        build_litepose("XS", head="hourglass")
    with pytest.raises(ValueError, match="odd"):
        build_litepose("XS", kernel_size=4)


@pytest.mark.parametrize("size", sorted(LITEPOSE_CONFIGS))
def test_exported_macs_match_the_published_figures(size: str, tmp_path: Path) -> None:
    """Published GMACs count 4x4 s2 transposed convs dense over their output (see networks)."""
    torch.set_num_threads(1)
    config = LITEPOSE_CONFIGS[size]
    path = tmp_path / f"{size}.onnx"
    export_onnx(build_litepose(size), path, config.input_px, config.input_px)
    published = published_convention_macs(path) / 1e9
    assert abs(published - config.published_gmacs) <= MACS_TOLERANCE * config.published_gmacs
    # The exact count is what the node runs: the transposed convs' true cost is 1/4 of that.
    exact = count_complexity(path).macs / 1e9
    assert 0.6 * config.published_gmacs < exact < published


def test_ablation_variants_cost_what_the_paper_says(tmp_path: Path) -> None:
    """7x7 costs ~25% more than 3x3; fusion ~15% more than plain (published convention)."""
    torch.set_num_threads(1)
    costs = {}
    for name, kwargs in {"base": {}, "k3": {"kernel_size": 3}, "plain": {"head": "plain"}}.items():
        path = tmp_path / f"{name}.onnx"
        export_onnx(build_litepose("XS", **kwargs), path, 256, 256)
        costs[name] = published_convention_macs(path)
    assert 1.15 < costs["base"] / costs["k3"] < 1.35
    assert 1.08 < costs["base"] / costs["plain"] < 1.25
