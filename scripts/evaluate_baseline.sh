#!/usr/bin/env bash
# Score the rule-based reference (qawl.baseline) on the shared quote dev set and the ANERcorp test split.
# Usage: scripts/evaluate_baseline.sh [OUT_DIR]   (default runs/eval-baseline; QAWL_DATA overrides ../shared/data)
# Writes OUT_DIR/quotes-dev/ and OUT_DIR/anercorp-test/ (report.json, report.md, report.html, plots).
set -euo pipefail
cd "$(dirname "$0")/.."
DATA="${QAWL_DATA:-../shared/data}"
OUT="${1:-runs/eval-baseline}"
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"

qawl evaluate --model baseline --data "$DATA/quotes/dev.jsonl" --report "$OUT/quotes-dev" --seed 0
qawl evaluate --model baseline --data "$DATA/anercorp/test.conll" --report "$OUT/anercorp-test" --seed 0
