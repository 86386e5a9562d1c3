"""One-Euro smoothing: still keypoints stop jittering, moving ones follow with little lag."""

from __future__ import annotations

import numpy as np
import pytest

from hand_pose_ros.core.one_euro import OneEuroFilter, OneEuroSettings

PERIOD_S = 1.0 / 30.0


def _run(filter_: OneEuroFilter, samples: np.ndarray) -> np.ndarray:
    return np.stack([filter_(s, i * PERIOD_S) for i, s in enumerate(samples)])


def test_first_sample_passes_and_a_constant_stays_constant() -> None:
    samples = np.tile([[10.0, 20.0]], (20, 3, 1))
    np.testing.assert_allclose(_run(OneEuroFilter(), samples), samples)


def test_noise_on_a_still_keypoint_is_reduced() -> None:
    rng = np.random.default_rng(0)
    samples = 100.0 + rng.normal(0, 2.0, (300, 17, 2))
    smoothed = _run(OneEuroFilter(), samples)[30:]
    raw_jitter = np.abs(np.diff(samples[30:], 2, axis=0)).mean()
    assert np.abs(np.diff(smoothed, 2, axis=0)).mean() < 0.3 * raw_jitter


def test_fast_motion_lags_less_with_a_higher_speed_coefficient() -> None:
    ramp = np.arange(60)[:, None, None] * np.array([[[10.0, 0.0]]])  # 300 px/s
    lag_slow = ramp[-1] - _run(OneEuroFilter(OneEuroSettings(1.0, 0.0)), ramp)[-1]
    lag_fast = ramp[-1] - _run(OneEuroFilter(OneEuroSettings(1.0, 0.05)), ramp)[-1]
    assert 0 < lag_fast[0, 0] < 0.5 * lag_slow[0, 0]


def test_a_keypoint_that_was_nan_restarts_from_its_new_value() -> None:
    f = OneEuroFilter()
    f(np.array([[np.nan, np.nan], [0.0, 0.0]]), 0.0)
    out = f(np.array([[50.0, 60.0], [10.0, 0.0]]), PERIOD_S)
    np.testing.assert_allclose(out[0], [50.0, 60.0])
    assert 0 < out[1, 0] < 10.0


def test_time_going_backwards_resets_instead_of_dividing_by_zero() -> None:
    f = OneEuroFilter()
    f(np.zeros((1, 2)), 1.0)
    np.testing.assert_allclose(f(np.full((1, 2), 5.0), 1.0), [[5.0, 5.0]])


@pytest.mark.parametrize("settings", [(0.0, 0.0, 1.0), (1.0, -1.0, 1.0), (1.0, 0.0, 0.0)])
def test_invalid_settings_are_refused(settings) -> None:
    with pytest.raises(ValueError):
        OneEuroSettings(*settings)
