"""Bottom-up body decoding (LitePose / HigherHRNet style): network outputs -> people.

Steps, all vectorised over joints and map pixels (Python loops only over joint types): max-pool
non-maximum suppression and top-k candidates per joint with their tags on a search map,
associative-embedding grouping (:mod:`hand_pose_ros.core.grouping`), refinement of each
person's missing joints (the best peak whose tag is near the person's mean tag), then a
sub-pixel step on the fused map (1/4 upsampled plus 1/2), evaluated only at the 1/2 pixel
nearest each joint and its four neighbours; optionally a flip test (averaging with the
horizontally flipped pass). The search map is a speed / accuracy choice (``peak_search``,
:data:`PEAK_SEARCH_MODES`). A model may carry the search itself (search map, NMS and top-k as
graph nodes, outputs ``peak_scores``, ``peak_indices``, ``search_map``): the decoder takes those
candidates when they were searched as it would search (:class:`PeakSearch`) and searches itself
otherwise. Needs only the model metadata, so training evaluates torch outputs with the same code
the node runs."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from hand_pose_ros.core.grouping import GroupedPeople, group_candidates
from hand_pose_ros.core.heatmaps import rescale_px
from hand_pose_ros.core.letterbox import bilinear_taps
from hand_pose_ros.core.model_metadata import (
    BODY_DECODING_DEFAULTS,
    BODY_POSE_TASK,
    validate_task_metadata,
)
from hand_pose_ros.core.peak_search import (
    DEFAULT_PEAK_SEARCH,
    PEAK_SEARCH_MODES,
    PeakSearch,
    Scratch,
    resize_maps,
    top_candidates,
)

_LOG_FLOOR = 1e-10
REFINE_MIN_HEAT = 0.01
"""Heatmap value below which a peak is not considered when refining a missing joint."""
REFINE_PEAKS_PER_PERSON = 2
"""Peaks per joint kept for refinement, per ``max_people``: room for the weak peaks of people
whose joint fell below the detection threshold."""
_SUBPIXEL_LIMIT_PX = 0.5
@dataclass
class DecodedPeople:
    """People in network-input pixels, by descending ``person_score``."""

    xy_px: np.ndarray  # (P, J, 2) float64
    score: np.ndarray  # (P, J) float32 in [0, 1]
    person_score: np.ndarray  # (P,) float32: mean keypoint score

    def __len__(self) -> int:
        return int(self.xy_px.shape[0])


@functools.lru_cache(maxsize=16)
def _cells_under(length: int, cells: int, ratio: float) -> np.ndarray:
    """For each of ``length`` pixels, the nearest of ``cells`` pixels ``ratio`` times larger
    (pixel-centre aware): where a search-map pixel reads its tag. Cached: the same few sizes
    come back every frame."""
    index = np.minimum(((np.arange(length) + 0.5) / ratio).astype(np.intp), cells - 1)
    index.flags.writeable = False
    return index


_CROSS_ROWS = np.array([0, 0, 0, -1, 1])
_CROSS_COLUMNS = np.array([0, -1, 1, 0, 0])
"""Offsets of a pixel and its four neighbours: what a per-axis Newton step reads."""


def _cross_steps(
    values: np.ndarray, x: np.ndarray, y: np.ndarray, width: int, height: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per-axis Newton steps on the log heatmap (exact for a Gaussian) from (N, 5) samples at
    integer peaks and their four neighbours (centre, left, right, up, down).

    Returns ``offsets`` (N, 2) (dx, dy), clamped to +-0.5 px and zero along an axis at the
    border or where it does not curve down, and ``log_gain`` (N,) >= 0: log of the interpolated
    peak over the sampled one, so scores read the true peak height wherever the centre falls.
    """
    logs = np.log(np.maximum(values, _LOG_FLOOR))
    lower, upper, centre = logs[:, 1::2], logs[:, 2::2], logs[:, :1]  # (N, 2): x, y axes
    slope = 0.5 * (upper - lower)
    curvature = lower + upper - 2.0 * centre
    position = np.column_stack([x, y])
    usable = (position > 0) & (position < np.array([width, height]) - 1) & (curvature < 0)
    usable &= values[:, :1] > _LOG_FLOOR
    step = np.where(usable, -slope / np.where(usable, curvature, -1.0), 0.0)
    np.clip(step, -_SUBPIXEL_LIMIT_PX, _SUBPIXEL_LIMIT_PX, out=step)
    gain = np.maximum(slope * step + 0.5 * curvature * step * step, 0.0)
    return step, gain.sum(axis=1)


