"""Pinhole intrinsics: projection and back-projection in the optical frame (REP 103)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Intrinsics:
    """Pinhole camera; pixel centres at integer coordinates (OpenCV / CameraInfo convention)."""

    fx: float
    fy: float
    cx: float
    cy: float
    width: int
    height: int

    @classmethod
    def from_fov(cls, width: int, height: int, horizontal_fov_deg: float) -> Intrinsics:
        """Square pixels, principal point at the image centre."""
        focal_px = (width / 2.0) / np.tan(np.deg2rad(horizontal_fov_deg) / 2.0)
        return cls(focal_px, focal_px, (width - 1) / 2.0, (height - 1) / 2.0, width, height)

    def scaled(self, width: int, height: int) -> Intrinsics:
        """The same camera seen at another resolution (pixel-centre aware)."""
        sx, sy = width / self.width, height / self.height
        return Intrinsics(
            self.fx * sx,
            self.fy * sy,
            (self.cx + 0.5) * sx - 0.5,
            (self.cy + 0.5) * sy - 0.5,
            width,
            height,
        )

    def project(self, points_xyz_m: np.ndarray) -> np.ndarray:
        """(..., 3) metres -> (..., 2) pixels; points at or behind the camera give NaN."""
        points = np.asarray(points_xyz_m, dtype=np.float64)
        z = points[..., 2]
        with np.errstate(divide="ignore", invalid="ignore"):
            safe_z = np.where(z > 0, z, np.nan)
            u = self.fx * points[..., 0] / safe_z + self.cx
            v = self.fy * points[..., 1] / safe_z + self.cy
        return np.stack([u, v], axis=-1)

    def back_project(self, uv_px: np.ndarray, depth_m: np.ndarray) -> np.ndarray:
        """(..., 2) pixels and (...) depth in metres -> (..., 3) metres; NaN depth gives NaN."""
        uv = np.asarray(uv_px, dtype=np.float64)
        z = np.asarray(depth_m, dtype=np.float64)
        x = (uv[..., 0] - self.cx) / self.fx * z
        y = (uv[..., 1] - self.cy) / self.fy * z
        return np.stack([x, y, z], axis=-1)
