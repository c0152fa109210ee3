"""The README's real-data screenshot: the shipped malignancy bundle on a real BrEaST scan (CC BY 4.0).

    xvfb-run -a -s "-screen 0 1600x1000x24" python docs/screenshots/make_real_bus_screenshot.py

The committed fixture `tests/data/real/breast_case173.png` (a malignant lesion of the bundle's external
centre, tests/data/real/breast_ATTRIBUTION.md) is copied to a private folder with its expert mask, opened
in the real window with the bundle `resources/models/dlrs-bus-malignancy`, calibrated with the pixel size
the dataset's sheet records (0.010416667 cm/px), outlined by loading the mask, and predicted; the whole
screen is grabbed as `real-bus-malignancy.png`. Nothing is written beside the fixtures.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
CASE, MM_PER_PX = "breast_case173", 0.010416667 * 10  # the sheet's Pixel_size is in centimetres


def main() -> int:
    sys.path.insert(0, str(HERE))
    from shot_session import grab, private_folders, wait_until

    work = private_folders("dlrs-real-bus-shot-")
    from PySide6.QtWidgets import QApplication

    from dlrs_desktop.ui.app import build_parser, start
    from dlrs_desktop.ui.known_scale import calibrate_known_scale

    real = ROOT / "tests" / "data" / "real"
    for name in (f"{CASE}.png", f"{CASE}_tumor.png"):
        shutil.copy(real / name, work / name)
    app = QApplication(["dlrs-desktop"])
    app.setQuitOnLastWindowClosed(False)
    model = ROOT / "resources" / "models" / "dlrs-bus-malignancy"
    win = start(
        build_parser().parse_args(["--model", str(model), "--language", "en", str(work / f"{CASE}.png")])
    )
    wait_until(lambda: win.model.ready and win.doc.image is not None)
    if not calibrate_known_scale(win, MM_PER_PX):
        raise SystemExit("the known scale was refused")
    win.load_contour_file(work / f"{CASE}_tumor.png")
    win.predict()
    wait_until(lambda: win.doc.result is not None and win.prediction.pending_job is None)
    win.setGeometry(0, 0, 1600, 1000)
    wait_until(lambda: False, tries=2)  # let the result panel and the rings paint
    grab("real-bus-malignancy.png")
    print(HERE / "real-bus-malignancy.png")
    win.files.close_guard = lambda: True  # type: ignore[method-assign]
    win.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