def _cross_pixels(
    x: np.ndarray, y: np.ndarray, width: int, height: int
) -> tuple[np.ndarray, np.ndarray]:
    """(N, 5) rows and columns of each peak and its neighbours, clamped at the border (where
    the step along that axis is then skipped)."""
    rows = np.clip(y[:, None] + _CROSS_ROWS, 0, height - 1)
    cols = np.clip(x[:, None] + _CROSS_COLUMNS, 0, width - 1)
    return rows, cols


def _cross_indices(
    joint: np.ndarray, x: np.ndarray, y: np.ndarray, width: int, height: int
) -> np.ndarray:
    """(N, 5) flat indices into a (J, height, width) stack of each peak and its neighbours."""
    rows, cols = _cross_pixels(x, y, width, height)
    return (joint[:, None] * height + rows) * width + cols


def subpixel_offsets(
    maps: np.ndarray, joint: np.ndarray, y: np.ndarray, x: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per-axis Newton step on the log heatmap at integer peaks; see :func:`_cross_steps`."""
    _, height, width = maps.shape
    values = maps.reshape(-1).take(_cross_indices(joint, x, y, width, height))
    return _cross_steps(values, x, y, width, height)


def fused_fine_peaks(
    search: np.ndarray,
    coarse: np.ndarray,
    fine: np.ndarray,
    joint: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Sub-pixel peaks on the fine grid of the fused map, from integer peaks on the coarse grid.

    Along each axis the peak lies on the side of the coarse pixel's higher neighbour in the
    ``search`` map, which picks the fine pixel to start from; the fused map (``coarse``
    bilinearly upsampled, plus ``fine``, halved) is evaluated only at that pixel and its four
    neighbours, for one per-axis Newton step: the full fine-resolution map is never built.
    Returns ``xy`` (N, 2) in fine pixels and the interpolated peak value (N,).
    """
    (coarse_h, coarse_w), (fine_h, fine_w) = coarse.shape[1:], fine.shape[1:]
    around = search.reshape(-1).take(_cross_indices(joint, x, y, coarse_w, coarse_h))
    # A quarter coarse pixel towards the higher neighbour: the centre of that half, whose
    # nearest fine pixel starts the Newton step (its step reaches the rest of the way).
    side = np.where(around[:, 2::2] > around[:, 1::2], 0.25, -0.25)  # (N, 2): x, y
    ratio = np.array([fine_w / coarse_w, fine_h / coarse_h])
    start = np.rint(rescale_px(np.column_stack([x, y]) + side, ratio)).astype(np.intp)
    fine_x = np.clip(start[:, 0], 0, fine_w - 1)
    fine_y = np.clip(start[:, 1], 0, fine_h - 1)
    rows, cols = _cross_pixels(fine_x, fine_y, fine_w, fine_h)  # (N, 5) each
    r0, r1, wy = (tap[rows] for tap in bilinear_taps(coarse_h, fine_h))
    c0, c1, wx = (tap[cols] for tap in bilinear_taps(coarse_w, fine_w))
    # Flat indices: one take for all four bilinear taps, no multi-axis fancy indexing.
    plane = joint[:, None] * coarse_h
    top_row, bottom_row = (plane + r0) * coarse_w, (plane + r1) * coarse_w
    taps = coarse.reshape(-1).take(
        np.stack([top_row + c0, top_row + c1, bottom_row + c0, bottom_row + c1])
    )
    top_left, top_right, bottom_left, bottom_right = taps  # (N, 5) each
    top = top_left + (top_right - top_left) * wx
    upsampled = top + (bottom_left + (bottom_right - bottom_left) * wx - top) * wy
    fused = fine.reshape(-1).take((joint[:, None] * fine_h + rows) * fine_w + cols)
    fused += upsampled
    fused *= 0.5  # (N, 5): centre, left, right, up, down
    offsets, log_gain = _cross_steps(fused, fine_x, fine_y, fine_w, fine_h)
    return np.column_stack([fine_x, fine_y]) + offsets, fused[:, 0] * np.exp(log_gain)


class BodyDecoder:
    """One sample's network outputs -> people, driven by the model metadata.

    Thresholds default to the metadata's ``decoding`` block (then to LitePose's values) and may
    be overridden; ``refine`` fills each person's missing joints.
    """

    def __init__(
        self,
        metadata: dict[str, Any],
        detection_threshold: float | None = None,
        tag_threshold: float | None = None,
        max_people: int | None = None,
        nms_kernel_px: int | None = None,
        refine: bool = True,
        joint_order: tuple[int, ...] | None = None,
        peak_search: str = DEFAULT_PEAK_SEARCH,
    ) -> None:
        validate_task_metadata(metadata, BODY_POSE_TASK, "body decoder")
        settings = {**BODY_DECODING_DEFAULTS, **metadata.get("decoding", {})}
        self.detection_threshold = float(
            settings["detection_threshold"] if detection_threshold is None else detection_threshold
        )
        self.tag_threshold = float(
            settings["tag_threshold"] if tag_threshold is None else tag_threshold
        )
        self.max_people = int(settings["max_people"] if max_people is None else max_people)
        self.nms_kernel_px = int(
            settings["nms_kernel_px"] if nms_kernel_px is None else nms_kernel_px
        )
        if self.max_people < 1 or self.nms_kernel_px < 1 or self.nms_kernel_px % 2 == 0:
            raise ValueError("max_people must be >= 1 and nms_kernel_px a positive odd integer")
        self.refine = bool(refine)
        self.joint_order = joint_order
        if peak_search not in PEAK_SEARCH_MODES:
            raise ValueError(f"peak_search must be one of {PEAK_SEARCH_MODES}, got {peak_search!r}")
        self.peak_search = peak_search
        self.keypoint_names: tuple[str, ...] = tuple(metadata["keypoint_names"])
        self.flip_index = np.asarray(metadata["flip_index"], np.intp)
        outputs = metadata["outputs"]
        self._names = {role: spec["name"] for role, spec in outputs.items() if "name" in spec}
        self.coarse_stride = int(outputs["heatmaps"]["stride"])
        self.tag_dim = int(outputs["tags"].get("tag_dim", 1))
        fine = outputs.get("heatmaps_fine")
        self.fine_stride = int(fine["stride"]) if fine else None
        self.candidate_search = self._candidate_search()
        in_graph = outputs.get("peak_scores")
        graph_search = PeakSearch.from_metadata(in_graph) if in_graph else None
        self.uses_graph_peaks = bool(graph_search and graph_search.covers(self.candidate_search))
        self._scratch = Scratch()  # one decode at a time per decoder

    def _candidate_search(self) -> PeakSearch:
        """This decoder's candidate search. Refinement needs peaks below the detection threshold
        as well: the first ``max_people`` per joint are the grouping candidates (those >= the
        detection threshold), the weaker ones behind them what refinement may still pick."""
        if self.fine_stride is None:
            mode, stride = "coarse", self.coarse_stride
        else:
            mode = self.peak_search
            stride = self.fine_stride if mode == "fine" else self.coarse_stride
        if self.refine:
            min_score = min(self.detection_threshold, REFINE_MIN_HEAT)
            per_joint = self.max_people * REFINE_PEAKS_PER_PERSON
        else:
            min_score, per_joint = self.detection_threshold, self.max_people
        return PeakSearch(mode, stride, self._nms_kernel_px(stride), min_score, per_joint)

    def _output(
        self, outputs: Mapping[str, np.ndarray], role: str, dtype: Any = np.float32
    ) -> np.ndarray | None:
        name = self._names.get(role)
        if name is None:
            return None
        for key in (name, role):
            if key in outputs:
                return np.asarray(outputs[key], dtype)
        return None

    def _maps(
        self, outputs: Mapping[str, np.ndarray]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        coarse = self._output(outputs, "heatmaps")
        tags = self._output(outputs, "tags")
        if coarse is None or tags is None:
            raise KeyError(
                f"outputs need {self._names['heatmaps']!r} and {self._names['tags']!r}; "
                f"got {sorted(outputs)}"
            )
        joints = len(self.keypoint_names)
        if coarse.ndim != 3 or coarse.shape[0] != joints:
            raise ValueError(f"heatmaps must be one sample ({joints}, h, w), got {coarse.shape}")
        if tags.shape != (joints * self.tag_dim, *coarse.shape[1:]):
            raise ValueError(
                f"tags must be ({joints * self.tag_dim}, {coarse.shape[1]}, {coarse.shape[2]}), "
                f"got {tags.shape}"
            )
        fine = self._output(outputs, "heatmaps_fine") if self.fine_stride else None
        return coarse, tags.reshape(joints, self.tag_dim, *coarse.shape[1:]), fine

    def _flipped(self, maps: np.ndarray) -> np.ndarray:
        """Maps of the mirrored input, mirrored back: flip W and swap left/right channels."""
        return maps[self.flip_index, ..., ::-1]

    def decode(
        self,
        outputs: Mapping[str, np.ndarray],
        flip_outputs: Mapping[str, np.ndarray] | None = None,
    ) -> DecodedPeople:
        """Outputs of ONE sample (batch axis removed, keyed by ONNX or role name) -> people in
        network-input pixels. ``flip_outputs``: the outputs for the horizontally flipped input
        (flip test): heatmaps are averaged, tags of both passes are concatenated."""
        coarse, tags, fine = self._maps(outputs)
        in_graph = self._graph_candidates(outputs) if flip_outputs is None else None
        if flip_outputs is not None:
            coarse_f, tags_f, fine_f = self._maps(flip_outputs)
            coarse = 0.5 * (coarse + self._flipped(coarse_f))
            tags = np.concatenate([tags, self._flipped(tags_f)], axis=1)
            if fine is not None and fine_f is not None:
                fine = 0.5 * (fine + self._flipped(fine_f))
        search_stride = float(self.candidate_search.stride)
        if in_graph is None:  # one NMS pass serves grouping and refinement (see PeakSearch)
            search = self._search_map(coarse, fine)
            y, x, score = top_candidates(
                search,
                self.candidate_search.nms_kernel_px,
                self.candidate_search.min_score,
                self.candidate_search.per_joint,
                self._scratch,
            )
        else:
            search, y, x, score = in_graph
        joints, height, width = search.shape
        ratio = self.coarse_stride / search_stride
        tag_rows = _cells_under(height, tags.shape[2], ratio)
        tag_cols = _cells_under(width, tags.shape[3], ratio)
        peak_tags = tags[np.arange(joints)[:, None], :, tag_rows[y], tag_cols[x]]  # (J, K, D)
        peak_xy = np.stack([x, y], axis=-1).astype(np.float64)
        grouping = slice(0, self.max_people)
        people = group_candidates(
            peak_xy[:, grouping],
            score[:, grouping],
            peak_tags[:, grouping],
            self.detection_threshold,
            self.tag_threshold,
            self.max_people,
            self.joint_order,
        )
        if self.refine and len(people):
            self._refine_missing(people, peak_xy, score, peak_tags)
        # Joints found on a 1/4 search map are placed on the fused 1/2 grid.
        place_on_fine = fine is not None and self.candidate_search.mode != "fine"
        xy, peak = self._locate(people, search, (coarse, fine) if place_on_fine else None)
        return self._finish(xy, peak, float(self.fine_stride) if place_on_fine else search_stride)

    def _graph_candidates(
        self, outputs: Mapping[str, np.ndarray]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
        """Search map, y, x, score (as :func:`top_candidates` returns them) from the model's
        in-graph search, or None when it has none that covers this decoder's."""
        if not self.uses_graph_peaks:
            return None
        scores = self._output(outputs, "peak_scores")
        indices = self._output(outputs, "peak_indices", dtype=np.intp)
        search = self._output(outputs, "search_map")
        if scores is None or indices is None or search is None:
            return None  # e.g. torch outputs in training evaluation
        per_joint = self.candidate_search.per_joint
        score = scores[:, :per_joint]
        unused = score < self.candidate_search.min_score  # the graph's own threshold may be lower
        score = np.where(unused, np.float32(-1.0), score)
        index = np.where(unused, 0, indices[:, :per_joint])
        y, x = np.divmod(index, search.shape[2])
        return search, y, x, score

    def _search_map(self, coarse: np.ndarray, fine: np.ndarray | None) -> np.ndarray:
        """The map peaks are searched on (see :data:`PEAK_SEARCH_MODES`)."""
        if self.candidate_search.mode == "fine":
            fused = resize_maps(coarse, *fine.shape[1:], scratch=self._scratch)
            fused += fine
            fused *= 0.5  # in place: fused is a scratch array
            return fused
        if self.candidate_search.mode == "fused":
            search = resize_maps(fine, *coarse.shape[1:], scratch=self._scratch)
            search += coarse
            search *= 0.5
            return search
        return coarse

    def _nms_kernel_px(self, search_stride: float) -> int:
        """``nms_kernel_px`` is in the finest map's pixels; the same radius on the search grid."""
        finest_stride = self.fine_stride or self.coarse_stride
        if search_stride == finest_stride:
            return self.nms_kernel_px
        radius_px = round(self.nms_kernel_px // 2 * finest_stride / search_stride)
        return 2 * max(1, radius_px) + 1

    @staticmethod
    def _refine_missing(
        people: GroupedPeople, peak_xy: np.ndarray, peak_score: np.ndarray, peak_tags: np.ndarray
    ) -> None:
        """Give each person its missing joints: the heatmap peak maximising heat - round(tag
        distance to the person's mean tag), as associative-embedding decoders do. Searching
        peaks (local maxima >= REFINE_MIN_HEAT) rather than every pixel: the maximiser of that
        piecewise-shifted heat is a peak of the joint's map, and it keeps decoding cheap when a
        frame is full of people. A joint with no peak at all stays missing."""
        person, joint = np.nonzero(~people.found)
        if person.size == 0:
            return
        mean_tag = people.mean_tag.astype(np.float32)  # (P, D)
        heat = peak_score[joint]  # (M, K), -1 in unused slots
        distance = np.sqrt(((peak_tags[joint] - mean_tag[person, None]) ** 2).sum(axis=2))
        usable = heat >= REFINE_MIN_HEAT
        objective = np.where(usable, heat - np.round(distance), -np.inf)
        best = objective.argmax(axis=1)
        chosen = usable[np.arange(person.size), best]
        person, joint, best = person[chosen], joint[chosen], best[chosen]
        people.xy[person, joint] = peak_xy[joint, best]
        people.score[person, joint] = peak_score[joint, best]

    @staticmethod
    def _locate(
        people: GroupedPeople,
        search: np.ndarray,
        coarse_and_fine: tuple[np.ndarray, np.ndarray] | None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Sub-pixel position (P, J, 2) and peak height (P, J) of every placed joint, on the
        search grid or, given ``coarse_and_fine``, on the fine grid; NaN and 0 elsewhere."""
        placed = np.isfinite(people.xy).all(axis=2)  # refined or found
        p_index, j_index = np.nonzero(placed)
        ix = people.xy[p_index, j_index, 0].astype(np.intp)
        iy = people.xy[p_index, j_index, 1].astype(np.intp)
        xy = np.full_like(people.xy, np.nan)
        peak = np.zeros(people.score.shape, np.float32)
        if coarse_and_fine is None:
            offsets, log_gain = subpixel_offsets(search, j_index, iy, ix)
            xy[p_index, j_index] = people.xy[p_index, j_index] + offsets
            peak[p_index, j_index] = people.score[p_index, j_index] * np.exp(log_gain)
        else:
            xy[p_index, j_index], peak[p_index, j_index] = fused_fine_peaks(
                search, *coarse_and_fine, j_index, ix, iy
            )
        return xy, peak

    @staticmethod
    def _finish(xy: np.ndarray, peak: np.ndarray, stride: float) -> DecodedPeople:
        """People in network-input pixels, by descending mean keypoint score."""
        count, joints = peak.shape
        if count == 0:
            return DecodedPeople(
                np.zeros((0, joints, 2)), np.zeros((0, joints), np.float32), np.zeros(0, np.float32)
            )
        # A joint with no usable heat at all sits at its person's centre, with score 0, so
        # that every person has all J keypoints.
        placed = np.isfinite(xy).all(axis=2)
        if not placed.all():
            centre = np.nanmean(np.where(placed[:, :, None], xy, np.nan), axis=1)  # (P, 2)
            xy = np.where(placed[:, :, None], xy, centre[:, None, :])
        xy_px = rescale_px(xy, stride)
        score = np.clip(np.where(placed, peak, 0.0), 0.0, 1.0).astype(np.float32)
        person_score = score.mean(axis=1).astype(np.float32)
        order = np.argsort(-person_score, kind="stable")
        return DecodedPeople(xy_px[order], score[order], person_score[order])
