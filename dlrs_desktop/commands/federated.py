"""`dlrs federated simulate|server|client`: `dlrs train` across hospitals that keep their images.

`simulate` splits one cohort into sites and runs the server's plan and the sites in this process
(the same checks on every reply as over the network); `server` and `client` are the network version
(Flower gRPC with TLS and site authentication, docs/FEDERATED.md).
"""

from __future__ import annotations

import argparse
import csv
import logging
import re
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from dlrs_desktop.commands._common import config_from_args
from dlrs_desktop.commands._outcome import add_body_part_arg, body_part_from_args
from dlrs_desktop.commands.train import _CROP_CHOICES, jitter_args, radiomics_args
from dlrs_desktop.errors import CohortError, DlrsError
from dlrs_desktop.extras import require

HELP = "train across hospitals without moving images (simulate in one process, or server + client)"
_SIMULATE = (
    "split a cohort's cases into sites (each gets its own cohort.csv) and run the federated "
    "plan in this process; the network version is `dlrs federated server` + `client`"
)
COLUMNS = ("case_id", "image", "contour", "label", "centre", "split", "mm_per_px", "patient_id")


def register(p: argparse.ArgumentParser) -> None:
    # lazy: the standalone build has no dlrs_desktop.training; cli.py turns this ImportError into one line
    from dlrs_desktop.training.trainer import TrainConfig

    d = TrainConfig()
    sub = p.add_subparsers(dest="federated_command", metavar="simulate|server|client", required=True)
    sim = sub.add_parser("simulate", help=_SIMULATE, description=_SIMULATE)
    sim.add_argument("--cohort", required=True, help="cohort CSV (docs/TRAINING.md), split into sites here")
    sim.add_argument("--out", required=True, help="bundle folder to write (sites under OUT.sites/)")
    how = sim.add_mutually_exclusive_group()
    how.add_argument("--sites-by", choices=["centre"], help="one site per centre of the training split")
    how.add_argument("--sites", type=int, default=3, help="K sites: parts grouped by patient, stratified")
    _plan_args(sim)
    _recipe_args(sim, d)
    srv = sub.add_parser(
        "server", help="the coordinator: waits for the sites, runs the plan, writes the bundle"
    )
    srv.add_argument("--out", required=True, help="bundle folder to write")
    srv.add_argument("--sites", type=int, default=2, help="number of sites expected before the first round")
    srv.add_argument("--address", default="0.0.0.0:8443", help="HOST:PORT to listen on")
    srv.add_argument("--certificates", nargs=3, metavar=("CA", "CERT", "KEY"), help="TLS PEM files")
    srv.add_argument("--site-secrets", required=True, metavar="JSON", help='{"site name": "hex secret"}')
    _plan_args(srv)
    _recipe_args(srv, d)
    cli = sub.add_parser("client", help="one hospital: answers the server from its own cohort only")
    cli.add_argument("--cohort", required=True, help="this site's own cohort.csv (its cases only)")
    cli.add_argument("--name", required=True, help="this site's name (as in the server's secrets)")
    cli.add_argument("--secret-file", required=True, help="file holding this site's hex secret")
    cli.add_argument("--server", required=True, metavar="HOST:PORT")
    cli.add_argument("--ca", required=True, help="CA certificate (PEM) that signed the server's")
    cli.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    cli.add_argument("--threads", type=int, default=0, help="CPU threads for torch (0 = default)")


def _plan_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--report",
        metavar="DIR",
        help="folder of the evaluation report computed from the sites' aggregates (default OUT.report)",
    )
    p.add_argument("--rounds", type=int, default=5, help="FedAvg rounds per network (default 5)")
    p.add_argument("--epochs", dest="local_epochs", type=int, default=1, help="local epochs per round")
    p.add_argument("--min-sites", type=int, default=1, help="fewest valid replies a step goes on with")
    p.add_argument(
        "--prox-mu", type=float, default=0.0, help="FedProx term mu/2·‖w − w_global‖² (0 = FedAvg)"
    )
    p.add_argument(
        "--max-update-norm",
        type=float,
        default=None,
        help="reject a site's update further than this from the weights sent (default 10 × their norm)",
    )
    p.add_argument("--restart", action="store_true", help="ignore an existing checkpoint and start afresh")


