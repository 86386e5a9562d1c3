"""RGB (+ registered depth) image -> people: 2D keypoints, robust depth and metric 3D.

The one body path nodes, the runner and training evaluation share: letterbox preprocessing,
ONNX inference (optionally with a flip-test pass), :class:`BodyDecoder`, and
:func:`lift_people`, which samples the depth image at each keypoint and adds the model's
per-joint surface-to-joint-centre offset before back-projecting.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from hand_pose_ros.core.body_decoder import BodyDecoder
from hand_pose_ros.core.body_preprocess import make_body_input
from hand_pose_ros.core.camera import Intrinsics
from hand_pose_ros.core.depth_sampling import (
    checked_sampling_settings,
    sample_depth,
    snap_to_instance_depth,
)
from hand_pose_ros.core.heatmaps import rescale_px
from hand_pose_ros.core.letterbox import Letterbox
from hand_pose_ros.core.model_runtime import OnnxModel
from hand_pose_ros.core.peak_search import DEFAULT_PEAK_SEARCH

DEFAULT_BODY_WINDOW_PX = 7
"""Depth window side in colour pixels: limbs are tens of pixels wide at 640x480."""

DEFAULT_BODY_BAND_M = 0.08
"""Depths this close to the nearest surface in the window count as that body part."""

DEFAULT_PERSON_DEPTH_BAND_M = 0.5
"""Largest distance (metres) of a keypoint's depth from its person's median keypoint depth:
about a person's depth extent with arms out; chosen on the validation split (0.3 / 0.5 / 0.8
tried)."""

ASPECT_TOLERANCE = 0.01
"""Relative difference of width/height ratios still treated as the same aspect."""


@dataclass
class BodyPeople:
    """One frame's people, by descending ``person_score``; every person has all J keypoints."""

    uv_px: np.ndarray  # (P, J, 2) float64, source image pixels
    score: np.ndarray  # (P, J) float32 keypoint scores in [0, 1]
    person_score: np.ndarray  # (P,) float32
    depth_m: np.ndarray  # (P, J) float32, NaN where no depth / no depth image
    xyz_m: np.ndarray  # (P, J, 3) float32 optical frame, NaN where no depth
    timings: dict[str, float] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.uv_px.shape[0])


def depth_scale(
    depth_shape: tuple[int, int], color_height: int, color_width: int
) -> tuple[float, float]:
    """(sx, sy) from colour to depth pixels; ValueError when the aspects differ."""
    depth_height, depth_width = depth_shape
    sx, sy = depth_width / color_width, depth_height / color_height
    if abs(sx - sy) > ASPECT_TOLERANCE * max(sx, sy):
        raise ValueError(
            f"depth image {depth_width}x{depth_height} does not have the aspect of the colour "
            f"image {color_width}x{color_height}: depth must be registered to colour (same "
            f"aspect, any resolution)"
        )
    return sx, sy


def check_depth_input(
    height: int, width: int, depth_m: np.ndarray | None, intrinsics: Intrinsics | None
) -> None:
    """ValueError unless a depth image (if any) can be lifted against this colour image."""
    if depth_m is None:
        return
    if intrinsics is None:
        raise ValueError("a depth image needs the colour camera's intrinsics")
    if (intrinsics.width, intrinsics.height) != (width, height):
        raise ValueError(
            f"intrinsics are for a {intrinsics.width}x{intrinsics.height} image but the "
            f"colour image is {width}x{height}"
        )
    if depth_m.dtype.kind != "f":
        raise ValueError(
            f"depth must be floating-point metres (NaN invalid), got {depth_m.dtype}; "
            f"convert 16UC1 millimetres first"
        )
    depth_scale(depth_m.shape, height, width)


def lift_people(
    uv_px: np.ndarray,
    depth_m: np.ndarray,
    intrinsics: Intrinsics,
    window_px: int = DEFAULT_BODY_WINDOW_PX,
    band_m: float = DEFAULT_BODY_BAND_M,
    offsets_m: np.ndarray | None = None,
    person_band_m: float = DEFAULT_PERSON_DEPTH_BAND_M,
) -> tuple[np.ndarray, np.ndarray]:
    """Depth (P, J) float32 and optical-frame xyz (P, J, 3) float32 of keypoints.

    ``uv_px`` are colour-image pixels and ``intrinsics`` describe the colour image. The depth
    image (float metres, NaN/0 invalid) is registered to colour; another resolution with the
    same aspect is handled by scaling uv (``window_px`` is in depth pixels), another aspect is
    a ValueError. ``offsets_m`` (J,) is added to every valid sample: the camera sees the body's
    surface, the keypoints are joint centres behind it. A keypoint further than
    ``person_band_m`` from its person's median depth takes that median (0 disables), see
    :func:`~hand_pose_ros.core.depth_sampling.snap_to_instance_depth`.
    """
    uv = np.asarray(uv_px, np.float64)
    if depth_m.ndim != 2:
        raise ValueError(f"depth image must be 2-D (H, W), got shape {depth_m.shape}")
    people, joints = uv.shape[:2]
    sx, sy = depth_scale(depth_m.shape, intrinsics.height, intrinsics.width)
    depth_uv = uv if (sx, sy) == (1.0, 1.0) else rescale_px(uv, (sx, sy))
    depth = sample_depth(depth_m, depth_uv.reshape(-1, 2), window_px, band_m).reshape(
        people, joints
    )
    if offsets_m is not None:
        depth += np.asarray(offsets_m, np.float32)[None, :]
    depth = snap_to_instance_depth(depth, person_band_m)
    xyz = intrinsics.back_project(uv, depth).astype(np.float32)
    return depth.astype(np.float32), xyz


