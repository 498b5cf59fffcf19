"""Masked-LM training throughput of a pretraining config, side by side with the full-output-layer baseline.

    python scripts/bench_pretrain.py --config configs/pretrain-small.yaml --steps 10 --threads 2

Prints tokens/s for (a) the output layer on masked positions only (what pretrain.py does) and (b) the
standard BertForMaskedLM loss over all positions, and both as a fraction of this machine's fp32 matmul
peak measured in the same run.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from qawl.config import load_config, parse_overrides
from qawl.pretrain import MaskedOnlyMLM, PretrainConfig, WholeWordMasker, build_model, sequences
from qawl.tokenizer import load_tokenizer


def matmul_gflops(n: int = 2048, repeats: int = 10) -> float:
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    t = time.perf_counter()
    for _ in range(repeats):
        a @ b
    return 2 * n**3 * repeats / (time.perf_counter() - t) / 1e9


def train_flops_per_token(model: torch.nn.Module, seq_len: int, masked_fraction: float, vocab: int, hidden: int,
                          full_output: bool) -> float:
    """6 x matmul parameters (forward + backward) + attention; the output layer per masked token or all."""
    body = sum(p.numel() for n, p in model.named_parameters()
               if p.dim() == 2 and "embeddings" not in n and "decoder" not in n)
    out = vocab * hidden * (1.0 if full_output else masked_fraction)
    layers = model.config.num_hidden_layers
    attention = 2 * 2 * seq_len * hidden * layers  # QK^T and AV, per token
    return 6 * (body + out) + 3 * attention


def run(cfg: PretrainConfig, steps: int, full_output: bool) -> float:
    tok = load_tokenizer(cfg.tokenizer_dir)
    mlm = build_model(cfg, len(tok))
    model = MaskedOnlyMLM(mlm)
    masker = WholeWordMasker(tok, cfg.mask_prob)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    stream = sequences(cfg, tok, "train")
    batches = [masker([next(stream) for _ in range(cfg.batch_size)], np.random.default_rng(i)) for i in range(steps + 1)]
    tokens, t = 0, 0.0
    for i, (ids, labels) in enumerate(batches):
        start = time.perf_counter()
        loss = mlm(input_ids=ids, labels=labels).loss if full_output else model(ids, labels)
        loss.backward()
        opt.step()
        opt.zero_grad()
        if i:  # the first step warms up allocators and kernels
            t += time.perf_counter() - start
            tokens += ids.numel()
    return tokens / t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default="configs/pretrain-small.yaml")
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("overrides", nargs="*")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    cfg = load_config(PretrainConfig, args.config, parse_overrides(args.overrides))
    peak = matmul_gflops()
    tok = load_tokenizer(cfg.tokenizer_dir)
    mlm = build_model(cfg, len(tok))
    print(f"fp32 matmul peak: {peak:.0f} GFLOP/s ({args.threads} threads); batch {cfg.batch_size} x {cfg.seq_len}")
    print("| output layer | tokens/s | GFLOP/s | of peak |")
    print("|---|---:|---:|---:|")
    for name, full in (("all positions (BertForMaskedLM)", True), ("masked positions only (qawl)", False)):
        tps = run(cfg, args.steps, full)
        flops = train_flops_per_token(mlm, cfg.seq_len, cfg.mask_prob, len(tok), cfg.model.hidden_size, full)
        print(f"| {name} | {tps:,.0f} | {tps * flops / 1e9:.1f} | {tps * flops / 1e9 / peak:.0%} |")


if __name__ == "__main__":
    main()
