"""Warm prediction, sensitivity stage, cold start and peak RSS: a bundle's float model vs its int8 model.

    python benchmarks/bench_int8.py [--model DIR] [--rounds 5] [--repeats 20] [--threads N]

Each precision runs alone in its own fresh process (`--rounds` alternating processes per side, the
same predictor, case and settings as benchmarks/bench_predict.py: `Predictor(..., precision=...)` on
resources/samples/demo.dcm); the figures are medians over those processes; "cold" is spawn to first
result, timed by the parent. The machine line comes first: int8 speed depends on the CPU's int8
instructions (VNNI, AVX-512, AVX2, dotprod), so figures from different machines do not compare.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _machine import machine_line
from bench_predict import CASE_CODE, REPO, run_child

CHILD = (
    CASE_CODE
    + """
import json, statistics, time
image, contour, what = load_case()
from dlrs_desktop.model.predictor import Predictor
p = Predictor({bundle!r}, device="cpu", precision={precision!r}, threads={threads})
r = p.predict(image, contour, sensitivity=False)
print("FIRST", r.probability, flush=True)
for _ in range(3):
    p.predict(image, contour, sensitivity=False)
tot, inf = [], []
for _ in range({repeats}):
    r = p.predict(image, contour, sensitivity=False)
    tot.append(r.timings_ms["total"]); inf.append(r.timings_ms["inference"])
sens = [p.predict_sensitivity(image, contour).time_ms for _ in range(max(3, {repeats} // 4))]
print(json.dumps(dict(case=what, precision=r.precision, warm_ms=statistics.median(tot),
    inf_ms=statistics.median(inf), sens_ms=statistics.median(sens), probability=r.probability,
    rss_mb=peak_rss_mb())))
"""
)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=str(REPO / "resources" / "models" / "dlrs-demo"))
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument(
        "--threads", type=int, default=None, help="ONNX Runtime threads (default: physical cores)"
    )
    args = ap.parse_args()
    print(machine_line())
    print(
        f"model {args.model}; median of {args.repeats} warm predictions per process, {args.rounds} "
        "alternating fresh processes per precision; figures are medians over those processes\n"
    )
    runs: dict[str, list[dict]] = {"float": [], "int8": []}
    for _ in range(args.rounds):
        for precision in runs:
            code = CHILD.format(
                repo=str(REPO), bundle=args.model, precision=precision, threads=args.threads,
                repeats=args.repeats,
            )  # fmt: skip
            runs[precision].append(run_child(code))
    keys = ("warm_ms", "inf_ms", "sens_ms", "rss_mb", "cold_s")
    med = {p: {k: statistics.median(r[k] for r in rs) for k in keys} for p, rs in runs.items()}
    print(f"case: {runs['float'][0]['case']}")
    print(f"{'':8} {'ran':8} {'warm ms':>8} {'infer ms':>9} {'sens ms':>8} {'cold s':>7} {'RSS MB':>7}  p")
    for p, m in med.items():
        r0 = runs[p][0]
        print(
            f"{p:8} {r0['precision']:8} {m['warm_ms']:8.1f} {m['inf_ms']:9.1f} {m['sens_ms']:8.1f} "
            f"{m['cold_s']:7.2f} {m['rss_mb']:7.0f}  {r0['probability']:.4f}"
        )
    f, q = med["float"], med["int8"]
    print(
        f"\nint8 vs float: warm {f['warm_ms'] / q['warm_ms']:.2f}x faster, inference "
        f"{f['inf_ms'] / q['inf_ms']:.2f}x, sensitivity stage {f['sens_ms'] / q['sens_ms']:.2f}x; "
        f"|Δp| on this case {abs(runs['float'][0]['probability'] - runs['int8'][0]['probability']):.4f}"
    )
    print("per-process warm ms: " + "; ".join(f"{p} " + ", ".join(f"{r['warm_ms']:.1f}" for r in rs)
                                             for p, rs in runs.items()))  # fmt: skip


if __name__ == "__main__":
    t = time.perf_counter()
    main()
    print(f"(benchmark took {time.perf_counter() - t:.0f} s)")
