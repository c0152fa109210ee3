"""Take the README screenshots of the real application under Xvfb (what a user sees, not a mock).

    xvfb-run -a -s "-screen 0 1366x768x24" python docs/screenshots/make_screenshots.py [--model BUNDLE]

Runs the app with the xcb platform on a 1366x768 virtual laptop screen, drives it through realistic
states (first start; demo case predicted; explanation map + window/level + ruler; editing after a
prediction = stale; a folder worklist with an uncalibrated image being calibrated) and grabs the whole
screen. Private data folders are used, nothing is written
beside the samples.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", help="model bundle (default: the bundled one)")
    ap.add_argument("--out", default=str(HERE))
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="dlrs-shots-"))
    os.environ["DLRS_DATA_DIR"] = str(work / "data")
    os.environ["XDG_CONFIG_HOME"] = str(work / "config")
    sys.path.insert(0, str(HERE.parent.parent))

    import numpy as np
    from PIL import Image
    from PySide6.QtCore import QPoint, QPointF, Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from dlrs_desktop import paths
    from dlrs_desktop.ui.app import build_parser, start

    app = QApplication(["dlrs-desktop"])
    app.setQuitOnLastWindowClosed(False)  # we close windows between scenes
    out = Path(args.out)

    def settle(ms: int = 400) -> None:
        QTest.qWait(ms)

    def shot(name: str) -> None:
        settle(300)
        img = app.primaryScreen().grabWindow(0).toImage()
        path = out / name
        img.save(str(path))
        Image.open(path).convert("RGB").quantize(256, dither=Image.Dither.NONE).save(path, optimize=True)
        print(f"{path} {path.stat().st_size // 1024} KB")

    def wait_for(cond, ms: int = 60000) -> None:
        for _ in range(ms // 50):
            if cond():
                return
            settle(50)
        raise SystemExit("timed out waiting for the app")

    def vp(win, x: float, y: float):
        return win.canvas.mapFromScene(QPointF(x, y))

    # First start: nothing open, the canvas says how to begin.
    win = start(build_parser().parse_args(["--no-model"]))
    settle(600)
    shot("empty-start.png")
    win.close()

    argv = ["--demo"] + (["--model", args.model] if args.model else [])
    win = start(build_parser().parse_args(argv))
    wait_for(lambda: win.model.ready and win.doc.contour is not None)
    win.predict()
    wait_for(lambda: win.doc.result is not None)
    win.result_panel.cam.setCurrentIndex(0)
    shot("demo-predicted.png")

    # Reading the image: explanation map of the 10 mm ring, window/level by right-drag, a ruler.
    win.result_panel.cam.setCurrentIndex(win.result_panel.cam.findData("ring_10mm"))
    c = win.canvas.viewport().rect().center()
    QTest.mousePress(win.canvas.viewport(), Qt.MouseButton.RightButton, pos=c)
    QTest.mouseMove(win.canvas.viewport(), pos=c + QPoint(-70, -20))
    QTest.mouseRelease(win.canvas.viewport(), Qt.MouseButton.RightButton, pos=c + QPoint(-70, -20))
    win.set_tool("ruler")
    pts = np.asarray(win.doc.contour.points)
    left, right = pts[np.argmin(pts[:, 0])], pts[np.argmax(pts[:, 0])]
    QTest.mousePress(win.canvas.viewport(), Qt.MouseButton.LeftButton, pos=vp(win, *left))
    QTest.mouseMove(win.canvas.viewport(), pos=vp(win, *(left + right) / 2))
    QTest.mouseRelease(win.canvas.viewport(), Qt.MouseButton.LeftButton, pos=vp(win, *right))
    shot("explain-wl-ruler.png")
    win.result_panel.cam.setCurrentIndex(0)
    win.wl_bar.reset()
    win.doc.set_ruler(None)

    # Editing after the prediction: the result goes stale at once; vertex handles are visible.
    win.set_tool("edit")
    win.canvas.zoom_by(1.6)
    pts = np.asarray(win.doc.contour.points)
    i = int(np.argmax(pts[:, 0]))
    win.canvas.centerOn(QPointF(*pts.mean(axis=0)))
    settle()
    start_pt = pts[i]
    QTest.mousePress(win.canvas.viewport(), Qt.MouseButton.LeftButton, pos=vp(win, *start_pt))
    for t in np.linspace(0, 1, 6)[1:]:
        QTest.mouseMove(win.canvas.viewport(), pos=vp(win, *(start_pt + t * np.array([40.0, 25.0]))))
    QTest.mouseRelease(
        win.canvas.viewport(), Qt.MouseButton.LeftButton, pos=vp(win, *(start_pt + np.array([40.0, 25.0])))
    )
    shot("edit-stale.png")
    win.close()

    # A folder worklist: two scanner DICOMs (one reviewed) and a PNG export without calibration.
    folder = work / "study"
    folder.mkdir()
    for name in ("sample-centre1.dcm", "sample-centre2.dcm"):
        shutil.copy(paths.samples_dir() / name, folder / name)
    from dlrs_desktop.imaging import load_image

    gray = load_image(paths.samples_dir() / "sample-centre2.dcm").gray
    Image.fromarray(np.asarray(gray)).save(folder / "export-no-calibration.png")
    win = start(build_parser().parse_args([str(folder), *(["--model", args.model] if args.model else [])]))
    wait_for(lambda: win.doc.image is not None)
    win.open_path(folder / "sample-centre1.dcm")
    win.files.load_contour_file(paths.samples_dir() / "sample-centre1.contour.json")
    win.prefs.reviewer = "Reviewer A"
    win.toggle_reviewed()
    win.open_path(folder / "sample-centre2.dcm")
    win.files.load_contour_file(paths.samples_dir() / "sample-centre2.contour.json")
    win.open_path(folder / "export-no-calibration.png")
    win.worklist.wait_for_scan()
    settle()
    win.set_tool("calibrate")
    h = win.doc.image.height
    x = win.doc.image.width * 0.93
    QTest.mousePress(win.canvas.viewport(), Qt.MouseButton.LeftButton, pos=vp(win, x, h * 0.15))
    QTest.mouseMove(win.canvas.viewport(), pos=vp(win, x, h * 0.55))
    QTest.mouseMove(win.canvas.viewport(), pos=vp(win, x, h * 0.8))
    shot("worklist-calibrate.png")
    win.tool.cancel()
    win.close()
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
