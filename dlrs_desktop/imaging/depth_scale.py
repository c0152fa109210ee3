"""Millimetres per pixel read from the scanner's on-screen depth scale (no Qt, no OCR).

Many exports (screen captures, DICOM without ultrasound regions) carry no scale in their header but
show the scanner's depth ruler: a column of short bright tick marks (or dots) beside the scan area,
usually one per centimetre, sometimes with 5 mm minor ticks or longer/coloured major ticks.

How it is read (docs/IMAGING.md, "Depth scale"):

1. *Tick candidates.* In the bands beside the scan area (from the frame edge to a few pixels inside
   the scan area's outermost column, each side) the brightest channel is top-hat filtered along y, so
   thin horizontal marks stand out; a tick is a local maximum at least 40 grey levels above its
   surroundings, with the rows 4 px above and below it dark (text glyphs and speckle are taller).
2. *Lattice.* In each column the tick rows that fit one lattice `y0 + k·P` (within 8 % of P) are
   found by trying the distances between neighbouring ticks as periods; at least 70 % of the lattice
   positions between the first and last tick must hold a tick. Neighbouring columns with the same
   lattice are one ruler.
3. *Period.* Each tick's row is the sub-pixel centroid of its top-hat response over its horizontal
   extent; `P` is the least-squares slope of row against tick index over every tick (all periods
   averaged), and the residual must be under 5 % of `P` (else: irregular spacing).
4. *What one period is in mm.* Ticks of two lengths (or colours, or brightness) alternating every
   2nd tick are 5 mm ticks between centimetre ticks; a long tick every 5th is centimetre ticks with
   5 cm majors (Philips, Aloka); every 10th is 1 mm ticks. Uniform ticks may be 5 mm or 1 cm apart:
   a hypothesis survives only if it gives 0.03–0.5 mm/px, a scan depth of 1.5–16 cm and a whole
   image at most 24 cm deep; when more than one survives the reader refuses (never a guess).

Anything not legible or ambiguous is a `DepthScaleRefusal` with one sentence.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from dlrs_desktop.imaging import depth_scale_text as T
from dlrs_desktop.imaging.types import Calibration, UltrasoundImage
from dlrs_desktop.wording import Translate, Worded, english, render

MM_PER_PX_RANGE = (0.03, 0.5)
SCAN_DEPTH_RANGE_MM = (15.0, 160.0)  # any B-mode preset; breast imaging is 20-80 mm
BREAST_DEPTH_MM = (20.0, 80.0)
MAX_IMAGE_DEPTH_MM = 240.0  # the whole frame's height
MIN_TICKS = 4
MAX_RESIDUAL = 0.05  # rms of tick rows about the lattice, as a fraction of the period
MIN_COVERAGE = 0.7  # fraction of lattice positions between the first and last tick that hold a tick
AGREE = 0.03  # two rulers whose periods differ by more than this disagree
_LATTICE_TOL = 0.08  # a tick is on the lattice within this fraction of the period
_TOPHAT = 9  # px: marks thinner than this survive the vertical top-hat
_MIN_CONTRAST = 12.0  # grey levels a tick stands above its column
_ISOLATION = 4  # px above/below a tick that must be dark
_BAND_INSIDE = 8  # px the search band reaches into the scan area (rulers drawn over its edge)
_MIN_PERIOD, _MAX_PERIOD = 6.0, 340.0  # px: 5 mm at 0.5 mm/px ... 10 mm at 0.03 mm/px
_PATTERNS = {k: (mm, T.PATTERN_RULES[k]) for k, mm in ((2, 5.0), (5, 10.0), (10, 1.0))}


@dataclass(frozen=True)
class DepthScaleReading:
    """A legible depth scale and the evidence for its mm/pixel."""

    mm_per_px: float
    side: str  # "left" or "right" of the scan area
    column_x: float  # mean x of the tick marks' centres
    tick_rows: tuple[float, ...]  # sub-pixel row of every tick used
    tick_x: tuple[int, int]  # horizontal extent of the ticks (min x0, max x1)
    period_px: float  # least-squares distance between neighbouring ticks
    tick_count: int
    tick_mm: float  # what one period was taken to be
    interval_rule: Worded  # why (str() gives the English)
    residual_px: float  # rms of the tick rows about the fitted lattice
    scan_depth_mm: float  # the scan area's height at this scale
    confidence: float  # 0..1: ticks (8+ = full), regularity, lattice coverage

    def calibration(self) -> Calibration:
        return Calibration(self.mm_per_px, self.mm_per_px, "depth-scale")

    def summary(self, tr: Translate = english) -> str:
        return render(
            T.worded(
                T.SUMMARY,
                side=self.side,
                x=self.column_x,
                count=self.tick_count,
                period=self.period_px,
                tick=self.tick_mm,
                mmpp=self.mm_per_px,
                depth=self.scan_depth_mm / 10,
                confidence=self.confidence,
            ),
            tr,
        )

    def to_dict(self) -> dict[str, Any]:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__}
        d["interval_rule"] = str(self.interval_rule)
        d["tick_rows"] = [round(y, 2) for y in self.tick_rows]
        d["tick_x"] = list(self.tick_x)
        return d


@dataclass(frozen=True)
class DepthScaleRefusal:
    """No scale read; `reason` is one sentence for the user (`worded`: the same, for translation)."""

    worded: Worded

    @property
    def reason(self) -> str:
        return str(self.worded)


@dataclass(frozen=True)
class _Lattice:
    x: int  # column
    period: float
    y0: float
    ticks: np.ndarray  # rows (int) of the ticks on the lattice
    index: np.ndarray  # their lattice indices
    strength: float  # mean top-hat response of the ticks
    stray: int  # tick-like marks in the same column, between the first and last tick, off the lattice


@dataclass(frozen=True)
class _Ruler:
    side: str
    period: float
    rows: np.ndarray  # sub-pixel
    index: np.ndarray
    x0: np.ndarray  # per tick horizontal extent
    x1: np.ndarray
    chroma: np.ndarray
    bright: np.ndarray
    rms: float
    coverage: float
    stray: int = 0


def _brightness(image: UltrasoundImage) -> np.ndarray:
    """The brightest channel: coloured ticks (green, blue) are as visible as white ones."""
    disp = np.asarray(image.display)
    return disp.max(axis=2).astype(np.float32) if disp.ndim == 3 else disp.astype(np.float32)


def _bands(image: UltrasoundImage) -> list[tuple[str, int, int]]:
    """Column ranges to search: frame edge to a few pixels inside the scan area, each side."""
    w = image.width
    cols = np.flatnonzero(np.asarray(image.scan_mask).any(axis=0))
    if cols.size == 0 or (cols[0] == 0 and cols[-1] == w - 1):
        edge = max(8, int(0.15 * w))
        return [("left", 0, edge), ("right", w - edge, w)]
    left_end = min(w, int(cols[0]) + _BAND_INSIDE)
    right_start = max(0, int(cols[-1]) + 1 - _BAND_INSIDE)
    return [("left", 0, left_end), ("right", right_start, w)]


def _tick_candidates(bright: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(top-hat response, bool mask of isolated thin bright marks) for a band of columns."""
    kernel = np.ones((_TOPHAT, 1), np.uint8)
    th = cv2.morphologyEx(bright, cv2.MORPH_TOPHAT, kernel)
    h = bright.shape[0]
    d = _ISOLATION
    # the brightest pixel 4-6 rows above and below, 2 columns either side: a glyph is not a tick
    near = cv2.dilate(bright, np.ones((3, 5), np.uint8))
    pad = np.pad(near, ((d + 1, d + 1), (0, 0)), mode="edge")
    above, below = pad[:h, :], pad[2 * d + 2 :, :]
    tpad = np.pad(th, ((1, 1), (0, 0)), mode="constant")
    local_max = (th >= tpad[:-2]) & (th > tpad[2:])
    dark_around = np.maximum(above, below) <= bright - 0.5 * th
    return th, local_max & dark_around & (th >= _MIN_CONTRAST)


