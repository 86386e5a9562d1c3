"""Command line and output shared by the synthetic preview tools (hands and people): the same
options, one PNG per frame plus a two-column mosaic. Pillow is needed here only."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any


def preview_parser(
    description: str, count: int, width: int, height: int, sequence_help: str, stride: int
) -> argparse.ArgumentParser:
    """The options every preview takes; defaults are the generator's own."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--out", type=Path, required=True, help="output directory")
    parser.add_argument("--count", type=int, default=count, help="number of frames")
    parser.add_argument("--seed", type=int, default=0, help="first seed (or sequence seed)")
    parser.add_argument("--width", type=int, default=width)
    parser.add_argument("--height", type=int, default=height)
    parser.add_argument("--sequence", action="store_true", help=sequence_help)
    parser.add_argument("--stride", type=int, default=stride, help="frame step for --sequence")
    return parser


def write_sheets(frames: Iterable[Any], frame_panels: Callable[[Any], Any], out: Path) -> int:
    """Save frame_NNN.png per frame and mosaic.png of all of them (two columns)."""
    from PIL import Image

    out.mkdir(parents=True, exist_ok=True)
    panels = []
    for i, frame in enumerate(frames):
        panel = frame_panels(frame)
        panel.save(out / f"frame_{i:03d}.png")
        panels.append(panel)
    columns = 2
    rows = (len(panels) + columns - 1) // columns
    pw, ph = panels[0].size
    mosaic = Image.new("RGB", (columns * pw, rows * ph))
    for i, panel in enumerate(panels):
        mosaic.paste(panel, ((i % columns) * pw, (i // columns) * ph))
    mosaic.save(out / "mosaic.png")
    print(f"wrote {len(panels)} frames and mosaic.png to {out}")
    return 0
