"""The learned contour assist at run time: ONNX Runtime on the CPU, no torch (trained by `dlrs train-assist`).

A box: one crop around it (`assist_prompt.box_frame`), the network's probability map pasted back
onto the image, thresholded, the component that best fills the box kept, holes filled, traced into
the same editable `Contour` as every proposal. (Averaging with the mirrored crop was measured on the
validation split: +0.001 Dice for 40 % more time, so it is off by default.)

A click says nothing about the lesion's size and no size in millimetres is assumed: square crops
of several sides (fractions of the scan area's extent) are tried in one batch; the outline (the
component under the click) that agrees best with the others wins, and its box is then run as a box
prompt (the network is more precise with a box). A click is
refused only when no crop shows anything lesion-like under or next to it.

A diameter (two clicks at the ends of the lesion's long axis, as calipers are placed) gives the
size: one crop `assist_prompt.DIAMETER_CROP` × its length around it (bundles trained with recipe 2
or later; `supports_diameter`), the outline nearest the line kept, then refined as a box like a click.

Corrective clicks (bundles whose graph takes `assist_prompt.CORRECTION_CHANNELS` inputs, 2.1.0 on;
`supports_corrections`): a box with points to include and points to exclude, in one run. The box
grows to hold an include point outside it, and the outline kept is the one through the include points.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import cv2
import numpy as np

from dlrs_desktop.errors import ContourError, ModelError
from dlrs_desktop.imaging.types import UltrasoundImage
from dlrs_desktop.roi import assist_prompt as ap
from dlrs_desktop.roi.assist_bundle import AssistBundle, default_bundle_dir, load_assist_bundle
from dlrs_desktop.roi.assist_finish import MIN_BOX_PX, check_box, check_click, finish_contour
from dlrs_desktop.roi.contour import Contour
from dlrs_desktop.wording import QT_TRANSLATE_NOOP

if TYPE_CHECKING:
    from dlrs_desktop.bundle_signature import TrustPolicy

CLICK_SIDES = (0.25, 0.45, 0.8, 1.4)  # crop sides tried for a click, × the scan area's shorter extent
REFINE_PAD = 0.05  # a click or diameter outline's box, padded per side, becomes a box prompt
MAX_CORRECTIONS = 20  # corrective clicks on one box (each is one Gaussian in the input)
GROW_MARGIN = 0.05  # an include point outside the box: the box grows past it by this × its size
HONOUR_MARGIN_PX = 3  # a corrective click ends this far inside (or outside) the outline it forces


class LearnedAssist:
    """A verified bundle and its ONNX Runtime session (thread-safe: one run at a time)."""

    def __init__(self, bundle: AssistBundle) -> None:
        # lazy: onnxruntime (~0.3 s) only where a model runs
        import onnxruntime as ort

        opts = ort.SessionOptions()
        # one thread: on a busy 2-core laptop two ONNX Runtime threads mostly wait for each other
        # (measured 92 vs 45 ms per 2-crop batch at load 12); idle, a crop takes a few ms either way
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        self.bundle = bundle
        self.session = ort.InferenceSession(bundle.onnx_bytes, opts, providers=["CPUExecutionProvider"])
        self.input_name = bundle.manifest["onnx"].get("input", "input")
        inputs = {i.name: i for i in self.session.get_inputs()}
        if self.input_name not in inputs:
            raise ModelError(f"The contour-assist ONNX graph has no input {str(self.input_name)[:40]!r}.")
        try:
            self.channels = ap.graph_channels(inputs[self.input_name].shape)
        except ValueError as exc:
            raise ModelError(str(exc)) from None
        self.threshold = bundle.threshold
        self._lock = threading.Lock()
        self.probabilities(np.zeros((1, self.channels, ap.SIZE, ap.SIZE), np.float32))  # a broken graph fails

    @property
    def label(self) -> str:
        return self.bundle.label

    @property
    def supports_diameter(self) -> bool:
        """Trained with diameter prompts (recipe 2 on): an older bundle never saw two clicks."""
        config = self.bundle.manifest.get("training", {}).get("config", {})
        recipe = config.get("recipe", 1) if isinstance(config, dict) else 1
        return isinstance(recipe, int) and recipe >= 2

    @property
    def supports_corrections(self) -> bool:
        """Takes include/exclude points (2.1.0 on): an older graph has no channels for them."""
        return self.channels == ap.CORRECTION_CHANNELS

    def make_input(self, grey: np.ndarray, frame: ap.CropFrame, **prompt) -> np.ndarray:  # type: ignore[no-untyped-def]
        """`assist_prompt.make_input` with this graph's channel count."""
        return ap.make_input(grey, frame, channels=self.channels, **prompt)

    def probabilities(self, x: np.ndarray, *, mirror: bool = False) -> np.ndarray:
        """N×C×S×S inputs → N×S×S lesion probabilities (with `mirror`: mean of crop and mirror image)."""
        both = np.concatenate([x, x[:, :, :, ::-1]]) if mirror else x
        try:
            with self._lock:
                out = self.session.run(None, {self.input_name: np.ascontiguousarray(both, np.float32)})
        except Exception as exc:  # onnxruntime's own error types: the model is broken, not the user's box
            raise ModelError(f"The contour-assist model failed to run ({type(exc).__name__}).") from None
        logits = np.asarray(out[0]) if out else np.zeros(0)
        if logits.ndim != 4 or logits.shape[0] != len(both) or not np.all(np.isfinite(logits)):
            raise ModelError("The contour-assist model gives no finite outline map (a broken model).")
        p = 1.0 / (1.0 + np.exp(-np.clip(logits[:, 0], -30, 30)))
        n = len(x)
        return 0.5 * (p[:n] + p[n:, :, ::-1]) if mirror else p