def _fit_lattice(ys: np.ndarray, max_period: float) -> tuple[float, float, np.ndarray] | None:
    """(period, phase, inlier mask) of the lattice holding most of the rows `ys`, or None."""
    n = len(ys)
    if n < 3:
        return None
    diffs = np.concatenate([ys[k:] - ys[:-k] for k in (1, 2, 3) if n > k]).astype(np.float64)
    cands = np.unique(np.round(diffs[(diffs >= _MIN_PERIOD) & (diffs <= max_period)] * 2) / 2)
    best: tuple[int, float, float, float, np.ndarray] | None = None
    for p in cands:
        rel = (ys[None, :] - ys[:, None]) / p  # anchors x rows
        k = np.round(rel)
        on = np.abs(rel - k) <= _LATTICE_TOL
        for a in range(n):
            idx = k[a][on[a]]
            m = len(np.unique(idx))
            if m < 3 or m < (best[0] if best else 0):
                continue
            span = idx.max() - idx.min() + 1
            if m / span < MIN_COVERAGE:
                continue
            err = float(np.abs(rel[a] - k[a])[on[a]].mean())
            if best is None or m > best[0] or (m == best[0] and (p < best[1] * 0.97 or err < best[3])):
                best = (m, float(p), float(ys[a]), err, on[a])
    if best is None:
        return None
    return best[1], best[2], best[4]


