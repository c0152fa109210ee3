"""Adversarial inputs against the `dlrs` exit contract: crafted and mutated images, contours and bundles.

Each input runs `dlrs ...` in a fresh process under `prlimit --as=4G` and `nice`, and is judged:
accepted (exit 0), clean (exit 2 or 3 with exactly one stderr line, no raw control characters) or
other (anything else: a traceback, exit 1, extra lines, a hang past --timeout, exit 0 on an input
that must be refused). Prints one row per family, the slowest run and the peak RSS, then every
"other" case. The inputs come from tests/fuzz_factory.py with a fixed seed (reproducible).

    nice python benchmarks/fuzz_inputs.py            # ~550 inputs, ~6 min on 2 busy cores
    python benchmarks/fuzz_inputs.py --mutated 20    # quicker
"""

from __future__ import annotations

import argparse
import collections
import datetime
import os
import platform
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests import fuzz_trust
from tests.fuzz_factory import FAMILIES, build_cases, run_case


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=20261128)
    ap.add_argument(
        "--mutated", type=int, default=100, help="mutated inputs per mutated family (default 100)"
    )
    ap.add_argument("--jobs", type=int, default=2, help="runs at a time (default 2)")
    ap.add_argument(
        "--timeout", type=float, default=10.0, help="a run longer than this is killed and counted"
    )
    ap.add_argument("--as-limit", default="4G", help="address-space limit per run (prlimit --as)")
    ap.add_argument("--family", action="append", help="only these families (repeatable)")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="dlrs-fuzz-") as tmp:
        t0 = time.perf_counter()
        only_trust = bool(args.family) and set(args.family) <= set(fuzz_trust.FAMILIES)
        build = fuzz_trust.build if only_trust else build_cases  # those alone: skip building the rest
        cases = build(Path(tmp), seed=args.seed, mutated_per_family=args.mutated)
        if args.family:
            cases = [c for c in cases if c.family in args.family]
        build_s = time.perf_counter() - t0
        print(f"{len(cases)} inputs built in {build_s:.0f} s; running with {args.jobs} jobs ...", flush=True)
        t0 = time.perf_counter()
        with ThreadPoolExecutor(args.jobs) as pool:
            outcomes = list(
                pool.map(lambda c: run_case(c, timeout=args.timeout, address_limit=args.as_limit), cases)
            )
        run_s = time.perf_counter() - t0

    rows: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for o in outcomes:
        rows[o.case.family]["tried"] += 1
        rows[o.case.family]["other" if o.verdict.startswith("other") else o.verdict] += 1
    print()
    when = f"{datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC"
    cpu = f"{platform.processor() or platform.machine()} · {os.cpu_count()} CPUs"
    print(f"machine: {platform.node()} · {cpu} · Python {platform.python_version()} · {when}")
    print(f"{'family':<16}{'tried':>7}{'exit 0':>8}{'clean 2-3':>11}{'other':>7}")
    total: collections.Counter = collections.Counter()
    for fam in FAMILIES:
        if fam not in rows:
            continue
        r = rows[fam]
        total.update(r)
        print(f"{fam:<16}{r['tried']:>7}{r['accepted']:>8}{r['clean']:>11}{r['other']:>7}")
    print(f"{'total':<16}{total['tried']:>7}{total['accepted']:>8}{total['clean']:>11}{total['other']:>7}")
    slow = max(outcomes, key=lambda o: o.seconds)
    fat = max(outcomes, key=lambda o: o.max_rss_mb)
    over = sum(o.seconds > args.timeout for o in outcomes)
    print(f"clean or accepted: {100 * (1 - total['other'] / max(total['tried'], 1)):.1f} %; "
          f"runs over {args.timeout:g} s: {over}; slowest {slow.seconds:.1f} s ({slow.case.name}); "
          f"peak RSS {fat.max_rss_mb:.0f} MB ({fat.case.name}); wall {run_s:.0f} s")  # fmt: skip
    others = [o for o in outcomes if o.verdict.startswith("other")]
    for o in others:
        last = o.stderr.strip().splitlines()[-1][:160] if o.stderr.strip() else ""
        print(f"  OTHER [{o.case.family}] {o.case.name}: {o.verdict} (exit {o.code}) {last!r}")
    return 1 if others else 0


if __name__ == "__main__":
    sys.exit(main())
