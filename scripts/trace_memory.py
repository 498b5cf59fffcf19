"""Resident memory of `Extractor.pipe` chunk by chunk: the floor (RSS before each chunk) and the running peak.

    python scripts/trace_memory.py --model models/qawl-small --n 1400 --every 10

Shows whether memory grows with the number of articles (a rising floor) or with what one chunk holds (the
peak above the floor); README, Memory. Linux only (reads /proc/self/status).
"""

from __future__ import annotations

import argparse
import itertools

from bench_inference import DEFAULT_DATA, iter_texts


def memory_mb() -> dict[str, float]:
    """VmRSS (now) and VmHWM (peak so far) of this process, in MB."""
    out = {}
    with open("/proc/self/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(value.split()[0]) / 1024
    return out


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", required=True)
    p.add_argument("--data", default=str(DEFAULT_DATA), help="JSON Lines with 'text' (.gz ok)")
    p.add_argument("--n", type=int, default=1400, help="articles")
    p.add_argument("--every", type=int, default=10, help="print every k-th chunk")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--tokens-per-batch", type=int, default=None, help="tokens per model batch (default: qawl's)")
    p.add_argument("--quantize", action="store_true", help="int8 dynamic quantization, as qawl extract --quantize")
    p.add_argument("--shard", default="0/1", help="k/N: every N-th article from the k-th, as one of N torchrun "
                   "processes sees them")
    p.add_argument("--keep-freed-memory", action="store_true", help="do not return freed heap between chunks")
    args = p.parse_args(argv)

    import torch

    from qawl.cli.extract import load_extractor

    torch.set_num_threads(args.threads)
    ex = load_extractor(args.model, "cpu", args.quantize, allow_pickle=False)
    loaded = memory_mb()
    print(f"after loading: {loaded['VmRSS']:.0f} MB resident, {loaded['VmHWM']:.0f} MB peak")
    ex.release_memory = not args.keep_freed_memory
    ex.tokens_per_batch = args.tokens_per_batch or ex.tokens_per_batch
    predict = ex.predict_documents
    rows = []

    def traced(docs):
        floor = memory_mb()["VmRSS"]
        out = predict(docs)
        rows.append((len(rows), sum(len(d.text) for d in docs), floor, memory_mb()["VmHWM"]))
        return out

    ex.predict_documents = traced
    k, shards = (int(x) for x in args.shard.split("/"))
    for _ in ex.pipe(itertools.islice(iter_texts(args.data, args.n), k, None, shards)):
        pass
    print("| chunk | characters | floor MB | peak so far MB |\n|---:|---:|---:|---:|")
    for i, chars, floor, peak in rows:
        if i % args.every == 0 or i == len(rows) - 1:
            print(f"| {i} | {chars:,} | {floor:.0f} | {peak:.0f} |")


if __name__ == "__main__":
    main()
