"""The command line every exporter shares: which run, which file, which model name."""

from __future__ import annotations

import argparse
from pathlib import Path


def export_parser(description: str, default_name: str) -> argparse.ArgumentParser:
    """A parser with ``--run``, ``--out`` and ``--name``; exporters add their own options."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--run", type=Path, required=True, help="training run folder")
    parser.add_argument("--out", type=Path, required=True, help="ONNX file to write")
    parser.add_argument("--name", default=default_name, help="model_name in metadata")
    return parser
