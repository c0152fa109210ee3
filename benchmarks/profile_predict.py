"""Where the time of a prediction goes: the warm path and the sensitivity stage, step by step.

    python benchmarks/profile_predict.py [--model DIR] [--repeats 10]

Runs `Predictor.predict` (no sensitivity) and `Predictor.predict_sensitivity` on the demo case under
cProfile and prints, per call of each stage, the milliseconds spent inside the pipeline's steps:
validation, ROIs (rings), crops, colour check, the network (ONNX Runtime), radiomics signatures,
quality flags, the domain guard and the rest. cProfile adds overhead to Python-heavy steps, so read
the shares, not the absolute figures (bench_predict.py gives those). cProfile sees only the calling
thread, so the predictor's helper threads are replaced by a serial executor here: every step is
counted, in sequence (the real run overlaps the radiomics and the sensitivity contours). In the
warm path the radiomics start inside `prepare_inputs` (its `on_rois` hook), so "all preprocessing"
includes them there.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
from concurrent.futures import Executor, Future
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _machine import machine_line

#: (label, file suffix, function name) of the steps reported, in pipeline order.
STEPS = (
    ("offset contours (sensitivity)", "contour.py", "offset"),
    ("validate contour", "preprocess.py", "validated_contour"),
    ("ROIs (tumour + rings)", "rings.py", "compute_rois"),
    ("colour check", "colour.py", "clean_colour"),
    ("all preprocessing", "preprocess.py", "prepare_inputs"),
    ("network (ONNX Runtime)", "predictor.py", "run_crops"),
    ("radiomics signatures", "predictor.py", "_signatures"),
    ("quality flags", "quality.py", "quality_flags"),
    ("domain guard: image statistics", "domain.py", "image_stats"),
    ("domain guard: scoring", "predictor.py", "_guard"),
)


class SerialExecutor(Executor):
    """Runs each job at once in the calling thread (so cProfile sees it)."""

    def submit(self, fn, /, *args, **kwargs) -> Future:  # type: ignore[no-untyped-def]
        done: Future = Future()
        done.set_result(fn(*args, **kwargs))
        return done


def profile(fn, repeats: int) -> tuple[pstats.Stats, float]:
    fn()  # warm
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(repeats):
        fn()
    prof.disable()
    stats = pstats.Stats(prof)
    total = max(v[3] for k, v in stats.stats.items() if k[2] == fn.__name__)  # type: ignore[attr-defined]
    return stats, total


def table(stats: pstats.Stats, total_s: float, repeats: int) -> list[str]:
    lines = [f"  {'total':30s} {1e3 * total_s / repeats:8.1f} ms per call"]
    for label, file, name in STEPS:
        cum = sum(v[3] for k, v in stats.stats.items() if k[0].endswith(file) and k[2] == name)  # type: ignore[attr-defined]
        if cum:
            lines.append(f"  {label:30s} {1e3 * cum / repeats:8.1f} ms  ({100 * cum / total_s:4.1f} %)")
    return lines


def main() -> None:
    from dlrs_desktop.imaging import load_image
    from dlrs_desktop.model.predictor import Predictor
    from dlrs_desktop.paths import bundled_model_dir, samples_dir
    from dlrs_desktop.roi import Contour

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", help="bundle folder (default: the bundled demonstration model)")
    ap.add_argument("--repeats", type=int, default=10)
    args = ap.parse_args()
    image = load_image(samples_dir() / "demo.dcm")
    contour = Contour.load(samples_dir() / "demo.contour.json")
    p = Predictor(args.model or bundled_model_dir(), device="cpu")
    p._helpers = SerialExecutor()  # see the module docstring
    arch = p.bundle.architecture
    print(
        f"$ python benchmarks/profile_predict.py {' '.join(sys.argv[1:])}\n{machine_line()}\n"
        f"bundle {p.bundle.id} {p.bundle.version}: {arch.get('members', 1)} member(s), "
        f"{len(p.bundle.spec.regions)} regions, {p.bundle.spec.input_size} px, "
        f"radiomics {'yes' if p.bundle.radiomics else 'no'},"
        f" domain guard {'yes' if p.bundle.domain else 'no'}"
    )

    def predict() -> None:
        p.predict(image, contour, sensitivity=False)

    def predict_sensitivity() -> None:
        p.predict_sensitivity(image, contour)

    for fn in (predict, predict_sensitivity):
        stats, total = profile(fn, args.repeats)
        print(f"{fn.__name__} (cProfile, {args.repeats} calls):")
        print("\n".join(table(stats, total, args.repeats)))


if __name__ == "__main__":
    main()