def _column_lattices(th: np.ndarray, cand: np.ndarray, x_offset: int) -> list[_Lattice]:
    h = th.shape[0]
    out = []
    max_period = min(_MAX_PERIOD, h / (MIN_TICKS - 1))
    for j in range(th.shape[1]):
        ys = np.flatnonzero(cand[:, j])
        if len(ys) < 3 or len(ys) > h / 5:
            continue
        fit = _fit_lattice(ys, max_period)
        if fit is None:
            continue
        p, y0, on = fit
        ticks = ys[on]
        idx = np.round((ticks - y0) / p).astype(int)
        _, first = np.unique(idx, return_index=True)
        ticks, idx = ticks[first], idx[first]
        inside = int(((ys >= ticks.min()) & (ys <= ticks.max())).sum())
        stray = inside - len(ticks)
        out.append(_Lattice(j + x_offset, p, y0, ticks, idx, float(th[ticks, j].mean()), stray))
    return out


def _group(lattices: list[_Lattice]) -> list[_Lattice]:
    """One representative per run of neighbouring columns that see the same lattice."""
    reps: list[_Lattice] = []
    group: list[_Lattice] = []
    for lat in sorted(lattices, key=lambda la: la.x):
        if group and (lat.x - group[-1].x > 2 or abs(lat.period - group[-1].period) > AGREE * lat.period):
            reps.append(max(group, key=lambda la: (len(la.ticks), la.strength)))
            group = []
        group.append(lat)
    if group:
        reps.append(max(group, key=lambda la: (len(la.ticks), la.strength)))
    return reps


def _measure(lat: _Lattice, side: str, bright: np.ndarray, th: np.ndarray, chroma: np.ndarray) -> _Ruler:
    """Each tick's sub-pixel row, horizontal extent and colour, and the least-squares period."""
    h, w = bright.shape
    rows, x0s, x1s, chs, brs = [], [], [], [], []
    for y in lat.ticks:
        level = 0.5 * bright[y, lat.x]
        a = b = lat.x
        while a > 0 and lat.x - a < 60 and bright[y, a - 1] >= level:
            a -= 1
        while b < w - 1 and b - lat.x < 60 and bright[y, b + 1] >= level:
            b += 1
        r0, r1 = max(0, y - 2), min(h, y + 3)
        wgt = np.clip(th[r0:r1, a : b + 1], 0, None).sum(axis=1)
        rows.append(float((np.arange(r0, r1) * wgt).sum() / max(wgt.sum(), 1e-6)))
        x0s.append(a)
        x1s.append(b)
        chs.append(float(chroma[y, a : b + 1].mean()))
        brs.append(float(bright[y, a : b + 1].mean()))
    r = np.asarray(rows)
    k = lat.index.astype(np.float64)
    slope, icpt = np.polyfit(k, r, 1)
    rms = float(np.sqrt(np.mean((r - (slope * k + icpt)) ** 2)))
    span = int(lat.index.max() - lat.index.min() + 1)
    return _Ruler(
        side, float(slope), r, lat.index - lat.index.min(), np.asarray(x0s), np.asarray(x1s),
        np.asarray(chs), np.asarray(brs), rms, len(r) / span, lat.stray,
    )  # fmt: skip


