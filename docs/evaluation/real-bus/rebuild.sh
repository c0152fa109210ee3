#!/usr/bin/env bash
# Rebuilds the real-data study of issue 25 (bundle resources/models/dlrs-bus-malignancy and the report
# in this folder) from a fresh checkout plus the three public data folders. Nothing is downloaded here.
#
# DATA must hold, as their public GitHub repositories lay them out (commits in DATA_CARD.md and
# SOURCES.json; any copy with the same files works, the sha256 of every file is in files.csv):
#   BUSBRA/ (bus_data.csv, Images/, Masks/)                 github.com/solutionbeyondnumbers/Ultra-net-codes-
#   data/{benign,malignant}/{images,mask}/ (BUSI)           github.com/yirutsai/Breast-ultrasound-dataset
#   BrEaST-Lesions_USG-images_and_masks/ + clinical .xlsx   github.com/nbayt/CSC-752-Project
#
# The recipe below was fixed and committed before the external split was evaluated (README.md says
# when); every choice in it was made on the training data, the compute budget or the bundle size.
set -euo pipefail
DATA=${1:?usage: rebuild.sh DATA_FOLDER [WORK_FOLDER]}
WORK=${2:-real-bus-work}
mkdir -p "$WORK"

dlrs cohort import --data "$DATA" --out "$WORK/cohort"          # 2673 images; DATA_CARD.md

# --- 1.1.0, the shipped bundle (README.md, "Recipe 1.1"): trained on the cohort without its external
# rows (the same 1,939 train / 489 internal cases), stacking on leave-one-centre-out folds; 74 min on 2 cores.
python - "$WORK/cohort/cohort.csv" "$WORK/cohort/cohort-train.csv" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
with open(sys.argv[2], "w", newline="") as fh:
    w = csv.DictWriter(fh, fieldnames=list(rows[0]))
    w.writeheader()
    w.writerows(r for r in rows if r["split"] != "external")
PY
dlrs train --cohort "$WORK/cohort/cohort-train.csv" --out "$WORK/model-1.1" \
  --id dlrs-bus-malignancy --version 1.1.0 \
  --normalisation image_zscore --ensemble final \
  --input-size 96 --mm-per-px 0.5625 --epochs 8 --folds 2 --fold-by centre --threads 2 \
  --description "Public breast ultrasound, benign vs malignant: BUS-BRA + BUSI (train/internal), BrEaST-Lesions_USG (external)"
dlrs model set-outcome --model "$WORK/model-1.1" --outcome malignancy   # dlrs train added the domain reference
dlrs evaluate --model "$WORK/model-1.1" --cohort "$WORK/cohort/cohort-train.csv" --out "$WORK/report-1.1-internal"
dlrs evaluate --model "$WORK/model-1.1" --cohort "$WORK/cohort/cohort.csv" --out "$WORK/report-1.1"
python benchmarks/real_bus_baselines.py "$WORK/report-1.1/predictions.csv"
python benchmarks/robustness_real.py --model "$WORK/model-1.1" --cohort "$WORK/cohort/cohort.csv" --split external
python benchmarks/real_bus_loco_signatures.py --cohort "$WORK/cohort/cohort-train.csv" --model "$WORK/model-1.1"
python benchmarks/stacking_signature_scale.py --model "$WORK/model-1.1" --cohort "$WORK/cohort/cohort-train.csv" \
  --checkpoint "$WORK/model-1.1.checkpoint"   # README.md, "The signatures' held-out scale" (2026-12-05)
python benchmarks/contour_average_probe.py --model "$WORK/model-1.1" --cohort "$WORK/cohort/cohort-train.csv"   # README.md, "A contour-averaged probability"
# (the 1.1.0 manifest's changelog entry was written with model/bundle_edit.rewrite_manifest, then
#  `dlrs model sign --model "$WORK/model-1.1" --key KEY`)

# --- 1.1.1 and 1.1.2 (shipped now): 1.1.0 with the guard's texture checks and synthetic-likeness gate
# (docs/DOMAIN_GUARD.md; 3-4 min) and, in 1.1.2, prediction sets calibrated on each training centre held
# out. Weights and stacking unchanged. With this version's code, `dlrs train --fold-by centre` above
# already writes both (the gate's negatives are dlrs synth scans and simulated phantoms since 1.1.2);
# the steps are kept as the shipped bundle was made. 1.1.1's gate had dlrs synth negatives only (the code
# of commit 61979a9).
python benchmarks/domain_texture_loco.py --cohort "$WORK/cohort/cohort-train.csv" --model "$WORK/model-1.1"
dlrs model centre-sets --model "$WORK/model-1.1" --cohort "$WORK/cohort/cohort-train.csv" \
  --checkpoint "$WORK/model-1.1.checkpoint"   # reuses dlrs train's fold networks (else retrains them, 30 min)
dlrs model add-reference --model "$WORK/model-1.1" --cohort "$WORK/cohort/cohort-train.csv" --synthetic-negatives 150
# (version 1.1.2 and its changelog entry with model/bundle_edit.rewrite_manifest, then signed as above)
dlrs synth --out "$WORK/synth40" --patients 40 --seed 20270603
python benchmarks/domain_guard_ood.py --model "$WORK/model-1.1" --synth-cohort "$WORK/synth40/cohort.csv"
dlrs evaluate --model "$WORK/model-1.1" --cohort "$WORK/cohort/cohort.csv" --out "$WORK/report-1.1.2"

