"""BodyDecoder on constructed heatmaps and tags (no network)."""

from __future__ import annotations

import numpy as np
import pytest

from hand_pose_ros.core.body_decoder import BodyDecoder
from hand_pose_ros.core.model_metadata import ModelLoadError
from hand_pose_ros.core.peak_search import (
    PEAK_SEARCH_MODES,
    PeakSearch,
    top_candidates,
)
from hand_pose_ros.core.skeletons import flip_permutation
from tests.core.body_stand_in import (
    INPUT_WIDTH,
    body_metadata,
    grid_people,
    render_body_outputs,
)
from tests.core.conftest import default_metadata as hand_metadata


def assign(decoded_xy: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """For each truth person the decoded person nearest over all joints, and the max error."""
    errors = np.abs(decoded_xy[:, None] - truth[None]).max(axis=(2, 3))  # (P, T)
    best = errors.argmin(axis=0)
    assert len(set(best.tolist())) == len(truth), "two truths matched the same person"
    return errors[best, np.arange(len(truth))]


@pytest.mark.parametrize("peak_search", PEAK_SEARCH_MODES)
@pytest.mark.parametrize("count", [1, 2, 10])
def test_people_are_recovered_to_sub_pixel_accuracy(count, peak_search):
    truth = grid_people(count, seed=count)
    outputs = render_body_outputs(truth, tags=np.arange(count) * 2.0)
    decoded = BodyDecoder(body_metadata(), peak_search=peak_search).decode(outputs)
    assert len(decoded) == count
    assert assign(decoded.xy_px, truth).max() < 0.25  # network-input pixels
    assert decoded.score.min() > 0.9
    np.testing.assert_allclose(decoded.person_score, decoded.score.mean(axis=1))


def test_overlapping_people_are_separated_by_their_tags():
    first = grid_people(1, seed=1)[0]
    truth = np.stack([first, first + [12.0, 9.0]])  # overlapping bodies, 3 coarse pixels apart
    outputs = render_body_outputs(truth, tags=[-1.0, 1.5])
    for peak_search in PEAK_SEARCH_MODES:
        decoded = BodyDecoder(body_metadata(), peak_search=peak_search).decode(outputs)
        assert len(decoded) == 2
        assert assign(decoded.xy_px, truth).max() < 0.5


@pytest.mark.parametrize(("peak_search", "near_px"), [("coarse", 0.5), ("fused", 1.0)])
def test_fine_search_separates_joints_that_merge_on_the_quarter_grid(peak_search, near_px):
    """The documented cost of searching the 1/4 grid: a joint of two people 8.6 input
    pixels (about two coarse pixels) apart can be a single peak there. One of them holds it;
    their tags differ, so refinement lets the other share it, at the first one's place."""
    first = grid_people(1, seed=1)[0]
    truth = np.stack([first, first + [7.0, 5.0]])
    outputs = render_body_outputs(truth, tags=[-1.0, 1.5])
    fine = BodyDecoder(body_metadata(), peak_search="fine").decode(outputs)
    assert len(fine) == 2 and assign(fine.xy_px, truth).max() < 0.5
    coarse = BodyDecoder(body_metadata(), peak_search=peak_search).decode(outputs)
    error = np.abs(coarse.xy_px[:, None] - truth[None]).max(axis=3)  # (P, T, J)
    nearest = np.median(error, axis=2).argmin(axis=0)
    assert len(coarse) == 2 and sorted(nearest.tolist()) == [0, 1]
    error = error[nearest, [0, 1]]  # (T, J)
    merged = (error > 2.0).any(axis=0)
    assert 1 <= merged.sum() <= 5
    assert ((error < 0.5).sum(axis=0) == 1)[merged].all() and (error < 7.5).all()
    # Fused, the other person's joint 8 px away also pulls a separate peak (measured 0.8 px).
    assert (error[:, ~merged] < near_px).all()


def test_tag_threshold_splits_a_person_whose_tags_disagree():
    truth = grid_people(1, seed=3)
    outputs = render_body_outputs(truth, tags=[0.0])
    outputs["tags_s4"][8:] += 3.0  # lower body tagged 3 away from the upper body
    fragments = BodyDecoder(body_metadata()).decode(outputs)
    assert len(fragments) == 2  # each fragment gets the other's joints by refinement
    whole = BodyDecoder(body_metadata(), tag_threshold=5.0).decode(outputs)
    assert len(whole) == 1 and assign(whole.xy_px, truth).max() < 0.25


def test_detection_threshold_and_refinement_of_a_weak_joint():
    truth = grid_people(2, seed=4)
    peak = np.ones((2, 17))
    peak[0, 9] = 0.05  # left wrist of person 0 below the 0.1 detection threshold
    outputs = render_body_outputs(truth, tags=[0.0, 3.0], peak=peak)
    refined = BodyDecoder(body_metadata()).decode(outputs)
    error = np.abs(refined.xy_px[:, None] - truth[None]).max(axis=(2, 3))
    person = int(error[:, 0].argmin())
    assert np.abs(refined.xy_px[person, 9] - truth[0, 9]).max() < 0.3
    assert refined.score[person, 9] == pytest.approx(0.05, abs=0.01)
    plain = BodyDecoder(body_metadata(), refine=False).decode(outputs)
    person = int(np.abs(plain.xy_px[:, 0] - truth[0, 0]).max(axis=1).argmin())
    assert plain.score[person, 9] == 0.0  # not found, placed at the person's centre
    assert np.isfinite(plain.xy_px).all()
    none = BodyDecoder(body_metadata(), detection_threshold=1.01).decode(outputs)  # > any peak
    assert len(none) == 0 and none.xy_px.shape == (0, 17, 2)


def test_a_second_peak_with_the_same_tag_does_not_become_a_duplicate_person():
    """A weaker second peak of one joint carrying the body's tag is that body's, not the
    start of a fragment that refinement would complete into a copy of the body."""
    body = grid_people(1, seed=7)[0]
    stray = body.copy()
    stray[9] += [30.0, 20.0]  # a second left wrist peak, 36 px away
    visible = np.zeros((2, 17), bool)
    visible[0] = True
    visible[1, 9] = True
    peak = np.ones((2, 17))
    peak[1] = 0.6
    outputs = render_body_outputs(
        np.stack([body, stray]), tags=[0.0, 0.0], visible=visible, peak=peak
    )
    decoded = BodyDecoder(body_metadata()).decode(outputs)
    assert len(decoded) == 1 and np.abs(decoded.xy_px[0] - body).max() < 0.5


def test_max_people_caps_the_result():
    truth = grid_people(10, seed=5)
    peak = np.linspace(0.5, 1.0, 10)[:, None] * np.ones((10, 17))
    outputs = render_body_outputs(truth, tags=np.arange(10) * 2.0, peak=peak)
    decoded = BodyDecoder(body_metadata(), max_people=4).decode(outputs)
    assert len(decoded) == 4
    assert np.all(np.diff(decoded.person_score) <= 0)
    assert decoded.person_score[-1] > 0.75


def mirrored(truth: np.ndarray) -> np.ndarray:
    flip = list(flip_permutation(body_metadata()["keypoint_names"]))
    result = truth[:, flip].copy()
    result[..., 0] = INPUT_WIDTH - 1 - result[..., 0]
    return result


def test_flip_test_of_a_mirror_consistent_pair_keeps_the_people():
    truth = grid_people(3, seed=6)
    outputs = render_body_outputs(truth, tags=[0.0, 2.0, 4.0])
    flipped = render_body_outputs(mirrored(truth), tags=[0.0, 2.0, 4.0])
    decoder = BodyDecoder(body_metadata())
    plain, both = decoder.decode(outputs), decoder.decode(outputs, flipped)
    assert len(both) == 3
    assert assign(both.xy_px, truth).max() < 0.25
    np.testing.assert_allclose(np.sort(both.person_score), np.sort(plain.person_score), atol=1e-3)
    # Symmetry: swapping the roles of the passes gives the mirror image of the people.
    swapped = decoder.decode(flipped, outputs)
    assert assign(swapped.xy_px, mirrored(truth)).max() < 0.25


def test_flip_test_averages_heatmaps():
    truth = grid_people(1, seed=7)
    outputs = render_body_outputs(truth, tags=[0.0])
    flipped = render_body_outputs(mirrored(truth), tags=[0.0], peak=0.5)
    both = BodyDecoder(body_metadata()).decode(outputs, flipped)
    np.testing.assert_allclose(both.score, 0.75, atol=0.02)


def test_without_fine_heatmaps_and_with_two_dimensional_tags():
    meta = body_metadata(tag_dim=2, fine=False)
    truth = grid_people(3, seed=8)
    outputs = render_body_outputs(truth, tags=[[0.0, 0.0], [2.0, 0.0], [0.0, 2.0]], tag_dim=2)
    del outputs["heatmaps_s2"]
    decoded = BodyDecoder(meta).decode(outputs)
    assert len(decoded) == 3 and assign(decoded.xy_px, truth).max() < 0.5


def with_graph_peaks(metadata: dict, search: PeakSearch) -> dict:
    """Metadata of a model that also outputs candidates searched as ``search`` says."""
    stride = metadata["outputs"]["heatmaps"]["stride"]
    outputs = {
        **metadata["outputs"],
        "search_map": {"name": "search_s4", "stride": stride},
        "peak_scores": {"name": "peak_scores", **search.as_metadata()},
        "peak_indices": {"name": "peak_indices", "stride": stride},
    }
    return {**metadata, "outputs": outputs}


def graph_peaks(decoder: BodyDecoder, outputs: dict, search: PeakSearch) -> dict:
    """What such a model outputs besides the maps, computed with the numpy search."""
    search_map = decoder._search_map(outputs["heatmaps_s4"], outputs["heatmaps_s2"]).copy()
    y, x, score = top_candidates(
        search_map, search.nms_kernel_px, search.min_score, search.per_joint
    )
    return {
        "search_s4": search_map,
        "peak_scores": score,
        "peak_indices": (y * search_map.shape[2] + x).astype(np.int64),
    }


def test_in_graph_candidates_are_used_only_where_they_cover_the_decoders_search():
    truth = grid_people(4, seed=4)
    outputs = render_body_outputs(truth, tags=np.arange(4) * 2.0)
    plain = BodyDecoder(body_metadata())
    # A lower threshold and more peaks than the decoder needs still cover its search.
    graph_search = PeakSearch("fused", 4, 3, 0.005, 70)
    assert graph_search.covers(plain.candidate_search) and not plain.uses_graph_peaks
    metadata = with_graph_peaks(body_metadata(), graph_search)
    decoder = BodyDecoder(metadata)
    assert decoder.uses_graph_peaks
    with_peaks = {**outputs, **graph_peaks(decoder, outputs, graph_search)}
    expected = plain.decode(outputs)
    for decoded in (decoder.decode(with_peaks), decoder.decode(outputs)):  # maps only: searches
        np.testing.assert_array_equal(decoded.xy_px, expected.xy_px)
        np.testing.assert_array_equal(decoded.score, expected.score)
    # The candidates really are the graph's: with none, nobody is found ...
    empty = {**with_peaks, "peak_scores": np.full_like(with_peaks["peak_scores"], -1.0)}
    assert len(decoder.decode(empty)) == 0
    # ... unless the decoder searches otherwise: another map, window, threshold, more people,
    # or a flip test (averaged maps).
    for other in (
        BodyDecoder(metadata, peak_search="coarse"),
        BodyDecoder(metadata, nms_kernel_px=9),
        BodyDecoder(metadata, detection_threshold=0.001),
        BodyDecoder(metadata, max_people=40),
    ):
        assert not other.uses_graph_peaks and len(other.decode(empty)) == 4
    mirrored_outputs = {
        key: np.ascontiguousarray(value[plain.flip_index][..., ::-1])
        for key, value in outputs.items()
    }
    assert len(decoder.decode(empty, flip_outputs=mirrored_outputs)) == 4


def test_bad_outputs_and_foreign_metadata():
    decoder = BodyDecoder(body_metadata())
    with pytest.raises(KeyError, match="tags_s4"):
        decoder.decode({"heatmaps_s4": np.zeros((17, 48, 64), np.float32)})
    with pytest.raises(ValueError, match=r"heatmaps must be one sample \(17, h, w\)"):
        decoder.decode({"heatmaps": np.zeros((1, 17, 48, 64)), "tags": np.zeros((17, 48, 64))})
    with pytest.raises(ValueError, match="tags must be"):
        decoder.decode({"heatmaps": np.zeros((17, 48, 64)), "tags": np.zeros((17, 24, 32))})
    with pytest.raises(ModelLoadError, match="body decoder needs"):
        BodyDecoder(hand_metadata())
