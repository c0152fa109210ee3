"""Does the guard's texture part hold on a hospital it never saw? Leave one training centre out.

    python benchmarks/domain_texture_loco.py --cohort COHORT.csv --model DIR [--negatives 150]

Training data only: the cohort's train and internal splits (its external split is never read). For
each centre of the cohort, the texture checks (model/domain_texture.py) are fitted as `dlrs model
add-reference --synthetic-negatives N` fits them — on the *other* centres' train split plus N `dlrs
synth` patients (seed 20261204) and N simulated phantom scans — and then applied to every train and
internal image of the centre left out. Printed per held-out centre: the fraction the synthetic-
likeness gate would call "outside" (a false alarm on a real scan from an unseen hospital) and the
fraction whose texture distance lies beyond the fitting centres' 99th percentile; beside it a fresh
`dlrs synth` cohort (another seed) and the QA-phantom pictures of benchmarks/domain_guard_ood.py.
The rows with every centre fitted are what the shipped reference does. Nothing is written.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _machine import machine_line  # noqa: E402

FRESH_SEED = 20270603  # the synthetic set of benchmarks/domain_guard_ood.py's record


def _phantoms(spec, n: int) -> np.ndarray:
    from domain_guard_ood import _centre, circle_contour, phantom

    from dlrs_desktop.imaging import effective_calibration
    from dlrs_desktop.imaging.loader import image_from_array
    from dlrs_desktop.imaging.types import Calibration
    from dlrs_desktop.model import domain_texture as dtx
    from dlrs_desktop.model.preprocess import prepare_inputs

    rows = []
    for seed in range(n):
        image = image_from_array(phantom(seed), path=f"<phantom {seed}>")
        c = _centre(image)
        image = effective_calibration(image, np.array([c]), fallback=Calibration.manual(0.1)).image
        _, info = prepare_inputs(image, circle_contour(image, Calibration.manual(0.1), c), spec)
        rows.append(dtx.descriptor(image.gray, image.scan_mask, info.roiset))
    return np.stack(rows)


def _distance(model, a: np.ndarray) -> np.ndarray:
    from dlrs_desktop.model import domain_texture as dtx

    return np.array([model.values(r)[dtx.DISTANCE] for r in a])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cohort", required=True)
    ap.add_argument("--model", required=True, help="a bundle (its regions define the box measured)")
    ap.add_argument("--negatives", type=int, default=150)
    ap.add_argument("--fresh", type=int, default=40, help="patients of the fresh synthetic cohort")
    args = ap.parse_args()
    import tempfile

    from dlrs_desktop.model import domain_texture as dtx
    from dlrs_desktop.model.bundle import load_bundle
    from dlrs_desktop.training.cohort import read_cohort
    from dlrs_desktop.training.domain_texture_fit import descriptors, fit_texture, synthetic_negatives
    from dlrs_desktop.training.synth import generate_cohort

    print(machine_line())
    spec = load_bundle(args.model).spec
    cases = [c for c in read_cohort(args.cohort, require_train=False) if c.split in ("train", "internal")]
    x = descriptors(spec, cases)
    centre = np.array([c.centre for c in cases])
    split = np.array([c.split for c in cases])
    neg, source = synthetic_negatives(spec, args.negatives)
    with tempfile.TemporaryDirectory() as tmp:
        generate_cohort(tmp, patients=args.fresh, seed=FRESH_SEED, dicom=False)
        fresh = descriptors(spec, read_cohort(Path(tmp) / "cohort.csv", require_train=False))
    ph = _phantoms(spec, 6)
    print(f"{len(cases)} real images (train, internal); negatives: {source}; fresh synth seed {FRESH_SEED}")
    print("fitted on | scored on | n | gate outside | texture distance > fitting p99")
    for held in [*sorted(set(centre)), None]:
        fit_rows = (split == "train") & (centre != held)
        model = dtx.parse_texture(fit_texture(x[fit_rows], neg, source))
        p99 = float(np.percentile(_distance(model, x[fit_rows]), 99))
        fitted = "all centres" if held is None else f"all but {held}"
        sets = [("internal split", x[(split == "internal")])] if held is None else [(held, x[centre == held])]
        sets += [("fresh dlrs synth", fresh), ("QA phantoms", ph)]
        for name, a in sets:
            gated = np.mean([model.gated(model.values(r)) for r in a])
            print(f"{fitted} | {name} | {len(a)} | {gated:.1%} | {(_distance(model, a) > p99).mean():.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
