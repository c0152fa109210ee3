"""Exports: one-page PDF report (Qt's own PDF writer), ROI masks as PNG, the annotation JSON.

The report is de-identified: the image is named by a short hash, never by its file name or any DICOM
patient field, and it carries the model's research-use notice. A stale result is printed as stale.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QMarginsF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPageLayout, QPageSize, QPainter, QPdfWriter
from PySide6.QtWidgets import QFileDialog

from dlrs_desktop.errors import DlrsError
from dlrs_desktop.fileio import atomic_write_bytes, atomic_write_json
from dlrs_desktop.textsafe import escape_terminal
from dlrs_desktop.ui import dialogs
from dlrs_desktop.ui.canvas import array_to_qimage
from dlrs_desktop.ui.panels import (
    REGION_LABELS,
    format_probability,
    paint_bars,
    region_probabilities,
    result_lines,
)

if TYPE_CHECKING:
    from dlrs_desktop.ui.mainwindow import MainWindow

NOTICE = "Research use · demonstration model trained on synthetic data"


def cam_rgba(prediction: Any, region: str, shape: tuple[int, int]) -> np.ndarray | None:
    """Explanation map of one region as a display overlay: orange = evidence for response, blue = against.

    Opacity follows |value| relative to the strongest value in the region; outside the region it is clear.
    """
    cam = next((c for c in getattr(prediction, "cams", None) or () if c.name == region), None)
    if cam is None:
        return None
    values = cam.full(tuple(shape))
    finite = np.isfinite(values)
    if not finite.any():
        return None
    scale = float(np.nanmax(np.abs(values))) or 1.0
    v = np.where(finite, values / scale, 0.0)
    rgba = np.zeros((*values.shape, 4), dtype=np.uint8)
    pos = v > 0
    rgba[pos] = (230, 159, 0, 0)
    rgba[~pos] = (0, 114, 178, 0)
    rgba[..., 3] = (200 * np.abs(v)).clip(0, 255).astype(np.uint8)
    return rgba


def render_view(win: MainWindow, max_side: int = 1400) -> QImage:
    """The image with contour and rings as on screen (no tool previews or cursors)."""
    canvas = win.canvas
    rect = canvas.image_rect()
    scale = min(1.0, max_side / max(rect.width(), rect.height(), 1))
    out = QImage(int(rect.width() * scale), int(rect.height() * scale), QImage.Format.Format_RGB32)
    out.fill(QColor(0, 0, 0))
    hidden = [canvas.tool_item, canvas.measure_item, canvas.measure_text, canvas.handles_item]
    states = [i.isVisible() for i in hidden]
    for i in hidden:
        i.setVisible(False)
    p = QPainter(out)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    canvas.scene().render(p, QRectF(out.rect()), rect)
    p.end()
    for i, s in zip(hidden, states, strict=True):
        i.setVisible(s)
    return out


def write_pdf(win: MainWindow, path: str | Path) -> Path:
    doc = win.doc
    if doc.image is None:
        raise DlrsError("Open an image before exporting a report.")
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    writer = QPdfWriter(str(tmp))
    writer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
    writer.setPageMargins(QMarginsF(12, 12, 12, 12), QPageLayout.Unit.Millimeter)
    writer.setResolution(150)
    writer.setTitle("DLRS Desktop report")
    writer.setCreator("DLRS Desktop")
    p = QPainter(writer)
    try:
        _paint_report(p, win, QRectF(0, 0, writer.width(), writer.height()))
    finally:
        p.end()
    data = tmp.read_bytes()
    tmp.unlink(missing_ok=True)
    return atomic_write_bytes(path, data)


def _paint_report(p: QPainter, win: MainWindow, page: QRectF) -> None:
    doc = win.doc
    w = page.width()
    y = 0.0

    def text(s: str, size: int = 10, bold: bool = False, color: QColor | None = None, h: float = 0) -> None:
        nonlocal y
        s = escape_terminal(s)  # text from files (model id, labels) never carries control characters
        f = QFont("Sans Serif", size)
        f.setBold(bold)
        p.setFont(f)
        p.setPen(color or QColor(0, 0, 0))
        flags = int(Qt.AlignmentFlag.AlignLeft) | int(Qt.TextFlag.TextWordWrap)
        needed = p.boundingRect(QRectF(0, y, w, 10000), flags, s).height()  # wrapped height
        height = max(h, needed + size * 150 / 72 * 0.4)
        p.drawText(QRectF(0, y, w, height), flags, s)
        y += height

    text("DLRS Desktop — early-response report", 16, True)
    text(NOTICE + ". Not a diagnosis.", 10, True, QColor(213, 94, 0))
    cal = doc.calibration
    text(
        f"Image {doc.base_image.sha256[:12]} · frame {doc.frame + 1}/{doc.base_image.frame_count} · "
        f"{cal.label() if cal else 'not calibrated'} · {datetime.now().strftime('%Y-%m-%d %H:%M')}",
        9,
    )
    img = render_view(win)
    box_h = page.height() * 0.42
    scale = min(w / img.width(), box_h / img.height())
    target = QRectF(0, y + 6, img.width() * scale, img.height() * scale)
    p.drawImage(target, img)
    y = target.bottom() + 18
    legend = "Contour (yellow) · 3 mm (sky blue) · 5 mm (orange) · 10 mm (purple) rings"
    text(legend, 8, color=QColor(90, 90, 90))

    text("Tumour and rings", 12, True)
    c = doc.contour
    if c is not None and cal is not None:
        try:
            m = c.measurements()
            text(
                f"Area {m.area_mm2:.1f} mm² · longest diameter {m.max_diameter_mm:.1f} mm · "
                f"perpendicular {m.perpendicular_diameter_mm:.1f} mm · perimeter {m.perimeter_mm:.1f} mm",
                10,
            )
        except DlrsError as exc:
            text(str(exc), 10)
    rois, err = doc.rois()
    if rois is not None:
        for r in rois.rings:
            flag = "  ⚠ leaves the scan area" if r.flagged else ""
            text(
                f"{REGION_LABELS.get(r.name, r.name)}: {r.area_mm2:.1f} mm², "
                f"{100 * r.clipped_fraction:.0f} % outside the scan area{flag}",
                9,
            )
    elif err:
        text(err, 9)
    text(f"Review: {doc.review.status}" + (f" by {doc.review.reviewer} at {doc.review.time}"
         if doc.review.status == "reviewed" else ""), 9)  # fmt: skip

    text("Prediction", 12, True)
    if doc.result is None:
        text("No prediction was made for this contour.", 10)
        return
    if doc.result_state == "unverified":
        text("No verified prediction: the result stored in the annotation file was not re-computed on "
             "this computer, so it is not reported. Press Predict, then export again.",
             10, True, QColor(213, 94, 0))  # fmt: skip
        return
    pred = doc.result.get("prediction", {})
    stale = doc.result_is_stale
    if stale:
        text("STALE: the contour changed after this prediction; it does not describe the contour shown.",
             10, True, QColor(213, 94, 0))  # fmt: skip
    prob = float(pred.get("probability", float("nan")))
    threshold = pred.get("threshold")
    text(
        f"Probability of early response: {format_probability(prob, threshold)}",
        18,
        True,
        QColor(120, 120, 120) if stale else None,
    )
    thr = f" (threshold {float(threshold):.2f})" if threshold is not None else ""
    text(f"{pred.get('category', '')}{thr}", 11)
    bars = region_probabilities(pred)
    if bars:
        p.setFont(QFont("Sans Serif", 9))
        p.setPen(QColor(0, 0, 0))
        rect = QRectF(0, y, w * 0.8, 40.0 * len(bars))
        paint_bars(p, rect, bars, threshold, stale)
        y = rect.bottom() + 8
    for line in result_lines(doc.result):
        text(line, 9)
    notice = (doc.result.get("model") or {}).get("notice") or pred.get("research_notice")
    if notice:
        text(str(notice), 9, True, QColor(213, 94, 0))


def _ask_path(win: MainWindow, title: str, name: str, flt: str) -> str | None:
    start = str(Path(win.prefs.export_folder or Path.home()) / name)
    path, _ = QFileDialog.getSaveFileName(win, title, start, flt)
    if path:
        win.prefs.export_folder = str(Path(path).parent)
    return path or None


def _default_name(win: MainWindow) -> str:
    base = win.doc.base_image
    return f"dlrs-{base.sha256[:12]}" if base is not None else "dlrs"


def export_pdf_dialog(win: MainWindow, path: str | None = None) -> Path | None:
    if win.doc.image is None:
        dialogs.error(win, "Open an image before exporting a report.")
        return None
    path = path or _ask_path(win, "Export PDF report", _default_name(win) + ".pdf", "PDF (*.pdf)")
    if not path:
        return None
    try:
        out = write_pdf(win, path)
    except (DlrsError, OSError) as exc:
        dialogs.error(win, f"The report could not be written: {exc}")
        return None
    win.show_status(f"Report written: {out}")
    return out


def _png_bytes(mask: np.ndarray) -> bytes:
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice

    img = array_to_qimage((np.asarray(mask, dtype=bool) * np.uint8(255)).astype(np.uint8))
    data = QByteArray()
    buf = QBuffer(data)
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    img.save(buf, "PNG")
    buf.close()
    return bytes(data.data())


def export_masks_dialog(win: MainWindow, folder: str | None = None) -> list[Path]:
    doc = win.doc
    rois, err = doc.rois()
    if rois is None:
        dialogs.error(win, err or "Draw a contour on a calibrated image first.")
        return []
    if folder is None:
        folder = QFileDialog.getExistingDirectory(win, "Export masks to folder", win.prefs.export_folder)
        if not folder:
            return []
    out: list[Path] = []
    stem = _default_name(win)
    shape = doc.image.shape
    try:
        out.append(atomic_write_bytes(Path(folder) / f"{stem}_intratumoral.png", _png_bytes(
            rois.tumour.full("expanded", shape))))  # fmt: skip
        for ring in rois.rings:
            out.append(atomic_write_bytes(Path(folder) / f"{stem}_{ring.name}.png", _png_bytes(
                ring.full("annulus", shape))))  # fmt: skip
    except OSError as exc:
        dialogs.error(win, f"The masks could not be written: {exc.strerror or exc}")
        return out
    win.show_status(f"{len(out)} masks written to {folder}")
    return out


def export_annotation_dialog(win: MainWindow, path: str | None = None) -> Path | None:
    if win.doc.base_image is None:
        dialogs.error(win, "Open an image first.")
        return None
    path = path or _ask_path(win, "Export annotation", _default_name(win) + ".json", "JSON (*.json)")
    if not path:
        return None
    try:
        out = atomic_write_json(path, win.doc.to_annotation().to_dict())
    except OSError as exc:
        dialogs.error(win, f"The annotation could not be written: {exc.strerror or exc}")
        return None
    win.show_status(f"Annotation written: {out}")
    return out
