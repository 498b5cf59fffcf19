#!/usr/bin/env bash
# Peak RSS of qawl on the first 100 and 1,400 news articles: the default against the settings it replaced
# (README, Memory). Usage: scripts/bench_memory.sh [MODEL_DIR]
# Each line: setting, article count, the child's JSON result (seconds, peak_rss_mb, ...).
set -euo pipefail
cd "$(dirname "$0")/.."
MODEL="${1:-models/qawl-small}"
for setting in "" "--keep-freed-memory" "--keep-freed-memory --tokens-per-batch 8192"; do
    for n in 100 1400; do
        # shellcheck disable=SC2086  # the setting is several words
        result=$(HF_HUB_OFFLINE=1 TRANSFORMERS_VERBOSITY=error \
                 python scripts/bench_inference.py --child qawl --model "$MODEL" --n "$n" --threads 2 $setting \
                 2>/dev/null | tail -1)
        echo "${setting:-default} n=$n $result"
    done
done