class BodyEstimator:
    """Runs a body_pose_2d_ae ONNX model on RGB images (with optional registered depth).

    ``keypoint_names``, ``skeleton`` and ``decoder`` come from the model's metadata; one
    ``estimate`` at a time per instance (it reuses buffers).
    """

    def __init__(
        self,
        model: OnnxModel,
        flip_test: bool = False,
        detection_threshold: float | None = None,
        tag_threshold: float | None = None,
        max_people: int | None = None,
        peak_search: str = DEFAULT_PEAK_SEARCH,
        depth_window_px: int = DEFAULT_BODY_WINDOW_PX,
        foreground_band_m: float = DEFAULT_BODY_BAND_M,
        person_depth_band_m: float = DEFAULT_PERSON_DEPTH_BAND_M,
        use_depth_offsets: bool = True,
        refine: bool = True,
    ) -> None:
        self.depth_window_px, self.foreground_band_m = checked_sampling_settings(
            depth_window_px, foreground_band_m
        )
        self.person_depth_band_m = float(person_depth_band_m)
        self.model = model
        self.decoder = BodyDecoder(
            model.metadata,
            detection_threshold=detection_threshold,
            tag_threshold=tag_threshold,
            max_people=max_people,
            refine=refine,
            peak_search=peak_search,
        )
        self.flip_test = bool(flip_test)
        offsets = model.metadata.get("keypoint_depth_offsets_m")
        self.depth_offsets_m = (
            np.asarray(offsets, np.float32) if offsets is not None and use_depth_offsets else None
        )
        self.keypoint_names: tuple[str, ...] = tuple(model.metadata["keypoint_names"])
        self.skeleton: tuple[tuple[int, int], ...] = tuple(
            (int(i), int(j)) for i, j in model.metadata["skeleton"]
        )
        self._input = np.empty((1, 3, model.input_height, model.input_width), np.float32)
        self._pair = np.empty((2, 3, model.input_height, model.input_width), np.float32)
        self._letterbox: Letterbox | None = None
        batch = model.input_shape[0]
        self._batched_flip = not isinstance(batch, int) or batch == 2

    @property
    def searches_peaks_in_graph(self) -> bool:
        """Whether decoding takes its candidates from the model's graph: the flip test averages
        two passes' maps, which the graph's search never saw, so it searches in numpy."""
        return self.decoder.uses_graph_peaks and not self.flip_test

    def _letterbox_for(self, height: int, width: int) -> Letterbox:
        box = self._letterbox
        if box is None or (box.source_height, box.source_width) != (height, width):
            box = Letterbox.fit(height, width, self.model.input_height, self.model.input_width)
            self._letterbox = box
        return box

    def _infer(self, network_input: np.ndarray) -> tuple[dict, dict | None]:
        if not self.flip_test:
            raw = self.model.run(network_input)
            return {k: v[0] for k, v in raw.items()}, None
        if self._batched_flip:  # one run for both passes
            self._pair[0] = network_input[0]
            self._pair[1] = network_input[0, :, :, ::-1]
            raw = self.model.run(self._pair)
            return {k: v[0] for k, v in raw.items()}, {k: v[1] for k, v in raw.items()}
        raw = self.model.run(network_input)
        flipped = self.model.run(np.ascontiguousarray(network_input[:, :, :, ::-1]))
        return {k: v[0] for k, v in raw.items()}, {k: v[0] for k, v in flipped.items()}

    def lift(
        self, uv_px: np.ndarray, depth_m: np.ndarray | None, intrinsics: Intrinsics | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Depth (P, J) and xyz (P, J, 3) of people's keypoints (colour pixels) with this
        estimator's sampling settings and depth offsets; NaN without a depth image."""
        count, joints = uv_px.shape[:2]
        if depth_m is None or not count:
            return (
                np.full((count, joints), np.nan, np.float32),
                np.full((count, joints, 3), np.nan, np.float32),
            )
        return lift_people(
            uv_px,
            depth_m,
            intrinsics,
            self.depth_window_px,
            self.foreground_band_m,
            self.depth_offsets_m,
            self.person_depth_band_m,
        )

    def estimate(
        self,
        rgb: np.ndarray,
        depth_m: np.ndarray | None = None,
        intrinsics: Intrinsics | None = None,
    ) -> BodyPeople:
        """People in an (H, W, 3) uint8 RGB image; with a registered depth image (float
        metres, NaN/0 invalid, same aspect) and the colour intrinsics, also depth and xyz."""
        if rgb.ndim != 3 or rgb.shape[2] != 3:
            raise ValueError(f"expected an (H, W, 3) RGB image, got shape {rgb.shape}")
        height, width = rgb.shape[:2]
        check_depth_input(height, width, depth_m, intrinsics)  # fail before inference
        start = time.perf_counter()
        letterbox = self._letterbox_for(height, width)
        network_input, _ = make_body_input(rgb, self.model.input_spec, letterbox, self._input)
        preprocessed = time.perf_counter()
        outputs, flip_outputs = self._infer(network_input)
        inferred = time.perf_counter()
        decoded = self.decoder.decode(outputs, flip_outputs)
        uv = letterbox.to_source(decoded.xy_px)
        done_decoding = time.perf_counter()
        depth, xyz = self.lift(uv, depth_m, intrinsics)
        lifted = time.perf_counter()
        return BodyPeople(
            uv_px=uv,
            score=decoded.score,
            person_score=decoded.person_score,
            depth_m=depth,
            xyz_m=xyz,
            timings={
                "preprocess_s": preprocessed - start,
                "inference_s": inferred - preprocessed,
                "decode_s": done_decoding - inferred,
                "lift_s": lifted - done_decoding,
            },
        )
