"""Contour assist: an outline proposed from a box or a click, and snap-to-edge correction (no Qt).

Every function returns an ordinary `Contour` (vertices about every millimetre, 16-80 of them,
smooth, inside the scan area, valid under `validate_contour`), so a proposal is edited, saved and
undone exactly like a hand-drawn outline. Two engines: the learned model trained on real breast
ultrasound (BUS-BRA + BUSI; `roi.assist_learned`, docs/ASSIST_MODEL.md), used whenever its bundle
(resources/models/dlrs-assist) is present and intact, and the classical image analysis below (no
training data), the fallback. `propose_box` / `propose_click` also say which engine answered.

Times: 20-150 ms per proposal on a 2-core laptop; the GUI runs these in a worker thread.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypedDict, Unpack

import cv2
import numpy as np

from dlrs_desktop.errors import ContourError, ModelError, reason_of
from dlrs_desktop.imaging.types import UltrasoundImage
from dlrs_desktop.roi import assist_segment as seg
from dlrs_desktop.roi import geometry as geo
from dlrs_desktop.roi.assist_finish import check_box, check_click, finish_contour
from dlrs_desktop.roi.assist_learned import get_learned, learned_box, learned_click, learned_diameter
from dlrs_desktop.roi.assist_local import correct_edited
from dlrs_desktop.roi.contour import Contour
from dlrs_desktop.wording import QT_TRANSLATE_NOOP, Worded

METHODS = ("chan-vese+grabcut", "grabcut", "chan-vese", "otsu")
FILTERS = ("diffusion", "median", "gauss", "bilateral")
DEFAULT_METHOD = "chan-vese+grabcut"
DEFAULT_FILTER = "diffusion"


ENGINES = ("auto", "learned", "classical")


@dataclass(frozen=True)
class Proposal:
    """A proposed outline and what produced it ("learned dlrs-assist 2.0.0", "classical …")."""

    contour: Contour
    method: str  # "learned" | "classical"
    detail: str | Worded  # the model's id and version, or the classical method; plus why, if it fell back


def _learned_or_none(engine: str, bundle: str | None, trust: Any = None):  # type: ignore[no-untyped-def]
    """The learned assist, or None (with the reason) when `engine` allows the classical fallback."""
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; expected one of {ENGINES}")
    if engine == "classical":
        return None, Worded(QT_TRANSLATE_NOOP("core", "classical requested"))
    try:
        return get_learned(bundle, trust), ""
    except ModelError as exc:
        if engine == "learned":
            raise
        return None, reason_of(exc)
    except ImportError as exc:  # onnxruntime missing from a stripped install
        if engine == "learned":
            raise ModelError(f"The learned contour assist needs onnxruntime ({exc}).") from None
        return None, Worded(
            QT_TRANSLATE_NOOP("core", "onnxruntime unavailable ({detail})"), {"detail": str(exc)}
        )


#: (without a reason, with one): a corrective click when the learned assist cannot take it
CORRECTIONS_NEED_LEARNED = (
    QT_TRANSLATE_NOOP(
        "core", "Corrective clicks need the learned contour assist; edit the outline by hand instead."
    ),
    QT_TRANSLATE_NOOP(
        "core", "Corrective clicks need the learned contour assist ({why}); edit the outline by hand instead."
    ),
)


def _needs_learned(plain: str, with_reason: str, why: str | Worded) -> ContourError:
    """The refusal of a prompt only the learned assist takes, with the reason it is not there if any."""
    return ContourError.of(with_reason, why=why) if why else ContourError.of(plain)


class AssistOptions(TypedDict, total=False):
    """How `propose_box`/`propose_click` outline: `engine` "auto" (the learned model if its bundle is
    there, else classical), "learned" or "classical"; `bundle` another assist bundle; `method` and
    `speckle` the classical method; `trust` (bundle_signature.TrustPolicy) which assist bundles may be
    used (default: release-signed)."""

    engine: str
    bundle: str | None
    method: str
    speckle: str
    trust: Any


def propose_box(image: UltrasoundImage, box: Sequence[float], **options: Unpack[AssistOptions]) -> Proposal:
    """An outline from a box by the learned model if its bundle is there (engine "auto"), else classical."""
    return _propose("box", image, box, options)


def propose_click(image: UltrasoundImage, xy: Sequence[float], **options: Unpack[AssistOptions]) -> Proposal:
    """An outline from a click by the learned model if its bundle is there (engine "auto"), else classical."""
    return _propose("click", image, xy, options)


def propose_diameter(
    image: UltrasoundImage, ends: Sequence[Sequence[float]], **options: Unpack[AssistOptions]
) -> Proposal:
    """An outline from two clicks at the ends of the lesion's longest diameter (where calipers go).

    Learned model only (recipe 2 bundles on): the classical methods need a box or a click, and the
    box a diameter implies would be a guess at the lesion's width. Raises ContourError with a plain
    sentence when the model cannot take a diameter (engine "classical", a missing or older bundle).
    """
    engine = options.get("engine", "auto")
    model, why = _learned_or_none(engine, options.get("bundle"), options.get("trust"))
    if model is None:
        raise _needs_learned(
            QT_TRANSLATE_NOOP(
                "core",
                "A two-click diameter needs the learned contour assist; drag a box around the lesion "
                "instead.",
            ),
            QT_TRANSLATE_NOOP(
                "core",
                "A two-click diameter needs the learned contour assist ({why}); drag a box around the "
                "lesion instead.",
            ),
            why,
        )
    return Proposal(learned_diameter(image, ends, model), "learned", model.label)


def propose_corrected(
    image: UltrasoundImage,
    box: Sequence[float],
    include: Sequence[Sequence[float]] = (),
    exclude: Sequence[Sequence[float]] = (),
    **options: Unpack[AssistOptions],
) -> Proposal:
    """An outline from a box and corrective clicks: points the outline must take in (`include`) and
    points it must leave out (`exclude`), as a sonographer corrects a proposal.

    Learned model only, bundles that take corrections (2.1.0 on): the classical methods have no way
    to take them. Raises ContourError with a plain sentence otherwise.
    """
    model, why = _learned_or_none(options.get("engine", "auto"), options.get("bundle"), options.get("trust"))
    if model is None:
        raise _needs_learned(*CORRECTIONS_NEED_LEARNED, why)
    return Proposal(learned_box(image, box, model, include, exclude), "learned", model.label)


def propose_local_correction(
    image: UltrasoundImage,
    current: Contour,
    xy: Sequence[float],
    include: bool,
    **options: Unpack[AssistOptions],
) -> Proposal:
    """A corrective click on an outline the user drew or edited: the outline changes near the click
    only, the rest of the user's outline is kept (`roi.assist_local`). Learned model only, as
    `propose_corrected`; raises ContourError with a plain sentence otherwise."""
    model, why = _learned_or_none(options.get("engine", "auto"), options.get("bundle"), options.get("trust"))
    if model is None or not model.supports_corrections:
        if not why and model is not None:
            why = Worded(
                QT_TRANSLATE_NOOP("core", "{model} was not trained on corrective clicks"),
                {"model": model.label},
            )
        raise _needs_learned(*CORRECTIONS_NEED_LEARNED, why)
    xy2 = (float(xy[0]), float(xy[1]))
    near = Worded(QT_TRANSLATE_NOOP("core", "{model}, local"), {"model": model.label})
    return Proposal(correct_edited(image, current, xy2, include, model), "learned", near)


def _propose(prompt: str, image: UltrasoundImage, where: Sequence[float], options: AssistOptions) -> Proposal:
    """One fallback rule for both prompts: the learned model when it loads and runs, else the classical
    method, with the reason the learned one was not used (a broken model is not the user's box)."""
    engine = options.get("engine", "auto")
    method, speckle = options.get("method", DEFAULT_METHOD), options.get("speckle", DEFAULT_FILTER)
    model, why = _learned_or_none(engine, options.get("bundle"), options.get("trust"))
    if model is not None:
        learned = learned_box if prompt == "box" else learned_click
        try:
            return Proposal(learned(image, where, model), "learned", model.label)
        except ModelError as exc:
            if engine == "learned":
                raise
            why = Worded(
                QT_TRANSLATE_NOOP("core", "the learned model failed: {error}"),
                {"error": reason_of(exc)},
            )
    classical = _classical_box if prompt == "box" else _classical_click
    contour = classical(image, where, method, speckle)
    detail = (
        Worded(QT_TRANSLATE_NOOP("core", "{method} ({why})"), {"method": method, "why": why})
        if why
        else method
    )
    return Proposal(contour, "classical", detail)


def propose_from_box(
    image: UltrasoundImage, box: Sequence[float], **options: Unpack[AssistOptions]
) -> Contour:
    """A lesion outline inside `box` (x0, y0, x1, y1 in image px): `propose_box(...).contour`.

    engine "auto": the learned model (resources/models/dlrs-assist) when its bundle is present and
    intact, the classical method otherwise; "learned" / "classical" force one (see `propose_box`).
    Raises ContourError when the box is unusable or nothing lesion-like is found in it.
    """
    return propose_box(image, box, **options).contour


def propose_from_click(
    image: UltrasoundImage, xy: Sequence[float], **options: Unpack[AssistOptions]
) -> Contour:
    """A lesion outline from one click inside a lesion: `propose_click(...).contour`.

    engine "auto": the learned model when its bundle is present (it needs no size and accepts
    anechoic, isoechoic and heterogeneous lesions), else the classical search (`_classical_click`),
    which assumes a hypoechoic lesion.
    """
    return propose_click(image, xy, **options).contour


def _classical_box(image: UltrasoundImage, box: Sequence[float], method: str, speckle: str) -> Contour:
    """The classical outline inside `box`: speckle filter, then `method` on the crop."""
    bx = check_box(image, box)
    crop = seg.make_crop(image, bx)
    f = seg.speckle_filter(crop, speckle)
    if method == "grabcut":
        raw = seg.segment_grabcut(crop, f)
    elif method == "chan-vese":
        raw = seg.segment_chan_vese(crop, f)
    elif method == "chan-vese+grabcut":
        first = seg.segment_chan_vese(crop, f)
        raw = seg.segment_grabcut(crop, f, init=first)
        inter = float((raw & first).sum())
        if 2 * inter < 0.75 * (raw.sum() + first.sum()):  # GrabCut lost the lesion: keep Chan-Vese
            raw = first
    elif method == "otsu":
        raw = seg.segment_otsu(crop, f)
    else:
        raise ValueError(f"unknown method {method!r}; expected one of {METHODS}")
    mask = seg.keep_lesion_component(crop, raw)
    return _mask_to_contour(image, crop, mask)


def _mask_to_contour(image: UltrasoundImage, crop, mask: np.ndarray) -> Contour:  # type: ignore[no-untyped-def]
    x0, y0, x1, y1 = crop.box
    area = int(mask.sum())
    if area < 9 or area < 0.02 * (x1 - x0) * (y1 - y0):
        raise ContourError.of(
            QT_TRANSLATE_NOOP(
                "core", "No lesion outline found in the box; draw it by hand or try a tighter box."
            )
        )
    pts = geo.mask_to_polygon(mask, upsample=2, smooth_px=1.0, tolerance=0.05)
    if pts is None:  # pragma: no cover - a non-empty mask always has an outline
        raise ContourError.of(
            QT_TRANSLATE_NOOP("core", "No lesion outline found in the box; draw it by hand.")
        )
    return finish_contour(image, crop.to_image(pts))


CLICK_SEARCH_MM = 25.0  # farthest lesion margin looked for from a click
CLICK_RAYS = 32
CLICK_BOX_HALF_MM = (8.0, 12.0)  # square boxes tried around a click, besides the ray-cast ones


def _classical_click(image: UltrasoundImage, xy: Sequence[float], method: str, speckle: str) -> Contour:
    """The classical outline from a click (a hypoechoic lesion assumed).

    A click does not say how big the lesion is, so several boxes are tried: two from rays cast
    through the speckle-filtered image (the margin is where the grey level climbs half-way from the
    lesion's level to the surrounding tissue's and stays there for 1 or 2 mm) and squares of 16 and
    24 mm around the click (a 10 mm square almost never won on the tuning cohorts). Each goes
    through `_classical_box`; the proposal that contains the click, stays off its box's border
    (a proposal that runs along the border has leaked into the surroundings) and has the strongest
    contrast with a 1-3 mm ring around it wins.
    """
    x, y = check_click(image, xy)
    h, w = image.shape
    cal = image.calibration_for(np.array([[x, y]])) or image.calibration
    px_per_mm = 1.0 / min(cal.mm_per_px_x, cal.mm_per_px_y) if cal else min(h, w) / 4 / CLICK_SEARCH_MM
    reach = CLICK_SEARCH_MM * px_per_mm
    box = (max(x - reach, 0.0), max(y - reach, 0.0), min(x + reach, float(w)), min(y + reach, float(h)))
    crop = seg.make_crop(image, box)
    f = seg.speckle_filter(crop, speckle)
    f = np.where(crop.scan, f, np.float32(255))  # the black margin is not lesion
    c = crop.to_crop(np.array([[x, y]]))[0]
    yy, xx = np.mgrid[0 : f.shape[0], 0 : f.shape[1]]
    near = (xx - c[0]) ** 2 + (yy - c[1]) ** 2 <= crop.px(2.0) ** 2
    # the lesion's level: the darker part of a 2 mm disc, so a click on a bright fleck still counts
    inner_level = float(np.percentile(f[near], 30)) if near.any() else float(f[int(c[1]), int(c[0])])
    outer_level = float(np.percentile(f[crop.scan], 60)) if crop.scan.any() else 255.0
    if outer_level - inner_level < 10:
        raise ContourError.of(
            QT_TRANSLATE_NOOP(
                "core", "The click is not inside a darker lesion; drag a box around the lesion instead."
            )
        )
    boxes = [_ray_box(crop, f, c, inner_level + 0.5 * (outer_level - inner_level), s) for s in (2.0, 1.0)]
    boxes += [
        (x - r * px_per_mm, y - r * px_per_mm, x + r * px_per_mm, y + r * px_per_mm)
        for r in CLICK_BOX_HALF_MM
    ]
    best: tuple[float, Contour] | None = None
    tried: list[tuple[float, ...]] = []
    for b in boxes:
        if b is None or any(_box_iou(b, t) > 0.9 for t in tried):
            continue
        tried.append(tuple(b))
        try:
            bx = check_box(image, b)
            contour = _classical_box(image, bx, method, speckle)
        except ContourError:
            continue
        score = _click_score(image, contour, bx, (x, y))
        if score is not None and (best is None or score > best[0]):
            best = (score, contour)
    if best is None:
        raise ContourError.of(
            QT_TRANSLATE_NOOP(
                "core", "No lesion found around the click; drag a box around the lesion instead."
            )
        )
    return best[1]


def _box_iou(a: Sequence[float], b: Sequence[float]) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _ray_box(crop, f: np.ndarray, c: np.ndarray, threshold: float, sustain_mm: float):  # type: ignore[no-untyped-def]
    """Box (image px) around where rays from `c` first cross `threshold` for `sustain_mm`, or None."""
    r = np.arange(0, crop.px(CLICK_SEARCH_MM), 0.5)
    ang = np.linspace(0, 2 * np.pi, CLICK_RAYS, endpoint=False)
    px = (c[0] + np.cos(ang)[:, None] * r[None, :]).astype(np.float32)
    py = (c[1] + np.sin(ang)[:, None] * r[None, :]).astype(np.float32)
    prof = cv2.remap(f, px, py, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=255)
    above = (prof >= threshold).astype(np.int32)
    k = max(1, int(crop.px(sustain_mm) / 0.5))  # sustained: not a bright patch inside the lesion
    run = np.cumsum(np.pad(above, ((0, 0), (0, k)), constant_values=1)[:, ::-1], axis=1)[:, ::-1]
    above = (run[:, : len(r)] - run[:, k : k + len(r)]) >= k
    first = np.where(above.any(axis=1), above.argmax(axis=1), len(r) - 1)
    radii = r[first]
    med = float(np.median(radii))
    if med < crop.px(1.0):
        return None
    radii = np.clip(radii, 0.5 * med, 2.0 * med)
    ex = crop.to_image(np.column_stack([c[0] + np.cos(ang) * radii, c[1] + np.sin(ang) * radii]))
    lo, hi = ex.min(axis=0), ex.max(axis=0)
    pad = 0.12 * (hi - lo)
    return (*(lo - pad), *(hi + pad))


def _click_score(
    image: UltrasoundImage, contour: Contour, box: tuple[float, float, float, float], xy: tuple[float, float]
) -> float | None:
    """Contrast of the proposal with a ring around it, minus a penalty for running along the box border."""
    pts = contour.points
    if cv2.pointPolygonTest(pts.astype(np.float32).reshape(-1, 1, 2), xy, False) < 0:
        return None
    cal = contour.calibration
    px = 1.0 / min(cal.mm_per_px_x, cal.mm_per_px_y) if cal else 0.02 * max(box[2] - box[0], box[3] - box[1])
    x0, y0 = int(max(pts[:, 0].min() - 4 * px, 0)), int(max(pts[:, 1].min() - 4 * px, 0))
    x1 = int(min(pts[:, 0].max() + 4 * px, image.width))
    y1 = int(min(pts[:, 1].max() + 4 * px, image.height))
    g = cv2.GaussianBlur(np.asarray(image.gray[y0:y1, x0:x1], np.float32), (0, 0), max(0.5 * px, 0.5))
    inside = geo.rasterize(pts, g.shape, origin=(x0, y0))
    k1 = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * max(int(px), 1) + 1,) * 2)
    k3 = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * max(int(3 * px), 1) + 1,) * 2)
    u8 = inside.astype(np.uint8)
    ring = (cv2.dilate(u8, k3) > 0) & ~(cv2.dilate(u8, k1) > 0) & image.scan_mask[y0:y1, x0:x1]
    if not inside.any() or not ring.any():
        return None
    contrast = (float(np.median(g[ring])) - float(np.median(g[inside]))) / (float(np.std(g[ring])) + 1.0)
    bw, bh = box[2] - box[0], box[3] - box[1]
    tol_x, tol_y = 0.04 * bw + 1, 0.04 * bh + 1
    on_border = (
        (np.abs(pts[:, 0] - box[0]) < tol_x)
        | (np.abs(pts[:, 0] - box[2]) < tol_x)
        | (np.abs(pts[:, 1] - box[1]) < tol_y)
        | (np.abs(pts[:, 1] - box[3]) < tol_y)
    )
    return contrast - 3.0 * float(on_border.mean())
