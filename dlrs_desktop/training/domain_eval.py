"""`dlrs evaluate` on the domain guard and the conformal prediction sets (docs/DOMAIN_GUARD.md).

Per split and per centre: the fraction of cases inside / unusual / outside (and, for a reference
with the synthetic-likeness gate, the fraction the gate made outside: on real scans, its false
alarms); per split: the fused AUC among the cases inside and among the flagged ones (unusual +
outside), the empirical coverage of the prediction sets and the fraction "either". Every case goes
through the app's own predictor code (`domain_fit.observe`, the same `check_values` and
`score_values`), nothing is re-fitted.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from dlrs_desktop.model import domain as dm
from dlrs_desktop.model.predictor import Predictor
from dlrs_desktop.training.domain_fit import collect, values_table
from dlrs_desktop.training.metrics import auc


def _fractions(statuses: list[str]) -> dict[str, Any]:
    return fractions(len(statuses), [sum(x == s for x in statuses) for s in dm.STATUSES])


def fractions(n: int, counts: Any) -> dict[str, Any]:
    """{"n", "inside", "unusual", "outside", "flagged"} from the number of cases of each status."""
    out: dict[str, Any] = {"n": int(n)}
    for s, c in zip(dm.STATUSES, counts, strict=True):
        out[s] = float(c) / n if n else None
    out["flagged"] = (out["unusual"] or 0.0) + (out["outside"] or 0.0) if n else None
    return out


def block_head(ref: Any, conformal: dict[str, Any] | None) -> dict[str, Any]:
    """The guard block's thresholds and nominal coverage, its splits and centres still empty."""
    return {
        "available": True,
        "unusual_above": ref.unusual_above,
        "outside_above": ref.outside_above,
        "coverage_nominal": float(conformal["coverage"]) if conformal else None,
        # where the conformal quantile was calibrated: the internal split, or also each centre held out
        "sets_calibration": str(conformal.get("split", "internal")) if conformal else None,
        "qhat": float(conformal["qhat"]) if conformal else None,
        "splits": {},
        "centres": {},
    }


def _auc(y: np.ndarray, p: np.ndarray) -> float | None:
    value = auc(y, p) if len(y) else math.nan
    return None if not math.isfinite(value) else value


def guard_metrics(
    bundle: Any, cases: list[Any], progress: Callable[[int, int], None] | None = None
) -> dict[str, Any]:
    """The `domain_guard` block of metrics.json; `{"available": False, ...}` for a bundle without one."""
    ref = bundle.domain
    if ref is None:
        return {"available": False, "reason": dm.NO_REFERENCE}
    predictor = Predictor(bundle, device="cpu", backend="onnx", precision="float")
    obs = collect(predictor, cases, progress)
    table = values_table(ref, obs, bundle.input_names)
    statuses = [dm.score_values(ref, v).status for v in table]
    gated = np.array([ref.gated(v) for v in table])
    with_gate = ref.has_synthetic_gate
    p = 1.0 / (1.0 + np.exp(-obs.fused))
    conformal = bundle.manifest.get("conformal")
    names = dm.class_names(bundle.manifest)
    sets = [dm.prediction_set(float(q), conformal, names) for q in p]
    st = np.array(statuses)
    out = block_head(ref, conformal)
    for split in dict.fromkeys(c.split for c in cases):
        idx = np.flatnonzero(obs.split == split)
        row = _fractions([statuses[i] for i in idx])
        if with_gate:
            row["outside_synthetic"] = float(np.mean(gated[idx])) if len(idx) else None
        inside, flagged = idx[st[idx] == "inside"], idx[st[idx] != "inside"]
        row["auc_inside"] = _auc(obs.y[inside], p[inside])
        row["auc_flagged"] = _auc(obs.y[flagged], p[flagged])
        if conformal:
            row.update(_set_rates(idx, obs.y, sets, names))
        out["splits"][split] = row
    for centre in dict.fromkeys(c.centre for c in cases):
        idx = np.flatnonzero(obs.centre == centre)
        row = _fractions([statuses[i] for i in idx])
        if with_gate:
            row["outside_synthetic"] = float(np.mean(gated[idx]))
        if conformal:  # a centre whose sets under-cover is where the nominal coverage does not hold
            row.update(_set_rates(idx, obs.y, sets, names))
        out["centres"][str(centre)] = row
    return out


def _set_rates(idx: np.ndarray, y: np.ndarray, sets: list[tuple[str, ...]], names: tuple[str, str]) -> dict:
    """Empirical coverage of the prediction sets and the share of "either" answers over the cases `idx`."""
    return {
        "coverage": float(np.mean([names[y[i]] in sets[i] for i in idx])),
        "either": float(np.mean([len(sets[i]) == 2 for i in idx])),
    }


def _cell(v: Any, pct: bool = True) -> str:
    if v is None:
        return "–"
    return f"{v:.1%}" if pct else f"{v:.3f}"


def guard_html(block: dict[str, Any] | None) -> str:
    """The report's "Domain guard" section."""
    if not block:
        return ""
    if not block.get("available"):
        return f"<h2>Domain guard</h2><p>{html.escape(str(block.get('reason', dm.NO_REFERENCE)))}.</p>"
    head = ("<tr><th>split</th><th>n</th><th>inside</th><th>unusual</th><th>outside</th><th>AUC inside</th>"
            "<th>AUC flagged</th><th>set coverage</th><th>either</th></tr>")  # fmt: skip
    rows = "".join(
        f"<tr><td>{html.escape(s)}</td><td>{r['n']}</td><td>{_cell(r['inside'])}</td><td>{_cell(r['unusual'])}</td>"
        f"<td>{_cell(r['outside'])}</td><td>{_cell(r['auc_inside'], False)}</td>"
        f"<td>{_cell(r['auc_flagged'], False)}</td><td>{_cell(r.get('coverage'))}</td>"
        f"<td>{_cell(r.get('either'))}</td></tr>"
        for s, r in block["splits"].items()
    )
    centres = "".join(
        f"<tr><td>{html.escape(c)}</td><td>{r['n']}</td><td>{_cell(r['inside'])}</td>"
        f"<td>{_cell(r['unusual'])}</td><td>{_cell(r['outside'])}</td><td>{_cell(r.get('coverage'))}</td>"
        f"<td>{_cell(r.get('either'))}</td></tr>"
        for c, r in block["centres"].items()
    )
    calibrated = block.get("sets_calibration")
    where = f" (quantile {block['qhat']:.3f}, calibrated on: {html.escape(calibrated)})" if calibrated else ""
    nominal = block.get("coverage_nominal")
    gated = [(s, r["outside_synthetic"]) for s, r in block["splits"].items() if "outside_synthetic" in r]
    gate = "; ".join(f"{html.escape(s)} {_cell(v)}" for s, v in gated)
    gate_text = f"<p>Made outside by the synthetic-likeness gate: {gate}.</p>" if gate else ""
    return (
        "<h2>Domain guard</h2><p>Thresholds stored in the bundle (internal split): unusual above "
        f"{block['unusual_above']:.3f}, outside above {block['outside_above']:.3f}. "
        f"Conformal prediction sets at a nominal {_cell(nominal)} coverage{where}.</p>"
        f"<table>{head}{rows}</table>{gate_text}"
        "<h3>Per centre</h3><table><tr><th>centre</th><th>n</th><th>inside</th><th>unusual</th>"
        f"<th>outside</th><th>set coverage</th><th>either</th></tr>{centres}</table>"
    )
