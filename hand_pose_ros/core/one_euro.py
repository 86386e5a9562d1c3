"""One-Euro filter (Casiez, Roussel and Vogel, CHI 2012) over a fixed set of 2-D keypoints.

A low-pass filter whose cutoff rises with speed: still keypoints are smoothed hard (no
jitter), fast ones barely (little lag). Vectorised over all keypoints of a track.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class OneEuroSettings:
    min_cutoff_hz: float = 1.5
    """Cutoff at rest: lower smooths still keypoints more."""
    speed_coefficient: float = 0.02
    """Cutoff gain per px/s of speed (the paper's beta): higher follows fast motion closer."""
    derivative_cutoff_hz: float = 1.0
    """Cutoff of the speed estimate itself."""

    def __post_init__(self) -> None:
        if self.min_cutoff_hz <= 0 or self.derivative_cutoff_hz <= 0:
            raise ValueError("One-Euro cutoffs must be positive (Hz)")
        if self.speed_coefficient < 0:
            raise ValueError("the One-Euro speed coefficient must be >= 0")


DEFAULT_SMOOTHING = OneEuroSettings()


def _smoothing_factor(cutoff_hz: np.ndarray | float, dt_s: float) -> np.ndarray:
    tau_s = 1.0 / (2.0 * np.pi * np.asarray(cutoff_hz, np.float64))
    return 1.0 / (1.0 + tau_s / dt_s)


class OneEuroFilter:
    """Filters (J, 2) positions sampled at known times; NaN samples pass through as NaN and
    restart the filter for that keypoint."""

    def __init__(self, settings: OneEuroSettings = DEFAULT_SMOOTHING) -> None:
        self.settings = settings
        self._value: np.ndarray | None = None
        self._speed: np.ndarray | None = None
        self._time_s: float | None = None

    def __call__(self, value: np.ndarray, time_s: float) -> np.ndarray:
        value = np.asarray(value, np.float64)
        if self._value is None or self._time_s is None or time_s <= self._time_s:
            self._value, self._speed = value.copy(), np.zeros_like(value)
            self._time_s = time_s
            return value.copy()
        dt_s = time_s - self._time_s
        settings = self.settings
        restart = ~np.isfinite(self._value)
        previous = np.where(restart, value, self._value)
        raw_speed = (value - previous) / dt_s
        alpha_speed = _smoothing_factor(settings.derivative_cutoff_hz, dt_s)
        speed = np.where(restart, 0.0, alpha_speed * raw_speed + (1 - alpha_speed) * self._speed)
        speed = np.nan_to_num(speed)
        magnitude = np.linalg.norm(speed, axis=-1, keepdims=True)
        cutoff_hz = settings.min_cutoff_hz + settings.speed_coefficient * magnitude
        alpha = _smoothing_factor(cutoff_hz, dt_s)
        filtered = alpha * value + (1 - alpha) * previous
        self._value, self._speed, self._time_s = filtered, speed, time_s
        return filtered.copy()
