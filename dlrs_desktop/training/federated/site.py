"""One hospital of a federated `dlrs train`: its own cases, and answers made only of parameters or sums.

Why the site keeps per-case values to itself: the federation's promise is that images, crops,
masks, per-patient features and per-patient logits never leave the hospital. So the site prepares
its crops once, assigns its training cases to the K folds itself (by patient, seeded), stores its
fold networks' held-out logits locally ("oof"), and replies only network weights, case counts,
moments, logistic-loss sums and score histograms (aggregates.py); the server combines those.

Why the recipe arrives in "describe": the crops depend on the server's preprocessing settings
(input size, crop scale, fill...), so a site started with nothing but its cohort prepares them when
the first request says how (and again only if a later describe changes them).

What differs from the pooled trainer (trainer._StageRun): each "train" request runs `epochs` local
epochs with a fresh AdamW at the learning rate the server chose for the round (the server anneals it
over the rounds instead of OneCycle over the epochs), no weight EMA, and an optional FedProx term;
the class weight of the loss is the federation's (sent by the server), as pooled; augmentation,
contour-jitter variants and the loss are the pooled ones.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import numpy as np

from dlrs_desktop.errors import CohortError, DlrsError, ModelError
from dlrs_desktop.model.radiomics import FeatureSettings
from dlrs_desktop.training.cohort import read_cohort
from dlrs_desktop.training.dataset import PreparedCohort, check_jitter_offset, prepare_cohort
from dlrs_desktop.training.federated import aggregates as agg
from dlrs_desktop.training.federated import report_sums as rs
from dlrs_desktop.training.federated import site_radiomics as sr
from dlrs_desktop.training.federated.ensemble import network_for
from dlrs_desktop.training.federated.protocol import Reply, Request
from dlrs_desktop.training.federated.site_domain import DOMAIN_TASKS, DomainTasks
from dlrs_desktop.training.federated.site_local import LocalRun, local_epochs
from dlrs_desktop.training.federated.site_radiomics import (
    RADIOMICS_TASKS,
    RadiomicsTasks,
)
from dlrs_desktop.training.trainer import TrainConfig, group_folds, predict_logits, stage_index

#: The TrainConfig fields a site needs from the server (crops, folds, local optimisation).
SITE_KEYS = (
    "arch",
    "input_size",
    "mm_per_px",
    "fill",
    "normalisation",
    "crop",
    "ring_kind",
    "batch_size",
    "weight_decay",
    "folds",
    "jitter_variants",
    "jitter_offset_mm",
    "augment_strength",
    "distance_channel",
    "blur_px",
    "seed",
    "limit_batches",
    "radiomics_core_mm",
    "radiomics_shape",
)
SPLITS = ("train", "internal", "external")
TASKS = (
    "describe",
    "train",
    "evaluate",
    "oof",
    "oof_moments",
    "stack_terms",
    "stack_hist",
    "logit_moments",
    "metrics",
    "report_sums",
    "calibration_terms",
    *RADIOMICS_TASKS,
    *DOMAIN_TASKS,
)


class BadRequest(DlrsError):
    """A request this site will not act on (unknown task, wrong shapes, not finite): one line."""


def weights_of(net) -> tuple[np.ndarray, ...]:
    """The network's state dict as float32 arrays in state-dict order (integer buffers included)."""
    return tuple(v.detach().cpu().numpy().astype(np.float32) for v in net.state_dict().values())


def load_weights(net, arrays) -> None:  # type: ignore[no-untyped-def]
    """Arrays in state-dict order into `net`, each cast back to its tensor's dtype (BatchNorm's
    num_batches_tracked is an integer: rounded); BadRequest when the count or a shape differs."""
    # lazy: optional [train] extra; extras.require names the install
    import torch

    sd = net.state_dict()
    if len(arrays) != len(sd):
        raise BadRequest(f"{len(arrays)} weight arrays for a network of {len(sd)} tensors")
    new = {}
    for (k, t), a in zip(sd.items(), arrays, strict=True):
        if tuple(a.shape) != tuple(t.shape):
            raise BadRequest(f"weight {k} has shape {tuple(a.shape)}, expected {tuple(t.shape)}")
        a = np.asarray(a)
        new[k] = torch.from_numpy(np.asarray(np.rint(a) if not t.is_floating_point() else a, np.float32)).to(
            t.dtype
        )
    net.load_state_dict(new)


