"""`dlrs model quantize --model DIR --cohort CSV`: add the int8 model to a bundle (training/quantize.py).

Calibrated on the cohort's train split; written only when the accuracy guard passes (max |Δp| on the
internal split, |ΔAUC| on the train and internal splits). Weights and the float ONNX stay
byte-identical, the manifest is re-pinned and the card re-rendered; a signed bundle must be signed
again (`dlrs model sign`). Needs the [train] extra (onnx, ONNX Runtime's quantization tools).
"""

from __future__ import annotations

import argparse

from dlrs_desktop.commands._common import add_bundle_update_arguments
from dlrs_desktop.extras import require

_HELP = (
    "add a statically quantized int8 model (calibrated on the train split, checked against the "
    "float model on every split) to a bundle folder"
)


def register_quantize(sub: argparse._SubParsersAction) -> None:
    p = add_bundle_update_arguments(sub, "quantize", _HELP)
    p.add_argument(
        "--calibration-cases", type=int, default=None, metavar="N",
        help="calibrate on N training-split cases drawn with a fixed seed (default: all of them)",
    )  # fmt: skip
    p.add_argument("--max-dp", type=float, default=0.01, help="largest |Δp| allowed on the internal split")
    p.add_argument("--max-dauc", type=float, default=0.005, help="largest |ΔAUC| allowed (train, internal)")
    p.add_argument(
        "--require", action="store_true", help="exit 2 (not 0) when the guard refuses the int8 model"
    )
    p.add_argument(
        "--cohort-command", metavar="TEXT", default=None,
        help="how the cohort was made (e.g. its `dlrs synth` command), recorded in the manifest and card",
    )  # fmt: skip


def run_quantize(args: argparse.Namespace) -> int:
    require("train", "Quantizing a model", modules=("onnx",))
    # lazy: `dlrs --help` imports every command; the core loads when it runs
    from dlrs_desktop.errors import DlrsError
    from dlrs_desktop.training.progress import ProgressBar
    from dlrs_desktop.training.quantize import quantize_bundle

    if not (0.0 <= args.max_dp < 1.0 and 0.0 <= args.max_dauc < 1.0):
        raise DlrsError("--max-dp and --max-dauc must be from 0 to below 1.")
    if args.calibration_cases is not None and args.calibration_cases < 10:
        raise DlrsError("--calibration-cases must be at least 10.")
    bars: dict[str, ProgressBar] = {}

    def progress(stage: str, i: int, n: int) -> None:
        bar = bars.setdefault(stage, ProgressBar(n, stage))
        bar.update(i)

    out = quantize_bundle(
        args.model, args.cohort, dp_tol=args.max_dp, auc_tol=args.max_dauc,
        calibration_cases=args.calibration_cases, threads=args.threads, progress=progress,
        cohort_command=args.cohort_command,
    )  # fmt: skip
    for bar in bars.values():
        bar.close()
    for attempt in out["block"]["attempts"]:
        state = "passed" if attempt["passed"] else "refused: " + "; ".join(attempt["why"])
        print(f"recipe '{attempt['float_kept']}' in float: {state}")
    for split, d in out["block"]["splits"].items():
        change = "–" if d["auc_change"] is None else f"{d['auc_change']:+.4f}"
        print(
            f"{split}: n = {d['n']}, max |Δp| {d['max_abs_dp']:.4f}, mean |Δp| {d['mean_abs_dp']:.4f}, "
            f"AUC change {change}"
        )
    if not out["written"]:
        print(f"int8 model NOT written to {out['bundle']}: " + "; ".join(out["why"]))
        return 2 if args.require else 0
    print(
        f"int8 model written to {out['bundle']} ({out['bytes']:,} bytes, calibrated on "
        f"{out['block']['calibration']['n']} training cases); manifest sha256 {out['manifest_sha256']}"
        " (a signed bundle is now unsigned: sign it again with `dlrs model sign`)"
    )
    return 0