# --- The ±1 mm contour flips, traced on the training data, and two candidate recipes measured on the
# internal split only, each against a rule registered first (README.md, "The ±1 mm contour flips" and
# "Shape that a 1 mm move leaves alone"); neither met it, neither shipped, BrEaST was not read for them.
TRAIN_FLAGS=(--id dlrs-bus-malignancy --version 1.2.0 --normalisation image_zscore --ensemble final
  --input-size 96 --mm-per-px 0.5625 --epochs 8 --folds 2 --fold-by centre --threads 2)
python benchmarks/robustness_real.py --model "$WORK/model-1.1" --cohort "$WORK/cohort/cohort-train.csv" --split internal
python benchmarks/contour_sensitivity_inputs.py --model "$WORK/model-1.1" --cohort "$WORK/cohort/cohort-train.csv"
python benchmarks/signature_robustness.py --model "$WORK/model-1.1" --cohort "$WORK/cohort/cohort-train.csv" \
  --core-mm 1.5
for candidate in 1.2 1.3; do
  extra=(--radiomics-core-mm 1.5)
  [ "$candidate" = 1.3 ] && extra+=(--radiomics-shape concavity)
  cp -r "$WORK/model-1.1.checkpoint" "$WORK/candidate-$candidate.checkpoint"   # 1.1's networks: a restack
  dlrs train --cohort "$WORK/cohort/cohort-train.csv" --out "$WORK/candidate-$candidate" "${TRAIN_FLAGS[@]}" "${extra[@]}"
  dlrs evaluate --model "$WORK/candidate-$candidate" --cohort "$WORK/cohort/cohort-train.csv" \
    --out "$WORK/report-$candidate-candidate-internal"
  python benchmarks/robustness_real.py --model "$WORK/candidate-$candidate" --cohort "$WORK/cohort/cohort-train.csv" --split internal
  python benchmarks/contour_sensitivity_inputs.py --model "$WORK/candidate-$candidate" --cohort "$WORK/cohort/cohort-train.csv"
done
python benchmarks/shape_robustness.py --model "$WORK/model-1.1" --cohort "$WORK/cohort/cohort-train.csv" \
  --signature-of "$WORK/candidate-1.2"
python benchmarks/bracket_robustness.py --model "$WORK/model-1.1" --cohort "$WORK/cohort/cohort-train.csv" \
  --cache "$WORK/bracket-features.npz"
# the move-penalised signatures (README.md, after candidate 1.4): the same features, train split only
python benchmarks/move_penalty_robustness.py --model "$WORK/model-1.1" --cohort "$WORK/cohort/cohort-train.csv" \
  --cache "$WORK/bracket-features.npz" --penalties 0,100,1000,3000,10000,30000,100000
# Candidate 1.4 (README.md, "Networks that read a tighter or looser outline alike"): networks retrained
# on outlines also moved up to 1.5 mm in or out (not a restack; about 75 min on 2 cores), internal split only.
dlrs train --cohort "$WORK/cohort/cohort-train.csv" --out "$WORK/candidate-1.4" "${TRAIN_FLAGS[@]}" \
  --radiomics-core-mm 1.5 --radiomics-shape concavity --jitter-offset-mm 1.5
dlrs evaluate --model "$WORK/candidate-1.4" --cohort "$WORK/cohort/cohort-train.csv" --out "$WORK/report-1.4-candidate-internal"
python benchmarks/robustness_real.py --model "$WORK/candidate-1.4" --cohort "$WORK/cohort/cohort-train.csv" --split internal
python benchmarks/contour_sensitivity_inputs.py --model "$WORK/candidate-1.4" --cohort "$WORK/cohort/cohort-train.csv"

# --- 1.0.0, the first bundle (the untouched external evaluation in README.md):
dlrs train --cohort "$WORK/cohort/cohort.csv" --out "$WORK/model" \
  --id dlrs-bus-malignancy --version 1.0.0 \
  --normalisation image_zscore --ensemble final \
  --input-size 96 --mm-per-px 0.5625 --epochs 8 --folds 2 --threads 2 \
  --description "Public breast ultrasound, benign vs malignant: BUS-BRA + BUSI (train/internal), BrEaST-Lesions_USG (external)"
dlrs model set-outcome --model "$WORK/model" --outcome malignancy
dlrs model add-reference --model "$WORK/model" --cohort "$WORK/cohort/cohort.csv"
dlrs evaluate --model "$WORK/model" --cohort "$WORK/cohort/cohort.csv" --out "$WORK/report"
python benchmarks/robustness_real.py --model "$WORK/model" --cohort "$WORK/cohort/cohort.csv" --split external
# Networks without radiomics signatures: the same networks re-stacked (resumes the checkpoint).
dlrs train --cohort "$WORK/cohort/cohort.csv" --out "$WORK/model-networks-only" --no-radiomics \
  --id dlrs-bus-malignancy-networks --version 1.0.0 \
  --normalisation image_zscore --ensemble final \
  --input-size 96 --mm-per-px 0.5625 --epochs 8 --folds 2 --threads 2
dlrs evaluate --model "$WORK/model-networks-only" --cohort "$WORK/cohort/cohort.csv" --out "$WORK/report-networks-only"
python benchmarks/real_bus_baselines.py "$WORK/report/predictions.csv"
