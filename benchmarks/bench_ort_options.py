"""ONNX Runtime graph optimisation level for the predictor: speed and memory, ALL vs EXTENDED.

    python benchmarks/bench_ort_options.py --model DIR [--repeats 15]

ALL adds the NCHWc layout pass (convolutions in blocked channel layout, AVX2/AVX-512 kernels), which
keeps a reordered copy of the convolution weights. Speed: both sessions in one process, runs
interleaved (same load for both), on one image (batch 1) and on the sensitivity stage's 4 contours
(batch 4), median ms. Memory: each level alone in a fresh process, the session's resident size
after the ONNX bytes are let go (as the predictor does) and the peak while it was made.
Options otherwise as the predictor's (`model/predictor.py`, `_OrtBackend`).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _machine import machine_line

LEVELS = ("ORT_ENABLE_ALL", "ORT_ENABLE_EXTENDED")


def session(onnx: bytes, level: str, threads: int):  # type: ignore[no-untyped-def]
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads, so.inter_op_num_threads = threads, 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = getattr(ort.GraphOptimizationLevel, level)
    so.add_session_config_entry("session.use_device_allocator_for_initializers", "1")
    so.add_session_config_entry("session.intra_op.allow_spinning", "0")
    so.add_session_config_entry("session.inter_op.allow_spinning", "0")
    s = ort.InferenceSession(onnx, sess_options=so, providers=["CPUExecutionProvider"])
    s._model_bytes = None
    return s


def rss_mb() -> dict[str, float]:
    with open("/proc/self/status", encoding="ascii") as fh:
        return {ln.split(":")[0]: int(ln.split()[1]) / 1024 for ln in fh if ln.startswith(("VmRSS", "VmHWM"))}


def memory_child(model: str, level: str, threads: int) -> None:
    """In a fresh process: resident MB before, and after one session of `level` (bytes let go)."""
    onnx = (Path(model) / "model.onnx").read_bytes()
    before = rss_mb()["VmRSS"]
    s = session(onnx, level, threads)
    del onnx
    after = rss_mb()
    print(
        json.dumps({"bytes_mb": before, "rss_mb": after["VmRSS"], "peak_mb": after["VmHWM"], "ok": bool(s)})
    )


def speed(model: str, threads: int, repeats: int) -> dict[str, dict[int, float]]:
    import numpy as np

    from dlrs_desktop.imaging import load_image
    from dlrs_desktop.model.bundle import load_bundle
    from dlrs_desktop.model.preprocess import prepare_inputs
    from dlrs_desktop.paths import samples_dir
    from dlrs_desktop.roi import Contour

    bundle = load_bundle(model)
    image = load_image(samples_dir() / "demo.dcm")
    x, _ = prepare_inputs(image, Contour.load(samples_dir() / "demo.contour.json"), bundle.spec)
    sessions = {lv: session(bundle.onnx_bytes, lv, threads) for lv in LEVELS}
    out: dict[str, dict[int, float]] = {lv: {} for lv in LEVELS}
    for batch in (1, 4):
        xb = np.ascontiguousarray(np.repeat(x[None], batch, axis=0))
        times: dict[str, list[float]] = {lv: [] for lv in LEVELS}
        for i in range(repeats + 1):
            for lv, s in sessions.items():
                t = time.perf_counter()
                s.run(["region_logits"], {"crops": xb})
                if i:  # the first run of each is a warm-up
                    times[lv].append((time.perf_counter() - t) * 1e3)
        for lv in LEVELS:
            out[lv][batch] = statistics.median(times[lv])
    return out


def main() -> None:
    from dlrs_desktop.model.predictor import physical_cores

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--memory-child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    threads = physical_cores()
    if args.memory_child:
        memory_child(args.model, args.memory_child, threads)
        return
    print(f"$ python benchmarks/bench_ort_options.py {' '.join(sys.argv[1:])}\n{machine_line()}")
    for lv in LEVELS:
        cmd = [sys.executable, __file__, "--model", args.model, "--memory-child", lv]
        m = json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)
        print(
            f"{lv}: session resident {m['rss_mb'] - m['bytes_mb']:.0f} MB after the ONNX bytes are let go,"
            f" process peak {m['peak_mb']:.0f} MB (ONNX bytes alone: {m['bytes_mb']:.0f} MB)"
        )
    res = speed(args.model, threads, args.repeats)
    for lv in LEVELS:
        print(
            f"{lv}: batch 1 {res[lv][1]:.1f} ms, batch 4 {res[lv][4]:.1f} ms"
            f" (median of {args.repeats}, interleaved in one process, {threads} threads)"
        )
    print(machine_line())


if __name__ == "__main__":
    main()
