"""The learned assist's training set: BUS-BRA and BUSI read as their official downloads lay them out.

- BUS-BRA (Gómez-Flores et al., Med Phys 2024): a folder with `bus_data.csv` (ID, Case = patient,
  Pathology), `Images/bus_XXXX-s.png` and `Masks/mask_XXXX-s.png`.
- BUSI (Al-Dhabyani et al., Data in Brief 2020): `Dataset_BUSI_with_GT/{benign,malignant}/` with
  `benign (N).png` and `benign (N)_mask.png` side by side (also accepted: `images/` + `mask/`
  sub-folders, as some public copies re-arrange it). `normal/` has no lesion and is not used.

Every file read is recorded with its sha256 (`manifest_entries`), so the training-set manifest the
bundle ships says exactly which bytes the model was trained and tested on.

Exclusions (counted, written to the manifest): images with several lesion masks (BUSI `_mask_1`)
or a mask whose second connected component is ≥ 5 % of the largest (several lesions: a box or click
prompt names one), empty masks, masks of another size than their image, and near-duplicate images
(BUSI has known duplicates; kept: the first in sorted order).

The split is by patient (BUS-BRA's Case column; for BUSI, which has no patient ids, one image per
group except near-duplicates, which share a group), seeded, stratified by dataset and pathology.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from dlrs_desktop.errors import DlrsError
from dlrs_desktop.limits import read_regular_bytes
from dlrs_desktop.training.safe_inputs import read_grey as safe_read_grey
from dlrs_desktop.training.safe_inputs import read_table, walk_files

SPLITS = ("train", "val", "test")
SPLIT_FRACTIONS = {"test": 0.2, "val": 0.1}
STORE_MAX_LESION_PX = 192  # cases are kept in memory downscaled so the lesion's long side is ≤ this
DUPLICATE_HAMMING = 6  # of a 64-bit difference hash: near-identical images
SECOND_COMPONENT_FRACTION = 0.05


@dataclass
class Case:
    """One image with one expert lesion mask."""

    id: str  # "busbra/bus_0001-l", "busi/benign (3)"
    dataset: str  # "BUS-BRA" | "BUSI"
    pathology: str  # "benign" | "malignant"
    group: str  # patient (or duplicate group): the unit of the split
    image_path: Path
    mask_path: Path
    split: str = ""
    files: dict[str, str] = field(default_factory=dict)  # relative path → sha256


def _walk(root: Path, want) -> list[Path]:  # type: ignore[no-untyped-def]
    """Files under root whose name `want`s, sorted; links are followed only inside the folder, never
    into a loop, and a wanted pipe or device is refused (`safe_inputs.walk_files`)."""
    return walk_files(root, want)


def _usable(p: Path, root: Path) -> bool:
    """A case file named by a table: present, and a regular file inside the data folder (else refused)."""
    if not os.path.lexists(p) or "/" in p.name or "\\" in p.name:
        return False
    try:
        inside = p.resolve(strict=True).is_relative_to(Path(root).resolve())
    except (OSError, RuntimeError):  # a dangling link or a loop
        inside = False
    if not inside or not p.is_file():
        raise DlrsError(
            f"'{p.name}' in the training folder is a link out of the folder, a pipe or a device; refusing it."
        )
    return True


def _sha256(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def find_busbra(root: Path) -> list[Case]:
    out: list[Case] = []
    for csv_path in _walk(root, lambda n: n == "bus_data.csv"):
        base = csv_path.parent
        if not (base / "Images").is_dir() or not (base / "Masks").is_dir():
            continue
        for row in read_table(csv_path, ("ID", "Pathology", "Case"), "BUS-BRA table"):
            sid = row["ID"]
            img = base / "Images" / f"{sid}.png"
            mask = base / "Masks" / f"{sid.replace('bus_', 'mask_', 1)}.png"
            if not _usable(img, root) or not _usable(mask, root):
                continue
            path = row["Pathology"].lower()
            out.append(Case(f"busbra/{sid}", "BUS-BRA", path, f"busbra:{row['Case']}", img, mask))
    return out


_BUSI_MASK = re.compile(r"^(benign|malignant) \((\d+)\)_mask(_\d+)?\.png$")


def find_busi(root: Path) -> tuple[list[Case], list[str]]:
    """BUSI cases and the ids excluded for several lesion masks."""
    masks: dict[tuple[str, Path], list[Path]] = {}
    for p in _walk(root, lambda n: "_mask" in n and n.endswith(".png")):
        m = _BUSI_MASK.match(p.name)
        if m is None:
            continue
        name = f"{m.group(1)} ({m.group(2)})"
        folder = p.parent.parent / "images" if p.parent.name == "mask" else p.parent
        masks.setdefault((name, folder), []).append(p)
    cases, multi = [], []
    for (name, folder), ms in sorted(masks.items(), key=lambda kv: (kv[0][0], str(kv[0][1]))):
        img = folder / f"{name}.png"
        if not _usable(img, root):
            continue
        if len(ms) > 1:
            multi.append(f"busi/{name}")
            continue
        cases.append(Case(f"busi/{name}", "BUSI", name.split(" ")[0], f"busi:{name}", img, ms[0]))
    return cases, multi


def read_grey(p: Path) -> np.ndarray:
    """8-bit grey pixels; the size is checked against the limits before decoding (`safe_inputs`)."""
    return safe_read_grey(p)


def lesion_mask(p: Path) -> np.ndarray | None:
    """The mask's largest component (bool), or None if empty or several lesions."""
    m = read_grey(p) > 127
    n, lab, stats, _ = cv2.connectedComponentsWithStats(m.astype(np.uint8), connectivity=8)
    if n <= 1:
        return None
    areas = np.sort(stats[1:, cv2.CC_STAT_AREA])[::-1]
    if len(areas) > 1 and areas[1] >= SECOND_COMPONENT_FRACTION * areas[0]:
        return None
    return lab == 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))


