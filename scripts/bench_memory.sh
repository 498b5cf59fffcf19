#!/usr/bin/env bash
# Peak RSS of qawl on the first 100 and 1,400 news articles: the default against the default it replaced
# (README, Memory). Usage: scripts/bench_memory.sh [MODEL_DIR] [ROUNDS]
# Each line: setting, article count, the child's JSON result (seconds, peak_rss_mb, ...).
set -euo pipefail
cd "$(dirname "$0")/.."
MODEL="${1:-models/qawl-small}"
ROUNDS="${2:-1}"
# previous default: 4,096-token batches and oneDNN's own kernel-cache capacity (1,024)
PREVIOUS="ONEDNN_PRIMITIVE_CACHE_CAPACITY=1024 --tokens-per-batch 4096"
for round in $(seq "$ROUNDS"); do
    for setting in "default" "$PREVIOUS"; do
        env_part=""; args=""
        [ "$setting" = "default" ] || { env_part="${setting%% *}"; args="${setting#* }"; }
        for n in 100 1400; do
            # shellcheck disable=SC2086  # the arguments are several words
            result=$(env $env_part HF_HUB_OFFLINE=1 TRANSFORMERS_VERBOSITY=error \
                     python scripts/bench_inference.py --child qawl --model "$MODEL" --n "$n" --threads 2 $args \
                     2>/dev/null | tail -1)
            echo "round $round, ${setting} n=$n $result"
        done
    done
done
