"""How far an ONNX file is from the torch module it came from: the check behind every hand
export and behind warm starts from exported files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from hand_pose_ros.core.model_runtime import create_session


def check_parity(
    path: Path, module: torch.nn.Module, inputs: np.ndarray, input_name: str | None = None
) -> float:
    """Largest |torch - ONNX Runtime| over every output on the given (N, ...) inputs, one
    sample at a time (files may have a fixed batch of one). ``input_name`` defaults to the
    graph's only input; ``module`` returns the outputs in the graph's order."""
    session = create_session(path)  # the options the nodes run with
    if input_name is None:
        (graph_input,) = session.get_inputs()
        input_name = graph_input.name
    worst = 0.0
    with torch.no_grad():
        for x in inputs:
            expected = module(torch.from_numpy(x[None]))
            expected = expected if isinstance(expected, (tuple, list)) else (expected,)
            actual = session.run(None, {input_name: x[None]})
            worst = max(
                worst,
                *(
                    float(np.max(np.abs(e.numpy() - a)))
                    for e, a in zip(expected, actual, strict=True)
                ),
            )
    return worst
