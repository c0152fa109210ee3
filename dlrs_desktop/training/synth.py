"""Synthetic dual-centre cohort: images, contours, labels and the hidden ground truth.

No public breast-ultrasound dataset with chemotherapy response exists, so the demonstration model
is trained on data generated here, and says so. What the generator guarantees:

* **Label model** (documented, the same for both centres except the intercept):
  each case has standard-normal latent features z (see `synth_render.Latents`) and

      logit = b0[centre] + 1.6·z_intratumoral − 0.6·z_margin − 1.4·z_halo − 1.4·z_oedema − 1.4·z_distortion
      p     = sigmoid(logit),   label ~ Bernoulli(p)     (1 = early response)

  `z_posterior` (posterior enhancement/shadowing) and lesion size are nuisance variables.
  The halo lives 0-2.5 mm outside the margin, the oedema 3-5 mm, the distortion 5-10 mm, so the
  3, 5 and 10 mm rings each see signal that the intratumoral region does not.
* The true probability goes to `ground_truth.csv` (never read by training); its AUC against
  the drawn labels is the best achievable AUC of the cohort.
* Two centres differ in scanner character (mm/px, PSF size, dynamic range, gain, attenuation)
  and prevalence; centre 1 → train + internal split, centre 2 → external split.
* Deterministic for a seed: case i uses its own generator seeded by (seed, i).
"""

from __future__ import annotations

import csv
import io
import math
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from dlrs_desktop.fileio import atomic_write_bytes, atomic_write_json, atomic_write_text
from dlrs_desktop.imaging.dicom_writer import tissue_region, write_ultrasound_dicom
from dlrs_desktop.training.metrics import auc
from dlrs_desktop.training.synth_render import Latents, Scanner, render_case

CENTRES: dict[int, Scanner] = {
    1: Scanner((0.075, 0.095), 0.22, 0.10, (55.0, 62.0), (-5.0, 5.0), 0.9, "DLRS-C1"),
    2: Scanner((0.100, 0.120), 0.32, 0.15, (46.0, 52.0), (4.0, 16.0), 1.1, "DLRS-C2"),
}
INTERCEPT: dict[int, float] = {1: 0.0, 2: -0.5}  # centre 2 has fewer responders
COEFFICIENTS: dict[str, float] = {
    "intratumoral": 1.6,
    "margin": -0.6,
    "halo": -1.4,
    "oedema": -1.4,
    "distortion": -1.4,
    "posterior": 0.0,
}
CENTRE1_FRACTION = 0.70  # of all patients; the rest are centre 2 (external)
TRAIN_FRACTION = 0.70  # of centre 1; the rest is the internal validation split


@dataclass(frozen=True)
class CaseTruth:
    case_id: str
    centre: int
    split: str
    label: int
    true_probability: float
    logit: float
    latents: Latents
    mm_per_px: float
    lesion_diameter_mm: float
    has_calipers: bool
    has_ruler: bool


def label_logit(lat: Latents, centre: int) -> float:
    return INTERCEPT[centre] + sum(COEFFICIENTS[k] * v for k, v in asdict(lat).items())


def assign_splits(n: int, seed: int) -> list[tuple[int, str]]:
    """(centre, split) per case, shuffled deterministically."""
    n1 = round(n * CENTRE1_FRACTION)
    n_train = round(n1 * TRAIN_FRACTION)
    plan = [(1, "train")] * n_train + [(1, "internal")] * (n1 - n_train) + [(2, "external")] * (n - n1)
    order = np.random.default_rng([seed, 999_999]).permutation(n)
    return [plan[i] for i in order]


#: Images are reproducible from (seed, generator version): 1.1 redrew the peritumoral distortion
#: (docs/TRAINING.md, "Visibility of the latents"), which changed every image after that point.
GENERATOR_VERSION = "1.1"