_cache: dict[str, LearnedAssist] = {}
_cache_lock = threading.Lock()


def get_learned(path: str | None = None, trust: TrustPolicy | None = None) -> LearnedAssist:
    """The learned assist for a bundle folder (default: the shipped one), loaded and verified once.

    Raises ModelError when the bundle is missing, modified, unreadable or not signed by a trusted key
    (unless `trust` allows unsigned bundles; the default trusts the release key only).
    """
    # lazy: cryptography only when a learned model is loaded
    from dlrs_desktop import bundle_signature as signing

    policy = trust or signing.TrustPolicy()
    path_key = str(path) if path is not None else str(default_bundle_dir())
    key = f"{path_key}|{policy.allow_unsigned}|{','.join(k.key_id for k in policy.keys)}"
    with _cache_lock:
        if key not in _cache:
            bundle = load_assist_bundle(path_key)
            signing.admit(signing.status_of(bundle, policy.keys), policy, "contour-assist bundle")
            _cache[key] = LearnedAssist(bundle)
        return _cache[key]


def keep_and_fill(mask: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """The component with the largest `weight` sum, holes filled."""
    n, lab = cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)
    if n <= 1:
        return np.zeros_like(mask, bool)
    sums = np.bincount(lab.ravel(), weights=weight.ravel(), minlength=n)[1:]
    comp = (lab == 1 + int(np.argmax(sums))).astype(np.uint8)
    contours, _ = cv2.findContours(comp, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    filled = np.zeros_like(comp)
    cv2.drawContours(filled, contours, -1, 1, thickness=cv2.FILLED)
    return filled > 0


def _trace(mask: np.ndarray) -> np.ndarray:
    """Outline of a one-component mask in px, half a pixel outside the centres of its edge pixels
    (traced at 2×), smoothed along its length (σ = 1 px); `finish_contour` then spaces the vertices.
    Faster than `geometry.mask_to_polygon` (no Python-level simplification): the latency budget is
    100 ms per proposal."""
    ys, xs = np.nonzero(mask)
    x0, y0 = int(xs.min()), int(ys.min())
    sub = mask[y0 : ys.max() + 1, x0 : xs.max() + 1].astype(np.uint8)
    up = np.pad(np.repeat(np.repeat(sub, 2, axis=0), 2, axis=1), 1)
    contours, _ = cv2.findContours(up, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    chain = max(contours, key=len).reshape(-1, 2).astype(np.float64)
    chain = (chain - 1 + 0.5) / 2 + np.array([x0, y0], float)
    if len(chain) >= 9:
        k = np.exp(-0.5 * (np.arange(-4, 5) / 2.0) ** 2)
        k /= k.sum()
        padded = np.vstack([chain[-4:], chain, chain[:4]])
        chain = np.column_stack([np.convolve(padded[:, i], k, mode="valid") for i in range(2)])
    return chain


def outline_from_mask(image: UltrasoundImage, mask: np.ndarray, origin: tuple[int, int]) -> Contour:
    if mask.sum() < 9:
        raise ContourError.of(
            QT_TRANSLATE_NOOP("core", "No lesion outline found; draw it by hand or try a tighter box.")
        )
    return finish_contour(image, _trace(mask) + np.asarray(origin, float))


def _pasted(
    model: LearnedAssist, image: UltrasoundImage, prob: np.ndarray, frame: ap.CropFrame
) -> tuple[np.ndarray, np.ndarray, tuple[int, int]]:
    """(probability map on the image, its thresholded mask inside the scan area, their origin)."""
    pmap, (ox, oy) = ap.paste_probability(prob, frame, image.shape)
    scan = image.scan_mask[oy : oy + pmap.shape[0], ox : ox + pmap.shape[1]]
    return pmap, (pmap > model.threshold) & scan, (ox, oy)


def _box_mask(
    model: LearnedAssist,
    image: UltrasoundImage,
    box: tuple[float, float, float, float],
    include: Sequence[tuple[float, float]] = (),
    exclude: Sequence[tuple[float, float]] = (),
) -> tuple[np.ndarray, tuple[int, int]]:
    frame = ap.box_frame(box)
    x = model.make_input(image.gray, frame, box=box, **_corrections(include, exclude))
    pmap, mask, (ox, oy) = _pasted(model, image, model.probabilities(x[None])[0], frame)
    weight = np.zeros(pmap.shape, np.float32)
    bx0, by0 = max(int(box[0]) - ox, 0), max(int(box[1]) - oy, 0)
    weight[by0 : int(np.ceil(box[3])) - oy, bx0 : int(np.ceil(box[2])) - ox] = 1.0
    weight *= pmap
    for px, py in include:  # the outline through the include points, whatever its size
        ix, iy = int(px) - ox, int(py) - oy
        if 0 <= iy < weight.shape[0] and 0 <= ix < weight.shape[1]:
            weight[iy, ix] += float(weight.size)
    return keep_and_fill(mask, weight), (ox, oy)


def _corrections(include: Sequence, exclude: Sequence) -> dict:
    return {"include": tuple(include), "exclude": tuple(exclude)} if include or exclude else {}


def learned_box(
    image: UltrasoundImage,
    box: Sequence[float],
    model: LearnedAssist,
    include: Sequence[Sequence[float]] = (),
    exclude: Sequence[Sequence[float]] = (),
) -> Contour:
    """An outline from a box, with corrective points to include and to exclude (`supports_corrections`)."""
    bx = check_box(image, box)
    if include or exclude:
        if not model.supports_corrections:
            raise ContourError.of(
                QT_TRANSLATE_NOOP(
                    "core", "{model} was not trained on corrective clicks; edit the outline by hand instead."
                ),
                model=model.label,
            )
        if len(include) + len(exclude) > MAX_CORRECTIONS:
            raise ContourError.of(
                QT_TRANSLATE_NOOP(
                    "core", "At most {count} corrective clicks; drag a new box and start again."
                ),
                count=MAX_CORRECTIONS,
            )
        include = [check_click(image, p) for p in include]
        exclude = [check_click(image, p) for p in exclude]
        bx = check_box(image, _grown(bx, include))
    mask, origin = _box_mask(model, image, bx, include, exclude)
    if mask.sum() < max(9, 0.02 * (bx[2] - bx[0]) * (bx[3] - bx[1])):
        raise ContourError.of(
            QT_TRANSLATE_NOOP(
                "core", "No lesion outline found in the box; draw it by hand or try a tighter box."
            )
        )
    if not (include or exclude):
        return outline_from_mask(image, mask, origin)
    # the finished outline (smoothed, vertices about every mm) can shave a small bulge or notch off:
    # widen the margin until the outline as shown keeps every click
    scan = image.scan_mask[origin[1] : origin[1] + mask.shape[0], origin[0] : origin[0] + mask.shape[1]]
    for margin in (HONOUR_MARGIN_PX, HONOUR_MARGIN_PX + 2, HONOUR_MARGIN_PX + 4):
        kept = honour_corrections(mask, origin, include, exclude, margin) & scan  # discs stay in the scan
        contour = outline_from_mask(image, kept, origin)
        if keeps_clicks(contour, include, exclude):
            break
    return contour


def keeps_clicks(
    contour: Contour, include: Sequence[tuple[float, float]], exclude: Sequence[tuple[float, float]]
) -> bool:
    """Every include point at least a pixel inside the outline, every exclude point a pixel outside."""
    poly = contour.points.astype(np.float32).reshape(-1, 1, 2)
    depth = [cv2.pointPolygonTest(poly, (float(x), float(y)), True) for x, y in (*include, *exclude)]
    return all(d >= 1.0 for d in depth[: len(include)]) and all(d <= -1.0 for d in depth[len(include) :])


def depth_at(region: np.ndarray, xy: tuple[int, int]) -> float:
    """How far pixel `xy` lies inside `region` (0 outside it): the distance to its edge, in px."""
    dist = cv2.distanceTransform(np.pad(np.asarray(region, np.uint8), 1), cv2.DIST_L2, 5)
    return float(dist[xy[1] + 1, xy[0] + 1])


def honour_corrections(
    mask: np.ndarray,
    origin: tuple[int, int],
    include: Sequence[tuple[float, float]],
    exclude: Sequence[tuple[float, float]],
    margin: int = HONOUR_MARGIN_PX,
) -> np.ndarray:
    """The outline made to keep every corrective click `margin` px clear of its edge, changing as
    little as it can: an include point the model left out (or took in by less) is joined by a disc
    reaching past it, an exclude point it took in (or left out by less) is cut away by one, as a
    brush stroke would. What the user clicked is then never silently ignored."""
    m = mask.astype(np.uint8)
    h, w = m.shape
    ox, oy = origin

    def local(p: tuple[float, float]) -> tuple[int, int] | None:
        ix, iy = int(p[0]) - ox, int(p[1]) - oy
        return (ix, iy) if 0 <= ix < w and 0 <= iy < h else None

    for p in include:
        at = local(p)
        if at is None or not m.any() or depth_at(m, at) >= margin:
            continue
        cv2.circle(m, at, int(np.ceil(depth_at(1 - m, at))) + margin, 1, -1)  # past the gap, if any
    kept = [a for a in map(local, include) if a is not None]
    for p in exclude:
        at = local(p)
        if at is None or depth_at(1 - m, at) >= margin:
            continue
        cut = np.zeros_like(m)
        cv2.circle(cut, at, int(np.ceil(depth_at(m, at))) + margin, 1, -1)
        if not any(cut[y, x] for x, y in kept):  # never cut away a point the user asked to keep
            m[cut > 0] = 0
    weight = m.astype(np.float32)
    for x, y in kept:
        weight[y, x] += float(weight.size)
    return keep_and_fill(m > 0, weight)


def _grown(
    box: tuple[float, float, float, float], include: Sequence[tuple[float, float]]
) -> tuple[float, float, float, float]:
    """The box grown to hold every include point, with GROW_MARGIN of its size beyond each such point
    (`check_box` clips it to the image again)."""
    x0, y0, x1, y1 = box
    mx, my = GROW_MARGIN * (x1 - x0), GROW_MARGIN * (y1 - y0)
    for px, py in include:
        x0, x1 = (min(x0, px - mx), max(x1, px + mx)) if not x0 <= px <= x1 else (x0, x1)
        y0, y1 = (min(y0, py - my), max(y1, py + my)) if not y0 <= py <= y1 else (y0, y1)
    return x0, y0, x1, y1


@dataclass
class _Candidate:
    penalty: float
    mask: np.ndarray
    origin: tuple[int, int]
    confidence: float = 0.0  # mean probability inside the outline


def _click_candidates(
    model: LearnedAssist, image: UltrasoundImage, xy: tuple[float, float]
) -> list[_Candidate]:
    ys, xs = np.nonzero(image.scan_mask)
    extent = min(xs.max() - xs.min() + 1, ys.max() - ys.min() + 1) if len(xs) else min(image.shape)
    frames = [ap.click_frame(xy, f * extent) for f in CLICK_SIDES]
    x = np.stack([model.make_input(image.gray, fr, click=xy) for fr in frames])
    probs = model.probabilities(x)
    out = []
    for frame, prob in zip(frames, probs, strict=True):
        pmap, mask, (ox, oy) = _pasted(model, image, prob, frame)
        if not mask.any():
            continue
        cx, cy = int(xy[0]) - ox, int(xy[1]) - oy
        # weight components by closeness to the click: the one under it, else the nearest one
        yy, xx = np.mgrid[0 : pmap.shape[0], 0 : pmap.shape[1]]
        near = np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * (0.05 * frame.width) ** 2))
        comp = keep_and_fill(mask, pmap * near)
        penalty = 0.0
        if not comp[min(max(cy, 0), comp.shape[0] - 1), min(max(cx, 0), comp.shape[1] - 1)]:
            penalty += 2.0  # the click is not inside this outline
        if (comp & _crop_cut(frame, image.shape, pmap.shape)).any():
            penalty += 1.0  # runs off the crop: the crop was too small
        out.append(_Candidate(penalty, comp, (ox, oy), float(pmap[comp].mean())))
    if len(out) > 2:
        _add_disagreement(out, image.shape)
    return sorted(out, key=lambda c: c.penalty)


