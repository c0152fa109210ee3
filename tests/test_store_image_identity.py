"""The key annotations are stored under is the sha256 of the very bytes that were decoded (issue 14):
a file replaced while it is being read never yields one file's pixels under the other file's hash."""

from __future__ import annotations

import os
import shutil
import threading

import numpy as np
import pytest

from dlrs_desktop.errors import ImageLoadError
from dlrs_desktop.imaging import load_image
from tests.ui_factory import calibrated_dicom, uncalibrated_png


@pytest.mark.parametrize("kind", ["dicom", "png"])
def test_pixels_and_hash_come_from_the_same_bytes_while_the_file_is_replaced(tmp_path, kind):
    if kind == "dicom":
        a, b = calibrated_dicom(tmp_path, "a.dcm", seed=1), calibrated_dicom(tmp_path, "b.dcm", seed=2)
    else:
        a = uncalibrated_png(tmp_path, "a.png")
        b = tmp_path / "b.png"
        from PIL import Image

        Image.fromarray(255 - np.asarray(Image.open(a))).save(b)
    truth = {}
    for src in (a, b):
        img = load_image(src)
        truth[img.sha256] = img.gray.copy()
    assert len(truth) == 2
    target = tmp_path / f"target{a.suffix}"
    shutil.copy(a, target)
    stop = threading.Event()

    def replace_forever() -> None:
        i = 0
        while not stop.is_set():
            tmp = tmp_path / f".swap{i % 2}{a.suffix}"
            shutil.copy((a, b)[i % 2], tmp)
            os.replace(tmp, target)  # what a sync tool or a PACS export does
            i += 1

    swapper = threading.Thread(target=replace_forever, daemon=True)
    swapper.start()
    loads = mismatched = 0
    try:
        for _ in range(150):
            try:
                img = load_image(target)
            except ImageLoadError:
                continue
            loads += 1
            expected = truth.get(img.sha256)
            if expected is None or not np.array_equal(img.gray, expected):
                mismatched += 1
    finally:
        stop.set()
        swapper.join(timeout=10)
    assert loads >= 100 and mismatched == 0