def _contour_json(points: np.ndarray, mm_per_px: float, kind: str) -> dict:
    """The agreed contour file (schema dlrs-contour v1), calibrated like the DICOM's region 0."""
    return {
        "schema": "dlrs-contour",
        "schema_version": 1,
        "points": [[round(float(x), 2), round(float(y), 2)] for x, y in points],
        "calibration": {
            "mm_per_px_x": mm_per_px,
            "mm_per_px_y": mm_per_px,
            "source": "dicom-us-region",
            "region_index": 0,
        },
        "frame": 0,
        "region_index": 0,
        "synthetic": {"kind": kind},
    }


def generate_case(
    out: Path, index: int, seed: int, centre: int, split: str, *, size_scale: float = 1.0, dicom: bool = True
) -> CaseTruth:
    """Render one case and write its PNG, DICOM and contours; returns its ground truth."""
    rng = np.random.default_rng([seed, index])
    case_id = f"P{index + 1:04d}"
    lat = Latents(*(float(v) for v in rng.standard_normal(6)))
    logit = label_logit(lat, centre)
    p = 1.0 / (1.0 + math.exp(-logit))
    label = int(rng.random() < p)
    r = render_case(rng, lat, CENTRES[centre], size_scale=size_scale)
    ok, png = cv2.imencode(".png", r.gray)
    if not ok:  # pragma: no cover - OpenCV failure
        raise RuntimeError("PNG encoding failed")
    atomic_write_bytes(out / "images" / f"{case_id}.png", png.tobytes())
    if dicom:
        region = tissue_region(*r.scan_rect, r.mm_per_px)
        write_ultrasound_dicom(
            out / "dicom" / f"{case_id}.dcm",
            r.gray,
            mm_per_px=r.mm_per_px,
            regions=[region],
            case_id=case_id,
            manufacturer="DLRS synthetic",
            model_name=CENTRES[centre].label,
        )
    cdir = out / "contours"
    atomic_write_json(
        cdir / f"{case_id}.contour.json", _contour_json(r.sonographer_contour, r.mm_per_px, "drawn")
    )
    atomic_write_json(
        cdir / f"{case_id}.true.contour.json", _contour_json(r.true_contour, r.mm_per_px, "true")
    )
    return CaseTruth(
        case_id,
        centre,
        split,
        label,
        p,
        logit,
        lat,
        r.mm_per_px,
        r.lesion_diameter_mm,
        r.has_calipers,
        r.has_ruler,
    )


def _job(j: tuple) -> CaseTruth:
    out, i, seed, c, s, size_scale, dicom = j
    return generate_case(out, i, seed, c, s, size_scale=size_scale, dicom=dicom)


