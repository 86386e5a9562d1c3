"""Accuracy of a robot run against synthetic ground truth, by object keypoint similarity (OKS).

COCO-style figures without pycocotools (the runner is not a training tool): OKS AP (101-point
interpolated, predictions ranked by person score, greedy matching per frame as COCO does) at
OKS 0.5 and averaged over 0.50:0.05:0.95; per truth person the best OKS (0 when missed), PCK of
visible keypoints and the 3D error of visible keypoints for people 1-4 m from the camera.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from hand_pose_ros.core.oks import match_by_oks, oks_matrix
from hand_pose_ros.core.skeletons import COCO_OKS_SIGMAS

OKS_THRESHOLDS: tuple[float, ...] = tuple(np.round(np.arange(0.5, 0.951, 0.05), 2))
RECALL_POINTS = np.linspace(0.0, 1.0, 101)
PCK_FRACTION = 0.1
"""A keypoint is correct within this fraction of the person's box size (longer side)."""
NEAR_M, FAR_M = 1.0, 4.0
"""People whose median keypoint depth is in this range count for the 3D error."""
MATCHED_OKS = 0.5
"""Predictions matched with at least this OKS count as the same person (PCK, 3D error)."""
VISIBLE = 2


@dataclass
class PeopleMetrics:
    """Accumulates frames; ``summary()`` gives the figures."""

    sigmas: np.ndarray = field(default_factory=lambda: np.asarray(COCO_OKS_SIGMAS, np.float64))
    frames: int = 0
    truth_people: int = 0
    predicted_people: int = 0
    best_oks: list[float] = field(default_factory=list)
    _frames: list[tuple] = field(default_factory=list)  # what AP needs, per frame
    _pck_hits: int = 0
    _pck_total: int = 0
    _errors_3d_m: list[float] = field(default_factory=list)
    _keypoints_3d: int = 0

    def add(
        self,
        uv_px: np.ndarray,
        xyz_m: np.ndarray,
        person_score: np.ndarray,
        truth,
    ) -> None:
        """One frame: predictions (Q, J, 2), (Q, J, 3), (Q,) and a PeopleFrame-like truth."""
        truth_uv = np.asarray(truth.keypoints_uv, np.float64).reshape(-1, len(self.sigmas), 2)
        truth_xyz = np.asarray(truth.keypoints_xyz, np.float64).reshape(truth_uv.shape[0], -1, 3)
        visibility = np.asarray(truth.visibility).reshape(truth_uv.shape[:2])
        boxes = np.asarray(truth.boxes_xywh, np.float64).reshape(-1, 4)
        areas = np.asarray(truth.areas_px, np.float64).reshape(-1)
        counted = (visibility > 0).any(axis=1) & (areas > 0)
        truth_uv, truth_xyz = truth_uv[counted], truth_xyz[counted]
        visibility, boxes, areas = visibility[counted], boxes[counted], areas[counted]
        self.frames += 1
        self.truth_people += len(truth_uv)
        self.predicted_people += len(uv_px)
        person_score = np.asarray(person_score, np.float64).reshape(-1)
        frame = (np.asarray(uv_px, np.float64), truth_uv, visibility, areas, person_score)
        self._frames.append(frame)
        if len(uv_px) and len(truth_uv):
            best = np.nan_to_num(oks_matrix(uv_px, truth_uv, visibility, areas, self.sigmas)).max(
                axis=0
            )
        else:
            best = np.zeros(len(truth_uv))
        self.best_oks.extend(best.tolist())
        match = {m.truth_index: m.pred_index for m in self._match(frame, MATCHED_OKS)}
        for p in range(len(truth_uv)):
            visible = visibility[p] == VISIBLE
            self._pck_total += int(visible.sum())
            q = match.get(p)
            if q is None:
                continue
            threshold_px = PCK_FRACTION * max(boxes[p, 2], boxes[p, 3])
            error_px = np.linalg.norm(uv_px[q] - truth_uv[p], axis=-1)
            self._pck_hits += int((visible & (error_px <= threshold_px)).sum())
            distance_m = float(np.median(truth_xyz[p, :, 2]))
            if NEAR_M <= distance_m <= FAR_M:
                self._keypoints_3d += int(visible.sum())
                lifted = visible & np.isfinite(xyz_m[q]).all(axis=-1)
                errors = np.linalg.norm(xyz_m[q][lifted] - truth_xyz[p][lifted], axis=-1)
                self._errors_3d_m.extend(errors.tolist())

    def summary(self) -> dict:
        errors_mm = np.asarray(self._errors_3d_m) * 1e3
        ap_by_threshold = {t: self._average_precision(t) for t in OKS_THRESHOLDS}
        best = np.asarray(self.best_oks)
        return {
            "frames": self.frames,
            "truth_people": self.truth_people,
            "predicted_people": self.predicted_people,
            "oks_ap": float(np.mean(list(ap_by_threshold.values()))),
            "oks_ap50": ap_by_threshold[0.5],
            "oks_ap75": ap_by_threshold[0.75],
            "mean_oks": float(best.mean()) if best.size else float("nan"),
            "recall@oks0.5": float((best >= 0.5).mean()) if best.size else float("nan"),
            f"pck@{PCK_FRACTION:g}": (
                self._pck_hits / self._pck_total if self._pck_total else float("nan")
            ),
            "mean_3d_error_mm_1_4m": float(errors_mm.mean()) if errors_mm.size else float("nan"),
            "median_3d_error_mm_1_4m": (
                float(np.median(errors_mm)) if errors_mm.size else float("nan")
            ),
            "depth_coverage_1_4m": (
                errors_mm.size / self._keypoints_3d if self._keypoints_3d else float("nan")
            ),
        }

    def _match(self, frame: tuple, min_oks: float):
        uv, truth_uv, visibility, areas, person_score = frame
        return match_by_oks(uv, truth_uv, visibility, areas, self.sigmas, person_score, min_oks)

    def _average_precision(self, threshold: float) -> float:
        """COCO-style AP at one OKS threshold over all frames added so far."""
        scores: list[float] = []
        hits: list[bool] = []
        total = 0
        for frame in self._frames:
            total += len(frame[1])
            matched = {m.pred_index for m in self._match(frame, threshold)}
            for q, score in enumerate(frame[4]):
                scores.append(float(score))
                hits.append(q in matched)
        if total == 0:
            return float("nan")
        if not scores:
            return 0.0
        order = np.argsort(-np.asarray(scores), kind="stable")
        tp = np.cumsum(np.asarray(hits)[order])
        fp = np.cumsum(~np.asarray(hits)[order])
        recall = tp / total
        precision = tp / np.maximum(tp + fp, 1)
        precision = np.maximum.accumulate(precision[::-1])[::-1]  # monotone envelope
        at = np.searchsorted(recall, RECALL_POINTS, side="left")
        sampled = np.where(at < len(precision), precision[np.minimum(at, len(precision) - 1)], 0)
        return float(sampled.mean())