def _recipe_args(p: argparse.ArgumentParser, d: Any) -> None:
    """The `dlrs train` options that apply: the recipe is `dlrs train --distil off` (no distillation,
    EMA or int8 here) with --ensemble final (default) or final+folds; radiomics signatures on unless
    --no-radiomics, with the same core and shape options."""
    p.add_argument("--arch", default=d.arch, choices=["resnet18", "resnet34", "resnet50"])
    p.add_argument("--input-size", type=int, default=d.input_size, help="crop side in pixels")
    p.add_argument("--mm-per-px", type=float, default=d.mm_per_px, help="crop scale in mm per crop pixel")
    p.add_argument("--batch-size", type=int, default=d.batch_size)
    p.add_argument("--lr", type=float, default=d.lr, help="learning rate of the first round (cosine to 0)")
    p.add_argument("--folds", type=int, default=d.folds, help="folds for out-of-fold stacking")
    p.add_argument("--patience", type=int, default=d.patience, help="early stopping, in rounds")
    p.add_argument("--keep", default=d.keep, choices=["best", "last"], help="round kept per network")
    jitter_args(p, d)
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument(
        "--ensemble",
        default="final",
        choices=["final", "final+folds"],
        help="ship the final network (default), or it averaged with the fold networks as `dlrs train` "
        "does (each member's logits z-scored from the sites' moments; a bundle K+1 times larger)",
    )
    for flag, name, choices, text in _CROP_CHOICES:
        p.add_argument(flag, default=getattr(d, name), choices=list(choices), help=text)
    p.add_argument("--distance-channel", action=argparse.BooleanOptionalAction, default=d.distance_channel)
    p.add_argument("--augment", type=float, default=d.augment_strength, help="augmentation strength")
    p.add_argument("--blur", type=float, default=d.blur_px, help="largest random blur (crop pixels)")
    p.add_argument("--device", default=d.device, choices=["auto", "cpu", "cuda"])
    p.add_argument("--threads", type=int, default=0, help="CPU threads for torch (0 = default)")
    p.add_argument("--init", default=None, help="local torchvision ResNet weights (.safetensors)")
    p.add_argument("--id", default="dlrs-federated", help="model id written to the manifest")
    p.add_argument("--version", default="0.1.0")
    p.add_argument("--synthetic", action="store_true", help="declare the training data synthetic")
    p.add_argument("--description", default="", help="training data description for the model card")
    add_body_part_arg(p)
    radiomics_args(p, d, ", fitted from the sites' sums")
    p.add_argument("--limit-batches", type=int, default=0, help=argparse.SUPPRESS)


