"""One side of bench_predict.py, run in a fresh process: `ours`, `torch` (the port) or `cli`.

    python benchmarks/_bench_child.py ours BUNDLE REPEATS THREADS PRECISION
    python benchmarks/_bench_child.py torch BUNDLE REPEATS THREADS
    python benchmarks/_bench_child.py cli BUNDLE IMAGE CONTOUR PRECISION

`ours`/`torch` print "FIRST <probability>" as soon as the first probability exists (the parent times
process start → that line: the cold start), then one JSON line of medians. `cli` runs `dlrs predict`
in this process and prints its peak RSS as JSON on stderr's last line when the command has finished.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def peak_rss_mb() -> float:
    """VmHWM of this process (not ru_maxrss: on Linux that survives exec and can report the parent's)."""
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load_case() -> tuple[Any, Any, str]:
    from dlrs_desktop.imaging import load_image
    from dlrs_desktop.paths import samples_dir
    from dlrs_desktop.roi import Contour

    dcm, cjson = samples_dir() / "demo.dcm", samples_dir() / "demo.contour.json"
    return load_image(dcm), Contour.load(cjson), "resources/samples/demo.dcm"


def ours(bundle: str, repeats: int, threads: int, precision: str = "auto") -> dict[str, Any]:
    """Our predictor; `precision` as `--precision` asks (auto: what a user on this CPU gets)."""
    image, contour, what = load_case()
    t0 = time.perf_counter()
    import inspect

    from dlrs_desktop.model.predictor import Predictor

    t1 = time.perf_counter()
    # a `--before` revision may predate the precision option: it then runs what it always ran
    has_precision = "precision" in inspect.signature(Predictor.__init__).parameters
    extra = {"precision": precision} if has_precision else {}
    p = Predictor(bundle, device="cpu", threads=threads, **extra)
    t2 = time.perf_counter()
    first = p.predict(image, contour, sensitivity=False)
    t3 = time.perf_counter()
    print("FIRST", first.probability, flush=True)
    for _ in range(2):
        p.predict(image, contour, sensitivity=False)
    runs = [p.predict(image, contour, sensitivity=False).timings_ms for _ in range(repeats)]
    sens = [p.predict_sensitivity(image, contour) for _ in range(max(3, repeats // 4))]
    med = {k: statistics.median(r[k] for r in runs) for k in ("total", "preprocess", "inference", "fusion")}
    return dict(
        case=what,
        import_s=t1 - t0,
        load_s=t2 - t1,
        first_s=t3 - t2,
        warm_ms=med["total"],
        pre_ms=med["preprocess"],
        inf_ms=med["inference"],
        fusion_ms=med["fusion"],
        sens_ms=statistics.median(s.time_ms for s in sens),
        probability=first.probability,
        sens_probabilities=list(sens[-1].probabilities),
        torch_loaded="torch" in sys.modules,
        precision=getattr(p, "precision", "float32"),
        rss_mb=peak_rss_mb(),
    )


def torch_port(bundle: str, repeats: int, threads: int) -> dict[str, Any]:
    """The same bundle through `_torch_port.TorchPort`, with the app's crops, signatures and stacking."""
    import numpy as np

    from dlrs_desktop.model.manifest import Stacking, parse_radiomics
    from dlrs_desktop.model.predictor import SENSITIVITY_OFFSETS_MM
    from dlrs_desktop.model.preprocess import PreprocessSpec, prepare_inputs, validated_contour
    from dlrs_desktop.model.radiomics import case_features

    image, contour, _ = load_case()
    m = json.loads((Path(bundle) / "manifest.json").read_text())
    spec = PreprocessSpec.from_dict(m["preprocessing"], m["regions"])
    rad = parse_radiomics(m)
    stacking = Stacking.from_dict(m["stacking"], len(m["regions"]), len(rad.signatures) if rad else 0)
    names = tuple(r["name"] for r in m["regions"])

    def signatures(info: Any) -> np.ndarray:
        if rad is None:
            return np.zeros(0)
        pts = np.asarray(info.contour.points)
        f = case_features(image.gray, image.scan_mask, info.roiset, pts, names, rad.settings)
        return rad.logits(f)

    t0 = time.perf_counter()
    sys.path.insert(0, str(HERE))
    from _torch_port import TorchPort

    t1 = time.perf_counter()
    port = TorchPort(Path(bundle), threads)
    t2 = time.perf_counter()

    def predict() -> tuple[float, float, float, float]:
        t = time.perf_counter()
        x, info = prepare_inputs(image, contour, spec)
        t_pre = time.perf_counter()
        z = port.region_logits(x[None])[0].astype(np.float64)
        t_inf = time.perf_counter()
        p = float(stacking.fuse(np.r_[z, signatures(info)]))
        return p, (time.perf_counter() - t) * 1e3, (t_pre - t) * 1e3, (t_inf - t_pre) * 1e3

    def sensitivity() -> tuple[list[float], float]:
        t = time.perf_counter()
        base = validated_contour(image, contour)
        prepared = [prepare_inputs(image, base.offset(d), spec) for d in SENSITIVITY_OFFSETS_MM]
        z = port.region_logits(np.stack([x for x, _ in prepared])).astype(np.float64)
        fused = stacking.fuse(np.concatenate([z, np.stack([signatures(i) for _, i in prepared])], axis=1))
        return [float(v) for v in fused], (time.perf_counter() - t) * 1e3

    first = predict()[0]
    t3 = time.perf_counter()
    print("FIRST", first, flush=True)
    for _ in range(2):
        predict()
    runs = [predict() for _ in range(repeats)]
    sens = [sensitivity() for _ in range(max(3, repeats // 4))]
    x, _ = prepare_inputs(image, contour, spec)
    return dict(
        import_s=t1 - t0,
        load_s=t2 - t1,
        first_s=t3 - t2,
        warm_ms=statistics.median(r[1] for r in runs),
        pre_ms=statistics.median(r[2] for r in runs),
        inf_ms=statistics.median(r[3] for r in runs),
        sens_ms=statistics.median(s[1] for s in sens),
        probability=first,
        sens_probabilities=sens[-1][0],
        members=port.members,
        flops=port.flops(x[None]),
        rss_mb=peak_rss_mb(),
    )


def cli(argv: list[str]) -> int:
    """`dlrs predict BUNDLE IMAGE CONTOUR` in this process; its peak RSS on stderr afterwards."""
    import atexit

    from dlrs_desktop.cli import main

    bundle, image, contour, precision = argv
    atexit.register(lambda: print(json.dumps({"rss_mb": peak_rss_mb()}), file=sys.stderr, flush=True))
    args = ["predict", image, "--contour", contour, "--model", bundle, "--allow-unsigned", "--json"]
    return int(main([*args, "--precision", precision] if precision != "auto" else args))


if __name__ == "__main__":
    kind, rest = sys.argv[1], sys.argv[2:]
    if kind == "cli":
        sys.exit(cli(rest))
    if kind == "ours":
        print(json.dumps(ours(rest[0], int(rest[1]), int(rest[2]), rest[3])), flush=True)
    else:
        print(json.dumps(torch_port(rest[0], int(rest[1]), int(rest[2]))), flush=True)