def site_config(cfg: TrainConfig) -> dict[str, Any]:
    """What the server sends in "describe": the recipe fields a site needs."""
    return {k: getattr(cfg, k) for k in SITE_KEYS}


@dataclass
class _Local:
    """The site's prepared cases: crops, labels, fold of each training case, stored OOF logits."""

    cfg: TrainConfig
    spec: Any
    data: PreparedCohort
    train: np.ndarray  # indices of the training cases
    folds: np.ndarray  # fold of each training case (aligned with `train`)
    oof: dict[int, np.ndarray]  # fold → held-out logits (n_f, R) of that fold's network
    scores: dict[str, np.ndarray] = field(default_factory=dict)  # split → (n, rows) shipped rows' p
    signature_oof: dict[str, np.ndarray] = field(default_factory=dict)  # signature → (n_train,) OOF


class CohortSite(RadiomicsTasks, DomainTasks):
    """A SiteHandler over one hospital's cohort CSV (its cases only)."""

    def __init__(
        self, cohort_csv: str | Path, name: str, cfg: TrainConfig | None = None, device: str = "cpu"
    ) -> None:
        self.name, self.csv, self.device = name, Path(cohort_csv), device
        self.cases = read_cohort(self.csv, require_train=False)  # CohortError before anything heavy
        if not any(c.split == "train" for c in self.cases):
            raise CohortError(f"The site cohort {self.csv.name} has no case with split 'train'.")
        self.local: _Local | None = None
        if cfg is not None:
            self._prepare(cfg)

    def handle(self, request: Request) -> Reply:
        """Answer one request from this site's own data; BadRequest for anything not understood."""
        if request.task not in TASKS:
            raise BadRequest(f"unknown task {request.task!r}")
        for i, a in enumerate(request.arrays):
            if not isinstance(a, np.ndarray) or a.dtype.kind not in "fiu" or not np.all(np.isfinite(a)):
                raise BadRequest(f"'{request.task}': array {i} is not a finite numeric array")
        if request.task == "describe":
            return self._describe(request.config)
        if self.local is None and request.task not in DOMAIN_TASKS:  # those read the cohort, no crops
            raise BadRequest(f"'{request.task}' before 'describe': the site has not prepared its cases")
        return getattr(self, f"_{request.task}")(self.local, request)  # BadRadiomicsRequest, BadDomainRequest

    # --- preparation --------------------------------------------------------------------------
    def _prepare(self, cfg: TrainConfig) -> None:
        """Crops (once per recipe) and the patient-grouped folds of the training cases."""
        # lazy: pipeline imports the exporter (heavy); make_spec is all that is needed here
        from dlrs_desktop.training.pipeline import make_spec

        spec = make_spec(cfg)
        data = prepare_cohort(
            self.cases,
            spec,
            jitter_variants=cfg.jitter_variants,
            jitter_offset_mm=cfg.jitter_offset_mm,
            seed=cfg.seed,
            csv_path=self.csv,
            feature_settings=cfg.feature_settings,
        )
        tr = data.subset("train")
        self.local = _Local(cfg, spec, data, tr, _site_folds(data, tr, cfg), {})

    def _describe(self, config: dict[str, Any]) -> Reply:
        cfg = _config_from(config, self.local.cfg if self.local else TrainConfig())
        if self.local is None or site_config(self.local.cfg) != site_config(cfg):
            self._prepare(cfg)
        loc = self.local
        assert loc is not None
        d, metrics = loc.data, {}
        for s in SPLITS:
            idx = d.subset(s)
            metrics[f"n_{s}"], metrics[f"pos_{s}"] = len(idx), int(d.y[idx].sum()) if len(idx) else 0
        for f in range(cfg.folds):
            held = loc.train[loc.folds == f]
            metrics[f"n_fold{f}"], metrics[f"pos_fold{f}"] = len(held), int(d.y[held].sum())
        metrics["centres"] = len({c.centre for c in d.cases})
        area = d.tumour_area_mm2[loc.train]
        metrics["area_min"], metrics["area_max"] = float(area.min()), float(area.max())
        return Reply(self.name, (), len(d.cases), metrics)

    # --- networks -------------------------------------------------------------------------------
    def _net(self, loc: _Local, arrays) -> Any:  # type: ignore[no-untyped-def]
        """A network, or the shipped fold ensemble (members from the number of arrays)."""
        try:
            net = network_for(loc.cfg, loc.spec, len(arrays))
        except ValueError as exc:
            raise BadRequest(str(exc)) from None
        load_weights(net, arrays)
        return net.to(self.device)

    def _fit_cases(self, loc: _Local, stage: str) -> np.ndarray:
        if stage == "final":
            return loc.train
        f = _fold_of(stage, loc.cfg.folds)
        return loc.train[loc.folds != f]

    def _train(self, loc: _Local, request: Request) -> Reply:
        c = request.config
        stage = str(c.get("stage", ""))
        fit = self._fit_cases(loc, stage)
        epochs, lr = _number(c, "epochs", int, 1, 1000), _number(c, "lr", float, 1e-9, 10.0)
        mu, pos_weight = _number(c, "prox_mu", float, 0.0, 1e6), _number(c, "pos_weight", float, 1e-3, 1e3)
        rnd, seed = _number(c, "round", int, 0, 100_000), _number(c, "seed", int, 0, 2**31)
        net = self._net(loc, request.arrays)
        if len(fit) == 0:  # nothing to learn from here: the global weights back, weight 0 in FedAvg
            return Reply(self.name, weights_of(net), 0, {"loss": 0.0})
        rng_key = [seed, stage_index(stage), rnd, zlib.crc32(self.name.encode())]
        loss = local_epochs(net, loc, fit, LocalRun(epochs, lr, mu, pos_weight, rng_key), self.device)
        return Reply(self.name, weights_of(net.cpu()), len(fit), {"loss": loss})

    def _logits(self, loc: _Local, arrays, idx: np.ndarray) -> np.ndarray:  # type: ignore[no-untyped-def]
        if len(idx) == 0:
            return np.zeros((0, len(loc.spec.regions)))
        return predict_logits(self._net(loc, arrays), loc.data.x[idx, 0], self.device).astype(np.float64)

    def _evaluate(self, loc: _Local, request: Request) -> Reply:
        """Per-region score histograms of the internal split (the server's early-stopping AUC)."""
        iv = loc.data.subset("internal")
        logits = self._logits(loc, request.arrays, iv)
        y = loc.data.y[iv]
        hists = [agg.score_histogram(_sigmoid(logits[:, r]), y) for r in range(len(loc.spec.regions))]
        return Reply(self.name, (np.stack(hists),), len(iv), {"cases": len(iv)})

    def _oof(self, loc: _Local, request: Request) -> Reply:
        """Held-out logits of fold f's network, kept here; only their number goes back."""
        f = _number(request.config, "fold", int, 0, loc.cfg.folds - 1)
        held = loc.train[loc.folds == f]
        loc.oof[f] = self._logits(loc, request.arrays, held)
        return Reply(self.name, (), len(held), {"cases": len(held)})

    def _stored_oof(self, loc: _Local, f: int, on: bool) -> np.ndarray:
        """Fold f's stored OOF inputs: region logits, then (on) the signatures' (as pooled stacks them)."""
        if f not in loc.oof:
            raise BadRequest(f"no out-of-fold logits stored for fold {f}: 'oof' must come first")
        return sr.oof_with_signatures(loc, f, loc.oof[f], on)

    def _oof_moments(self, loc: _Local, request: Request) -> Reply:
        """(K, 3, R + S) moments of the stored OOF inputs, per fold (the server z-scores per fold)."""
        on = sr.uses_signatures(request.config)
        oofs = [self._stored_oof(loc, f, on) for f in range(loc.cfg.folds)]
        width = max(o.shape[1] for o in oofs)
        out = [agg.moments(o) if len(o) else np.zeros((3, width)) for o in oofs]
        return Reply(
            self.name, (np.stack(out).astype(np.float64),), len(loc.train), {"cases": len(loc.train)}
        )

    def _row_inputs(self, loc: _Local, request: Request) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
        """(z-scored OOF inputs of the row's regions and signature, labels, w, b) from
        [means, sds, w, b]; config "row" (a row, or a signature alone) and "radiomics"."""
        names, on = tuple(loc.spec.region_names), sr.uses_signatures(request.config)
        cols = sr.row_columns(names, str(request.config.get("row", "")), on)
        if len(request.arrays) != 4:
            raise BadRequest("not [means, sds, w, b]")
        means, sds, w, b = request.arrays
        k, r = loc.cfg.folds, len(names) + (len(sr.signature_specs(names)) if on else 0)
        if means.shape != (k, r) or sds.shape != (k, r) or w.shape != (len(cols),) or b.shape != (1,):
            raise BadRequest("means/sds must be (folds, inputs), w (row inputs,), b (1,)")
        if np.any(sds <= 0):
            raise BadRequest("standard deviations must be positive")
        z, y = [], []
        for f in range(k):
            held = loc.train[loc.folds == f]
            z.append((self._stored_oof(loc, f, on) - means[f]) / sds[f])
            y.append(loc.data.y[held])
        return np.concatenate(z)[:, cols], np.concatenate(y), w.astype(np.float64), float(b[0])

    def _stack_terms(self, loc: _Local, request: Request) -> Reply:
        x, y, w, b = self._row_inputs(loc, request)
        terms = np.asarray(agg.logistic_terms(x, y, w, b), np.float64)
        return Reply(self.name, (terms,), len(y), {"cases": len(y)})

    def _stack_hist(self, loc: _Local, request: Request) -> Reply:
        x, y, w, b = self._row_inputs(loc, request)
        return Reply(self.name, (agg.score_histogram(_sigmoid(x @ w + b), y),), len(y), {"cases": len(y)})

    def _inputs(self, loc: _Local, weights, sig: np.ndarray, idx: np.ndarray) -> np.ndarray:  # type: ignore[no-untyped-def]
        """The shipped stacking's inputs of the cases `idx`: network logits, then signature logits."""
        return sr.with_signature_logits(loc, self._logits(loc, weights, idx), sig, idx)

    def _logit_moments(self, loc: _Local, request: Request) -> Reply:
        """Moments (3, R + S) of the shipped inputs on one split (the stacking's reference); arrays =
        weights, signatures (site_radiomics.pack_signatures)."""
        split = str(request.config.get("split", ""))
        if split not in SPLITS or not request.arrays:
            raise BadRequest(f"unknown split {split!r} or no arrays")
        idx = loc.data.subset(split)
        *weights, sig = request.arrays
        x = self._inputs(loc, weights, sig, idx)
        m = agg.moments(x) if len(idx) else np.zeros((3, x.shape[1]))
        return Reply(self.name, (np.asarray(m, np.float64),), len(idx), {"cases": len(idx)})

    def _rows(self, loc: _Local, sig: np.ndarray, coef: np.ndarray, icpt: np.ndarray) -> None:
        rad = sr.unpack_signatures(tuple(loc.spec.region_names), sig)
        r = len(loc.spec.regions) + (len(rad.signatures) if rad else 0)
        if coef.ndim != 2 or coef.shape[1] != r or icpt.shape != (coef.shape[0],):
            raise BadRequest("needs coefficients (rows, regions + signatures) and intercepts (rows,)")

    def _metrics(self, loc: _Local, request: Request) -> Reply:
        """(3 splits, rows, 2, B) score histograms of every row on every split; arrays = weights,
        signatures (pack_signatures), coefficients (rows, R + S), intercepts (rows,)."""
        *weights, sig, coef, icpt = request.arrays
        self._rows(loc, sig, coef, icpt)
        out, n = [], 0
        for s in SPLITS:
            idx = loc.data.subset(s)
            n += len(idx)
            logits, y = self._inputs(loc, weights, sig, idx), loc.data.y[idx]
            out.append(
                [agg.score_histogram(_sigmoid(logits @ c + b), y) for c, b in zip(coef, icpt, strict=True)]
            )
        return Reply(self.name, (np.asarray(out, np.int64),), n, {"cases": n})

    def _report_sums(self, loc: _Local, request: Request) -> Reply:
        """(3 splits, rows, rs.SUMS_SIZE) sums of the evaluation report (report_sums.score_sums); the
        rows' probabilities stay here for "calibration_terms". Arrays: weights, signatures,
        coefficients (rows, R + S), intercepts (rows,), thresholds (rows,)."""
        *weights, sig, coef, icpt, thr = request.arrays
        self._rows(loc, sig, coef, icpt)
        if thr.shape != icpt.shape or np.any(thr < 0) or np.any(thr > 1):
            raise BadRequest("report_sums needs one threshold in [0, 1] per row")
        out, n = [], 0
        for s in SPLITS:
            idx = loc.data.subset(s)
            n += len(idx)
            logits = self._inputs(loc, weights, sig, idx)  # each row's p as "metrics" computes it
            loc.scores[s] = p = np.stack(
                [_sigmoid(logits @ c + b) for c, b in zip(coef, icpt, strict=True)], 1
            )
            out.append([rs.score_sums(p[:, j], loc.data.y[idx], float(t)) for j, t in enumerate(thr)])
        return Reply(self.name, (np.asarray(out, np.float64),), n, {"cases": n})

    def _calibration_terms(self, loc: _Local, request: Request) -> Reply:
        """(3, rows, J, TERMS_SIZE) logistic terms of y on logit(p) at the (slope, intercept) pairs
        `theta` (3, rows, J, 2) of the server's calibration fits, on the stored probabilities."""
        if len(loc.scores) != len(SPLITS) or len(request.arrays) != 1:
            raise BadRequest("'calibration_terms' needs one array, after 'report_sums'")
        theta = request.arrays[0]
        rows = loc.scores[SPLITS[0]].shape[1]
        if theta.ndim != 4 or theta.shape[:2] != (len(SPLITS), rows) or theta.shape[3] != 2:
            raise BadRequest(f"theta must have shape ({len(SPLITS)}, {rows}, fits, 2)")
        if not 1 <= theta.shape[2] <= rs.CALIBRATION_FITS or np.any(np.abs(theta) > 1e6):
            raise BadRequest("theta holds too many fits or coefficients beyond 1e6")
        out = []
        for i, s in enumerate(SPLITS):
            p, y = loc.scores[s], loc.data.y[loc.data.subset(s)]
            out.append([rs.calibration_terms(p[:, j], y, theta[i, j]) for j in range(rows)])
        n = sum(len(v) for v in loc.scores.values())
        return Reply(self.name, (np.asarray(out, np.float64),), n, {"cases": n})