def _add_disagreement(cands: list[_Candidate], shape: tuple[int, int]) -> None:
    """Penalise each candidate by its mean disagreement (1 − IoU) with the others.

    The network only ever saw crops 1.2–3× the lesion, so a crop much smaller than the lesion still
    shows "a lesion about half the crop" somewhere inside it: the crop size cannot be read off one
    answer. Crops of the right size agree with each other; the odd one out is the wrong size.
    """
    full = []
    for c in cands:
        m = np.zeros(shape, bool)
        ox, oy = c.origin
        m[oy : oy + c.mask.shape[0], ox : ox + c.mask.shape[1]] = c.mask
        full.append(m)
    for i, c in enumerate(cands):
        ious = [
            (full[i] & full[j]).sum() / max((full[i] | full[j]).sum(), 1) for j in range(len(cands)) if j != i
        ]
        c.penalty += 1.0 - float(np.mean(ious))


def _crop_cut(frame: ap.CropFrame, shape: tuple[int, int], pshape: tuple[int, int]) -> np.ndarray:
    """The pasted crop's border where it cuts through the image (not where it is the image's edge)."""
    h, w = shape
    m = np.zeros(pshape, bool)
    if frame.x0 >= 0:
        m[:, :2] = True
    if frame.y0 >= 0:
        m[:2, :] = True
    if frame.x1 <= w:
        m[:, -2:] = True
    if frame.y1 <= h:
        m[-2:, :] = True
    return m


