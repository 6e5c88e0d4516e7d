#!/usr/bin/env bash
# Retrain the irrigation model end to end from a seed:
#   simulated data set (TypeScript) -> training and ONNX conversion (Python) -> card and evaluation (TypeScript).
# Usage: npm run model:train [-- SEED]   (default seed 42; the committed model uses 42)
set -euo pipefail
SEED="${1:-42}"
cd "$(dirname "$0")/../.."
VENV="${FIELDHOOK_MODEL_VENV:-models/.venv}"
DATA="${FIELDHOOK_MODEL_DATA:-models/irrigation/data}"

# Each step can take minutes: say which one runs, and how long it took.
started=$SECONDS
step() { echo "model: $1 ($((SECONDS - started)) s so far)" >&2; }

step "1/4 Python environment in $VENV"
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
"$VENV/bin/pip" install --quiet --disable-pip-version-check -r models/irrigation/requirements.txt

step "2/4 simulated data set (seed $SEED) into $DATA"
npx tsx services/training/scripts/export-dataset.ts --seed "$SEED" --out "$DATA"
step "3/4 training and ONNX conversion"
"$VENV/bin/python" models/irrigation/train.py --data "$DATA" --out models/irrigation --seed "$SEED"
step "4/4 model card and evaluation"
npx tsx services/training/scripts/evaluate.ts --data "$DATA" --dir models/irrigation
step "done"
