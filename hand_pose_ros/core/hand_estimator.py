"""Depth image -> up to two hands of 21 keypoints in pixels, depth and metric 3D.

The one decoding path nodes, the runner and training evaluation share: :class:`HandDecoder`
(needs only the model metadata, so training can use it on torch outputs before any ONNX file
exists) turns one sample's network outputs into hands; :class:`HandEstimator` wraps it with
preprocessing, ONNX inference, the optional second stage (`core.hand_refiner`: keypoints again
from a crop around each hand), depth sampling and back-projection.
"""

from __future__ import annotations

import dataclasses
import functools
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hand_pose_ros.core.camera import Intrinsics
from hand_pose_ros.core.depth_sampling import (
    DEFAULT_FOREGROUND_BAND_M,
    DEFAULT_HAND_DEPTH_BAND_M,
    DEFAULT_PREDICTED_DEPTH_BAND_M,
    DEFAULT_WINDOW_PX,
    checked_sampling_settings,
    prefer_predicted_depth,
    sample_depth,
    snap_to_instance_depth,
)
from hand_pose_ros.core.hand_crops import largest_region_corners
from hand_pose_ros.core.hand_refiner import HandRefiner, RefinedKeypoints
from hand_pose_ros.core.hand_tracking import (
    TRACKED_REFINER_PASSES,
    HandTrackingSettings,
    HandTracks,
)
from hand_pose_ros.core.heatmaps import decode_peaks, rescale_px
from hand_pose_ros.core.model_metadata import HAND_POSE_TASK, validate_task_metadata
from hand_pose_ros.core.model_runtime import OnnxModel
from hand_pose_ros.core.one_euro import OneEuroFilter, OneEuroSettings
from hand_pose_ros.core.preprocess import make_network_input

DEFAULT_PRESENCE_THRESHOLD = 0.5
"""Presence probability from which a hand is reported."""
DEFAULT_REFINER_PASSES = 1
"""Refiner passes per hand on a frame where the first stage ran: the first from the box
`FIRST_CROP_SOURCES` names (two runs with "both"), each later one around the previous
keypoints; a tracked hand gets `hand_tracking.TRACKED_REFINER_PASSES` runs."""
FIRST_CROP_SOURCES: tuple[str, ...] = ("both", "segmentation", "keypoints")
"""What the refiner's first crop of a hand is cut around: the box of the first model's mask of
that hand ("segmentation"; its keypoints where it has no mask), the box of its keypoints
("keypoints"), or each of the two, keeping the refined keypoints with the higher mean score
("both", one more refiner run per hand on a frame where the first model runs). The mask is the
steadier box on average, a dense task right on hands whose keypoints the small first network
places badly as a whole; on the hands where the mask is the wrong box (the other hand's, a
forearm's) the refiner scores low and the keypoints' box often wins. Validation, 1000 frames,
default pair, one pass: PCK@0.1 91.1% / 10.3 mm mean 3D error for "both", 90.3% / 11.5 mm for
"segmentation" (two passes of it, the same compute as "both": 90.9% / 11.0 mm)."""
DEFAULT_FIRST_CROP = "both"
DEFAULT_SMOOTHING = OneEuroSettings(min_cutoff_hz=3.0, speed_coefficient=0.1)
"""One-Euro settings of the hands' keypoints (input-image pixels), chosen on validation clips
(docs/studies/hand.md, "Smoothing")."""


@dataclass
class HandKeypoints:
    """One detected hand. Arrays are per keypoint, in the model's keypoint order.

    ``uv_px`` is (u, v) in the pixel coordinates :meth:`HandDecoder.decode` was asked for
    (the input image for :meth:`HandEstimator.estimate`). ``depth_m`` / ``xyz_m`` are NaN
    where no valid depth was found (and always NaN straight out of ``decode``).
    ``visibility`` is NaN when the model has no visibility output; ``keypose`` is None (and
    ``keypose_score`` NaN) when it has no keypose output.
    """

    side: int  # index into the model's "sides": 0 left, 1 right
    presence: float  # sigmoid of the presence logit, in [0, 1]
    uv_px: np.ndarray  # (K, 2) float64
    depth_m: np.ndarray  # (K,) float32
    xyz_m: np.ndarray  # (K, 3) float64, optical frame
    score: np.ndarray  # (K,) float64, clip(heatmap peak, 0, 1)
    visibility: np.ndarray  # (K,) float64, sigmoid of the visibility logit, or NaN
    keypose: str | None
    keypose_score: float  # softmax probability of ``keypose``


