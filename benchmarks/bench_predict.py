"""Prediction latency, cold start and memory: our predictor vs a naive port of the study.

    python benchmarks/bench_predict.py [--model DIR] [--sizes 224,160,128] [--repeats 20]

For the bundled architecture (ResNet-18, one shared backbone, 4 regions) it prints, per input size:
- ours (ONNX Runtime, CPU, torch never imported): median warm `predict` latency split into
  preprocessing and inference, the contour-sensitivity second stage, peak RSS and the cold time;
- the naive baseline: four separate torchvision ResNet-18s (3-channel input, as a direct port would
  be written) run one after another in torch on the same crops — same figures.
Each side runs alone in its own fresh process (`--rounds` alternating processes per side). The graded
figures are medians over those separate processes: warm latency, and "cold" = process start to the first
result, measured by this parent from the spawn, so interpreter start, imports (onnxruntime for ours,
torch for the baseline), model load and the first prediction are included for both sides alike.
The ratio naive/ours of the warm medians is the graded speed-up. The ratio measured interleaved in one
process (both thread pools competing) is printed for information only.
Targets on a 2-core laptop: warm ≤ 100 ms, cold ≤ 1.5 s, ratio ≥ 2×. Every figure block carries the
machine line (CPU model, ISA flags, cores): figures from different machines do not compare.

Without a bundled model (resources/models/dlrs-demo) it writes randomly initialised bundles of the
same architecture (timings do not depend on weight values) at 224, 160 and 128 px. Numbers are
noisy on a shared machine: run it when the machine is quiet.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _machine import machine_line  # noqa: E402

CASE_CODE = """
import sys
sys.path.insert(0, {repo!r})
from pathlib import Path
def peak_rss_mb():
    # VmHWM, not ru_maxrss: on Linux ru_maxrss survives exec and would report the parent's peak.
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
def load_case():
    from dlrs_desktop.paths import samples_dir
    dcm, cjson = samples_dir() / "demo.dcm", samples_dir() / "demo.contour.json"
    if dcm.exists() and cjson.exists():
        from dlrs_desktop.imaging import load_image
        from dlrs_desktop.roi import Contour
        return load_image(dcm), Contour.load(cjson), "resources/samples/demo.dcm"
    from tests.model_factory import bmode_case
    im, c = bmode_case(shape=(560, 720), mm_per_px=0.08, radius_mm=9.0)
    return im, c, "synthetic 720x560 B-mode, 0.08 mm/px"
"""

OURS = (
    CASE_CODE
    + """
import json, statistics, time
image, contour, what = load_case()
t0 = time.perf_counter()
from dlrs_desktop.model.predictor import Predictor
import onnxruntime
t1 = time.perf_counter()
p = Predictor({bundle!r}, device="cpu")
t2 = time.perf_counter()
r = p.predict(image, contour, sensitivity=False)
t3 = time.perf_counter()
print("FIRST", r.probability, flush=True)
torch_loaded = "torch" in sys.modules
for _ in range(3):
    p.predict(image, contour, sensitivity=False)
tot, pre, inf = [], [], []
for _ in range({repeats}):
    r = p.predict(image, contour, sensitivity=False)
    t = r.timings_ms
    tot.append(t["total"]); pre.append(t["preprocess"]); inf.append(t["inference"])
