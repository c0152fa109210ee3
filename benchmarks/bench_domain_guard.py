"""What the domain guard adds to a warm prediction (issue 26 target: ≤ 10 ms).

    python benchmarks/bench_domain_guard.py [--model DIR] [--rounds 3] [--repeats 20] [--threads N]

Each side runs alone in its own fresh process, alternating (`--rounds` processes per side): the same
bundle and sample case, warm `predict(sensitivity=False)` medians, once with the bundle's domain
reference (features output + guard) and once with it removed from the loaded bundle (the path of a
bundle without one). Printed: the machine line, per-process medians, the median over processes of
the total and of `timings_ms["domain"]` (the guard's own time: its image statistics, texture and
scoring; before 2026-12-04 the scoring alone), and the difference of the totals.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _machine import machine_line  # noqa: E402

CHILD = """
import json, statistics, sys, dataclasses
sys.path.insert(0, {repo!r})
from dlrs_desktop.imaging import load_image
from dlrs_desktop.model.bundle import load_bundle
from dlrs_desktop.model.predictor import Predictor
from dlrs_desktop.paths import samples_dir
from dlrs_desktop.roi import Contour
bundle = load_bundle({model!r})
if not {guard!r}:
    bundle = dataclasses.replace(bundle, domain=None)
p = Predictor(bundle, device="cpu", backend="onnx", threads={threads!r})
image = load_image(samples_dir() / "demo.dcm")
contour = Contour.load(samples_dir() / "demo.contour.json")
for _ in range(3):
    p.predict(image, contour, sensitivity=False)
tot, dom = [], []
for _ in range({repeats}):
    r = p.predict(image, contour, sensitivity=False)
    tot.append(r.timings_ms["total"]); dom.append(r.timings_ms.get("domain", 0.0))
print(json.dumps({{"total": statistics.median(tot), "domain": statistics.median(dom),
                  "status": r.domain.status}}))
"""


def run_child(model: str, guard: bool, repeats: int, threads: int | None) -> dict:
    code = CHILD.format(repo=str(REPO), model=model, guard=guard, repeats=repeats, threads=threads)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default=str(REPO / "resources/models/dlrs-demo"))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args()
    print(machine_line())
    res: dict[bool, list[dict]] = {True: [], False: []}
    for i in range(args.rounds):
        for guard in (True, False) if i % 2 == 0 else (False, True):
            r = run_child(args.model, guard, args.repeats, args.threads)
            res[guard].append(r)
            side = "with guard   " if guard else "without guard"
            print(
                f"  process {i + 1} {side}: total {r['total']:.1f} ms, "
                f"guard {r['domain']:.2f} ms ({r['status']})"
            )
    with_t = statistics.median(r["total"] for r in res[True])
    without_t = statistics.median(r["total"] for r in res[False])
    guard_t = statistics.median(r["domain"] for r in res[True])
    print(f"warm predict (no sensitivity), median over {args.rounds} processes x {args.repeats} runs: "
          f"with guard {with_t:.1f} ms, without {without_t:.1f} ms, difference {with_t - without_t:+.1f} ms; "
          f"the guard's own time {guard_t:.2f} ms (target <= 10 ms)")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
