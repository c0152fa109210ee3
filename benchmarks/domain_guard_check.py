"""How often the domain guard says inside / unusual / outside, per set of images (issue 26 acceptance).

    python benchmarks/domain_guard_check.py --model DIR [--cohort CSV[:SPLIT]]... \
        [--assist-test N] [--spacing 0.1] [--threads 1] [--json OUT]

* `--cohort CSV[:SPLIT]`: every case of a cohort (or of one split), with the cohort's own calibration;
  the conformal sets' empirical coverage and fraction "either" are printed too;
* `--assist-test N --busbra DIR --busi DIR`: N real breast scans with expert masks (BUSI + BUS-BRA,
  alternating) from the `test` split of resources/models/dlrs-assist/training_set.json, read from
  local copies of the two datasets (`--busbra`: the folder with bus_data.csv, Images/, Masks/;
  `--busi`: the folder with benign/ and malignant/), each file checked against its sha256, at
  `--spacing` mm/px (the datasets carry no calibration). Cases with several lesions were already
  excluded by that list, which records each file under a `BUSBRA/` or `Dataset_BUSI_with_GT/` folder.

No image is written anywhere; only counts are printed (with the machine line).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _machine import machine_line  # noqa: E402

#: the dataset folder each recorded path runs through → the command-line option naming its local copy
DATASET_FOLDERS = {"/BUSBRA/": "busbra", "/Dataset_BUSI_with_GT/": "busi"}


def local_copy(recorded: str, roots: dict[str, Path]) -> Path | None:
    """The local file of a path recorded in the assist's training-set list, or None."""
    for folder, key in DATASET_FOLDERS.items():
        if folder in recorded and roots.get(key) is not None:
            return roots[key] / recorded.split(folder, 1)[1]
    return None


def assist_test_cases(n: int, roots: dict[str, Path]) -> list[tuple[str, Path, Path]]:
    """(id, image, mask) of n test-split cases, BUSI and BUS-BRA alternating, in the list's order."""
    listing = json.loads((REPO / "resources/models/dlrs-assist/training_set.json").read_text())
    by_set: dict[str, list[tuple[str, Path, Path]]] = {"BUSI": [], "BUS-BRA": []}
    for case in listing["cases"]:
        if case["split"] != "test" or case["dataset"] not in by_set:
            continue
        files = []
        for path, sha in case["files"].items():
            local = local_copy(path, roots)
            if local is None or not local.is_file() or hashlib.sha256(local.read_bytes()).hexdigest() != sha:
                break
            files.append(local)
        else:
            image = next(f for f in files if "mask" not in f.name.lower())
            mask = next(f for f in files if "mask" in f.name.lower())
            by_set[case["dataset"]].append((case["id"], image, mask))
    out = []
    for a, b in zip(by_set["BUSI"], by_set["BUS-BRA"], strict=False):
        out += [a, b]
    return out[:n]


def run_assist(predictor, n: int, spacing: float, roots: dict[str, Path]) -> tuple[Counter, list[str]]:
    from dlrs_desktop.errors import DlrsError
    from dlrs_desktop.imaging import Calibration, load_image
    from dlrs_desktop.roi import Contour

    counts: Counter = Counter()
    reasons = []
    for cid, img_path, mask_path in assist_test_cases(n, roots):
        try:
            image = load_image(img_path).with_calibration(Calibration.manual(spacing))
            contour = Contour.load_any(mask_path, image.shape)
            pred = predictor.predict(image, contour, sensitivity=False)
        except DlrsError as exc:
            counts["refused"] += 1
            reasons.append(f"{cid}: refused ({exc})")
            continue
        counts[pred.domain.status] += 1
        reasons.append(f"{cid}: {pred.domain.status} {pred.domain.score:.2f} p={pred.probability:.3f}")
    return counts, reasons


def run_cohort(predictor, spec: str) -> tuple[Counter, dict]:
    from dlrs_desktop.errors import DlrsError
    from dlrs_desktop.training.cohort import load_case, read_cohort

    csv_path, _, split = spec.partition(":")
    cases = [c for c in read_cohort(csv_path, require_train=False) if not split or c.split == split]
    counts: Counter = Counter()
    covered, either, n = 0, 0, 0
    names = None
    for case in cases:
        try:
            image, contour = load_case(case)
            pred = predictor.predict(image, contour, sensitivity=False)
        except DlrsError:
            counts["refused"] += 1
            continue
        counts[pred.domain.status] += 1
        if pred.coverage is not None:
            from dlrs_desktop.model.domain import class_names

            names = names or class_names(predictor.bundle.manifest)
            n += 1
            covered += names[case.label] in pred.prediction_set
            either += len(pred.prediction_set) == 2
    conformal = {"n": n, "coverage": covered / n, "either": either / n} if n else {}
    return counts, conformal


def fractions(counts: Counter) -> str:
    total = sum(counts.values())
    keys = ("inside", "unusual", "outside", "unknown", "refused")
    return ", ".join(f"{k} {counts[k]}/{total} = {counts[k] / total:.1%}" for k in keys if counts[k])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--cohort", action="append", default=[], metavar="CSV[:SPLIT]")
    ap.add_argument("--assist-test", type=int, default=0, metavar="N")
    ap.add_argument("--spacing", type=float, default=0.1)
    ap.add_argument("--busbra", type=Path, default=None, help="local BUS-BRA folder (bus_data.csv, Images/)")
    ap.add_argument("--busi", type=Path, default=None, help="local BUSI folder (benign/, malignant/)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--verbose", action="store_true", help="one line per real scan")
    args = ap.parse_args()
    from dlrs_desktop.model.predictor import Predictor

    predictor = Predictor(args.model, device="cpu", backend="onnx", threads=args.threads)
    ref = predictor.bundle.domain
    print(machine_line())
    print(
        f"model {predictor.bundle.id} {predictor.bundle.version}, manifest {predictor.bundle.manifest_sha256}"
    )
    if ref is not None:
        print(f"thresholds: unusual > {ref.unusual_above:.3f}, outside > {ref.outside_above:.3f}")
    report: dict = {}
    for spec in args.cohort:
        counts, conformal = run_cohort(predictor, spec)
        print(f"cohort {spec}: {fractions(counts)}")
        if conformal:
            print(f"  conformal: coverage {conformal['coverage']:.1%} (n = {conformal['n']}), "
                  f"either {conformal['either']:.1%}")  # fmt: skip
        report[spec] = {"counts": dict(counts), "conformal": conformal}
    if args.assist_test:
        roots = {"busbra": args.busbra, "busi": args.busi}
        counts, lines = run_assist(predictor, args.assist_test, args.spacing, roots)
        print(f"real breast scans (BUSI + BUS-BRA test split, {args.spacing} mm/px): {fractions(counts)}")
        if args.verbose:
            print("\n".join("  " + x for x in lines))
        report["assist_test"] = {"counts": dict(counts), "spacing": args.spacing}
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
