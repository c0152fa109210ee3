"""`dlrs evaluate`: validate a model bundle on a cohort (study table, DeLong, ROC, calibration, DCA)."""

from __future__ import annotations

import argparse

from dlrs_desktop.extras import require
from dlrs_desktop.paths import bundled_model_dir

HELP = "evaluate a model bundle on a cohort: study-shaped table, DeLong tests, figures, HTML report"


def register(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--model", default=None, help="bundle folder or zip (default: the bundled demonstration model)"
    )
    p.add_argument("--cohort", required=True, help="cohort CSV (see docs/TRAINING.md)")
    p.add_argument("--out", required=True, help="report folder (report.html, metrics.json, table.csv, PNGs)")
    p.add_argument(
        "--ground-truth",
        default=None,
        help="CSV of true probabilities (synthetic cohorts; default: ground_truth.csv beside the cohort)",
    )


def run(args: argparse.Namespace) -> int:
    require("train", "`dlrs evaluate` (its figures)", modules=("matplotlib",))
    # lazy: `dlrs --help` imports every command; the core loads when it runs
    from dlrs_desktop.training.evaluate import evaluate_bundle, headline

    model = args.model or bundled_model_dir()
    result = evaluate_bundle(model, args.cohort, args.out, ground_truth=args.ground_truth)
    print(headline(result))
    for s, v in (result.get("ground_truth") or {}).items():
        ratio = "–" if v["ratio"] is None else f"{v['ratio']:.3f}"
        print(
            f"{s}: primary {result['primary_model']} AUC {v['primary_auc']:.3f} vs ground truth "
            f"{v['ground_truth_auc']:.3f} (ratio {ratio}); "
            f"best single ROI {v['best_single_auc']:.3f}"
        )
    _print_guard(result.get("domain_guard") or {})
    for w in result.get("warnings", []):
        print(f"WARNING: {w}")
    print(f"report: {args.out}/report.html")
    return 0


def _print_guard(block: dict) -> None:
    """One line per split: the domain guard's fractions, AUC inside vs flagged, set coverage."""
    if not block.get("available"):
        print(f"domain guard: {block.get('reason', 'not evaluated')}")
        return

    def f(v, pct=True):
        return "–" if v is None else f"{v:.1%}" if pct else f"{v:.3f}"

    for s, r in block["splits"].items():
        print(
            f"domain guard {s}: inside {f(r['inside'])}, unusual {f(r['unusual'])}, "
            f"outside {f(r['outside'])}"
            + (f" (by the synthetic gate {f(r['outside_synthetic'])})" if "outside_synthetic" in r else "")
            + "; "
            f"AUC inside {f(r['auc_inside'], False)} vs flagged {f(r['auc_flagged'], False)}; "
            f"set coverage {f(r.get('coverage'))}, either {f(r.get('either'))}"
        )