@dataclass
class HandEstimate:
    """Hands found in one frame, with the time each stage took (seconds): ``inference_s`` is
    the first network's run, ``refine_s`` the second stage's crops, run and decoding (0 without
    a refiner), ``decode_s`` the rest of decoding, depth sampling and back-projection.
    ``detected`` is False on a frame where the hands were tracked (`core.hand_tracking`): the
    first network did not run, and presence, visibility and keypose are those of the last
    frame where it did."""

    hands: list[HandKeypoints] = field(default_factory=list)
    preprocess_s: float = 0.0
    inference_s: float = 0.0
    refine_s: float = 0.0
    decode_s: float = 0.0
    detected: bool = True

    @property
    def total_s(self) -> float:
        return self.preprocess_s + self.inference_s + self.refine_s + self.decode_s


def _sigmoid(logits: np.ndarray) -> np.ndarray:
    logits = np.asarray(logits, dtype=np.float64)
    return 0.5 * (1.0 + np.tanh(0.5 * logits))  # Overflow-free form of 1 / (1 + exp(-x)).


class HandDecoder:
    """Network outputs of one sample -> hands, driven only by the model metadata.

    ``keypoint_names``, ``skeleton`` (tuple of (i, j)), ``sides`` and ``keyposes`` come from the
    metadata, never from code.
    """

    def __init__(
        self, metadata: dict[str, Any], presence_threshold: float = DEFAULT_PRESENCE_THRESHOLD
    ) -> None:
        validate_task_metadata(metadata, HAND_POSE_TASK, "hand estimator")
        self.metadata = metadata
        self.presence_threshold = float(presence_threshold)
        self.keypoint_names: tuple[str, ...] = tuple(metadata["keypoint_names"])
        self.skeleton: tuple[tuple[int, int], ...] = tuple(
            (int(i), int(j)) for i, j in metadata["skeleton"]
        )
        self.sides: tuple[str, ...] = tuple(metadata["sides"])
        self.keyposes: tuple[str, ...] = tuple(metadata.get("keyposes", ()))
        self.network_height = int(metadata["input"]["height"])
        self.network_width = int(metadata["input"]["width"])
        specs = metadata["outputs"]
        self.heatmap_stride = float(specs["heatmaps"]["stride"])
        self._names: dict[str, str] = {
            role: specs[role]["name"]
            for role in ("heatmaps", "presence", "visibility", "segmentation", "keypose")
            if role in specs
        }
        # Each side's class in the segmentation output, when it has one class per side.
        classes = specs.get("segmentation", {}).get("classes", ())
        self._side_labels: tuple[int, ...] | None = (
            tuple(classes.index(side) for side in self.sides)
            if all(side in classes for side in self.sides)
            else None
        )
        self._segmentation_stride = float(specs.get("segmentation", {}).get("stride", 0))

    @property
    def has_hand_masks(self) -> bool:
        """Whether the model segments each side, so that :meth:`mask_corners` can box hands."""
        return self._side_labels is not None

    def _output(self, outputs: Mapping[str, np.ndarray], role: str) -> np.ndarray | None:
        """The output for a role, looked up by its ONNX name, else by the role name itself."""
        name = self._names.get(role)
        if name is None:  # The model has no such output: ignore stray keys.
            return None
        if name in outputs:
            return np.asarray(outputs[name])
        if role in outputs:
            return np.asarray(outputs[role])
        return None

    def decode(
        self,
        outputs: Mapping[str, np.ndarray],
        input_height: int,
        input_width: int,
        presence_threshold: float | None = None,
    ) -> list[HandKeypoints]:
        """Network outputs of ONE sample -> hands, with uv in a chosen pixel frame.

        ``outputs`` maps output names (the ONNX names in the metadata; the role names
        "heatmaps", "presence", "visibility", "keypose" are accepted too) to numpy arrays of
        one sample, batch axis removed: heatmaps (S*K, h, w), presence (S,) logits, and if the
        model has them visibility (S*K,) logits and keypose (S, P) logits. Anything else is
        ignored. Training evaluation passes ``{name: tensor[i].numpy()}`` per batch element.

        ``input_height`` / ``input_width`` give the image whose pixel coordinates ``uv_px``
        should be in: the network input size (metadata input.height/width) for network-input
        pixels, or the depth image's size for input-image pixels (per-axis, pixel-centre aware
        scaling; what :meth:`HandEstimator.estimate` does). Heatmap pixels map to network-input
        pixels by ``(xy + 0.5) * stride - 0.5``.

        Returns the hands with presence >= ``presence_threshold`` (default: this decoder's;
        pass 0.0 to get every side), ordered by side, each with all K keypoints:
        score = clip(heatmap peak, 0, 1), presence = sigmoid, visibility = sigmoid (NaN without
        that output), keypose = argmax of the softmax (None without that output). ``depth_m``
        and ``xyz_m`` are NaN: depth is only known to :meth:`HandEstimator.estimate`.
        """
        threshold = self.presence_threshold if presence_threshold is None else presence_threshold
        side_count = len(self.sides)
        keypoint_count = len(self.keypoint_names)
        presence_logits = self._output(outputs, "presence")
        heatmaps = self._output(outputs, "heatmaps")
        if presence_logits is None or heatmaps is None:
            raise KeyError(
                f"outputs need the heatmaps and presence outputs {self._names['heatmaps']!r}, "
                f"{self._names['presence']!r}; got {sorted(outputs)}"
            )
        presence = _sigmoid(presence_logits.reshape(side_count))
        selected = np.flatnonzero(presence >= threshold)
        if selected.size == 0:
            return []

        expected_channels = side_count * keypoint_count
        if heatmaps.ndim != 3 or heatmaps.shape[0] != expected_channels:
            raise ValueError(
                f"heatmaps must be one sample ({expected_channels}, h, w), got {heatmaps.shape}"
            )
        channels = (selected[:, None] * keypoint_count + np.arange(keypoint_count)).reshape(-1)
        # Decoding every channel is cheaper than gathering a copy of the selected ones.
        xy_heatmap, peak = decode_peaks(heatmaps)
        xy_heatmap, peak = xy_heatmap[channels], peak[channels]
        # heatmap px -> network-input px -> requested image px, in one per-axis rescale.
        image_scale = np.array(
            [input_width / self.network_width, input_height / self.network_height]
        )
        uv = rescale_px(xy_heatmap, self.heatmap_stride * image_scale)
        score = np.clip(peak, 0.0, 1.0)

        visibility_logits = self._output(outputs, "visibility")
        if visibility_logits is not None:
            visibility = _sigmoid(visibility_logits.reshape(expected_channels)[channels])
        else:
            visibility = np.full(channels.size, np.nan)

        keypose_index = keypose_score = None
        keypose_logits = self._output(outputs, "keypose")
        if keypose_logits is not None and self.keyposes:
            logits = keypose_logits.astype(np.float64).reshape(side_count, len(self.keyposes))
            logits = logits[selected]
            exp = np.exp(logits - logits.max(axis=1, keepdims=True))
            probability = exp / exp.sum(axis=1, keepdims=True)
            keypose_index = probability.argmax(axis=1)
            keypose_score = probability.max(axis=1)

        hands: list[HandKeypoints] = []
        for row, side in enumerate(selected):
            part = slice(row * keypoint_count, (row + 1) * keypoint_count)
            hands.append(
                HandKeypoints(
                    side=int(side),
                    presence=float(presence[side]),
                    uv_px=uv[part],
                    depth_m=np.full(keypoint_count, np.nan, dtype=np.float32),
                    xyz_m=np.full((keypoint_count, 3), np.nan),
                    score=score[part],
                    visibility=visibility[part],
                    keypose=None if keypose_index is None else self.keyposes[keypose_index[row]],
                    keypose_score=(
                        float("nan") if keypose_score is None else float(keypose_score[row])
                    ),
                )
            )
        return hands

    def mask_corners(
        self,
        outputs: Mapping[str, np.ndarray],
        hands: list[HandKeypoints],
        input_height: int,
        input_width: int,
    ) -> list[np.ndarray | None]:
        """Per hand, the corners (2, 2) of the box around its largest region in the
        segmentation output (see :func:`largest_region_corners`), in the pixels of an
        ``input_height`` x ``input_width`` image as in :meth:`decode`; None where that side wins
        no pixel, and for every hand of a model without per-side segmentation."""
        logits = self._output(outputs, "segmentation")
        if logits is None or self._side_labels is None:
            return [None] * len(hands)
        logits = np.asarray(logits)
        masks = []
        for hand in hands:  # where the side's class beats every other (argmax is 10x slower)
            label = self._side_labels[hand.side]
            others = (logits[other] for other in range(len(logits)) if other != label)
            masks.append(logits[label] > functools.reduce(np.maximum, others))
        image_scale = np.array(
            [input_width / self.network_width, input_height / self.network_height]
        )
        corners = largest_region_corners(masks)
        return [
            None if box is None else rescale_px(box, self._segmentation_stride * image_scale)
            for box in corners
        ]

    def first_crop_points(
        self,
        outputs: Mapping[str, np.ndarray],
        hands: list[HandKeypoints],
        input_height: int,
        input_width: int,
    ) -> list[np.ndarray]:
        """What each hand's first refiner crop is cut around (first crop "segmentation"): the
        corners of its mask's box (:meth:`mask_corners`), or its keypoints where it has none."""
        masks = self.mask_corners(outputs, hands, input_height, input_width)
        return [hand.uv_px if mask is None else mask for hand, mask in zip(hands, masks)]