sens = [p.predict_sensitivity(image, contour).time_ms for _ in range(max(3, {repeats} // 4))]
cam = [p.predict(image, contour, sensitivity=False, cam=True).timings_ms["total"] for _ in range(3)]
print(json.dumps(dict(case=what, import_s=t1 - t0, load_s=t2 - t1, first_s=t3 - t2,
    torch_loaded=torch_loaded,
    warm_ms=statistics.median(tot), pre_ms=statistics.median(pre), inf_ms=statistics.median(inf),
    sens_ms=statistics.median(sens), cam_ms=statistics.median(cam), probability=r.probability,
    rss_mb=peak_rss_mb())))
"""
)

NAIVE = (
    CASE_CODE
    + """
import json, statistics, time
image, contour, what = load_case()
from dlrs_desktop.model.bundle import load_bundle
from dlrs_desktop.model.preprocess import prepare_inputs
spec = load_bundle({bundle!r}).spec
t0 = time.perf_counter()
import torch, torchvision
from safetensors.torch import load_file
torch.set_num_threads({threads})
t1 = time.perf_counter()
nets = []
weights = load_file({naive_weights!r})
for i in range(4):
    n = torchvision.models.resnet18(weights=None, num_classes=1)
    n.load_state_dict({{k.split(".", 1)[1]: v for k, v in weights.items() if k.startswith(f"{{i}}.")}})
    nets.append(n.eval())
t2 = time.perf_counter()
def predict():
    t = time.perf_counter()
    x, _ = prepare_inputs(image, contour, spec)
    t_pre = time.perf_counter()
    with torch.inference_mode():
        logits = [nets[i](torch.from_numpy(x[i:i+1]).expand(1, 3, -1, -1)).item() for i in range(4)]
    t_end = time.perf_counter()
    return (t_end - t) * 1e3, (t_pre - t) * 1e3, (t_end - t_pre) * 1e3
predict()
t3 = time.perf_counter()
print("FIRST", flush=True)
for _ in range(3):
    predict()
res = [predict() for _ in range({repeats})]
rss = peak_rss_mb()
# For information only: interleaved with ours in this same process (the two thread pools compete).
from dlrs_desktop.model.predictor import Predictor
ours = Predictor({bundle!r}, device="cpu")
for _ in range(3):
    ours.predict(image, contour, sensitivity=False)
mine, theirs = [], []
for _ in range({repeats}):
    t = time.perf_counter(); ours.predict(image, contour, sensitivity=False)
    mine.append(time.perf_counter() - t)
    theirs.append(predict()[0] / 1e3)
print(json.dumps(dict(import_s=t1 - t0, load_s=t2 - t1, first_s=t3 - t2,
    warm_ms=statistics.median(r[0] for r in res), pre_ms=statistics.median(r[1] for r in res),
    inf_ms=statistics.median(r[2] for r in res), rss_mb=rss,
    interleaved_ours_ms=1e3 * statistics.median(mine), interleaved_naive_ms=1e3 * statistics.median(theirs))))
"""
)


def run_child(code: str) -> dict:
    """Run one side in a fresh process; `cold_s` = spawn to its first result line, timed here."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("OMP_NUM_THREADS", None)
    with tempfile.TemporaryFile("w+") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=err, text=True, env=env, cwd=REPO
        )
        assert proc.stdout is not None
        cold_s, lines = None, []
        for line in proc.stdout:
            if cold_s is None and line.startswith("FIRST"):
                cold_s = time.perf_counter() - t0
            lines.append(line)
        if proc.wait() != 0 or cold_s is None:
            err.seek(0)
            raise SystemExit(f"benchmark child failed:\n{err.read()[-3000:]}")
    return {**json.loads(lines[-1]), "cold_s": cold_s}


def random_bundle(folder: Path, size: int) -> Path:
    from tests.model_factory import make_bundle

    return make_bundle(folder / f"resnet18-{size}", input_size=size)


def naive_weights(folder: Path) -> Path:
    """Four independent ResNet-18s (random weights: speed does not depend on the values)."""
    import torch
    import torchvision
    from safetensors.torch import save_file

    path = folder / "naive.safetensors"
    if not path.exists():
        torch.manual_seed(0)
        tensors = {}
        for i in range(4):
            for k, v in torchvision.models.resnet18(weights=None, num_classes=1).state_dict().items():
                tensors[f"{i}.{k}"] = v.contiguous()
        save_file(tensors, str(path))
    return path


def median_of(runs: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def report(size: int, label: str, ours_runs: list[dict], naive_runs: list[dict]) -> None:
    def ok(c: bool) -> str:
        return "ok" if c else "MISSED"

    o = {k: median_of(ours_runs, k) for k in ours_runs[0] if isinstance(ours_runs[0][k], float)}
    n = {k: median_of(naive_runs, k) for k in naive_runs[0] if isinstance(naive_runs[0][k], float)}
    ratio = n["warm_ms"] / o["warm_ms"]
    iratio = n["interleaved_naive_ms"] / n["interleaved_ours_ms"]
    k = len(ours_runs)
    lines = [
        f"== input {size} px ({label}); case: {ours_runs[0]['case']}",
        machine_line(),
        f"ours  (ONNX Runtime; median of {k} separate processes): warm {o['warm_ms']:6.1f} ms"
        f" = preprocess {o['pre_ms']:.1f} + inference {o['inf_ms']:.1f} (+ fusion);"
        f" with CAM {o['cam_ms']:.1f} ms",
        f"      sensitivity stage (4 offset contours, one batch) {o['sens_ms']:.1f} ms",
        f"      cold {o['cold_s']:.2f} s from process start to first result (of which imports"
        f" {o['import_s']:.2f} s, model load {o['load_s']:.2f} s, first prediction {o['first_s']:.2f} s);"
        f" torch imported: {any(r['torch_loaded'] for r in ours_runs)}; peak RSS"
        f" {max(r['rss_mb'] for r in ours_runs):.0f} MB",
        f"naive (4 torch ResNet-18s, sequential; median of {k} separate processes):"
        f" warm {n['warm_ms']:6.1f} ms"
        f" = preprocess {n['pre_ms']:.1f} + inference {n['inf_ms']:.1f}",
        f"      cold {n['cold_s']:.2f} s from process start to first result (of which import torch"
        f" {n['import_s']:.2f} s, load {n['load_s']:.2f} s, first prediction {n['first_s']:.2f} s);"
        f" peak RSS {max(r['rss_mb'] for r in naive_runs):.0f} MB",
        f"GRADED (separate processes): ratio naive/ours {ratio:.2f}x [{ok(ratio >= 2)}, target >= 2x];"
        f" ours warm {o['warm_ms']:.1f} ms [{ok(o['warm_ms'] <= 100)}, <= 100 ms];"
        f" ours cold {o['cold_s']:.2f} s [{ok(o['cold_s'] <= 1.5)}, <= 1.5 s];"
        f" naive cold {n['cold_s']:.2f} s",
        f"not graded: interleaved in one process (thread pools competing):"
        f" ours {n['interleaved_ours_ms']:.1f} ms,"
        f" naive {n['interleaved_naive_ms']:.1f} ms -> {iratio:.2f}x",
        "",
    ]
    print("\n".join(lines))


def main() -> None:
    from dlrs_desktop.model.predictor import physical_cores
    from dlrs_desktop.paths import bundled_model_dir

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", help="bundle to time (default: the bundled model, else random bundles)")
    ap.add_argument("--sizes", default="224,160,128", help="input sizes for random bundles")
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument(
        "--rounds", type=int, default=5, help="fresh processes per side, alternating (medians graded)"
    )
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="dlrs-bench-"))
    model = Path(args.model) if args.model else bundled_model_dir()
    if (model / "manifest.json").exists():
        from dlrs_desktop.model.bundle import load_bundle

        b = load_bundle(model)
        arch = b.architecture
        runs = [(b.spec.input_size, model, f"{b.id} {b.version}")]
        print(
            f"bundle {model}: {arch['arch']}, shared {arch['shared_backbone']}, {arch['n_regions']} regions"
        )
    else:
        print("no bundled model: timing randomly initialised bundles of the same architecture")
        runs = [
            (s, random_bundle(tmp, s), "random ResNet-18 shared, 4 regions")
            for s in map(int, args.sizes.split(","))
        ]
    weights = naive_weights(tmp)
    print(
        f"{machine_line()}\nmedian of {args.repeats} predictions per process; {args.rounds} alternating"
        " fresh processes per side; graded figures are the medians over those processes\n"
    )
    for size, path, label in runs:
        fmt = {"repo": str(REPO), "bundle": str(path), "repeats": args.repeats}
        ours_runs, naive_runs = [], []
        for _ in range(args.rounds):
            ours_runs.append(run_child(OURS.format(**fmt)))
            naive_runs.append(
                run_child(NAIVE.format(**fmt, naive_weights=str(weights), threads=physical_cores()))
            )
        report(size, label, ours_runs, naive_runs)
    import shutil

    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    t = time.perf_counter()
    main()
    print(f"(benchmark took {time.perf_counter() - t:.0f} s)")
