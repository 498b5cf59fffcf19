#!/usr/bin/env bash
# Peak RSS of qawl on the first 100 and 1,400 news articles under glibc malloc settings (README, Memory).
# Usage: scripts/bench_memory.sh [MODEL_DIR]   (each line: setting, article count, the child's JSON result)
set -euo pipefail
cd "$(dirname "$0")/.."
MODEL="${1:-models/qawl-small}"
for setting in "" "MALLOC_ARENA_MAX=2" \
               "MALLOC_MMAP_THRESHOLD_=65536 MALLOC_TRIM_THRESHOLD_=65536" \
               "MALLOC_MMAP_THRESHOLD_=262144 MALLOC_TRIM_THRESHOLD_=262144" \
               "MALLOC_MMAP_THRESHOLD_=1048576 MALLOC_TRIM_THRESHOLD_=1048576"; do
    for n in 100 1400; do
        # shellcheck disable=SC2086  # the setting is several VAR=value words
        result=$(env $setting HF_HUB_OFFLINE=1 TRANSFORMERS_VERBOSITY=error \
                 python scripts/bench_inference.py --child qawl --model "$MODEL" --n "$n" --threads 2 2>/dev/null | tail -1)
        echo "${setting:-default} n=$n $result"
    done
done