def _legible(r: _Ruler, bright: np.ndarray, th: np.ndarray, width: int) -> _Ruler | None:
    """The ruler without ticks that are parts of glyphs or markers, or None if it is not a ruler."""
    h = bright.shape[0]
    keep = []
    for i, y in enumerate(np.round(r.rows).astype(int)):
        a, b = max(0, int(r.x0[i]) - 1), min(bright.shape[1], int(r.x1[i]) + 2)
        win = np.concatenate([bright[max(0, y - 6) : max(0, y - 3), a:b], bright[y + 4 : min(h, y + 7), a:b]])
        level = bright[y, a:b] - 0.5 * th[y, a:b]
        lit = (win > level[None, :]).any(axis=0) if win.size else np.zeros(b - a, bool)
        c0, c1 = int(r.x0[i]), int(r.x1[i]) + 1
        col = bright[max(0, y - 6) : y + 7, c0:c1]
        thick = float(np.median((col >= (bright[y, c0:c1] - 0.5 * th[y, c0:c1])[None, :]).sum(axis=0)))
        keep.append(lit.mean() <= 0.25 and thick <= max(4.0, 0.12 * r.period))  # a mark, not a glyph
    k = np.asarray(keep)
    if k.sum() < 3:
        return None
    lengths = (r.x1 - r.x0 + 1)[k]
    if np.median(lengths) > max(25.0, 0.03 * width):
        return None  # speckle streaks, text lines, calipers' lines
    aligned = max(
        float(np.mean(np.abs(r.x0[k] - np.median(r.x0[k])) <= 1)),
        float(np.mean(np.abs(r.x1[k] - np.median(r.x1[k])) <= 1)),
    )
    if aligned < 0.75:
        return None  # ticks of a ruler start (or end) on one column
    idx = r.index[k] - r.index[k].min()
    rows = r.rows[k]
    slope, icpt = np.polyfit(idx.astype(np.float64), rows, 1)
    rms = float(np.sqrt(np.mean((rows - (slope * idx + icpt)) ** 2)))
    return _Ruler(
        r.side, float(slope), rows, idx, r.x0[k], r.x1[k], r.chroma[k], r.bright[k], rms,
        len(rows) / (int(idx.max()) + 1), r.stray,
    )  # fmt: skip


def _pattern(r: _Ruler) -> tuple[int, str] | None:
    """(k, feature) when every k-th tick (k = 2, 5 or 10) is longer, coloured or brighter."""
    features = (
        ("longer", (r.x1 - r.x0 + 1).astype(np.float64), lambda hi, lo: hi >= 1.4 * lo and hi - lo >= 2),
        ("coloured", r.chroma, lambda hi, lo: hi - lo >= 40),
        ("brighter", r.bright, lambda hi, lo: hi >= 1.2 * lo and hi - lo >= 15),
    )
    best: tuple[float, int, str] | None = None
    for name, values, distinct in features:
        for cut in np.unique(values)[:-1]:
            major = values > cut
            if major.sum() < 2 or not distinct(np.median(values[major]), np.median(values[~major])):
                continue
            for k in (2, 5, 10):
                for res in range(k):
                    predicted = r.index % k == res
                    if predicted.sum() < 2 or (predicted & major).sum() < 2:
                        continue
                    agree = float(np.mean(predicted == major))
                    if agree >= 0.9 and (best is None or agree > best[0]):
                        best = (agree, k, name)
    return None if best is None else (best[1], best[2])


