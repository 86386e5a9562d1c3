"""Object keypoint similarity (the COCO keypoint metric's "IoU") and greedy OKS matching.

OKS = mean over labelled keypoints of exp(-d^2 / (2 s^2 k^2)), with d the pixel distance,
s^2 the object's area (px^2) and k = 2 * sigma per keypoint: the same formula COCOeval uses, so
matching here agrees with the AP the evaluation reports.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

AREA_EPSILON = np.spacing(1)
"""COCOeval's guard against a zero area."""


def oks_matrix(
    pred: np.ndarray,
    truth: np.ndarray,
    truth_visibility: np.ndarray,
    areas_px2: np.ndarray,
    sigmas: np.ndarray,
) -> np.ndarray:
    """(P, T) OKS between every prediction (P, J, 2) and every truth (T, J, 2).

    Only truth keypoints with visibility > 0 count; a truth with none gives NaN. A
    non-finite predicted keypoint contributes 0.
    """
    pred = np.asarray(pred, np.float64).reshape(-1, *np.shape(truth)[-2:])
    truth = np.asarray(truth, np.float64).reshape(-1, pred.shape[1], 2)
    labelled = np.asarray(truth_visibility).reshape(truth.shape[:2]) > 0  # (T, J)
    variance = (2.0 * np.asarray(sigmas, np.float64)) ** 2  # (J,)
    areas = np.asarray(areas_px2, np.float64).reshape(-1)
    squared = ((pred[:, None] - truth[None]) ** 2).sum(axis=-1)  # (P, T, J)
    exponent = squared / variance / (areas[None, :, None] + AREA_EPSILON) / 2.0
    similarity = np.where(np.isfinite(exponent), np.exp(-exponent), 0.0) * labelled[None]
    count = labelled.sum(axis=1)  # (T,)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, similarity.sum(axis=2) / count, np.nan)


def object_keypoint_similarity(
    pred: np.ndarray,
    truth: np.ndarray,
    truth_visibility: np.ndarray,
    area_px2: float,
    sigmas: np.ndarray,
) -> float:
    """OKS of one predicted pose (J, 2) against one truth (J, 2); NaN if no keypoint is
    labelled (visibility > 0)."""
    return float(
        oks_matrix(pred[None], truth[None], np.asarray(truth_visibility)[None], [area_px2], sigmas)[
            0, 0
        ]
    )


@dataclass(frozen=True)
class OksMatch:
    pred_index: int
    truth_index: int
    oks: float


def match_by_oks(
    pred: np.ndarray,
    truth: np.ndarray,
    truth_visibility: np.ndarray,
    areas_px2: np.ndarray,
    sigmas: np.ndarray,
    pred_scores: np.ndarray | None = None,
    min_oks: float = 0.5,
) -> list[OksMatch]:
    """Greedy one-to-one matching, as COCOeval does: predictions in descending score order
    (given order without scores) each take the unmatched truth with the highest OKS, if that
    OKS >= ``min_oks``."""
    pred = np.asarray(pred, np.float64)
    truth = np.asarray(truth, np.float64)
    if pred.shape[0] == 0 or truth.shape[0] == 0:
        return []
    similarity = np.nan_to_num(oks_matrix(pred, truth, truth_visibility, areas_px2, sigmas), nan=-1)
    order = (
        np.arange(pred.shape[0])
        if pred_scores is None
        else np.argsort(-np.asarray(pred_scores), kind="stable")
    )
    taken = np.zeros(truth.shape[0], bool)
    matches: list[OksMatch] = []
    for p in order:
        candidates = np.where(taken, -np.inf, similarity[p])
        t = int(np.argmax(candidates))
        if candidates[t] >= min_oks:
            taken[t] = True
            matches.append(OksMatch(int(p), t, float(similarity[p, t])))
    return matches
