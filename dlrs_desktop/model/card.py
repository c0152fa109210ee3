"""The model card: the manifest rendered for people (`dlrs model info`, MODEL_CARD.md, the GUI's About).

Written from the manifest only, so what the card says is what the loader checks.
"""

from __future__ import annotations

from typing import Any

from dlrs_desktop.model.anatomy import NEIGHBOURS
from dlrs_desktop.model.manifest import manifest_is_demo
from dlrs_desktop.model.outcome import Outcome, sentence_start


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.3f}"
    if isinstance(v, list):
        return "[" + ", ".join(_fmt(x) for x in v) + "]"
    return str(v)


def _region(r: dict[str, Any]) -> str:
    radius = f", {_fmt(float(r['radius_mm']))} mm" if r.get("radius_mm") else ""
    return f"{r.get('name')} ({r.get('kind')}{radius})"


def _primary_lines(m: dict[str, Any]) -> list[str]:
    """Which of the trained rows the application shows, and every row's stacking (trained bundles)."""
    models = [r for r in m.get("models", []) if isinstance(r, dict)]
    if not models:
        return []
    primary = m.get("primary_model")
    lines = [f"- shown by the application: `{primary}` ({m.get('primary_model_rule', '')})"]
    if m.get("stacking_method"):
        lines.append(f"- stacking: {m['stacking_method']}")
    for r in models:
        mark = " **(primary)**" if r.get("key") == primary else ""
        lines.append(
            f"  - {r.get('label', r.get('key'))}{mark}: coefficients {_fmt(r.get('coefficients', []))}, "
            f"intercept {_fmt(r.get('intercept'))}, threshold {_fmt(r.get('threshold'))}, "
            f"out-of-fold AUC {_fmt(r.get('oof_auc'))}"
        )
    return lines


def _changelog_text(version: str, text: Any) -> str:
    """An entry that repeats its own version ("1.1.0: ...", older `--changelog` parsing) is shown once."""
    t = str(text).strip()
    for sep in (":", "="):
        if t.startswith(f"{version}{sep}"):
            return t[len(version) + 1 :].strip()
    return t


def _warning_lines(m: dict[str, Any]) -> list[str]:
    """Why the primary model is what it is, and every warning the trainer raised (trained bundles)."""
    warnings = [str(w) for w in m.get("warnings", []) if w]
    guard = m.get("primary_model_guard") or {}
    rejected = guard.get("rejected") or {}
    if not warnings and not rejected:
        return []
    lines = ["", "## Warnings from training", ""]
    lines += [f"- **{w}**" for w in warnings]
    lines += [f"- not chosen as primary: `{k}`: {v}" for k, v in rejected.items()]
    return lines


def _split_lines(splits: dict[str, Any], positive_class: str) -> list[str]:
    """One line per split in the outcome's words (the manifest key `responders` counts label 1,
    whatever the outcome: "malignant" for a malignancy bundle)."""
    lines = []
    for name, d in splits.items():
        if not isinstance(d, dict):
            lines.append(f"- {name}: {_fmt(d)}")
            continue
        centres = ", ".join(str(c) for c in d.get("centres", []))
        lines.append(
            f"- {name}: {d.get('n', '?')} cases, {d.get('responders', '?')} {positive_class} (label 1)"
            + (f"; centres {centres}" if centres else "")
        )
    return lines


