"""Prediction speed and memory: our predictor vs a straightforward torch port of the *same bundle*.

    python benchmarks/bench_predict.py [--model DIR | --random-ensemble M] [--before REV] [--rounds 5]
                                       [--repeats 20] [--precision auto|float|int8]

Each side runs alone in its own fresh process (`--rounds` alternating processes per side,
benchmarks/_bench_child.py); every graded figure is the median over those processes:
- ours (ONNX Runtime, CPU, torch never imported): warm `predict` (preprocessing, network, fusion with
  radiomics signatures and the domain guard), the contour-sensitivity stage (4 offset contours),
  cold start (process start → first probability, timed by this parent from the spawn: interpreter,
  imports, bundle verification, session and the first prediction), peak RSS;
- torch: the same bundle in plain torch (benchmarks/_torch_port.py: every member network from the
  bundle's safetensors, the same crops, signatures and stacking), same figures; its probabilities must
  equal ours (parity, printed) or the comparison is void;
- `dlrs predict` (with its sensitivity stage): wall time and peak RSS of that process;
- the bundle's FLOPs per prediction (torch.utils.flop_counter on the port) and the GFLOP/s our network
  step achieves;
- `--before REV`: ours at git revision REV as well (its `dlrs_desktop` from `git archive`), in the same
  alternation, so before/after figures come from the same run.
`--precision`: which of the bundle's graphs ours runs, as `dlrs predict --precision` (default auto: the
int8 model where this CPU runs int8 fast and the bundle has one). The torch port is always the float
network, so with int8 the parity line compares against the accuracy guard's |Δp| ≤ 0.01, not 1e-4.
`--random-ensemble M`: a bundle of the default recipe's shape (M ResNet-18 members, 4 regions, 112 px,
radiomics signatures) with random weights (tests/model_factory.py; speed does not depend on the values).
Targets (issue 29, 2 cores, default-recipe bundle): warm ≤ 30 ms, sensitivity ≤ 120 ms, cold ≤ 1.0 s,
peak RSS ≤ 400 MB, torch/ours ≥ 2× warm. The machine line (CPU, ISA, cores, load) heads every block:
figures from different machines, or a loaded machine, do not compare.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
CHILD = Path(__file__).resolve().parent / "_bench_child.py"
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _machine import machine_line  # noqa: E402

TARGETS = {"warm_ms": 30.0, "sens_ms": 120.0, "cold_s": 1.0, "rss_mb": 400.0, "ratio": 2.0}


def run_child(args: list[str], tree: Path = REPO) -> dict[str, Any]:
    """One side in a fresh process; `cold_s` = spawn to its FIRST line, `wall_s` = spawn to exit."""
    env = {**os.environ, "PYTHONPATH": str(tree), "DLRS_RESOURCES": str(REPO / "resources")}
    env.pop("OMP_NUM_THREADS", None)
    with tempfile.TemporaryFile("w+") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, str(CHILD), *args], stdout=subprocess.PIPE, stderr=err, text=True, env=env
        )
        assert proc.stdout is not None
        cold_s, lines = None, []
        for line in proc.stdout:
            if cold_s is None and line.startswith("FIRST"):
                cold_s = time.perf_counter() - t0
            lines.append(line)
        rc = proc.wait()
        wall_s = time.perf_counter() - t0
        err.seek(0)
        err_text = err.read()
    if rc != 0:
        raise SystemExit(f"benchmark child {args[0]} failed (exit {rc}):\n{err_text[-3000:]}")
    if args[0] == "cli":
        return {**json.loads(err_text.strip().splitlines()[-1]), "wall_s": wall_s}
    return {**json.loads(lines[-1]), "cold_s": cold_s}


def med(runs: list[dict[str, Any]], key: str) -> float:
    return statistics.median(float(r[key]) for r in runs)


def verdict(value: float, key: str) -> str:
    ok = value >= TARGETS[key] if key == "ratio" else value <= TARGETS[key]
    return "ok" if ok else "MISSED"


def ours_lines(label: str, runs: list[dict[str, Any]], cli: list[dict[str, Any]] | None) -> list[str]:
    k = len(runs)
    ran = "/".join(sorted({str(r.get("precision", "float32")) for r in runs}))
    lines = [
        f"{label} (ONNX Runtime, {ran}; median of {k} processes): warm {med(runs, 'warm_ms'):.1f} ms"
        f" = preprocess {med(runs, 'pre_ms'):.1f} + network {med(runs, 'inf_ms'):.1f}"
        f" + fusion/signatures/guard {med(runs, 'fusion_ms'):.1f} (+ result)",
        f"      sensitivity stage (4 offset contours) {med(runs, 'sens_ms'):.1f} ms",
        f"      cold {med(runs, 'cold_s'):.2f} s process start -> first probability (imports"
        f" {med(runs, 'import_s'):.2f} s, bundle + session {med(runs, 'load_s'):.2f} s, first prediction"
        f" {med(runs, 'first_s'):.2f} s); torch imported: {any(r['torch_loaded'] for r in runs)};"
        f" peak RSS {max(r['rss_mb'] for r in runs):.0f} MB (this benchmark process)",
    ]
    if cli:
        lines.append(
            f"      `dlrs predict` (with sensitivity): wall {med(cli, 'wall_s'):.2f} s, peak RSS"
            f" {max(r['rss_mb'] for r in cli):.0f} MB (max of {len(cli)} processes)"
        )
    return lines


def torch_lines(port: list[dict[str, Any]], gflop: float) -> list[str]:
    rss = max(r["rss_mb"] for r in port)
    return [
        f"torch (the same bundle, plain torch; median of {len(port)} processes):"
        f" warm {med(port, 'warm_ms'):.1f} ms = preprocess {med(port, 'pre_ms'):.1f}"
        f" + network {med(port, 'inf_ms'):.1f} (+ signatures, stacking)",
        f"      sensitivity stage {med(port, 'sens_ms'):.1f} ms; cold {med(port, 'cold_s'):.2f} s"
        f" (import torch {med(port, 'import_s'):.2f} s, load {med(port, 'load_s'):.2f} s); peak RSS"
        f" {rss:.0f} MB; network step {gflop / (med(port, 'inf_ms') / 1e3):.1f} GFLOP/s",
    ]


def report(label: str, runs: dict[str, list[dict[str, Any]]], rounds: int) -> None:
    ours, port, cli = runs["ours"], runs["torch"], runs["cli"]
    gflop = port[0]["flops"] / 1e9
    ratio = med(port, "warm_ms") / med(ours, "warm_ms")
    drift = max(abs(o["probability"] - t["probability"]) for o, t in zip(ours, port, strict=False))
    sdrift = max(
        abs(a - b)
        for o, t in zip(ours, port, strict=False)
        for a, b in zip(o["sens_probabilities"], t["sens_probabilities"], strict=True)
        if a is not None
    )
    cold, rss = med(ours, "cold_s"), max(r["rss_mb"] for r in cli)
    int8 = any(r.get("precision") == "int8" for r in ours)
    tolerance, same = (0.01, "within the int8 guard") if int8 else (1e-4, "ok")
    lines = [
        f"== {label}; case: {ours[0]['case']}",
        machine_line(),
        f"network: {port[0]['members']} member network(s) x the bundle's regions per image;"
        f" {gflop:.2f} GFLOP per prediction (torch.utils.flop_counter on the port),"
        f" x4 for the sensitivity stage",
        *ours_lines("ours ", ours, cli),
        f"      network step {gflop / (med(ours, 'inf_ms') / 1e3):.1f} GFLOP/s achieved",
    ]
    if runs.get("before"):
        b = runs["before"]
        lines += ours_lines("before", b, runs.get("before_cli"))
        lines.append(
            f"      after/before: warm {med(b, 'warm_ms') / med(ours, 'warm_ms'):.2f}x faster, sensitivity"
            f" {med(b, 'sens_ms') / med(ours, 'sens_ms'):.2f}x, cold {med(b, 'cold_s') / cold:.2f}x, peak RSS"
            f" {max(r['rss_mb'] for r in b):.0f} -> {max(r['rss_mb'] for r in ours):.0f} MB"
        )
    lines += [
        *torch_lines(port, gflop),
        f"parity: |ours - torch| probability {drift:.2e}, sensitivity probabilities {sdrift:.2e}"
        f" [{same if max(drift, sdrift) <= tolerance else 'NOT THE SAME MODEL'}]",
        f"GRADED (medians of {rounds} separate processes per side): torch/ours warm {ratio:.2f}x"
        f" [{verdict(ratio, 'ratio')}, >= 2x]; warm {med(ours, 'warm_ms'):.1f} ms"
        f" [{verdict(med(ours, 'warm_ms'), 'warm_ms')}, <= 30 ms]; sensitivity {med(ours, 'sens_ms'):.1f} ms"
        f" [{verdict(med(ours, 'sens_ms'), 'sens_ms')}, <= 120 ms]; cold {cold:.2f} s"
        f" [{verdict(cold, 'cold_s')}, <= 1.0 s]; `dlrs predict` peak RSS {rss:.0f} MB"
        f" [{verdict(rss, 'rss_mb')}, <= 400 MB]",
        "",
    ]
    print("\n".join(lines), flush=True)


def tree_at(rev: str, tmp: Path) -> Path:
    """`dlrs_desktop` as of git revision `rev`, unpacked under `tmp` (for the before column)."""
    out = tmp / "before"
    out.mkdir()
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", rev, "dlrs_desktop"], capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(out)], input=archive, check=True)
    return out


def main() -> None:
    from dlrs_desktop.model.bundle import load_bundle
    from dlrs_desktop.model.predictor import physical_cores
    from dlrs_desktop.paths import bundled_model_dir, samples_dir

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", help="bundle folder to time (default: the bundled demonstration model)")
    ap.add_argument("--random-ensemble", type=int, metavar="M", help="time a random M-member bundle")
    ap.add_argument("--before", metavar="REV", help="also time ours at this git revision (e.g. main)")
    ap.add_argument("--repeats", type=int, default=20, help="warm predictions per process")
    ap.add_argument("--rounds", type=int, default=5, help="fresh processes per side, alternating")
    ap.add_argument(
        "--precision", choices=("auto", "float", "int8"), default="auto",
        help="which graph ours runs (as `dlrs predict --precision`); the torch port is always float",
    )  # fmt: skip
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="dlrs-bench-"))
    model = Path(args.model) if args.model else bundled_model_dir()
    if args.random_ensemble:
        from tests.model_factory import make_bundle

        model = make_bundle(tmp / "ensemble", input_size=112, members=args.random_ensemble, radiomics=True)
    if not (model / "manifest.json").is_file():
        raise SystemExit(f"--model takes a bundle folder (the torch port reads its files): {model}")
    b = load_bundle(model)
    label = f"{b.id} {b.version}, input {b.spec.input_size} px, {len(b.spec.regions)} regions"
    del b
    before = tree_at(args.before, tmp) if args.before else None
    threads = str(physical_cores())
    side = [str(model), str(args.repeats), threads]
    case = [str(samples_dir() / "demo.dcm"), str(samples_dir() / "demo.contour.json"), args.precision]
    print(
        f"$ python benchmarks/bench_predict.py {' '.join(sys.argv[1:])}\n"
        f"bundle {model}: {label}\n{machine_line()}\nmedian of {args.repeats} predictions per process;"
        f" {args.rounds} alternating fresh processes per side; {threads} intra-op threads\n"
    )
    runs: dict[str, list[dict[str, Any]]] = {k: [] for k in ("ours", "torch", "cli", "before", "before_cli")}
    try:
        for _ in range(args.rounds):
            if before is not None:
                runs["before"].append(run_child(["ours", *side, args.precision], before))
                runs["before_cli"].append(run_child(["cli", str(model), *case], before))
            runs["ours"].append(run_child(["ours", *side, args.precision]))
            runs["torch"].append(run_child(["torch", *side]))
            runs["cli"].append(run_child(["cli", str(model), *case]))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    report(label, runs, args.rounds)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    if load > int(threads):
        print(
            f"WARNING: load average {load:.1f} on {threads} cores: the machine was shared, the times are"
            " inflated and a torch/ours ratio from contention is not a speed-up; rerun it quiet."
        )


if __name__ == "__main__":
    t = time.perf_counter()
    main()
    print(f"(benchmark took {time.perf_counter() - t:.0f} s)")