def _site_folds(data: PreparedCohort, tr: np.ndarray, cfg: TrainConfig) -> np.ndarray:
    """Fold of each training case, grouped by patient and stratified (trainer.group_folds); a site
    too small for that spreads its patients over the folds in a seeded order instead."""
    cases = [data.cases[i] for i in tr]
    try:
        folds = group_folds(cases, data.y[tr], cfg.folds, cfg.seed)
    except CohortError:
        patients = sorted({c.patient_id for c in cases})
        order = np.random.default_rng(cfg.seed).permutation(len(patients))
        fold_of = {patients[j]: i % cfg.folds for i, j in enumerate(order)}
        folds = np.array([fold_of[c.patient_id] for c in cases])
    return folds


def _config_from(config: dict[str, Any], base: TrainConfig) -> TrainConfig:
    """The server's recipe fields (SITE_KEYS only, each of its default's type) over `base`."""
    types = {f.name: type(getattr(base, f.name)) for f in fields(TrainConfig) if f.name in SITE_KEYS}
    changes = {}
    for k, v in config.items():
        if k not in types:
            raise BadRequest(f"'describe': unknown setting {k!r}")
        want = types[k]
        if want is float and isinstance(v, int) and not isinstance(v, bool):
            v = float(v)
        if not isinstance(v, want) or (want is int and isinstance(v, bool)):
            raise BadRequest(f"'describe': setting {k} must be a {want.__name__}")
        changes[k] = v
    cfg = replace(base, **changes)
    if not 2 <= cfg.folds <= 20 or not 8 <= cfg.input_size <= 1024 or cfg.batch_size < 1:
        raise BadRequest("'describe': folds, input size or batch size out of range")
    try:
        FeatureSettings(cfg.radiomics_core_mm, cfg.radiomics_shape)  # checks the core and the shape
        check_jitter_offset(cfg.jitter_offset_mm)
    except (ModelError, CohortError) as exc:
        raise BadRequest(f"'describe': {exc}") from None
    return cfg


def _fold_of(stage: str, k: int) -> int:
    if stage.startswith("fold") and stage[4:].isdigit() and int(stage[4:]) < k:
        return int(stage[4:])
    raise BadRequest(f"unknown stage {stage!r} (fold0..fold{k - 1} or final)")


def _number(config: dict[str, Any], key: str, kind: type, lo: float, hi: float) -> Any:
    """A numeric setting of the request within [lo, hi]; BadRequest otherwise."""
    v = config.get(key)
    if isinstance(v, bool) or not isinstance(v, int | float) or (kind is int and not isinstance(v, int)):
        raise BadRequest(f"setting {key} must be {'an integer' if kind is int else 'a number'}")
    if not (math.isfinite(v) and lo <= v <= hi):
        raise BadRequest(f"setting {key}={v} is outside [{lo}, {hi}]")
    return kind(v)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(np.asarray(z, np.float64), -500, 500)))