def show_federation_log() -> None:
    """The transport's lines (sites connected, replies rejected and why, round times) on stderr:
    both sides must see who answered and who was dropped, not only the plan's progress."""
    logger = logging.getLogger("dlrs_desktop.training.federated")
    logger.setLevel(logging.INFO)
    if not any(getattr(h, "dlrs_federated", False) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        handler.dlrs_federated = True  # type: ignore[attr-defined]
        logger.addHandler(handler)


def run(args: argparse.Namespace) -> int:
    require("train", "`dlrs federated`")
    show_federation_log()
    if args.federated_command == "client":
        return _client(args)
    # lazy: `dlrs --help` imports every command; the core loads when it runs
    import torch

    # lazy: the core loads when the command runs, not for `dlrs --help`
    from dlrs_desktop.model.bundle_write import check_bundle_target

    check_bundle_target(args.out)
    recipe, plan = _recipe(args)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.federated_command == "simulate":
        summary = _simulate(args, recipe, plan)
    else:
        summary = _server(args, recipe, plan)
    print(f"model bundle: {summary['bundle']} (primary model {summary['primary_model']})")
    for m in summary.get("metrics", []):
        if m["model"] == summary["primary_model"]:
            print(f"  {m['split']:<9} AUC {m['auc']:.3f}")
    for w in summary.get("warnings", []):
        print(f"WARNING: {w}")
    print(f"evaluation report: {summary['report']}/report.html (from the sites' aggregates)")
    return 0


def _recipe(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    # lazy: `dlrs --help` imports every command; the core loads when it runs
    from dlrs_desktop.training.federated.coordinator import FederatedPlan, check_recipe
    from dlrs_desktop.training.recipe import TrainingRecipe
    from dlrs_desktop.training.trainer import TrainConfig

    for name in ("rounds", "local_epochs", "batch_size", "input_size", "min_sites"):
        if getattr(args, name) < 1:
            raise CohortError(f"--{name.replace('_', '-').replace('local-', '')} must be a positive number.")
    if not 2 <= args.folds <= 20 or not args.prox_mu >= 0:
        raise CohortError("--folds must be between 2 and 20 and --prox-mu at least 0.")
    cfg = config_from_args(TrainConfig, args, {"augment_strength": "augment", "blur_px": "blur"})
    cfg = replace(cfg, epochs=args.local_epochs, ensemble=args.ensemble, distil="off", ema=0.0)
    recipe = TrainingRecipe(
        f"federated:{args.out}",
        cfg,
        model_id=args.id,
        version=args.version,
        training_kind="synthetic" if args.synthetic else "real",
        description=args.description,
        body_part=body_part_from_args(args, "BREAST"),
    )
    plan = FederatedPlan(
        rounds=args.rounds,
        local_epochs=args.local_epochs,
        min_sites=args.min_sites,
        prox_mu=args.prox_mu,
        max_update_norm=args.max_update_norm,
        restart=args.restart,
    )
    check_recipe(cfg, plan)  # a setting no bundle can hold: one line before any site is split or prepared
    return recipe, plan


@dataclass(frozen=True)
class SiteSplit:
    """How `simulate` makes sites: one per centre, or `k` patient-grouped, label-stratified parts."""

    by_centre: bool
    k: int
    seed: int


def split_sites(cases: list[Any], how: SiteSplit) -> dict[str, list[Any]]:
    """Site name → its cases. Training cases by centre or in K parts; every other split by the same
    rule (its centre's site, or K parts of its own), so that every site evaluates locally."""
    train = [c for c in cases if c.split == "train"]
    names = sorted({c.centre for c in train}) if how.by_centre else [f"site{i + 1}" for i in range(how.k)]
    sites: dict[str, list[Any]] = {_site_name(n) if how.by_centre else n: [] for n in names}
    keys = list(sites)
    for split in ("train", "internal", "external"):
        part = [c for c in cases if c.split == split]
        if how.by_centre:
            spread = [c for c in part if c.centre not in names]
            for c in part:
                if c.centre in names:
                    sites[_site_name(c.centre)].append(c)
        else:
            spread = part
        for c, i in zip(spread, _parts(spread, len(keys), how.seed), strict=True):
            sites[keys[i]].append(c)
    empty = [n for n, cs in sites.items() if not any(c.split == "train" for c in cs)]
    if empty:
        raise CohortError(f"Too many sites for this cohort: {', '.join(empty)} would have no training case.")
    return sites


def _parts(cases: list[Any], k: int, seed: int) -> list[int]:
    """Part of each case: patients shuffled (seeded) and dealt round-robin within each label."""
    # lazy: `dlrs --help` imports every command module; numpy only when a cohort is split
    import numpy as np

    by_patient: dict[str, int] = {}
    for c in cases:
        by_patient[c.patient_id] = max(by_patient.get(c.patient_id, 0), c.label)
    rng = np.random.default_rng(seed)
    part_of: dict[str, int] = {}
    turn = 0
    for label in (0, 1):
        patients = sorted(p for p, lab in by_patient.items() if lab == label)
        for j in rng.permutation(len(patients)):
            part_of[patients[j]] = turn % k
            turn += 1
    return [part_of[c.patient_id] for c in cases]


def _site_name(centre: str) -> str:
    return "centre-" + (re.sub(r"[^A-Za-z0-9._-]", "_", centre)[:48] or "unknown")


def write_site_cohorts(sites: dict[str, list[Any]], root: Path) -> dict[str, Path]:
    """Each site's own cohort.csv under root/<site>/ (images referenced by absolute path)."""
    out = {}
    for name, cases in sites.items():
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "cohort.csv"
        with path.open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(COLUMNS)
            for c in cases:
                w.writerow(
                    [
                        c.case_id,
                        c.image.resolve(),
                        c.contour.resolve(),
                        c.label,
                        c.centre,
                        c.split,
                        "" if c.mm_per_px is None else repr(c.mm_per_px),
                        c.patient_id,
                    ]
                )
        out[name] = path
    return out


def _simulate(args: argparse.Namespace, recipe, plan) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    # lazy: `dlrs --help` imports every command; the core loads when it runs
    from dlrs_desktop.training.cohort import read_cohort
    from dlrs_desktop.training.federated.coordinator import run_federated
    from dlrs_desktop.training.federated.protocol import InProcessFederation
    from dlrs_desktop.training.federated.site import CohortSite
    from dlrs_desktop.training.trainer import describe, resolve_device

    if args.sites_by is None and not 1 <= args.sites <= 100:
        raise CohortError("--sites must be between 1 and 100.")
    cases = read_cohort(args.cohort)
    sites = split_sites(cases, SiteSplit(args.sites_by == "centre", args.sites, recipe.cfg.seed))
    out = Path(args.out)
    paths = write_site_cohorts(sites, out.parent / f"{out.name}.sites")
    device = str(resolve_device(recipe.cfg.device))
    describe(f"{len(paths)} sites: " + ", ".join(f"{n} ({len(sites[n])} cases)" for n in paths))
    handlers = [CohortSite(p, n, recipe.cfg, device) for n, p in paths.items()]
    fed = InProcessFederation(handlers, min_sites=plan.min_sites, log=describe)
    plan = replace(
        plan,
        federation={
            "transport": "in-process simulation (dlrs federated simulate)",
            "site_split": f"by {args.sites_by}"
            if args.sites_by
            else f"{args.sites} parts grouped by patient, stratified by label",
        },
    )
    return run_federated(fed, recipe, plan, out, describe, args.report)


def _server(args: argparse.Namespace, recipe, plan) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    try:
        # lazy: Flower is the optional [federated] extra
        from dlrs_desktop.training.federated.transport import FlowerFederation, ServerSettings
    except ImportError as exc:
        raise DlrsError(f"dlrs federated server is not available here: {exc}") from None
    # lazy: the plan imports torch (the optional [train] extra) when the server runs
    from dlrs_desktop.training.federated.coordinator import run_federated
    from dlrs_desktop.training.trainer import describe

    if args.certificates is None:
        raise CohortError("The federated server needs --certificates CA CERT KEY (TLS).")
    certs = tuple(Path(p) for p in args.certificates)
    settings = ServerSettings(
        args.address,
        Path(args.site_secrets),
        certs,  # type: ignore[arg-type]
        min_sites=args.min_sites,
        expected_sites=args.sites,
    )
    fed = FlowerFederation(settings)
    plan = replace(plan, federation={"transport": f"Flower gRPC ({fed.protocol}, sites authenticated)"})
    finished = False
    try:
        summary = run_federated(fed, recipe, plan, Path(args.out), describe, args.report)
        finished = True
    finally:
        fed.close(finished=finished)
    return summary


def _client(args: argparse.Namespace) -> int:
    try:
        # lazy: Flower is the optional [federated] extra
        from dlrs_desktop.training.federated.transport import SiteSettings, run_site
    except ImportError as exc:
        raise DlrsError(f"dlrs federated client is not available here: {exc}") from None
    # lazy: torch is the optional [train] extra, loaded when the client runs
    import torch

    # lazy: the site imports torch (the optional [train] extra) when the client runs
    from dlrs_desktop.training.federated.site import CohortSite
    from dlrs_desktop.training.trainer import resolve_device

    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        secret = bytes.fromhex(Path(args.secret_file).read_text(encoding="utf-8").strip())
    except (OSError, ValueError):
        raise CohortError(f"{args.secret_file} cannot be read as a hex secret.") from None
    site = CohortSite(args.cohort, args.name, None, str(resolve_device(args.device)))
    run_site(site, SiteSettings(args.server, args.name, secret, Path(args.ca)))
    print(f"site {args.name}: the federation finished")
    return 0
