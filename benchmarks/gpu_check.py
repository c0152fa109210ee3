"""GPU check: CUDA against CPU on the same inputs, and warm GPU latency.

    python benchmarks/gpu_check.py [--model DIR] [--cohort CSV [--limit N]] [--size 224] [--repeats 30]

Prints "no CUDA device" and exits 0 where there is none. Otherwise, for the bundled model (or a
randomly initialised ResNet-18 bundle of the bundled architecture when none is installed):
- fused and per-region probabilities on CUDA (torch backend) vs CPU (ONNX Runtime, the default) and
  vs torch on CPU, on several cases: the fused probability must agree within 1e-3 (exit 1 if not);
  the cases are the bundled demo scan and synthetic B-mode images, plus the first N cases of a
  cohort CSV (`dlrs train`'s format, any split) with `--cohort`, e.g. real scans for a real-data bundle;
- cold GPU time (Predictor construction incl. torch import and CUDA init + first prediction);
- median warm GPU latency of `predict` (preprocessing + inference), of the inference alone, and of
  the contour-sensitivity stage, next to the CPU figures of the same run.
Runs in a minute or two; needs only the repository (no network).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from _machine import machine_line  # noqa: E402  (benchmarks/ is sys.path[0] when run)


def _cohort_cases(csv: str, limit: int) -> list:
    from dlrs_desktop.training.cohort import load_case, read_cohort

    rows = read_cohort(csv, require_train=False)[:limit]
    return [(row.case_id.split("/")[-1][:14], *load_case(row)) for row in rows]


def _cases(n: int) -> list:
    from dlrs_desktop.paths import samples_dir
    from tests.model_factory import bmode_case

    cases = []
    dcm, cjson = samples_dir() / "demo.dcm", samples_dir() / "demo.contour.json"
    if dcm.exists() and cjson.exists():
        from dlrs_desktop.imaging import load_image
        from dlrs_desktop.roi import Contour

        cases.append(("demo.dcm", load_image(dcm), Contour.load(cjson)))
    for seed in range(n - len(cases)):
        image, contour = bmode_case(shape=(560, 720), mm_per_px=0.08, radius_mm=6.0 + seed, seed=seed)
        cases.append((f"synthetic-{seed}", image, contour))
    return cases


def main() -> int:
    print(machine_line(), flush=True)
    import torch

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", help="bundle (default: the bundled model, else a random ResNet-18 bundle)")
    ap.add_argument("--cohort", help="cohort CSV whose first --limit cases are checked too")
    ap.add_argument("--limit", type=int, default=12, help="cases taken from --cohort")
    ap.add_argument("--size", type=int, default=224, help="input size of the random bundle")
    ap.add_argument("--repeats", type=int, default=30)
    args = ap.parse_args()
    if not torch.cuda.is_available():
        print("no CUDA device")
        return 0
    from dlrs_desktop.model.predictor import Predictor
    from dlrs_desktop.paths import bundled_model_dir

    model = Path(args.model) if args.model else bundled_model_dir()
    if not (model / "manifest.json").exists():
        from tests.model_factory import make_bundle

        model = make_bundle(Path(tempfile.mkdtemp(prefix="dlrs-gpu-")) / "b", input_size=args.size)
        print(f"no bundled model: random ResNet-18 bundle at {args.size} px")
    print(f"device: {torch.cuda.get_device_name(0)}; torch {torch.__version__}, CUDA {torch.version.cuda}")
    cpu = Predictor(model, device="cpu", precision="float")  # parity: the float graph (int8 differs ~1e-2)
    ref = Predictor(model, device="cpu", backend="torch")
    t0 = time.perf_counter()
    gpu = Predictor(model, device="gpu")
    cases = _cases(4) + (_cohort_cases(args.cohort, args.limit) if args.cohort else [])
    first = gpu.predict(cases[0][1], cases[0][2], sensitivity=False)
    cold = time.perf_counter() - t0
    print(f"bundle {gpu.bundle.id} {gpu.bundle.version}, input {gpu.bundle.spec.input_size} px; GPU backend "
          f"{gpu.backend} on {gpu.device}; note: {gpu.device_note}")  # fmt: skip
    if not gpu.device.startswith("cuda"):
        print("FAIL: the GPU predictor did not run on CUDA")
        return 1
    worst = 0.0
    for name, image, contour in cases:
        a = gpu.predict(image, contour, sensitivity=False)
        b = cpu.predict(image, contour, sensitivity=False)
        c = ref.predict(image, contour, sensitivity=False)
        d_ort, d_torch = abs(a.probability - b.probability), abs(a.probability - c.probability)
        d_reg = max(abs(x.probability - y.probability) for x, y in zip(a.regions, b.regions, strict=True))
        worst = max(worst, d_ort, d_torch)
        print(
            f"  {name:<14} cuda {a.probability:.6f}  cpu-onnx {b.probability:.6f}"
            f"  cpu-torch {c.probability:.6f}  |diff| {d_ort:.2e} / {d_torch:.2e}; regions {d_reg:.2e}"
        )
    verdict = "PASS" if worst <= 1e-3 else "FAIL"
    print(f"parity: max |fused CUDA - CPU| = {worst:.2e} (limit 1e-3) -> {verdict}")
    image, contour = cases[0][1], cases[0][2]

    def timed(p: Predictor) -> tuple[float, float, float]:
        for _ in range(5):
            p.predict(image, contour, sensitivity=False)
        runs = [p.predict(image, contour, sensitivity=False).timings_ms for _ in range(args.repeats)]
        sens = [p.predict_sensitivity(image, contour).time_ms for _ in range(max(3, args.repeats // 5))]
        return (
            statistics.median(r["total"] for r in runs),
            statistics.median(r["inference"] for r in runs),
            statistics.median(sens),
        )

    g, c = timed(gpu), timed(cpu)
    print(
        f"cold GPU (torch import, CUDA init, load, first prediction): {cold:.2f} s ({first.probability:.4f})"
    )
    print(f"warm GPU: predict {g[0]:.1f} ms (inference {g[1]:.1f} ms), sensitivity stage {g[2]:.1f} ms")
    print(f"warm CPU (ONNX Runtime): predict {c[0]:.1f} ms (inference {c[1]:.1f}), sensitivity {c[2]:.1f} ms")
    return 0 if worst <= 1e-3 else 1


if __name__ == "__main__":
    sys.exit(main())