def learned_click(image: UltrasoundImage, xy: Sequence[float], model: LearnedAssist) -> Contour:
    x, y = check_click(image, xy)
    cands = _click_candidates(model, image, (x, y))
    if not cands:
        raise ContourError.of(
            QT_TRANSLATE_NOOP(
                "core",
                "Nothing lesion-like around the click; click inside the lesion or drag a box around it.",
            )
        )
    return _refined_as_box(image, cands[0].mask, cands[0].origin, model, (x, y))


def refine_box(x0: float, y0: float, x1: float, y1: float) -> tuple[float, float, float, float]:
    """An outline's bounding box as the box it is run again with: REFINE_PAD of its size per side."""
    px, py = REFINE_PAD * (x1 - x0), REFINE_PAD * (y1 - y0)
    return x0 - px, y0 - py, x1 + px, y1 + py


def _refined_as_box(
    image: UltrasoundImage,
    mask: np.ndarray,
    origin: tuple[int, int],
    model: LearnedAssist,
    inside: tuple[float, float],
) -> Contour:
    """The outline's box (+REFINE_PAD per side) run as a box prompt — the network is more precise with
    a box — kept if it still holds the prompt's point `inside`; else the first outline itself."""
    ys, xs = np.nonzero(mask)
    ox, oy = origin
    box = refine_box(xs.min() + ox, ys.min() + oy, xs.max() + 1 + ox, ys.max() + 1 + oy)
    try:
        contour = learned_box(image, box, model)
        if cv2.pointPolygonTest(contour.points.astype(np.float32).reshape(-1, 1, 2), inside, False) >= 0:
            return contour
    except ContourError:
        pass
    return outline_from_mask(image, mask, origin)