def render_model_card(m: dict[str, Any]) -> str:
    """Markdown model card (TRIPOD+AI order: intended use, outcome, data, model, performance, limits)."""
    td = m.get("training_data", {})
    arch = m.get("architecture", {})
    out = Outcome.from_dict(m.get("outcome"))  # older bundles: the early-response wording
    lines = [
        f"# Model card — {m.get('name') or m.get('id')} {m.get('version', '')}",
        "",
        "**Research use only. Demonstration model.**"
        if manifest_is_demo(m)
        else "**Research use only. Trained on SYNTHETIC data (not patient data).**"
        if str(td.get("kind", "")).lower() != "real"
        else "**Research use only.**",
        "",
        f"- id: `{m.get('id')}` · version {m.get('version')} · created {m.get('created')}",
        f"- bundle schema: {m.get('schema')} v{m.get('schema_version')} · licence: {m.get('licence')}",
    ]
    if m.get("description"):
        lines += ["", str(m["description"])]
    lines += ["", "## Intended use", "", str(m.get("intended_use", "")), "", "Not for:"]
    lines += [f"- {c}" for c in m.get("contraindications", [])]
    lines += [
        "",
        "## Outcome",
        "",
        f"{out.name}: {out.definition}",
        f"{sentence_start(out.probability_of)}; classes: {out.positive_class} (positive), "
        f"{out.negative_class} (negative).",
        f"Decision threshold {_fmt(float(m.get('threshold', float('nan'))))} "
        f"({m.get('threshold_rule', '')}): at or above → {out.positive_label}, "
        f"below → {out.negative_label}.",
        "",
        "## Training data",
        "",
        f"Kind: **{td.get('kind', '?')}**. {td.get('description', '')}",
    ]
    for key, value in td.items():
        if key == "splits" and isinstance(value, dict):
            lines += _split_lines(value, out.positive_class)
        elif key not in ("kind", "description"):
            lines.append(f"- {key}: {_fmt(value)}")
    lines += [
        "",
        "## Model",
        "",
        f"- backbone: torchvision {arch.get('arch')} (in_channels {arch.get('in_channels')}), "
        + ("one backbone shared by all regions" if arch.get("shared_backbone") else "one per region"),
        *_ensemble_lines(m),
        *_distil_lines(m),
        "- per-region linear heads on globally pooled features → one logit per region; "
        "logistic stacking over the region logits → fused probability",
        "- regions: " + ", ".join(_region(r) for r in m.get("regions", [])),
        *_radiomics_lines(m),
        *_primary_lines(m),
        *_int8_lines(m),
        *_domain_lines(m),
        _header_line(m),
        "- stacking coefficients: "
        + _fmt(m.get("stacking", {}).get("coefficients", []))
        + f", intercept {_fmt(m.get('stacking', {}).get('intercept'))}",
        "- preprocessing: " + ", ".join(f"{k}={_fmt(v)}" for k, v in m.get("preprocessing", {}).items()),
        "",
        "## Performance",
        "",
    ]
    lines[-3:-3] = _warning_lines(m)
    return "\n".join(lines + _performance_lines(m)) + "\n"


def _performance_lines(m: dict[str, Any]) -> list[str]:
    """The card's tail: the metrics table, the changelog, the software and the files with their hashes."""
    lines: list[str] = []
    metrics = m.get("metrics", [])
    if metrics:
        cols: list[str] = []
        for row in metrics:
            cols += [k for k in row if k not in cols]
        lines += ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
        lines += ["| " + " | ".join(_fmt(row.get(c, "")) for c in cols) + " |" for row in metrics]
    else:
        lines.append("No validation metrics recorded.")
    log = m.get("changelog") or {}
    if isinstance(log, dict) and log:
        lines += ["", "## Changelog", ""] + [f"- {v}: {_changelog_text(v, t)}" for v, t in log.items()]
    sw = m.get("software", {})
    lines += ["", "## Software", "", ", ".join(f"{k} {v}" for k, v in sw.items())]
    files = m.get("files", {})
    if files:
        lines += ["", "## Files (sha256)", ""]
        lines += [
            f"- {n} ({e.get('role')}, {e.get('bytes')} bytes): `{e.get('sha256')}`" for n, e in files.items()
        ]
    return lines


def _radiomics_lines(m: dict[str, Any]) -> list[str]:
    """A bundle with radiomics signatures says what they measure and where they enter the stacking."""
    rad = m.get("radiomics")
    if not isinstance(rad, dict):
        return []
    sigs = [s for s in rad.get("signatures") or [] if isinstance(s, dict)]
    names = ", ".join(str(s.get("name")) for s in sigs)
    return [
        f"- radiomics signatures ({names}): standardised L2 logistic regressions on hand-made features "
        f"({rad.get('method', '')}); each fusion row stacks its regions' networks and its own signature; "
        "stacking inputs: the region logits, then the signature logits in this order"
    ]


def _ensemble_lines(m: dict[str, Any]) -> list[str]:
    """An ensemble bundle says which networks it averages and how (docs/TRAINING.md, step 4)."""
    n = m.get("architecture", {}).get("members")
    if not isinstance(n, int) or n < 2:
        return []
    names = m.get("training", {}).get("ensemble", {}).get("members") or []
    split = m.get("training", {}).get("ensemble", {}).get("standardisation_split", "a held-out")
    who = f" ({', '.join(map(str, names))})" if len(names) == n else ""
    return [
        f"- ensemble of {n} networks{who}: each member's region logits standardised on the {split} "
        "split, then averaged"
    ]


def distillation_text(block: Any) -> str | None:
    """One sentence on the distilled student (training.distillation): both AUCs and what shipped."""
    if not isinstance(block, dict) or "shipped" not in block:
        return None
    return (
        "distillation: one student network trained on the out-of-fold logits of the "
        f"{len(block.get('teacher') or [])}-network ensemble (the primary model's internal AUC decides); "
        f"{block.get('reason', '')}"
    )


def _distil_lines(m: dict[str, Any]) -> list[str]:
    text = distillation_text((m.get("training") or {}).get("distillation"))
    return [f"- {text}"] if text else []