def lift_hands(
    hands: list[HandKeypoints],
    depth_m: np.ndarray,
    intrinsics: Intrinsics,
    depth_window_px: int,
    foreground_band_m: float,
    hand_depth_band_m: float = DEFAULT_HAND_DEPTH_BAND_M,
    predicted_depth_band_m: float = DEFAULT_PREDICTED_DEPTH_BAND_M,
) -> None:
    """Fill each hand's ``depth_m`` and ``xyz_m`` from a depth image its ``uv_px`` refer to.

    A hand's ``depth_m`` on the way in is a prediction (the refiner's; NaN where none), which
    overrules samples farther than ``predicted_depth_band_m`` from it. Shared by
    :meth:`HandEstimator.estimate` and training validation (which decodes torch outputs), so
    both lift keypoints to 3D identically.
    """
    if not hands:
        return
    uv = np.stack([hand.uv_px for hand in hands])  # (hands, K, 2)
    depth = sample_depth(depth_m, uv, depth_window_px, foreground_band_m).reshape(uv.shape[:2])
    predicted = np.stack([hand.depth_m for hand in hands])
    depth = prefer_predicted_depth(depth, predicted, predicted_depth_band_m)
    depth = snap_to_instance_depth(depth, hand_depth_band_m)
    xyz = intrinsics.back_project(uv, depth)
    for hand, hand_depth, hand_xyz in zip(hands, depth, xyz, strict=True):
        hand.depth_m, hand.xyz_m = hand_depth, hand_xyz