def learned_diameter(
    image: UltrasoundImage, ends: Sequence[Sequence[float]], model: LearnedAssist
) -> Contour:
    """An outline from two clicks at the ends of the lesion's longest diameter."""
    try:
        first, second = ends
    except (TypeError, ValueError):
        raise ContourError.of(
            QT_TRANSLATE_NOOP("core", "A diameter is two points: X1 Y1 X2 Y2 (image pixels).")
        ) from None
    p1, p2 = check_click(image, first), check_click(image, second)
    if np.hypot(p2[0] - p1[0], p2[1] - p1[1]) < MIN_BOX_PX:
        raise ContourError.of(
            QT_TRANSLATE_NOOP(
                "core",
                "The two clicks are closer than {minimum} pixels; click both ends of the lesion's longest "
                "diameter.",
            ),
            minimum=MIN_BOX_PX,
        )
    if not model.supports_diameter:
        raise ContourError.of(
            QT_TRANSLATE_NOOP(
                "core",
                "{model} was not trained on two-click diameters; drag a box around the lesion instead.",
            ),
            model=model.label,
        )
    frame = ap.diameter_frame(p1, p2)
    prob = model.probabilities(model.make_input(image.gray, frame, diameter=(p1, p2))[None])[0]
    pmap, above, (ox, oy) = _pasted(model, image, prob, frame)
    line = np.zeros(pmap.shape, np.uint8)
    cv2.line(line, (int(p1[0]) - ox, int(p1[1]) - oy), (int(p2[0]) - ox, int(p2[1]) - oy), 1, 3)
    mask = keep_and_fill(above, pmap * line)
    if mask.sum() < 9:
        raise ContourError.of(
            QT_TRANSLATE_NOOP(
                "core", "No lesion outline found along the two clicks; drag a box around the lesion."
            )
        )
    return _refined_as_box(image, mask, (ox, oy), model, ((p1[0] + p2[0]) / 2, (p1[1] + p2[1]) / 2))
