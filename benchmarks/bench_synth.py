"""Synthetic cohort speed: median seconds per case (render + PNG + DICOM + contours), and per 100 patients.

Run: python benchmarks/bench_synth.py [--cases 20]. Target: well under 60 s per 100 patients on one core.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from _machine import machine_line


def main() -> None:
    print(machine_line(), flush=True)
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, default=20)
    args = ap.parse_args()
    from dlrs_desktop.training.synth import CENTRES, generate_case
    from dlrs_desktop.training.synth_render import Latents, render_case

    with tempfile.TemporaryDirectory() as tmp:
        full, render = [], []
        for i in range(args.cases):
            t0 = time.perf_counter()
            generate_case(Path(tmp), i, 0, 1 + i % 2, "train")
            full.append(time.perf_counter() - t0)
            rng = np.random.default_rng(i)
            t0 = time.perf_counter()
            render_case(rng, Latents(0, 0, 0, 0, 0, 0), CENTRES[1 + i % 2])
            render.append(time.perf_counter() - t0)
    med = statistics.median(full)
    print(f"render only: median {statistics.median(render) * 1000:.0f} ms/case")
    print(
        f"full case (render + PNG + DICOM + 2 contours): median {med * 1000:.0f} ms/case "
        f"→ {med * 100:.1f} s per 100 patients (one process)"
    )


if __name__ == "__main__":
    main()
