"""`dlrs train-assist --device cuda` on a GPU machine: a recipe-3 fine-tuning of the shipped assist, twice.

    python benchmarks/assist_cuda_check.py      (from the repository root, on a machine with CUDA)

12 BUS-BRA-shaped crops of the two committed BUSI fixtures (as tests/test_assist_train.py makes them),
3 epochs each run; prints the device, each run's time and weights sha256, and whether the two runs'
weights are identical (torch's deterministic algorithms on CUDA). Exit 1 if they differ or CUDA is absent.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import torch

from dlrs_desktop.cli import main

REAL = Path(__file__).resolve().parent.parent / "tests" / "data" / "real"
SHIPPED = Path(__file__).resolve().parent.parent / "resources" / "models" / "dlrs-assist"
if not torch.cuda.is_available():
    print("no CUDA device")
    sys.exit(1)
root = Path(tempfile.mkdtemp()) / "d" / "BUSBRA"
(root / "Images").mkdir(parents=True)
(root / "Masks").mkdir()
rows = ["ID,Case,Histology,Pathology,BIRADS,Device,Width,Height,Side,BBOX"]
for i in range(12):
    name = ("assist_busi_benign_303", "assist_busi_malignant_189")[i % 2]
    g = cv2.imread(str(REAL / f"{name}.png"), 0)
    m = cv2.imread(str(REAL / f"{name}_mask.png"), 0)
    ys, xs = np.nonzero(m)
    x0, y0 = max(int(xs.min()) - 10 - 3 * i, 0), max(int(ys.min()) - 10 - 2 * i, 0)
    x1, y1 = min(int(xs.max()) + 12 + 2 * i, g.shape[1]), min(int(ys.max()) + 12 + i, g.shape[0])
    g, m = g[y0:y1, x0:x1], m[y0:y1, x0:x1]
    sid = f"bus_{i // 2 + 1:04d}-{'lr'[i % 2]}"
    cv2.imwrite(str(root / "Images" / f"{sid}.png"), g)
    cv2.imwrite(str(root / "Masks" / f"{sid.replace('bus_', 'mask_')}.png"), m)
    path = "benign" if "benign" in name else "malignant"
    rows.append(f'{sid},{i // 2 + 1},x,{path},3,x,{g.shape[1]},{g.shape[0]},left,"[0,0,1,1]"')
(root / "bus_data.csv").write_text("\n".join(rows) + "\n")
out = root.parent.parent
print("cuda", torch.cuda.is_available(), torch.cuda.get_device_name(0))
h = []
for tag in ("a", "b"):
    t0 = time.perf_counter()
    args = ["train-assist", "--data", str(root.parent), "--out", str(out / tag), "--device", "cuda"]
    rc = main([*args, "--epochs", "3", "--batch-size", "4", "--recipe", "3", "--init", str(SHIPPED)])
    manifest = json.loads((out / tag / "manifest.json").read_text())
    h.append(manifest["files"]["weights.safetensors"]["sha256"])
    print(tag, "rc", rc, f"{time.perf_counter() - t0:.1f} s", manifest["version"], h[-1][:16])
print("identical weights on CUDA:", h[0] == h[1])
sys.exit(0 if h[0] == h[1] else 1)