class HandEstimator:
    """Runs a hand_pose_2.5d ONNX model on depth images, optionally followed by a refiner.

    ``keypoint_names``, ``skeleton``, ``sides``, ``keyposes`` and ``decoder`` (a
    :class:`HandDecoder`) describe the model; ``presence_threshold`` may be changed at any time.
    With ``refiner`` (a ``hand_keypoints_crop`` model) each found hand's keypoints and scores
    come from that model on a crop around the first stage's mask of the hand or its keypoints,
    whichever the refiner scores higher (``first_crop`` "both"; see `FIRST_CROP_SOURCES`),
    ``refiner_passes`` times (each later pass crops around the previous one's keypoints), and
    so do predicted keypoint depths if it has that output (see :func:`lift_hands`); presence,
    visibility and keypose stay the first stage's. With ``tracking`` as well, the hands of a
    stream are tracked between first-stage runs (`core.hand_tracking`: one refiner pass per
    tracked hand; frames must then come in order, and ``tracks`` holds the state). With
    ``smoothing``, each side's keypoints go through a One-Euro filter (`core.one_euro`) on
    frames given a time, before depth sampling. One ``estimate`` at a time per instance: it
    reuses preallocated network-input buffers.
    """

    def __init__(
        self,
        model: OnnxModel,
        presence_threshold: float = DEFAULT_PRESENCE_THRESHOLD,
        depth_window_px: int = DEFAULT_WINDOW_PX,
        foreground_band_m: float = DEFAULT_FOREGROUND_BAND_M,
        hand_depth_band_m: float = DEFAULT_HAND_DEPTH_BAND_M,
        refiner: OnnxModel | None = None,
        refiner_passes: int = DEFAULT_REFINER_PASSES,
        predicted_depth_band_m: float = DEFAULT_PREDICTED_DEPTH_BAND_M,
        first_crop: str = DEFAULT_FIRST_CROP,
        tracking: HandTrackingSettings | None = None,
        smoothing: OneEuroSettings | None = None,
    ) -> None:
        if refiner_passes < 1:
            raise ValueError(f"refiner_passes must be at least 1, got {refiner_passes}")
        if first_crop not in FIRST_CROP_SOURCES:
            raise ValueError(f"first_crop must be one of {FIRST_CROP_SOURCES}, got {first_crop!r}")
        self.first_crop = first_crop
        self.refiner_passes = int(refiner_passes)
        self.depth_window_px, self.foreground_band_m = checked_sampling_settings(
            depth_window_px, foreground_band_m
        )
        self.hand_depth_band_m = float(hand_depth_band_m)
        self.predicted_depth_band_m = float(predicted_depth_band_m)
        self.model = model
        self.decoder = HandDecoder(model.metadata, presence_threshold)
        self.keypoint_names = self.decoder.keypoint_names
        self.skeleton = self.decoder.skeleton
        self.sides = self.decoder.sides
        self.keyposes = self.decoder.keyposes
        self.refiner = HandRefiner(refiner) if refiner is not None else None
        if self.refiner is not None:
            self.refiner.check_compatible(self.keypoint_names, self.sides)
        self._network_input = np.empty((1, 1, model.input_height, model.input_width), np.float32)
        # Tracking crops around refined keypoints: without a refiner there is nothing to track.
        self.tracks = (
            HandTracks(tracking) if tracking is not None and self.refiner is not None else None
        )
        self._frame_shape: tuple[int, ...] = ()
        self.smoothing = smoothing
        # One filter over every side's keypoints (S, K, 2), made at a stream's first frame: a
        # side not found is NaN there, which restarts its keypoints when it is found again.
        self._filter: OneEuroFilter | None = None

    @property
    def presence_threshold(self) -> float:
        return self.decoder.presence_threshold

    @presence_threshold.setter
    def presence_threshold(self, value: float) -> None:
        self.decoder.presence_threshold = float(value)

    def estimate(
        self, depth_m: np.ndarray, intrinsics: Intrinsics, time_s: float | None = None
    ) -> HandEstimate:
        """Hands in a (H, W) float32 depth image in metres (NaN invalid).

        ``intrinsics`` must describe this image (same width and height). Keypoints come back in
        input-image pixels (sub-pixel), their depth is sampled at full input resolution and
        back-projected; only hands with presence >= ``presence_threshold`` are returned, each
        with all of its keypoints (consumers threshold ``score`` themselves). ``time_s`` (the
        frame's stamp, seconds) lets tracking notice gaps in the stream and smoothing run.
        """
        if depth_m.ndim != 2:
            raise ValueError(f"depth image must be 2-D (H, W), got shape {depth_m.shape}")
        if depth_m.dtype.kind != "f":
            raise ValueError(
                f"depth must be floating-point metres (NaN invalid), got {depth_m.dtype}; "
                f"convert 16UC1 millimetres first"
            )
        height, width = depth_m.shape
        if (intrinsics.width, intrinsics.height) != (width, height):
            raise ValueError(
                f"intrinsics are for a {intrinsics.width}x{intrinsics.height} image but the "
                f"depth image is {width}x{height}"
            )
        if depth_m.shape != self._frame_shape:  # another stream: earlier pixels are elsewhere
            self._frame_shape = depth_m.shape
            self._filter = OneEuroFilter(self.smoothing) if self.smoothing is not None else None
            estimate, lost_refine_s = None, 0.0
        else:
            estimate, lost_refine_s = self._track(depth_m, time_s)
        if estimate is None:
            estimate = self._detect(depth_m)
            estimate.refine_s += lost_refine_s  # a lost hand's refinement is this frame's too
        if self.tracks is not None:  # unsmoothed: crops follow the hand without lag
            self.tracks.update(estimate.hands, time_s, estimate.detected)
        lift_start = time.perf_counter()
        estimate.hands = self._smoothed(estimate.hands, time_s)
        lift_hands(
            estimate.hands, depth_m, intrinsics, self.depth_window_px, self.foreground_band_m,
            self.hand_depth_band_m, self.predicted_depth_band_m,
        )
        estimate.decode_s += time.perf_counter() - lift_start
        return estimate

    def _track(
        self, depth_m: np.ndarray, time_s: float | None
    ) -> tuple[HandEstimate | None, float]:
        """The previous frame's hands refined on this one, and the seconds that took; None
        when the first stage must run (no tracking, due, or a hand lost)."""
        if self.tracks is None or self.tracks.due_for_detection(time_s):
            return None, 0.0
        start = time.perf_counter()
        hands = self.tracks.hands_to_track()
        self._refine(depth_m, hands, [hand.uv_px for hand in hands], TRACKED_REFINER_PASSES)
        refine_s = time.perf_counter() - start
        if self.tracks.lost(hands):
            return None, refine_s
        return HandEstimate(hands=hands, refine_s=refine_s, detected=False), refine_s

    def _detect(self, depth_m: np.ndarray) -> HandEstimate:
        """Both stages on one frame (keypoints not yet lifted to 3D)."""
        height, width = depth_m.shape
        start = time.perf_counter()
        network_input = make_network_input(depth_m, self.model.input_spec, self._network_input)
        preprocessed = time.perf_counter()
        raw = self.model.run(network_input)
        inferred = time.perf_counter()
        outputs = {name: value[0] for name, value in raw.items()}
        hands = self.decoder.decode(outputs, height, width)
        refine_s = 0.0
        if self.refiner is not None and hands:
            refine_start = time.perf_counter()
            if self.first_crop == "keypoints":
                self._refine(depth_m, hands, [hand.uv_px for hand in hands], self.refiner_passes)
            else:
                boxes = self.decoder.first_crop_points(outputs, hands, height, width)
                if self.first_crop == "both":
                    self._refine_better_box(depth_m, hands, boxes)
                    self._refine(depth_m, hands, [hand.uv_px for hand in hands],
                                 self.refiner_passes - 1)
                else:
                    self._refine(depth_m, hands, boxes, self.refiner_passes)
            refine_s = time.perf_counter() - refine_start
        return HandEstimate(
            hands=hands,
            preprocess_s=preprocessed - start,
            inference_s=inferred - preprocessed,
            refine_s=refine_s,
            decode_s=time.perf_counter() - inferred - refine_s,
        )

    def _smoothed(self, hands: list[HandKeypoints], time_s: float | None) -> list[HandKeypoints]:
        """The hands with One-Euro smoothed keypoints (new objects: the tracks keep the raw
        ones); unchanged without smoothing or a frame time. A side that is not found restarts
        its filter."""
        if self._filter is None or time_s is None:
            return hands
        uv = np.full((len(self.sides), len(self.keypoint_names), 2), np.nan)
        for hand in hands:
            uv[hand.side] = hand.uv_px
        smoothed = self._filter(uv, time_s)
        return [dataclasses.replace(hand, uv_px=smoothed[hand.side]) for hand in hands]

    def _refine_better_box(
        self, depth_m: np.ndarray, hands: list[HandKeypoints], mask_boxes: list[np.ndarray]
    ) -> None:
        """One refiner pass per hand from its mask's box and, where that differs, from its
        keypoints' box, in one batch; each hand keeps the result with the higher mean keypoint
        score (the mask's on a tie)."""
        # A hand without a mask got its own keypoints as its box: nothing to compare.
        alternatives = [row for row, (hand, box) in enumerate(zip(hands, mask_boxes))
                        if box is not hand.uv_px]
        crops = [(box, hand.side) for hand, box in zip(hands, mask_boxes)]
        crops += [(hands[row].uv_px, hands[row].side) for row in alternatives]
        refined = self.refiner.refine(depth_m, crops)
        mean_score = refined.score.mean(axis=1)
        picks = list(range(len(hands)))
        for offset, row in enumerate(alternatives, start=len(hands)):
            if mean_score[offset] > mean_score[row]:
                picks[row] = offset
        for hand, pick in zip(hands, picks):
            _take_refined(hand, refined, pick)

    def _refine(
        self, depth_m: np.ndarray, hands: list[HandKeypoints], boxes: list[np.ndarray],
        passes: int,
    ) -> None:
        """Replace the hands' keypoints, scores and predicted depths by the refiner's, on crops
        around ``boxes`` (each hand's points), ``passes`` times."""
        for _ in range(passes):
            refined = self.refiner.refine(depth_m, list(zip(boxes, (h.side for h in hands))))
            for row, hand in enumerate(hands):
                _take_refined(hand, refined, row)
            boxes = [hand.uv_px for hand in hands]


def _take_refined(hand: HandKeypoints, refined: RefinedKeypoints, row: int) -> None:
    """Give a hand the keypoints, scores and predicted depths of one row of a refiner batch."""
    hand.uv_px, hand.score = refined.uv_px[row], refined.score[row]
    hand.depth_m = refined.depth_m[row]