def _scan_rows(image: UltrasoundImage) -> int:
    rows = np.flatnonzero(np.asarray(image.scan_mask).any(axis=1))
    return int(rows[-1] - rows[0] + 1) if rows.size else image.height


def _plausible(tick_mm: float, period: float, scan_px: int, height: int) -> Worded | None:
    """Why this interval cannot be right (None: plausible)."""
    mmpp = tick_mm / period
    lo, hi = MM_PER_PX_RANGE
    if not lo <= mmpp <= hi:
        return T.worded(T.BAD_MM_PER_PX, mmpp=mmpp, lo=lo, hi=hi)
    d0, d1 = SCAN_DEPTH_RANGE_MM
    if not d0 <= scan_px * mmpp <= d1:
        return T.worded(T.BAD_SCAN_DEPTH, depth=scan_px * mmpp / 10, lo=d0 / 10, hi=d1 / 10)
    if height * mmpp > MAX_IMAGE_DEPTH_MM:
        return T.worded(T.BAD_IMAGE_DEPTH, depth=height * mmpp / 10)
    return None


def find_rulers(image: UltrasoundImage) -> list[_Ruler]:
    """Every legible column of regular ticks beside the scan area (3 ticks or more), most ticks first."""
    bright = _brightness(image)
    disp = np.asarray(image.display)
    chroma = (disp.max(axis=2).astype(np.float32) - disp.min(axis=2)) if disp.ndim == 3 else bright * 0
    th_full = cv2.morphologyEx(bright, cv2.MORPH_TOPHAT, np.ones((_TOPHAT, 1), np.uint8))
    rulers: list[_Ruler] = []
    for side, c0, c1 in _bands(image):
        if c1 - c0 < 1:
            continue
        th, cand = _tick_candidates(bright[:, c0:c1])
        for lat in _group(_column_lattices(th, cand, c0)):
            ruler = _legible(_measure(lat, side, bright, th_full, chroma), bright, th_full, image.width)
            if ruler is not None:
                rulers.append(ruler)
    return sorted(rulers, key=lambda r: (-len(r.rows), r.rms))


def _harmonic(r: _Ruler, best: _Ruler) -> bool:
    """`r` is `best`'s major ticks seen alone (a column that only the long ticks reach)."""
    m = r.period / best.period
    if round(m) < 2 or abs(m - round(m)) > AGREE * m or r.side != best.side:
        return False
    near = np.abs(r.rows[:, None] - best.rows[None, :]).min(axis=1) <= 1.5
    return bool(near.mean() >= 0.75)


def _refuse_without_ruler(rulers: list[_Ruler]) -> DepthScaleRefusal:
    uneven = [r for r in rulers if len(r.rows) >= MIN_TICKS and r.stray < 2]
    if uneven:
        r = uneven[0]
        return DepthScaleRefusal(
            T.worded(
                T.UNEVEN, count=len(r.rows), side=r.side, rms=r.rms, period=r.period, filled=100 * r.coverage
            )
        )
    irregular = [r for r in rulers if r.stray >= 2 and len(r.rows) + r.stray >= MIN_TICKS]
    if irregular:
        r = irregular[0]
        return DepthScaleRefusal(
            T.worded(T.IRREGULAR, side=r.side, stray=r.stray, count=len(r.rows) + r.stray)
        )
    most = max((len(r.rows) for r in rulers), default=0)
    if most >= 3:
        return DepthScaleRefusal(T.worded(T.TOO_FEW, count=most, minimum=MIN_TICKS))
    return DepthScaleRefusal(T.worded(T.NONE_FOUND))


