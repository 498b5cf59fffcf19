#!/usr/bin/env bash
# Score the shipped model, the no-pretraining ablation and the rule-based baseline on the ANERcorp test
# split and the quote dev set; the README results table and the model card are generated from these reports.
# Usage: scripts/evaluate_models.sh [OUT_DIR]   (default runs/eval; QAWL_DATA overrides ../shared/data)
# Reports stay out of git: they quote corpus text around the errors.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA="${QAWL_DATA:-../shared/data}"
OUT="${1:-runs/eval}"
ABLATION="${ABLATION:-runs/qawl-small-noprt/best}"
# an earlier model to compare with, e.g. models/qawl-small of an older commit (git worktree); skipped if unset
PREVIOUS="${PREVIOUS:-}"

evaluate() {  # NAME MODEL GOLD [FLAGS]
    mkdir -p "$OUT/$1"
    local cmd="qawl evaluate --model $2 --data $3 --report $OUT/$1 --seed 0 ${4:-}"
    echo "$cmd" | sed "s#$DATA#../shared/data#" > "$OUT/$1/command.txt"
    $cmd
}

# name=model[:flags]; the model-only rows show what the rule-based fallback adds
for spec in qawl-small=models/qawl-small qawl-small-modelonly=models/qawl-small:--no-rule-fallback \
            baseline=baseline noprt="$ABLATION" noprt-modelonly="$ABLATION:--no-rule-fallback" \
            ${PREVIOUS:+previous="$PREVIOUS" previous-modelonly="$PREVIOUS:--no-rule-fallback"}; do
    name="${spec%%=*}"; rest="${spec#*=}"; model="${rest%%:*}"; flags=""
    [ "$rest" = "$model" ] || flags="${rest#*:}"
    [ "$model" = baseline ] || [ -d "$model" ] || { echo "skipping $name: $model not found" >&2; continue; }
    evaluate "$name-anercorp-test" "$model" "$DATA/anercorp/test.conll" "$flags"
    evaluate "$name-dev" "$model" "$DATA/quotes/dev.jsonl" "$flags"
done
python scripts/results_table.py "$OUT"