def _int8_lines(m: dict[str, Any]) -> list[str]:
    """The int8 graph (training/quantize.py): how it was made and how far it is from the float model."""
    q = m.get("onnx_int8")
    if not isinstance(q, dict):
        return []
    cal = q.get("calibration") or {}
    g = q.get("guard") or {}
    lines = [
        f"- int8 model `{q.get('file')}` (used where the CPU runs int8 fast; the float model otherwise): "
        f"{q.get('method', '')} ({len(q.get('float_kept') or [])} Conv nodes in float: "
        f"{', '.join(f'`{n}`' for n in q.get('float_kept') or [])}); "
        f"ONNX Runtime {q.get('onnxruntime', '?')}; calibrated on "
        f"{cal.get('n', '?')} cases of the {cal.get('split', '?')} split of {cal.get('cohort', '?')}"
        + (f" ({cal['command']})" if cal.get("command") else ""),
        f"  - guard: max |Δp| ≤ {_fmt(g.get('max_abs_dp'))} on the {g.get('max_abs_dp_split', 'internal')} "
        f"split, |ΔAUC| ≤ {_fmt(g.get('auc_change'))} on {', '.join(map(str, g.get('auc_splits', [])))}"
        + (f"; reported only: {', '.join(map(str, g['reported_only']))}" if g.get("reported_only") else ""),
    ]
    for split, d in (q.get("splits") or {}).items():
        if isinstance(d, dict):
            lines.append(
                f"  - {split} (n = {d.get('n')}): max |Δp| {_f4(d.get('max_abs_dp'))}, mean "
                f"{_f4(d.get('mean_abs_dp'))}; AUC float {_fmt(d.get('auc_float'))} → int8 "
                f"{_fmt(d.get('auc_int8'))} (change {_signed(d.get('auc_change'))})"
            )
    return lines


def _domain_lines(m: dict[str, Any]) -> list[str]:
    """How the bundle flags an image outside its training domain, and its prediction sets (DOMAIN_GUARD)."""
    d, c = m.get("domain_reference"), m.get("conformal")
    if not isinstance(d, dict):
        return ["- domain guard: none (no domain reference in this bundle: results say so)"]
    tex = d.get("texture") if isinstance(d.get("texture"), dict) else None
    syn = tex.get("synthetic") if tex else None
    lines = [
        f"- domain guard: {len(d.get('checks') or [])} checks of the train split (n = {d.get('n_train')}); "
        f"unusual above {_fmt(d.get('unusual_above'))}, outside (no class shown) above "
        f"{_fmt(d.get('outside_above'))} ({d.get('threshold_rule', '')})"
        + ("; speckle-texture checks" if tex else "")
        + (f"; synthetic-likeness gate from {syn.get('negatives')}" if isinstance(syn, dict) else "")
    ]
    if isinstance(c, dict) and c.get("by_centre"):
        held = "; ".join(
            f"{e.get('centre')} (n = {e.get('n')}) {_fmt(e.get('qhat'))}" for e in c["by_centre"]
        )
        lines.append(
            f"- prediction sets: split conformal at {float(c.get('coverage', 0)):.0%} coverage, qhat "
            f"{_fmt(c.get('qhat'))}: the largest of the internal split's quantile "
            f"(n = {c.get('n_calibration')}) {_fmt(c.get('qhat_internal'))} and each training centre's, "
            f"scored by networks trained without it: {held}"
        )
    elif isinstance(c, dict):
        lines.append(
            f"- prediction sets: split conformal at {float(c.get('coverage', 0)):.0%} coverage, calibrated "
            f"on the {c.get('split', '?')} split (n = {c.get('n_calibration')}), qhat {_fmt(c.get('qhat'))}"
        )
    return lines


def _header_line(m: dict[str, Any]) -> str:
    """What a DICOM's own header makes outside (model/anatomy.py), before any image statistic."""
    td = m.get("training_data") if isinstance(m.get("training_data"), dict) else {}
    part = td.get("body_part")
    if not isinstance(part, str):
        return (
            "- DICOM header check: a Modality other than ultrasound reads outside (this bundle declares no "
            "body part, so Body Part Examined is not checked)"
        )
    also = sorted(NEIGHBOURS.get(part, ()))
    return (
        f"- DICOM header check: a Modality other than ultrasound, or a Body Part Examined (else an Anatomic "
        f"Region code) naming another part of the body than {part}"
        + (f" ({', '.join(also)} accepted)" if also else "")
        + ", reads outside whatever the image looks like; an empty or unknown term says nothing"
    )


def _signed(v: Any) -> str:
    return f"{v:+.4f}" if isinstance(v, int | float) and not isinstance(v, bool) else "–"


def _f4(v: Any) -> str:
    return f"{v:.4f}" if isinstance(v, int | float) and not isinstance(v, bool) else "–"