def _interval(r: _Ruler, scan_px: int, height: int) -> tuple[float, Worded] | DepthScaleRefusal:
    """(mm per tick, why) or a refusal: a pattern of major ticks decides, else the depth it implies."""
    pattern = _pattern(r)
    p = r.period
    if pattern is not None:
        k, feature = pattern
        why = T.worded(_PATTERNS[k][1], f=feature)
        hyps = [10.0, 1.0] if k == 5 else [_PATTERNS[k][0]]
        ok = [t for t in hyps if _plausible(t, p, scan_px, height) is None]
        if len(ok) == 1:
            return ok[0], why
        if not ok:
            problem = _plausible(hyps[0], p, scan_px, height)
            return DepthScaleRefusal(
                T.worded(T.PATTERN_IMPLAUSIBLE, period=p, rule=why, tick=hyps[0], problem=problem)
            )
        return DepthScaleRefusal(
            T.worded(T.PATTERN_AMBIGUOUS, period=p, k=k, f=feature, a=hyps[0], b=hyps[1])
        )
    problem = {t: _plausible(t, p, scan_px, height) for t in (10.0, 5.0)}
    for t, other in ((10.0, 5.0), (5.0, 10.0)):
        depth = scan_px * t / p
        if (
            problem[t] is None
            and problem[other] is not None
            and BREAST_DEPTH_MM[0] <= depth <= BREAST_DEPTH_MM[1]
        ):
            return t, T.worded(T.UNIFORM_RULE, tick=t, depth=depth / 10, other=other, problem=problem[other])
    if problem[10.0] and problem[5.0]:
        pass
    elif problem[10.0] or problem[5.0]:
        t = 5.0 if problem[10.0] else 10.0
        return DepthScaleRefusal(
            T.worded(
                T.UNIFORM_OUTSIDE_BREAST,
                period=p,
                other=15 - t,
                problem=problem[15.0 - t],
                tick=t,
                depth=scan_px * t / p / 10,
            )
        )
    if problem[10.0] and problem[5.0]:
        return DepthScaleRefusal(
            T.worded(T.UNIFORM_NEITHER, period=p, problem_cm=problem[10.0], problem_5mm=problem[5.0])
        )
    return DepthScaleRefusal(
        T.worded(
            T.UNIFORM_BOTH,
            period=p,
            cm=10 / p,
            depth_cm=scan_px * 10 / p / 10,
            mm5=5 / p,
            depth_5mm=scan_px * 5 / p / 10,
        )
    )


def read_depth_scale(image: UltrasoundImage) -> DepthScaleReading | DepthScaleRefusal:
    """mm/pixel from the on-screen depth ruler, with its evidence, or a one-sentence refusal."""
    rulers = find_rulers(image)
    good = [r for r in rulers if len(r.rows) >= MIN_TICKS]
    regular = [
        r for r in good if r.rms <= MAX_RESIDUAL * r.period and r.coverage >= MIN_COVERAGE and r.stray < 2
    ]
    if not regular:
        return _refuse_without_ruler(rulers)
    best = regular[0]
    for r in regular[1:]:
        if _harmonic(r, best):
            continue
        if abs(r.period - best.period) > AGREE * best.period:
            return DepthScaleRefusal(
                T.worded(
                    T.DISAGREE, period=best.period, side=best.side, other_period=r.period, other_side=r.side
                )
            )
    scan_px = _scan_rows(image)
    decided = _interval(best, scan_px, image.height)
    if isinstance(decided, DepthScaleRefusal):
        return decided
    tick_mm, why = decided
    mmpp = tick_mm / best.period
    n = len(best.rows)
    confidence = min(1.0, n / 8) * best.coverage * (1.0 - 0.5 * best.rms / (MAX_RESIDUAL * best.period))
    return DepthScaleReading(
        mm_per_px=mmpp,
        side=best.side,
        column_x=float(np.mean((best.x0 + best.x1) / 2)),
        tick_rows=tuple(float(y) for y in best.rows),
        tick_x=(int(best.x0.min()), int(best.x1.max())),
        period_px=best.period,
        tick_count=n,
        tick_mm=tick_mm,
        interval_rule=why,
        residual_px=best.rms,
        scan_depth_mm=scan_px * mmpp,
        confidence=round(float(confidence), 3),
    )
