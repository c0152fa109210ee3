"""Real breast scans with expert masks: is the lesion ever outside the scan area, and how many views?

Usage: python benchmarks/check_scan_area_real.py BUSI_DIR BUSBRA_DIR
BUSI_DIR holds benign/ and malignant/ with images/ and mask/ ("<name>_mask.png", further lesions
"<name>_mask_1.png", ...); BUSBRA_DIR holds Images/bus_<id>.png and Masks/mask_<id>.png.
A failure is a lesion with > 0.1 % of its pixels outside `scan_mask`. Prints per set: images,
failures (with names), view_count distribution. Exit 1 on any failure.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import cv2
import numpy as np

from dlrs_desktop.imaging import load_image

LIMIT = 0.001  # fraction of the lesion allowed outside the scan area


def _pairs_busi(root: Path):
    for cls in ("benign", "malignant"):
        for img in sorted((root / cls / "images").glob("*.png")):
            masks = sorted((root / cls / "mask").glob(f"{img.stem}_mask*.png"))  # _mask, _mask_1, ...
            yield img, masks


def _pairs_busbra(root: Path):
    for img in sorted((root / "Images").glob("bus_*.png")):
        yield img, [root / "Masks" / img.name.replace("bus_", "mask_")]


def check(name: str, pairs) -> int:
    views: Counter[int] = Counter()
    failures, n = [], 0
    for img_path, mask_paths in pairs:
        im = load_image(img_path)
        scan = np.asarray(im.scan_mask)
        lesion = np.zeros(scan.shape, bool)
        for mp in mask_paths:
            m = cv2.imread(str(mp), cv2.IMREAD_GRAYSCALE)
            if m is not None and m.shape == scan.shape:
                lesion |= m > 127
        n += 1
        views[im.view_count] += 1
        if lesion.any() and (lesion & ~scan).sum() > LIMIT * lesion.sum():
            failures.append(f"{img_path.name} ({(lesion & ~scan).sum() / lesion.sum():.1%} outside)")
    bad = len(failures)
    print(f"{name}: {n} images, {bad} with > {LIMIT:.1%} of the lesion outside; views {dict(views)}")
    for f in failures:
        print("  ", f)
    return bad


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python benchmarks/check_scan_area_real.py BUSI_DIR BUSBRA_DIR")
    busi, busbra = Path(sys.argv[1]), Path(sys.argv[2])
    bad = check("BUSI", _pairs_busi(busi)) + check("BUS-BRA", _pairs_busbra(busbra))
    sys.exit(1 if bad else 0)
