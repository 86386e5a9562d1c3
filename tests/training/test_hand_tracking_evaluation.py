"""The tracking evaluation: the sequence splits are held out, and its per-interval figures are
those of the core estimator run on the same clips."""

from __future__ import annotations

import dataclasses
import json

import numpy as np

from hand_pose_ros.core.hand_estimator import DEFAULT_SMOOTHING, HandEstimator
from hand_pose_ros.core.hand_metrics import HandMetrics
from hand_pose_ros.core.hand_tracking import HandTrackingSettings
from hand_pose_ros.core.model_runtime import OnnxModel
from hand_pose_ros.nodes.hand_pose_node import shipped_model_path
from hand_pose_ros.nodes.hand_pose_parameters import SHIPPED_REFINER_NAME
from hand_pose_ros.synthetic import HandSequence
from training.hand.data import SPLITS_FILE
from training.hand.evaluate_tracking import evaluate_tracking, main, sequence_split

FRAMES_PER_CLIP = 10
WIDTH, HEIGHT = 224, 172


def test_sequence_splits_never_meet_each_other_or_the_frame_splits() -> None:
    splits = json.loads(SPLITS_FILE.read_text())
    ranges = [range(spec["first_seed"], spec["first_seed"] + spec["count"])
              for spec in splits.values() if isinstance(spec, dict)]
    for i, first in enumerate(ranges):
        for second in ranges[i + 1:]:
            assert first.stop <= second.start or second.stop <= first.start
    seeds, length = sequence_split("test_sequences", 3, 50)
    assert len(seeds) == 3 and length == 50


def test_figures_are_the_core_estimator_on_the_same_clip(tmp_path) -> None:
    model, refiner = shipped_model_path(), shipped_model_path().with_name(SHIPPED_REFINER_NAME)
    result = evaluate_tracking(model, refiner, "validation_sequences", [1, 4], WIDTH, HEIGHT,
                               clips=1, frames_per_clip=FRAMES_PER_CLIP)
    by_interval = result["by_redetect_interval"]
    assert by_interval["1"]["first_stage_share"] == 1.0
    assert by_interval["4"]["first_stage_share"] < 1.0

    seed = sequence_split("validation_sequences", 1, None)[0][0]
    sequence = HandSequence(seed, width=WIDTH, height=HEIGHT)
    estimator = HandEstimator(OnnxModel(model), refiner=OnnxModel(refiner),
                              tracking=HandTrackingSettings(4))
    metrics = HandMetrics()
    for index in range(FRAMES_PER_CLIP):
        frame = sequence.frame(index)
        estimate = estimator.estimate(frame.depth_m.astype(np.float32), frame.intrinsics,
                                      index / sequence.fps)
        metrics.add_hands(estimate.hands, frame)
    expected = metrics.summary()
    assert by_interval["4"]["pck@0.1"] == expected["pck@0.1"]
    assert by_interval["4"]["mean_3d_error_mm"] == expected["mean_3d_error_mm"]

    out = tmp_path / "tracking.json"
    main(["--model", str(model), "--refiner", str(refiner), "--clips", "1",
          "--frames-per-clip", "3", "--redetect-intervals", "2", "--out", str(out)])
    written = json.loads(out.read_text())
    assert set(written["by_redetect_interval"]) == {"2"}
    assert written["smoothing"] == dataclasses.asdict(DEFAULT_SMOOTHING)  # as the node
    assert "jitter_px" in written["by_redetect_interval"]["2"]
