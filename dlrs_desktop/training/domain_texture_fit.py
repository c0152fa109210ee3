"""Fitting the speckle-texture checks of the domain guard (model/domain_texture.py).

* The one-class part (`texture:distance`) from the training split alone: mean, SD and a
  Ledoit–Wolf-shrunk precision of the standardised 15-number descriptor.
* The synthetic-likeness classifier (`texture:synthetic`), only when negatives are asked for: simulated
  images against the training split; scikit-learn's logistic regression with balanced class weights, so
  its boundary (logit 0) is the gate. Outlier exposure (Hendrycks et al., ICLR 2019) with two sources of
  simulated non-patients: the application's own generator, `dlrs synth` (its bundled sample data; a seed
  of their own, never the cohort's images), and as many simulated QA-phantom scans (training/phantom.py:
  uniform scanner speckle round round targets, what a scanner most often shows that is not a patient).

Needs the [train] extra (scikit-learn).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from dlrs_desktop.imaging.loader import image_from_array
from dlrs_desktop.imaging.types import Calibration
from dlrs_desktop.model import domain_texture as dtx
from dlrs_desktop.model.preprocess import prepare_inputs
from dlrs_desktop.roi import Contour
from dlrs_desktop.training.cohort import load_case, read_cohort
from dlrs_desktop.training.phantom import phantom_scan

#: smallest SD used to standardise a feature (a constant over the training split still standardises)
SCALE_FLOOR = 1e-3
#: the default seed of the synthetic negatives (a cohort of its own; never a cohort's images)
NEGATIVES_SEED = 20261204


def fit_texture(train: np.ndarray, negatives: np.ndarray | None = None, source: str = "") -> dict[str, Any]:
    """The manifest block `domain_reference.texture` from the training split's descriptors (N, 15) and,
    optionally, descriptors of synthetic images (M, 15) for the synthetic-likeness gate."""
    # lazy: optional [train] extra; extras.require names the install
    from sklearn.covariance import LedoitWolf
    from sklearn.linear_model import LogisticRegression

    train = np.asarray(train, np.float64)
    mean = train.mean(axis=0)
    scale = np.maximum(train.std(axis=0), SCALE_FLOOR)
    u = (train - mean) / scale
    prec = LedoitWolf(assume_centered=True).fit(u).precision_
    block: dict[str, Any] = {
        "method": dtx.METHOD,
        "features": list(dtx.FEATURES),
        "mean": mean.tolist(),
        "scale": scale.tolist(),
        "precision": (0.5 * (prec + prec.T)).tolist(),
        "n_train": len(train),
        "synthetic": None,
    }
    if negatives is not None and len(negatives):
        v = (np.asarray(negatives, np.float64) - mean) / scale
        x, y = np.r_[u, v], np.r_[np.zeros(len(u)), np.ones(len(v))]
        lr = LogisticRegression(C=1.0, class_weight="balanced", max_iter=5000).fit(x, y)
        block["synthetic"] = {
            "coef": lr.coef_[0].tolist(),
            "intercept": float(lr.intercept_[0]),
            "gate_logit": 0.0,
            "negatives": source,
            "n_negatives": len(v),
            "rule": "logistic regression (balanced classes) of synthetic images against the training split; "
            "outside above logit 0",
        }
    return block


def synthetic_negatives(spec: Any, patients: int, seed: int = NEGATIVES_SEED) -> tuple[np.ndarray, str]:
    """Descriptors of a fresh `dlrs synth` cohort (`patients` images, every split) and of as many
    simulated phantom scans (seeds `seed` + 0 … patients − 1), and their description."""
    # lazy: the synthetic generator (and its renderer) only when negatives are asked for
    from dlrs_desktop.training.synth import generate_cohort

    with tempfile.TemporaryDirectory(prefix="dlrs-negatives-") as tmp:
        generate_cohort(tmp, patients=patients, seed=seed, dicom=False)
        rows = descriptors(spec, read_cohort(Path(tmp) / "cohort.csv", require_train=False))
    phantoms = np.stack([phantom_descriptor(spec, seed + k) for k in range(patients)])
    return np.r_[rows, phantoms], (
        f"dlrs synth --patients {patients} --seed {seed} (every split) and {patients} simulated phantom "
        f"scans (training/phantom.py, seeds {seed} to {seed + patients - 1})"
    )


def phantom_descriptor(spec: Any, seed: int) -> np.ndarray:
    """The texture descriptor of one simulated phantom scan, round the target its contour outlines."""
    scan = phantom_scan(seed)
    cal = Calibration.manual(scan.mm_per_px)
    image = image_from_array(scan.gray, cal, path=f"<phantom {seed}>")
    return _descriptor(spec, image, Contour(scan.contour, calibration=cal))


def descriptors(spec: Any, cases: Any) -> np.ndarray:
    """(N, 15) texture descriptors of cohort cases, each measured around its own regions (`spec`'s rings)."""
    return np.stack([_descriptor(spec, *load_case(case)) for case in cases])


def _descriptor(spec: Any, image: Any, contour: Any) -> np.ndarray:
    """One image's descriptor, measured around the regions `spec` draws round `contour`."""
    _, info = prepare_inputs(image, contour, spec)
    return dtx.descriptor(image.gray, image.scan_mask, info.roiset)
