"""`dlrs train-assist --data DIR --out BUNDLE_DIR`: rebuild the learned contour assist from BUS-BRA + BUSI.

DIR holds the datasets as their official downloads lay them out (BUS-BRA: bus_data.csv, Images/,
Masks/; BUSI: Dataset_BUSI_with_GT/benign|malignant/ with `* (N)_mask.png`), optionally with a
SOURCES.json saying where each came from (copied into the bundle's training-set manifest).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dlrs_desktop.commands._common import config_from_args
from dlrs_desktop.errors import DlrsError
from dlrs_desktop.extras import require

NAME = "train-assist"
HELP = "train the learned contour assist (box/click outline) on BUS-BRA + BUSI and write its bundle"


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", required=True, metavar="DIR", help="folder holding BUS-BRA and/or BUSI")
    parser.add_argument("--out", required=True, metavar="BUNDLE_DIR", help="bundle folder to write")
    parser.add_argument("--epochs", type=int, default=28, help="training epochs (default 28, as shipped)")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    parser.add_argument("--seed", type=int, default=0, help="split and training seed (default 0)")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch CPU threads (default 1: fastest on a busy 2-core machine)",
    )
    parser.add_argument(
        "--recipe",
        type=int,
        choices=(1, 2, 3),
        default=2,
        help="training prompts and image changes: 2 (default: tight boxes as drawn, diameter prompts, "
        "scanner processing), 3 (2 + corrective include/exclude clicks; fine-tunes a recipe-2 bundle "
        "given by --init: the shipped 2.1.0) or 1 (the first bundle); docs/ASSIST_MODEL.md",
    )
    parser.add_argument(
        "--init",
        default="",
        metavar="BUNDLE_DIR",
        help="start from this assist bundle's weights (fine-tuning; recipe 3 from a recipe-2 bundle)",
    )
    parser.add_argument("--lr", type=float, default=3e-3, help="peak learning rate (default 3e-3)")
    parser.add_argument(
        "--widths",
        type=lambda v: tuple(int(w) for w in v.split(",")),
        default=(16, 32, 64, 96, 128),
        metavar="W1,...,W5",
        help="U-Net channels per level (default 16,32,64,96,128; the first bundle: 8,16,32,48,64)",
    )
    parser.add_argument(
        "--max-train-cases", type=int, default=0, help="use only the first N training cases (smoke tests)"
    )


def run(args: argparse.Namespace) -> int:
    require("train", "`dlrs train-assist`", modules=("torch",))  # one line naming the extra
    # lazy: `dlrs --help` imports every command; the core loads when it runs
    from dlrs_desktop.training.assist_train import AssistTrainConfig, train_assist

    if args.epochs < 1 or args.batch_size < 1:
        raise DlrsError("--epochs and --batch-size must be at least 1.")
    if not 0 < args.lr <= 1:
        raise DlrsError("--lr must be a number in (0, 1].")
    if args.recipe >= 3 and not args.init:
        raise DlrsError("--recipe 3 fine-tunes a recipe-2 bundle: give it with --init BUNDLE_DIR.")
    if args.init and not Path(args.init).is_dir():
        raise DlrsError(f"--init {args.init}: no such folder.")
    if not 2 <= len(args.widths) <= 6 or not all(1 <= w <= 512 for w in args.widths):
        raise DlrsError("--widths: 2 to 6 channel counts from 1 to 512, e.g. 8,16,32,48,64.")
    data = Path(args.data)
    if not data.is_dir():
        raise DlrsError(f"--data {data}: no such folder.")
    cfg = config_from_args(AssistTrainConfig, args)
    summary = train_assist(
        data, Path(args.out), cfg, device=args.device, log=lambda s: print(s, file=sys.stderr, flush=True)
    )
    print(
        f"best validation Dice {summary['best_val_dice']:.4f} (epoch {summary['best_epoch']}); "
        f"bundle {args.out}"
    )
    return 0