def generate_cohort(
    out: str | Path,
    *,
    patients: int = 469,
    seed: int = 0,
    size_scale: float = 1.0,
    dicom: bool = True,
    workers: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> dict:
    """Write a whole cohort under `out`; returns a summary (also written to `synth.json`)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    plan = assign_splits(patients, seed)
    jobs = [(out, i, seed, c, s, size_scale, dicom) for i, (c, s) in enumerate(plan)]
    truths: list[CaseTruth] = []
    if workers > 1:  # each case has its own seeded generator: the result does not depend on workers
        with ProcessPoolExecutor(workers) as ex:
            for t in ex.map(_job, jobs, chunksize=4):
                truths.append(t)
                if progress:
                    progress(len(truths), patients)
    else:
        for j in jobs:
            truths.append(_job(j))
            if progress:
                progress(len(truths), patients)
    _write_tables(out, truths, dicom)
    summary = _summary(truths, seed, patients, size_scale)
    summary["seconds"] = round(time.perf_counter() - t0, 1)
    atomic_write_json(out / "synth.json", summary)
    atomic_write_text(out / "README.txt", _README.format(seed=seed, patients=patients))
    return summary


def _write_tables(out: Path, truths: list[CaseTruth], dicom: bool) -> None:
    """cohort.csv (DICOM or PNG images), cohort_png.csv and ground_truth.csv (the latents and labels)."""
    img_dir = "dicom" if dicom else "images"
    ext = "dcm" if dicom else "png"
    rows = [
        {
            "case_id": t.case_id,
            "image": f"{img_dir}/{t.case_id}.{ext}",
            "contour": f"contours/{t.case_id}.contour.json",
            "label": t.label,
            "centre": t.centre,
            "split": t.split,
            "mm_per_px": f"{t.mm_per_px:.6f}",
        }
        for t in truths
    ]
    _write_csv(out / "cohort.csv", rows)
    png_rows = [{**r, "image": f"images/{r['case_id']}.png"} for r in rows]
    _write_csv(out / "cohort_png.csv", png_rows)
    gt = [
        {
            "case_id": t.case_id,
            "centre": t.centre,
            "split": t.split,
            "label": t.label,
            "true_probability": f"{t.true_probability:.6f}",
            "logit": f"{t.logit:.6f}",
            **{f"z_{k}": f"{v:.5f}" for k, v in asdict(t.latents).items()},
            "mm_per_px": f"{t.mm_per_px:.6f}",
            "lesion_diameter_mm": f"{t.lesion_diameter_mm:.2f}",
            "has_calipers": int(t.has_calipers),
            "has_ruler": int(t.has_ruler),
            "true_contour": f"contours/{t.case_id}.true.contour.json",
        }
        for t in truths
    ]
    _write_csv(out / "ground_truth.csv", gt)


def _summary(truths: list[CaseTruth], seed: int, patients: int, size_scale: float) -> dict[str, Any]:
    """synth.json: how the cohort was made (the label model, the centres) and what came out."""
    return {
        "generator": "dlrs synth",
        "generator_version": GENERATOR_VERSION,
        "seed": seed,
        "patients": patients,
        "size_scale": size_scale,
        "label_model": {
            "formula": "logit = intercept[centre] + sum(coef[k] * z[k]); p = sigmoid(logit); "
            "label ~ Bernoulli(p)",
            "intercept": {str(k): v for k, v in INTERCEPT.items()},
            "coefficients": COEFFICIENTS,
            "latent_distribution": "independent standard normal",
            "peritumoral_distances_mm": {"halo": [0, 2.5], "oedema": [3, 5], "distortion": [5, 10]},
        },
        "centres": {str(k): asdict(v) for k, v in CENTRES.items()},
        "splits": _split_stats(truths),
        "ground_truth_auc": ground_truth_auc(truths),
    }


def _write_csv(path: Path, rows: list[dict]) -> None:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(rows[0].keys()), lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    atomic_write_text(path, buf.getvalue())


def _split_stats(truths: list[CaseTruth]) -> dict:
    stats: dict[str, dict] = {}
    for s in ("train", "internal", "external"):
        labs = [t.label for t in truths if t.split == s]
        stats[s] = {"n": len(labs), "responders": int(sum(labs))}
    return stats


def ground_truth_auc(truths: list[CaseTruth]) -> dict[str, float | None]:
    """AUC of the true probability per split: the best any model can do on these labels."""
    res: dict[str, float | None] = {}
    for s in ("train", "internal", "external"):
        y = np.array([t.label for t in truths if t.split == s])
        p = np.array([t.true_probability for t in truths if t.split == s])
        res[s] = float(auc(y, p)) if len(set(y.tolist())) == 2 else None
    return res


_README = """Synthetic breast ultrasound cohort generated by `dlrs synth --patients {patients} --seed {seed}`.
NOT patient data. Research/demonstration use only.

cohort.csv        case_id,image,contour,label,centre,split,mm_per_px  (DICOM, US-region calibration)
cohort_png.csv    the same cases with PNG images (calibration from the mm_per_px column)
contours/         <case>.contour.json = sonographer-like drawn contour (used by training);
                  <case>.true.contour.json = the true lesion outline
ground_truth.csv  true response probability and latent features per case: never read by training
synth.json        generator parameters, label model, split sizes, ground-truth AUC
"""
