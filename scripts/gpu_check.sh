#!/usr/bin/env bash
# A prepared check of qawl on a GPU machine, in one run: the test suite, `qawl extract` on cuda in each
# precision against the CPU (speed, and agreement scored by `qawl evaluate` with the CPU output as gold),
# the inference benchmark on cuda, and the random-init recipe (configs/qawl-small-noprt.yaml) trained on
# cuda and scored on dev and ANERcorp test.
#
#   DATA=../shared/data OUT=runs/gpu-check scripts/gpu_check.sh
#
# Environment: DATA (corpus root, default ../shared/data; quotes/*.jsonl may be .jsonl.gz), OUT (results),
# MODEL (default models/qawl-small), N (news articles, default 1400), DEVICE (default cuda; cpu makes a dry
# run of the script itself), TRAIN_SECONDS (training's time limit, default 300; the run resumes if started
# again), EPOCHS (default 8), STEPS (optimizer steps of the training run; default: all EPOCHS), TESTS
# (0 skips the test suite), BENCH_N (articles for the benchmark, default 300), REFERENCE (a `qawl extract
# --device cpu` output made elsewhere, e.g. on the CPU machine the model ships for: its first N records are
# the input and the reference, and no CPU run is made here).
set -u
DATA=${DATA:-../shared/data}
OUT=${OUT:-runs/gpu-check}
MODEL=${MODEL:-models/qawl-small}
N=${N:-1400}
DEVICE=${DEVICE:-cuda}
TRAIN_SECONDS=${TRAIN_SECONDS:-300}
EPOCHS=${EPOCHS:-8}
STEPS=${STEPS:-}
TESTS=${TESTS:-1}
BENCH_N=${BENCH_N:-300}
REFERENCE=${REFERENCE:-}
export HF_HUB_OFFLINE=1 TRANSFORMERS_VERBOSITY=error PYTHONUNBUFFERED=1 TOKENIZERS_PARALLELISM=false
mkdir -p "$OUT"
QAWL="python -m qawl.cli.main"
log() { echo "[$(date +%T)] $*"; }
pick() { if [ -e "$1" ]; then echo "$1"; else echo "$1.gz"; fi; }  # a corpus file, or its gzipped copy

log "environment"
nvidia-smi -L 2>/dev/null || echo "no nvidia-smi"
python -c "import torch, transformers; print('torch', torch.__version__, '| transformers', transformers.__version__,
'| cuda', torch.cuda.is_available() and torch.cuda.get_device_name())"

if [ "$TESTS" = 1 ]; then
log "tests"
workers=$(python -c "import xdist" 2>/dev/null && echo "-n 8" || echo "")
python -m pytest -q -p no:cacheprovider $workers -o addopts="" -m "not slow" tests >"$OUT/tests.txt" 2>&1
echo "pytest exit $?" >>"$OUT/tests.txt"
tail -n 15 "$OUT/tests.txt"
fi

log "extract: first $N news articles, CPU fp32 against $DEVICE fp32 / bf16 / fp16"
python - "${REFERENCE:-$DATA/news/articles.jsonl.gz}" "$N" "$OUT/news.jsonl" "$OUT/x-cpu-fp32.jsonl" <<'EOF'
import gzip, itertools, json, sys
source, n, news, reference = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
with gzip.open(source, "rt", encoding="utf-8") as f:
    records = [json.loads(line) for line in itertools.islice(f, n)]
with open(news, "w", encoding="utf-8") as out:
    out.writelines(json.dumps({"id": r["id"], "text": r["text"]}, ensure_ascii=False) + "\n" for r in records)
if "entities" in records[0]:  # a reference output: its first n records are the CPU side
    with open(reference, "w", encoding="utf-8") as out:
        out.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
EOF
extract() {  # device precision
    local t0 t1
    t0=$(date +%s.%N)
    $QAWL extract --quiet --device "$1" --precision "$2" -o "$OUT/x-$1-$2.jsonl" "$OUT/news.jsonl"
    local code=$?
    t1=$(date +%s.%N)
    python -c "import sys; s=float(sys.argv[2])-float(sys.argv[1]); n=int(sys.argv[3]);
print(f'extract {sys.argv[4]:>5} {sys.argv[5]}: exit {sys.argv[6]}, {s:.1f} s with loading, {n/s:.1f} articles/s')" \
        "$t0" "$t1" "$N" "$1" "$2" "$code"
}
[ -n "$REFERENCE" ] || extract cpu fp32
for p in fp32 bf16 fp16; do extract "$DEVICE" "$p"; done
for p in fp32 bf16 fp16; do
    log "agreement: $DEVICE $p against cpu fp32 (the CPU output scored as gold)"
    $QAWL evaluate --gold "$OUT/x-cpu-fp32.jsonl" --pred "$OUT/x-$DEVICE-$p.jsonl" --bootstrap 0 \
        | grep -iE "entit|content|speaker|statement|micro" | head -n 12
done

log "benchmark on $DEVICE"
python scripts/bench_inference.py --model "$MODEL" --data "$OUT/news.jsonl" --n "$BENCH_N" --rss-n "" \
    --settings qawl,naive --device "$DEVICE" --json "$OUT/bench.json"

log "training: configs/qawl-small-noprt.yaml on $DEVICE (at most $TRAIN_SECONDS s)"
rm -rf "$OUT/train"
timeout "$TRAIN_SECONDS" $QAWL train --config configs/qawl-small-noprt.yaml ${STEPS:+--max-steps $STEPS} \
    output_dir="$OUT/train" word_vectors="$MODEL/wordvec" random_encoder.tokenizer_dir="$MODEL" \
    anercorp_train="$DATA/anercorp/train.conll" quotes_train="$(pick "$DATA/quotes/train.jsonl")" \
    quotes_dev="$(pick "$DATA/quotes/dev.jsonl")" epochs="$EPOCHS" num_threads=8 2>&1 \
    | tr '\r' '\n' | grep -vE "^train: +[0-9]+%" | tail -n 20
echo "train exit ${PIPESTATUS[0]}"
if [ -d "$OUT/train/best" ]; then
    log "scores of the GPU-trained model (model + rules)"
    $QAWL evaluate --model "$OUT/train/best" --gold "$(pick "$DATA/quotes/dev.jsonl")" --bootstrap 0 \
        | grep -iE "micro|content|speaker|statement" | head -n 8
    $QAWL evaluate --model "$OUT/train/best" --gold "$DATA/anercorp/test.conll" --bootstrap 0 \
        | grep -iE "micro|PERS|ORG|LOC|MISC" | head -n 8
fi
log "done"
