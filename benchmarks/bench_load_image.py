"""How long `load_image` takes on what sonographers open most: a JPEG-baseline frame and a cine loop.

Prints medians (ms) of:
- load_image on a 1024x768 colour JPEG-baseline US DICOM (scanner default);
- load_image of one frame of a 100-frame 1024x768 cine loop (JPEG baseline and uncompressed);
- for contrast, decoding the whole loop (what a viewer that ignores `index` would do);
- the parts: sha256 of the file (computed once per file, then cached), scan mask.

Run: `python benchmarks/bench_load_image.py [--repeat N]`
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _machine import machine_line

from dlrs_desktop.imaging import dicom_writer as dw
from dlrs_desktop.imaging import load_image
from dlrs_desktop.imaging.loader import _sha256_cached
from dlrs_desktop.imaging.scan_mask import compute_scan_mask
from tests.dicom_factory import bmode_frame

W, H, FRAMES = 1024, 768, 100


def median_ms(fn: Callable[[], object], repeat: int) -> float:
    fn()  # warm-up (imports, page cache)
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1000 * statistics.median(times)


def main() -> None:
    print(machine_line(), flush=True)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()

    from pydicom.pixels import pixel_array

    with tempfile.TemporaryDirectory() as tmp:
        frame, _, rect = bmode_frame(H, W, seed=0)
        rgb = np.repeat(frame[:, :, None], 3, axis=2)
        region = [dw.tissue_region(*rect, mm_per_px=0.08)]
        single = dw.write_ultrasound_dicom(
            Path(tmp) / "single.dcm", rgb, mm_per_px=None, regions=region, transfer_syntax=dw.JPEG_BASELINE
        )
        loop = np.stack([np.repeat(np.roll(frame, k, axis=1)[:, :, None], 3, axis=2) for k in range(FRAMES)])
        cine_jpeg = dw.write_ultrasound_dicom(
            Path(tmp) / "cine_jpeg.dcm",
            loop,
            mm_per_px=None,
            regions=region,
            transfer_syntax=dw.JPEG_BASELINE,
        )
        cine_raw = dw.write_ultrasound_dicom(Path(tmp) / "cine_raw.dcm", loop, mm_per_px=None, regions=region)
        del loop

        im = load_image(single)
        rows = [
            ("load_image 1024x768 JPEG-baseline DICOM", median_ms(lambda: load_image(single), args.repeat)),
            (
                f"load_image frame 50 of {FRAMES}-frame JPEG cine",
                median_ms(lambda: load_image(cine_jpeg, frame=50), args.repeat),
            ),
            (
                f"load_image frame 50 of {FRAMES}-frame uncompressed cine",
                median_ms(lambda: load_image(cine_raw, frame=50), args.repeat),
            ),
            (
                f"decode whole {FRAMES}-frame JPEG cine (pydicom, contrast)",
                median_ms(lambda: pixel_array(cine_jpeg, decoding_plugin="pillow"), max(3, args.repeat // 5)),
            ),
            (
                "  part: sha256 of the JPEG cine file (uncached)",
                median_ms(lambda: _sha256_cached.__wrapped__(str(cine_jpeg), 0, 0), args.repeat),
            ),
            (
                "  part: sha256 of the uncompressed cine file (uncached)",
                median_ms(lambda: _sha256_cached.__wrapped__(str(cine_raw), 0, 0), max(3, args.repeat // 5)),
            ),
            (
                "  part: scan mask 1024x768",
                median_ms(lambda: compute_scan_mask(im.gray, im.regions), args.repeat),
            ),
        ]
        sizes = {p.name: p.stat().st_size / 1e6 for p in (single, cine_jpeg, cine_raw)}
    print(f"files (MB): {', '.join(f'{k} {v:.1f}' for k, v in sizes.items())}")
    for name, ms in rows:
        print(f"{name:<58s} median {ms:8.1f} ms")
    print(f"one frame vs whole loop (JPEG cine): {rows[3][1] / rows[1][1]:.0f}x faster")


if __name__ == "__main__":
    main()