def dhash(grey: np.ndarray) -> int:
    s = cv2.resize(grey, (9, 8), interpolation=cv2.INTER_AREA).astype(np.int16)
    bits = (s[:, 1:] > s[:, :-1]).flatten()
    return int(sum(1 << i for i, b in enumerate(bits) if b))


@dataclass
class StoredCase:
    """A case held in memory for training: grey image and mask downscaled by `scale` (≤ 1)."""

    case: Case
    grey: np.ndarray  # uint8
    mask: np.ndarray  # bool
    scale: float


def load_cases(data: Path, seed: int) -> tuple[list[StoredCase], dict]:
    """All usable cases under `data`, split by patient; and the exclusion report."""
    bb = find_busbra(data)
    busi, multi = find_busi(data)
    if not bb and not busi:
        raise DlrsError(
            f"No BUS-BRA (bus_data.csv + Images/ + Masks/) or BUSI (benign/malignant '* (N)_mask.png') "
            f"data under {data}."
        )
    excluded: dict[str, list[str]] = {"several_lesions": list(multi), "empty_or_size": [], "duplicate": []}
    stored: list[StoredCase] = []
    hashes: list[tuple[int, int]] = []  # (hash, index into stored)
    for case in bb + busi:
        grey = read_grey(case.image_path)
        mask = lesion_mask(case.mask_path)
        if mask is None:
            key = "several_lesions" if (read_grey(case.mask_path) > 127).any() else "empty_or_size"
            excluded[key].append(case.id)
            continue
        if mask.shape != grey.shape:
            excluded["empty_or_size"].append(case.id)
            continue
        h = dhash(grey)
        dup = next((j for hh, j in hashes if bin(hh ^ h).count("1") <= DUPLICATE_HAMMING), None)
        if dup is not None and _same_picture(stored[dup].case, grey):
            excluded["duplicate"].append(f"{case.id} = {stored[dup].case.id}")
            continue
        case.files = {relative_path(case.image_path, data): _sha256(case.image_path)}
        case.files[relative_path(case.mask_path, data)] = _sha256(case.mask_path)
        ys, xs = np.nonzero(mask)
        long_side = max(xs.max() - xs.min() + 1, ys.max() - ys.min() + 1)
        scale = min(1.0, STORE_MAX_LESION_PX / long_side)
        if scale < 1.0:
            size = (max(round(grey.shape[1] * scale), 1), max(round(grey.shape[0] * scale), 1))
            grey = cv2.resize(grey, size, interpolation=cv2.INTER_AREA)
            mask = cv2.resize(mask.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST) > 0
        hashes.append((h, len(stored)))
        stored.append(StoredCase(case, grey, mask, scale))
    assign_split([s.case for s in stored], seed)
    return stored, excluded


def _same_picture(first: Case, grey: np.ndarray) -> bool:
    """A dhash match confirmed on pixels: same size and mean absolute difference < 4 grey levels."""
    other = read_grey(first.image_path)
    return other.shape == grey.shape and float(np.abs(other.astype(float) - grey).mean()) < 4.0


def relative_path(p: Path, root: Path) -> str:
    """`p` relative to the data folder (as manifests and file lists record it), else as given."""
    try:
        return str(p.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(p)


def assign_split(cases: list[Case], seed: int) -> None:
    """Patient-level split: whole groups to test (20 %), val (10 %) or train, per dataset×pathology."""
    strata: dict[tuple[str, str], list[str]] = {}
    group_of: dict[str, list[Case]] = {}
    for c in cases:
        group_of.setdefault(c.group, []).append(c)
    for g, cs in sorted(group_of.items()):
        strata.setdefault((cs[0].dataset, cs[0].pathology), []).append(g)
    rng = np.random.default_rng(seed)
    split_of: dict[str, str] = {}
    for key in sorted(strata):
        groups = sorted(strata[key])
        rng.shuffle(groups)
        n_test = round(len(groups) * SPLIT_FRACTIONS["test"])
        n_val = round(len(groups) * SPLIT_FRACTIONS["val"])
        for i, g in enumerate(groups):
            split_of[g] = "test" if i < n_test else "val" if i < n_test + n_val else "train"
    for c in cases:
        c.split = split_of[c.group]


def manifest_entries(stored: list[StoredCase]) -> list[dict]:
    return [
        {
            "id": s.case.id,
            "dataset": s.case.dataset,
            "pathology": s.case.pathology,
            "group": s.case.group,
            "split": s.case.split,
            "files": s.case.files,
        }
        for s in stored
    ]


def counts(stored: list[StoredCase]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for s in stored:
        row = out.setdefault(f"{s.case.dataset} {s.case.pathology}", dict.fromkeys(SPLITS, 0))
        row[s.case.split] += 1
    return dict(sorted(out.items()))


def read_sources(data: Path) -> dict:
    """`SOURCES.json` in the data folder (where each dataset came from), if the user wrote one."""
    p = data / "SOURCES.json"
    if not os.path.lexists(p):
        return {}
    try:
        return json.loads(read_regular_bytes(p, "SOURCES.json", 1024**2).decode("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DlrsError(f"{p} is not valid JSON ({exc}).") from None
