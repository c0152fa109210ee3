"""The server's plan of a federated `dlrs train`: pipeline.train_from_cohort's steps over sites' aggregates.

describe (counts; sites fold their own cases by patient) → fold0..fold{K-1}, final: rounds of FedAvg
(weighted by training cases, FedProx when mu > 0), keeping the best round by the pooled internal
mean region AUC from score histograms, as the pooled trainer keeps its best epoch (the last round
without an internal split) → oof logits kept at the sites → the radiomics signatures (radiomics.py:
every fusion row's, their OOF logits kept at the sites too) → [regions, signatures] z-scored per
fold from summed moments → every stacking row (its regions, then its own signature) by federated
Newton steps (aggregates.fit_logistic_federated), Youden threshold and OOF AUC from histograms →
rows in the shipped network's units from summed moments of its logits and the signatures', the
primary by selection.PRIMARY_RULE on histogram AUCs, metrics per split → write_federated_bundle.
Not federated: distillation, EMA, int8 (refused); `final+folds` ships the fold ensemble
(ensemble.py); then the domain reference from the sites' sums (domain.py). A checkpoint after
every round and step lets a restarted server resume; sites keep nothing across a restart but their
crops, so "oof" and "radiomics_oof" are asked again whenever the stacking is not checkpointed yet.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from dlrs_desktop.errors import DlrsError
from dlrs_desktop.model.radiomics import FeatureSettings, Radiomics, feature_names, signature_name
from dlrs_desktop.training import checkpoint as ckpt
from dlrs_desktop.training.dataset import check_jitter_offset
from dlrs_desktop.training.federated import aggregates as agg
from dlrs_desktop.training.federated import radiomics as frad
from dlrs_desktop.training.federated.domain import add_federated_reference
from dlrs_desktop.training.federated.ensemble import fold_ensemble
from dlrs_desktop.training.federated.evaluation import Sealed, write_federated_report
from dlrs_desktop.training.federated.protocol import Expect, Federation, FederationError, Reply, Request
from dlrs_desktop.training.federated.sealing import (
    choose_primary,
    federation_block,
    split_metrics,
    training_data,
)
from dlrs_desktop.training.federated.site import SPLITS, site_config, weights_of
from dlrs_desktop.training.federated.site_radiomics import pack_signatures
from dlrs_desktop.training.recipe import TrainingRecipe
from dlrs_desktop.training.stacking import RowModel, row_specs, sign_note, to_network_units
from dlrs_desktop.training.trainer import TrainConfig, config_dict, stage_index

CHECKPOINT_SUFFIX = ".federated-checkpoint"


@dataclass(frozen=True)
class FederatedPlan:
    """How the server federates: rounds per network, local epochs per round, the drop rule, FedProx,
    the bound on a site's update (None: 10 × the norm of the weights sent) and the transport's words."""

    rounds: int = 5
    local_epochs: int = 1
    min_sites: int = 1
    prox_mu: float = 0.0
    max_update_norm: float | None = None
    restart: bool = False
    federation: dict[str, Any] = field(default_factory=dict)

    def networks_key(self) -> dict[str, Any]:
        """What shapes the networks: a checkpoint made with other values is not resumed."""
        return {"rounds": self.rounds, "local_epochs": self.local_epochs, "prox_mu": self.prox_mu}


def check_recipe(cfg: TrainConfig, plan: FederatedPlan) -> None:
    """One line for a setting the federated recipe does not do (see sealing.NOT_FEDERATED)."""
    if cfg.ensemble not in ("final", "final+folds") or cfg.distil != "off" or cfg.ema:
        raise DlrsError(
            "Federated training ships the final network or the fold ensemble: it needs ensemble "
            "'final' or 'final+folds', distil 'off' and no EMA."
        )
    if plan.rounds < 1 or plan.local_epochs < 1 or plan.min_sites < 1 or not plan.prox_mu >= 0:
        raise DlrsError("Rounds, local epochs and minimum sites must be at least 1, FedProx mu at least 0.")
    FeatureSettings(cfg.radiomics_core_mm, cfg.radiomics_shape)  # ModelError (one line) before any site works
    check_jitter_offset(cfg.jitter_offset_mm)


def run_federated(
    federation: Federation,
    recipe: TrainingRecipe,
    plan: FederatedPlan,
    out: str | Path,
    log=print,
    report: str | Path | None = None,
) -> dict[str, Any]:
    """Train across the federation, write the bundle to `out` and the evaluation report to `report`
    (default: `<out>.report/`); returns the exporter's summary with the report's folder."""
    # lazy: the bundle writer and the network load torch and ONNX only when a run starts
    from dlrs_desktop.model.bundle_write import check_bundle_target

    out = Path(out)
    check_recipe(recipe.cfg, plan)
    check_bundle_target(out)
    run = _Run(federation, recipe, plan, log, out.parent / f"{out.name}{CHECKPOINT_SUFFIX}")
    run.describe()
    for f in range(run.k):
        run.stage(f"fold{f}")
    rows = run.stacking()
    final = run.stage("final")
    summary = run.export(out, run.shipped(final), rows)
    sizes = (run.counts["n_train"], run.counts["n_internal"])
    ref = add_federated_reference(run.ask, out, log, counts=sizes, negatives=recipe.negatives())
    summary["domain_reference"] = ref is not None
    run.state["finished"] = str(out)
    run.save()
    folder = Path(report) if report else out.parent / f"{out.name}.report"
    write_federated_report(run.ask, run.sealed, out, folder)
    log(f"evaluation report (from the sites' aggregates): {folder / 'report.html'}")
    return {**summary, "report": str(folder)}


class _Run:
    """One server session: the federation, the checkpoint (state + tensors) and the sites' counts."""

    def __init__(
        self, federation: Federation, recipe: TrainingRecipe, plan: FederatedPlan, log, ckdir: Path
    ) -> None:
        # lazy: pipeline imports the exporter; make_spec is the recipe's preprocessing
        from dlrs_desktop.training.pipeline import make_spec

        self.fed, self.recipe, self.cfg, self.plan, self.log, self.ckdir = (
            federation,
            recipe,
            recipe.cfg,
            plan,
            log,
            ckdir,
        )
        self.spec, self.t0 = make_spec(self.cfg), time.perf_counter()
        self.regions = self.spec.region_names
        fresh = {
            "config": config_dict(self.cfg),
            "plan": plan.networks_key(),
            "completed": {},
            "current": None,
            "sessions": [],
        }
        loaded = None if plan.restart else ckpt.load(ckdir)
        self.state, self.tensors = fresh, {}
        if loaded is not None:
            old, tensors = loaded
            if old.get("config") == fresh["config"] and old.get("plan") == fresh["plan"]:
                self.state, self.tensors = old, dict(tensors)
                done = ", ".join([*old["completed"], *(["stacking"] if "stacking" in old else [])])
                log(f"resuming from {ckdir} (finished: {done or 'nothing yet'})")
            else:
                log(f"checkpoint in {ckdir} is for other settings: starting afresh")
        self.state["sessions"].append({"seconds": 0.0})
        self.k = self.cfg.folds

    # --- plumbing ------------------------------------------------------------------------------
    def ask(self, task: str, arrays=(), config=None, expect: Expect | None = None) -> list[Reply]:  # type: ignore[no-untyped-def]
        return self.fed.ask(Request(task, tuple(arrays), dict(config or {})), expect or Expect(()))

    def sum_ask(self, task: str, arrays, config: dict, shape: tuple[int, ...]) -> np.ndarray:  # type: ignore[no-untyped-def]
        """radiomics.SumAsk: one array of `shape` per site, summed (shape (): no array, zeros(0))."""
        if shape == ():
            self.ask(task, arrays, config, Expect((), metrics=("cases",)))
            return np.zeros(0)
        replies = self.ask(task, arrays, config, Expect((shape,), metrics=("cases",)))
        return sum(x.arrays[0].astype(np.float64) for x in replies)  # type: ignore[return-value]

    def save(self) -> None:
        self.state["sessions"][-1]["seconds"] = round(time.perf_counter() - self.t0, 1)
        ckpt.save(self.ckdir, self.state, {k: _tensor(v) for k, v in self.tensors.items()})

    def weights(self, prefix: str) -> tuple[np.ndarray, ...]:
        return tuple(np.asarray(self.tensors[f"{prefix}{n}"], np.float32) for n in self.names)

    def put(self, prefix: str, arrays) -> None:  # type: ignore[no-untyped-def]
        self.tensors.update(
            {f"{prefix}{n}": np.asarray(a, np.float32) for n, a in zip(self.names, arrays, strict=True)}
        )

    # --- 1. describe -----------------------------------------------------------------------------
    def describe(self) -> None:
        """Counts of the federation (summed) and the sites' names; the recipe goes to the sites."""
        keys = [f"{p}_{s}" for s in SPLITS for p in ("n", "pos")]
        keys += [f"{p}_fold{f}" for f in range(self.k) for p in ("n", "pos")]
        replies = self.ask(
            "describe",
            (),
            site_config(self.cfg),
            Expect((), metrics=(*keys, "centres", "area_min", "area_max")),
        )
        self.counts = {k: sum(int(r.metrics[k]) for r in replies) for k in keys}
        self.sites = {r.site: {s: int(r.metrics[f"n_{s}"]) for s in SPLITS} for r in replies}
        self.positives = {r.site: {s: int(r.metrics[f"pos_{s}"]) for s in SPLITS} for r in replies}
        self.area = [
            min(float(r.metrics["area_min"]) for r in replies),
            max(float(r.metrics["area_max"]) for r in replies),
        ]
        c = self.counts
        if min(c["pos_train"], c["n_train"] - c["pos_train"]) < 2:
            raise FederationError("The sites' training splits hold fewer than two cases of each class.")
        self.log(
            f"{len(replies)} sites: {c['n_train']} training, {c['n_internal']} internal, "
            f"{c['n_external']} external cases"
        )
        net = self.new_network("final")
        self.names = list(net.state_dict().keys())
        self.shapes = tuple(tuple(v.shape) for v in net.state_dict().values())
        self.internal = min(c["pos_internal"], c["n_internal"] - c["pos_internal"]) >= 1

    def new_network(self, stage: str):  # type: ignore[no-untyped-def]
        """The stage's starting network, seeded as the pooled trainer seeds it."""
        # lazy: optional [train] extra; extras.require names the install
        import torch

        # lazy: imports torch (the optional [train] extra)
        from dlrs_desktop.training.trainer import load_init_weights, new_network

        torch.manual_seed(self.cfg.seed * 1000 + stage_index(stage))
        net = new_network(self.cfg, self.spec)
        if self.cfg.init:
            load_init_weights(net, self.cfg.init)
        return net

    # --- 2. rounds of FedAvg ------------------------------------------------------------------------
    def stage(self, stage: str) -> tuple[np.ndarray, ...]:
        """The stage's kept weights (trained now, or from the checkpoint)."""
        prefix = "final." if stage == "final" else f"done.{stage}."
        if stage in self.state["completed"]:
            return self.weights(prefix)
        cur = self.state.get("current") or {}
        if cur.get("stage") == stage:
            glob, start = self.weights("cur.global."), cur["round"] + 1
            self.log(f"[{stage}] resuming at round {start + 1}")
        else:
            cur = {"stage": stage, "round": -1, "best_round": -1, "best_score": -1.0, "history": []}
            glob, start = weights_of(self.new_network(stage)), 0
            self.put("cur.best.", glob)
        for rnd in range(start, self.plan.rounds):
            glob = self.round(stage, rnd, glob, cur)
            if self._early_stop(stage, rnd, cur):
                break
        best = self.weights("cur.best.")
        self.put(prefix, best)
        self.tensors = {k: v for k, v in self.tensors.items() if not k.startswith("cur.")}
        self.state["completed"][stage] = {"best_round": cur["best_round"] + 1, "history": cur["history"]}
        self.state["current"] = None
        self.save()
        self.log(f"[{stage}] done: round {cur['best_round'] + 1} kept")
        return best

    def round(self, stage: str, rnd: int, glob, cur: dict[str, Any]) -> tuple[np.ndarray, ...]:  # type: ignore[no-untyped-def]
        """One round: local training at every site, FedAvg, internal score; checkpointed."""
        cfg, plan = self.cfg, self.plan
        norm = math.sqrt(sum(float(np.sum(np.square(a, dtype=np.float64))) for a in glob))
        bound = plan.max_update_norm or 10.0 * max(norm, 1.0)
        lr = cfg.lr * 0.5 * (1 + math.cos(math.pi * rnd / plan.rounds))  # cosine over the rounds
        config = {
            "stage": stage,
            "round": rnd,
            "epochs": plan.local_epochs,
            "lr": lr,
            "prox_mu": float(plan.prox_mu),
            "seed": cfg.seed,
            "pos_weight": self._pos_weight(stage),
        }
        replies = self.ask("train", glob, config, Expect(self.shapes, glob, bound, ("loss",)))
        n = np.array([r.n for r in replies], np.float64)
        if n.sum() <= 0:
            raise FederationError(f"no site has training cases for {stage}")
        glob = tuple(
            np.asarray(
                sum(w * r.arrays[i].astype(np.float64) for w, r in zip(n, replies, strict=True)) / n.sum(),
                np.float32,
            )
            for i in range(len(self.shapes))
        )
        rec = {
            "round": rnd + 1,
            "sites": len(replies),
            "lr": lr,
            "loss": float(
                sum(w * float(r.metrics["loss"]) for w, r in zip(n, replies, strict=True)) / n.sum()
            ),
        }
        score = float("nan")
        if self.internal:
            region_auc = self.internal_auc(glob)
            score = float(np.mean(region_auc))
            rec.update(internal_score=score, internal_region_auc=region_auc)
        improved = math.isnan(score) or score > cur["best_score"] + 1e-4 or cfg.keep == "last"
        if improved:
            cur["best_score"] = cur["best_score"] if math.isnan(score) else score
            cur["best_round"] = rnd
            self.put("cur.best.", glob)
        cur["round"] = rnd
        cur["history"].append(rec)
        self.state["current"] = cur
        self.put("cur.global.", glob)
        self.save()
        auc_text = f", internal AUC {score:.2f}" if not math.isnan(score) else ""
        self.log(
            f"{stage} round {rnd + 1}/{plan.rounds}: {len(replies)} sites, loss {rec['loss']:.4f}"
            f"{auc_text}{' *' if improved else ''}"
        )
        return glob

    def _early_stop(self, stage: str, rnd: int, cur: dict[str, Any]) -> bool:
        """The pooled trainer's patience, in rounds (never in the first half)."""
        p = self.cfg.patience
        stop = self.cfg.keep == "best" and rnd + 1 >= self.plan.rounds // 2 and rnd - cur["best_round"] >= p
        if stop:
            self.log(f"[{stage}] early stop: no improvement for {p} rounds")
        return stop

    def _pos_weight(self, stage: str) -> float:
        """The pooled loss's class weight, from the federation's counts of the stage's fit cases."""
        c = self.counts
        n, pos = c["n_train"], c["pos_train"]
        if stage != "final":
            n, pos = n - c[f"n_{stage}"], pos - c[f"pos_{stage}"]
        return float(min(max((n - pos) / max(pos, 1), 1e-3), 1e3))

    def internal_auc(self, weights) -> list[float]:  # type: ignore[no-untyped-def]
        """Per-region AUC on the pooled internal split, from the sites' histograms."""
        r = len(self.regions)
        replies = self.ask("evaluate", weights, {}, Expect(((r, 2, agg.N_BINS),), metrics=("cases",)))
        h = sum(x.arrays[0].astype(np.int64) for x in replies)
        return [float(agg.auc_from_histogram(h[i])) for i in range(r)]

    # --- 3-4. out-of-fold stacking ---------------------------------------------------------------
    def stacking(self) -> list[RowModel]:
        """Every row fitted on the sites' standardised OOF logits (checkpointed once fitted)."""
        saved = self.state.get("radiomics")
        self.radiomics = Radiomics.from_dict(saved["model"], self.regions) if saved else None
        self.inputs = (*self.regions, *(self.radiomics.names if self.radiomics else ()))
        if "stacking" in self.state:
            return [RowModel.from_dict(d) for d in self.state["stacking"]["rows"]]
        for f in range(self.k):  # the sites store their held-out logits (again, after a restart)
            self.ask("oof", self.weights(f"done.fold{f}."), {"fold": f}, Expect((), metrics=("cases",)))
        self.radiomics = self.signatures()
        self.inputs = (*self.regions, *(self.radiomics.names if self.radiomics else ()))
        on = {"radiomics": self.radiomics is not None}
        total = self.sum_ask("oof_moments", (), on, (self.k, 3, len(self.inputs)))
        ms = [agg.mean_sd(total[f]) for f in range(self.k) if total[f][0][0] > 0]
        if len(ms) != self.k:
            raise FederationError("a fold holds no held-out case at any site")
        self.z = (np.stack([m for m, _ in ms]), np.stack([s for _, s in ms]))
        rows = [self.fit_row(*spec) for spec in row_specs(self.regions)]
        self.log("out-of-fold AUC (training split): " + ", ".join(f"{x.key} {x.oof_auc:.3f}" for x in rows))
        self.state["stacking"] = {"rows": [x.to_dict() for x in rows]}
        self.save()
        return rows

    def signatures(self) -> Radiomics | None:
        """pipeline's fit_signatures from the sites' sums (radiomics.py), checkpointed with the
        requests that stored its OOF logits: a restarted server sends those again, refitting nothing."""
        if not self.cfg.radiomics:
            return None
        saved = self.state.get("radiomics")
        if saved is not None:
            frad.resend_oof(self.sum_ask, saved["oof_requests"])
            return Radiomics.from_dict(saved["model"], self.regions)
        n_features = len(feature_names(self.regions))
        moments = self.sum_ask("radiomics_moments", (), {}, (self.k, 3, n_features))
        sent: dict[str, list[list]] = {}
        fit = frad.fit_federated_signatures
        rad = fit(self.sum_ask, tuple(self.regions), moments, self.log, sent, self.cfg.feature_settings)
        self.state["radiomics"] = {"model": rad.to_dict(), "oof_requests": sent}
        self.save()
        self.log(f"radiomics signatures: {', '.join(rad.names)} ({len(rad.features)} features)")
        return rad

    def _row_ask(self, task: str, key: str, w, b: float, shape: tuple[int, ...]) -> np.ndarray:  # type: ignore[no-untyped-def]
        arrays = (*self.z, np.asarray(w, np.float64), np.array([b], np.float64))
        return self.sum_ask(task, arrays, {"row": key, "radiomics": self.radiomics is not None}, shape)

    def fit_row(self, key: str, label: str, regions: tuple[str, ...], kind: str) -> RowModel:
        """One row: non-negative fit, free fit (for the sign notes), Youden threshold and OOF AUC; a
        fusion row's inputs are its regions, then its own signature (stacking.fit_row_models)."""
        names = self.inputs
        idx = [names.index(x) for x in regions]
        if kind == "fusion" and signature_name(key) in names:
            idx.append(names.index(signature_name(key)))
            label += " + radiomics"
        k, c = len(idx), self.cfg.meta_c
        size = agg.terms_size(k)
        prev = self.counts["pos_train"] / self.counts["n_train"]
        start = math.log(max(prev, 1e-3) / max(1 - prev, 1e-3))

        def terms(w, b):  # type: ignore[no-untyped-def]
            return self._row_ask("stack_terms", key, w, b, (size,))

        w, b, _ = agg.fit_logistic_federated(terms, k, c, start, nonneg=True)
        free, _, _ = agg.fit_logistic_federated(terms, k, c, start, nonneg=False)
        notes = []
        for i, fw, cw in zip(idx, free, w, strict=True):
            if fw < 0:
                own = agg.auc_from_histogram(
                    self._row_ask("stack_hist", names[i], [1.0], 0.0, (2, agg.N_BINS))
                )
                notes.append(sign_note(names[i], float(fw), float(own), float(cw)))
        h = self._row_ask("stack_hist", key, w, b, (2, agg.N_BINS))
        coef = np.zeros(len(names))
        coef[idx] = w
        return RowModel(
            key,
            label,
            regions,
            kind,
            tuple(float(v) for v in coef),
            float(b),
            float(agg.youden_from_histogram(h)),
            float(agg.auc_from_histogram(h)),
            notes=tuple(notes),
        )

    # --- 5. sealing and export ---------------------------------------------------------------------
    def shipped(self, final):  # type: ignore[no-untyped-def]
        """The shipped network: the final one, or with `final+folds` the fold ensemble (ensemble.py)."""
        # lazy: the network imports torch
        from dlrs_desktop.training.federated.site import load_weights
        from dlrs_desktop.training.trainer import new_network

        def network(weights):  # type: ignore[no-untyped-def]
            net = new_network(self.cfg, self.spec)
            load_weights(net, weights)
            return net

        if self.cfg.ensemble != "final+folds":
            return network(final), None
        names = ["final", *(f"fold{f}" for f in range(self.k))]
        weights = [final, *(self.weights(f"done.fold{f}.") for f in range(self.k))]
        members = [(n, w, network(w)) for n, w in zip(names, weights, strict=True)]
        extra = (pack_signatures(self.radiomics), len(self.inputs), self._ref_split())
        return fold_ensemble(self.sum_ask, members, self.spec, extra, self.log)

    def _ref_split(self) -> str:
        return "internal" if self.counts["n_internal"] > 1 else "train"

    def export(self, out: Path, shipped, rows: list[RowModel]) -> dict[str, Any]:  # type: ignore[no-untyped-def]
        """Rows in the shipped network's units, the guarded primary, metrics per split, the bundle."""
        # lazy: the exporter imports ONNX and the bundle writer
        from dlrs_desktop.training.export import round_to_fp16
        from dlrs_desktop.training.federated import export as fexport

        net, ensemble = shipped
        round_to_fp16(net)  # the sites score exactly the weights the bundle ships
        net.eval()
        final = weights_of(net)
        ref_split = self._ref_split()
        sig = pack_signatures(self.radiomics)  # the sites append the shipped signatures' logits
        m, sd = agg.mean_sd(
            self.sum_ask("logit_moments", (*final, sig), {"split": ref_split}, (3, len(self.inputs)))
        )
        # to_network_units reads a mean and SD off reference logits: two rows m ± sd have exactly those
        rows, ref = to_network_units(rows, np.stack([m - sd, m + sd]))
        ref = {"reference_split": ref_split, **ref, "n": self.counts[f"n_{ref_split}"]}
        hists = self._metric_histograms(final, sig, rows)
        primary, guard, warnings = choose_primary(rows, hists[SPLITS.index("internal")])
        notes = [f"{x.key}: {n}" for x in rows for n in x.notes]
        for w in warnings:
            self.log(f"WARNING: {w}")
        self.save()
        self.sealed = Sealed(final, rows, primary, hists, self.sites, self.positives, sig)
        model = fexport.FederatedModel(
            net=net,
            spec=self.spec,
            rows=rows,
            radiomics=self.radiomics,
            primary=primary,
            guard=guard,
            warnings=notes + warnings,
            reference=ref,
            metrics=split_metrics(rows, hists),
            training_data=training_data(self.recipe, self.counts, self.sites, self.area),
            federation=federation_block(self.plan, sorted(self.sites), self.state["completed"]),
            config=config_dict(self.cfg),
            seconds=float(sum(s["seconds"] for s in self.state["sessions"])),
            device_used="federated: each site's own device",
            final_history=self.state["completed"]["final"]["history"],
            ensemble=ensemble,
        )
        return fexport.write_federated_bundle(out, model, self.recipe, self.log)

    def _metric_histograms(self, final, sig: np.ndarray, rows: list[RowModel]) -> np.ndarray:  # type: ignore[no-untyped-def]
        coef = np.array([x.coefficients for x in rows], np.float64)
        icpt = np.array([x.intercept for x in rows], np.float64)
        shape = (len(SPLITS), len(rows), 2, agg.N_BINS)
        replies = self.ask("metrics", (*final, sig, coef, icpt), {}, Expect((shape,), metrics=("cases",)))
        return sum(x.arrays[0].astype(np.int64) for x in replies)


def _tensor(a):  # type: ignore[no-untyped-def]
    # lazy: optional [train] extra; extras.require names the install
    import torch

    if isinstance(a, torch.Tensor):  # loaded from the checkpoint
        return a.detach().clone()
    return torch.from_numpy(np.array(a, np.float32))  # a copy: safetensors refuses shared memory
