"""Where Extractor.pipe spends its time: the model against the Python around it, per stage.

    python scripts/profile_pipeline.py --model models/qawl-small --n 100 --threads 2 [--quantize]

Wall-clock seconds per stage on the first --n articles of the news benchmark file, each stage timed by a
wrapper around the function that does it (no profiler: cProfile's per-call overhead inflates Python-heavy
stages several times). Stages nest: `finish` includes linking, the rules and the span conversion.
"""

from __future__ import annotations

import argparse
import collections
import functools
import time

import torch
from bench_inference import DEFAULT_DATA, iter_texts

from qawl import pipeline

SECONDS: collections.Counter = collections.Counter()


def timed(name: str, fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        t0 = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            SECONDS[name] += time.perf_counter() - t0
    return wrapper


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", required=True)
    p.add_argument("--data", default=str(DEFAULT_DATA))
    p.add_argument("--n", type=int, default=100)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--quantize", action="store_true")
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    ex = pipeline.Extractor.load(args.model, quantize=args.quantize)
    E = pipeline.Extractor
    E.encode, E._run, E._finish = timed("encode", E.encode), timed("model", E._run), timed("finish", E._finish)
    pipeline.decode_tags = timed("decode (Viterbi, CRF marginals)", pipeline.decode_tags)
    pipeline.tags_to_spans = timed("finish: tags to spans", pipeline.tags_to_spans)
    pipeline.build_statements = timed("finish: linking", pipeline.build_statements)
    pipeline.merge_rule_statements = timed("finish: merge with rules", pipeline.merge_rule_statements)
    ex.rules.statements = timed("finish: rule statements", ex.rules.statements)
    ex.model.forward = timed("model: forward pass", ex.model.forward)  # the rest of `model` is tensor building
    list(ex.pipe(iter_texts(args.data, 2)))  # warm-up
    SECONDS.clear()
    t0 = time.perf_counter()
    n = sum(1 for _ in ex.pipe(iter_texts(args.data, args.n), batch_size=32))
    total = time.perf_counter() - t0
    print(f"{n} articles in {total:.2f} s ({n / total:.1f} articles/s), {torch.get_num_threads()} threads, "
          f"{'int8' if args.quantize else 'fp32'}\n\n| stage | seconds | share |\n|---|---:|---:|")
    for name, s in sorted(SECONDS.items(), key=lambda kv: kv[0]):
        print(f"| {name} | {s:.2f} | {s / total:.0%} |")


if __name__ == "__main__":
    main()
