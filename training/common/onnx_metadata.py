"""Read and write the package's metadata entry of an exported ONNX file (any task)."""

from __future__ import annotations

import json
from pathlib import Path

import onnx

from hand_pose_ros.core.model_metadata import METADATA_KEY, validate_metadata


def write_metadata(path: Path, metadata: dict) -> None:
    """Replace the package's metadata entry of an ONNX file in place."""
    model = onnx.load(str(path))
    set_metadata(model, metadata, str(path))
    onnx.save(model, str(path))


def set_metadata(model: onnx.ModelProto, metadata: dict, source: str) -> None:
    """Validate ``metadata`` and make it the package's entry of a loaded model."""
    validate_metadata(metadata, source)
    kept = [p for p in model.metadata_props if p.key != METADATA_KEY]
    del model.metadata_props[:]
    model.metadata_props.extend(kept)
    model.metadata_props.add(key=METADATA_KEY, value=json.dumps(metadata, sort_keys=True))


def read_onnx_metadata(path: Path) -> dict:
    model = onnx.load(str(path), load_external_data=False)
    entries = {p.key: p.value for p in model.metadata_props}
    return json.loads(entries[METADATA_KEY])
