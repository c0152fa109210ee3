"""Builders for ROI tests: images with a scan mask we control, and analytic shapes as polygons."""

from __future__ import annotations

import numpy as np

from dlrs_desktop.imaging.types import Calibration, Provenance, UltrasoundImage, UltrasoundRegion


def manual_calibration(mm_per_px: float | tuple[float, float] | None) -> Calibration | None:
    """A test calibration: None, isotropic mm/px, or (x, y) mm/px."""
    if mm_per_px is None:
        return None
    if isinstance(mm_per_px, tuple):
        return Calibration.manual(*mm_per_px)
    return Calibration.manual(mm_per_px)


def make_image(
    shape: tuple[int, int] = (768, 1024),
    mm_per_px: float | tuple[float, float] | None = 0.1,
    scan_mask: np.ndarray | None = None,
    regions: tuple[UltrasoundRegion, ...] = (),
    frame_index: int = 0,
    frame_count: int = 1,
) -> UltrasoundImage:
    """An UltrasoundImage built directly (no loader), so the scan mask is exactly what the test says."""
    h, w = shape
    gray = np.full((h, w), 90, np.uint8)
    if scan_mask is None:
        scan_mask = np.ones((h, w), bool)
    cal = manual_calibration(mm_per_px)
    arrays = [gray, np.repeat(gray[:, :, None], 3, axis=2), np.asarray(scan_mask, bool)]
    for a in arrays:
        a.setflags(write=False)
    return UltrasoundImage(
        display=arrays[1],
        gray=arrays[0],
        scan_mask=arrays[2],
        calibration=cal,
        regions=tuple(regions),
        frame_count=frame_count,
        frame_index=frame_index,
        provenance=Provenance(path="<test>", sha256="0" * 64),
    )


def circle(cx: float, cy: float, r: float, n: int = 720) -> np.ndarray:
    t = np.linspace(0.0, 2 * np.pi, n, endpoint=False)
    return np.column_stack([cx + r * np.cos(t), cy + r * np.sin(t)])


def ellipse(cx: float, cy: float, rx: float, ry: float, n: int = 720, angle: float = 0.0) -> np.ndarray:
    """rx, ry in px along the rotated axes; angle in radians."""
    t = np.linspace(0.0, 2 * np.pi, n, endpoint=False)
    x, y = rx * np.cos(t), ry * np.sin(t)
    c, s = np.cos(angle), np.sin(angle)
    return np.column_stack([cx + c * x - s * y, cy + s * x + c * y])


def circle_mm(cx: float, cy: float, r_mm: float, sx: float, sy: float, n: int = 720) -> np.ndarray:
    """A circle of radius r_mm in millimetres, drawn in pixels of sx × sy mm."""
    t = np.linspace(0.0, 2 * np.pi, n, endpoint=False)
    return np.column_stack([cx + r_mm / sx * np.cos(t), cy + r_mm / sy * np.sin(t)])


def brute_force_distance_mm(pts: np.ndarray, grid_x: np.ndarray, grid_y: np.ndarray, sx: float, sy: float):
    """Exact distance (mm) from points to a polygon's edges, straight numpy, no distance transform."""
    p = pts * (sx, sy)
    a, b = p, np.roll(p, -1, axis=0)
    qx, qy = (grid_x * sx).ravel()[:, None], (grid_y * sy).ravel()[:, None]
    best = np.full(qx.shape[0], np.inf)
    step = 64
    for s in range(0, len(a), step):
        ax, ay = a[s : s + step, 0][None], a[s : s + step, 1][None]
        dx, dy = (b - a)[s : s + step, 0][None], (b - a)[s : s + step, 1][None]
        t = np.clip(((qx - ax) * dx + (qy - ay) * dy) / (dx * dx + dy * dy), 0, 1)
        d = np.hypot(qx - ax - t * dx, qy - ay - t * dy).min(axis=1)
        best = np.minimum(best, d)
    return best.reshape(grid_x.shape)
