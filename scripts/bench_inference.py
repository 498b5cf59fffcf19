"""Inference speed and memory of qawl against a naive Hugging Face baseline, stated against hardware peak.

    python scripts/bench_inference.py --model models/qawl-small --n 100 --json runs/bench-inference.json
    python scripts/bench_inference.py --model /tmp/tiny --n 5 --rss-n 5,20 --threads 1     # smoke run

Settings, each timed in its own subprocess (clean peak RSS, no interference):
- `qawl`: Extractor.pipe (windows sorted by length, batched by a token budget), fp32 on CPU, bf16 on CUDA;
- `qawl-int8`: the same with --quantize (int8 dynamic quantization, CPU only);
- `naive`: transformers.pipeline("token-classification") over AutoModelForTokenClassification, one call per
  sentence (qawl.sentences.split_sentences). It runs the encoder and the NER head only: no roles, no linking.
  The qawl model directory loads as BertForTokenClassification (encoder `bert.*`, NER head `classifier.*`);
  the script checks that no weight is missing and that its logits equal qawl's NER logits.

With --procs 1,2 each setting is also timed in two processes that share the articles round robin, one
torch thread each, as `torchrun --nproc_per_node 2 -m qawl.cli.main extract` runs them: the model's
matmuls scale well over threads, the Python around them (tokenization, decoding, linking, rules) does not.

Columns: articles/s; tokens/s = article tokens (qawl's tokenizer, the same count for every setting) per
second; model GFLOP/s = the matmul FLOPs of the sequences the setting actually runs (qawl's overlapping
windows, or the baseline's sentences, with [CLS]/[SEP], no padding): 2 x matmul and convolution parameters
per token plus 4 x layers x hidden x sequence length per token for attention; % of peak = that over the fp32 matmul peak
measured in the same run (a 2048x2048 fp32 matmul loop with the same threads). Peak RSS is measured for
each setting at the sizes of --rss-n (100 and 1,400 articles by default) to show that memory stays flat.
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO / ".." / "shared" / "data" / "news" / "articles.jsonl.gz"
SETTINGS = ("qawl", "qawl-int8", "naive")
REFERENCE_PEAK = 160.0  # GFLOP/s: the CPU figure quoted in DESIGN.md


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", required=True, help="qawl model directory")
    p.add_argument("--data", default=str(DEFAULT_DATA), help="articles, JSON Lines with 'text' (.gz ok)")
    p.add_argument("--n", type=int, default=100, help="articles timed per setting (default 100)")
    p.add_argument("--rss-n", default="100,1400", help="article counts for the peak-RSS runs ('' to skip)")
    p.add_argument("--settings", default=",".join(SETTINGS), help=f"comma-separated subset of {SETTINGS}")
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    p.add_argument("--precision", choices=("auto", "fp32", "bf16", "fp16"), default="auto",
                   help="qawl rows: the model's arithmetic (auto: bf16 on a GPU, fp32 on CPU)")
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's default)")
    p.add_argument("--batch-size", type=int, default=32, help="qawl: articles per pipe chunk")
    p.add_argument("--tokens-per-batch", type=int, default=None, help="qawl: tokens per model batch "
                   "(default: the Extractor's, 2,048 on CPU)")
    p.add_argument("--keep-freed-memory", action="store_true",
                   help="qawl: do not hand freed heap back to the system between chunks (the old behaviour)")
    p.add_argument("--procs", default="1", help="process counts to time each setting with, e.g. '1,2': the "
                   "articles are dealt round robin to that many processes (as `torchrun --nproc_per_node` "
                   "does for qawl extract), each with threads/procs torch threads")
    p.add_argument("--rounds", type=int, default=1, help="time every setting this many times, the settings "
                   "taking turns (the machine's speed drifts over minutes; ratios are taken within a round)")
    p.add_argument("--peak-seconds", type=float, default=3.0, help="duration of the matmul peak loop")
    p.add_argument("--child-timeout", type=float, default=3600.0, help="seconds allowed per setting run")
    p.add_argument("--json", help="also write the results as JSON to this file")
    p.add_argument("--child", choices=SETTINGS, help=argparse.SUPPRESS)  # internal: run one setting
    p.add_argument("--shard", default="0/1", help=argparse.SUPPRESS)  # internal: k/N, this child's articles
    p.add_argument("--barrier", help=argparse.SUPPRESS)  # internal: a directory where N children meet
    return p.parse_args(argv)


def iter_texts(path: str, n: int):
    """The first n article texts, read lazily (the RSS runs must not hold the corpus)."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        for line in itertools.islice((ln for ln in f if ln.strip()), n):
            yield json.loads(line)["text"]


def set_threads(threads: int | None) -> int:
    import torch

    if threads:
        torch.set_num_threads(threads)
    return torch.get_num_threads()


# ---------------------------------------------------------------- one setting (child process)


def run_setting(args: argparse.Namespace) -> dict:
    import torch

    set_threads(args.threads)
    t0 = time.perf_counter()
    if args.child == "naive":
        run = naive_runner(args.model, args.device)
    else:
        from qawl.cli.extract import load_extractor
        from qawl.document import Document

        ex = load_extractor(args.model, args.device, args.child == "qawl-int8", False,
                            precision="auto" if args.child == "qawl-int8" else args.precision)
        ex.tokens_per_batch = args.tokens_per_batch or ex.tokens_per_batch
        ex.release_memory = not args.keep_freed_memory

        def run(texts):
            docs = (Document(str(i), t) for i, t in enumerate(texts))
            return sum(1 for _ in ex.pipe(docs, batch_size=args.batch_size))
    load_s = time.perf_counter() - t0
    run(itertools.islice(iter_texts(args.data, 2), 2))  # warm-up: first-call allocations, kernel choice
    if args.device == "cuda":
        torch.cuda.synchronize()
    chars = [0]

    def counted(texts):
        for t in texts:
            chars[0] += len(t)
            yield t

    k, n_shards = (int(x) for x in args.shard.split("/"))
    texts = itertools.islice(iter_texts(args.data, args.n), k, None, n_shards)
    if args.barrier:  # all children loaded and warmed up before any starts the clock
        Path(args.barrier, f"ready.{k}").touch()
        while len(list(Path(args.barrier).glob("ready.*"))) < n_shards:
            time.sleep(0.01)
    started = time.time()
    t0 = time.perf_counter()
    articles = run(counted(texts))
    if args.device == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - t0
    out = {"articles": articles, "chars": chars[0], "seconds": seconds, "load_seconds": load_s,
           "peak_rss_mb": peak_rss_mb(), "started": started, "ended": started + seconds}
    if args.device == "cuda":
        out["peak_gpu_mb"] = torch.cuda.max_memory_allocated() / 2**20
    return out


def peak_rss_mb() -> float:
    """This process's peak RSS. VmHWM, not getrusage: ru_maxrss survives exec, so a child started from a
    parent that holds a model would report the parent's memory."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def naive_runner(model_dir: str, device: str):
    """A loop over transformers.pipeline, one sentence a call: what one writes without qawl."""
    import warnings

    from transformers import AutoModelForTokenClassification, AutoTokenizer, pipeline

    from qawl.sentences import split_sentences

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = AutoModelForTokenClassification.from_pretrained(model_dir)
    tok = AutoTokenizer.from_pretrained(model_dir)
    tok.model_max_length = model.config.max_position_embeddings  # else a long sentence overflows positions
    ner = pipeline("token-classification", model=model, tokenizer=tok, aggregation_strategy="simple",
                   stride=min(64, tok.model_max_length // 4), device=0 if device == "cuda" else -1)

    def run(texts):
        n = 0
        for text in texts:
            for sentence in split_sentences(text):
                ner(sentence.text)
            n += 1
        return n

    return run


# ---------------------------------------------------------------- measurements in the parent


def measure_peak(device: str, seconds: float, size: int = 2048) -> float:
    """fp32 matmul GFLOP/s of this machine with the current threads."""
    import torch

    a = torch.randn(size, size, device=device)
    b = torch.randn(size, size, device=device)
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    for _ in range(2):
        a @ b
    sync()
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds or n < 3:
        a @ b
        n += 1
        if device == "cuda" and n % 50 == 0:
            sync()
    sync()
    return 2 * size**3 * n / (time.perf_counter() - t0) / 1e9


def matmul_params(model_dir: str) -> dict:
    """Parameters used in matmuls per token: encoder Linear layers and the token heads (not embeddings)."""
    from torch import nn

    from qawl.model import QawlModel

    model = QawlModel.from_pretrained(model_dir)
    enc = sum(m.weight.numel() for m in model.bert.modules() if isinstance(m, nn.Linear))
    heads = {name: getattr(model, name).weight.numel() for name in ("classifier", "role_head", "proclitic_head")}
    # the convolution over the encoder output (config local_conv) multiplies width x hidden x hidden per token
    heads["local_conv"] = model.local_conv[0].weight.numel() if model.local_conv is not None else 0
    cfg = model.config
    return {"total_params": model.num_parameters(), "encoder_matmul": enc, "heads": heads,
            "layers": cfg.num_hidden_layers, "hidden": cfg.hidden_size}


def sequence_flops(lengths: list[int], per_token_params: int, layers: int, hidden: int) -> float:
    """Forward FLOPs of sequences of these lengths: 2 N T (matmuls) + 4 L d T^2 (QK^T and AV)."""
    return float(sum(2 * per_token_params * t + 4 * layers * hidden * t * t for t in lengths))


def workload(args: argparse.Namespace, params: dict) -> dict:
    """Article tokens and the FLOPs each setting spends on the timed articles."""
    import warnings

    from transformers import AutoTokenizer

    from qawl.cli.extract import load_extractor
    from qawl.document import Document
    from qawl.sentences import split_sentences

    ex = load_extractor(args.model, "cpu", False, False)
    hf_tok = AutoTokenizer.from_pretrained(args.model)
    tokens, windows, sentences = 0, [], []
    max_len = ex.model.config.max_position_embeddings
    for text in iter_texts(args.data, args.n):
        enc = ex.encode(Document("x", text))
        tokens += len(enc.enc)
        windows += [w.end - w.start + 2 for w in enc.windows]  # + [CLS] [SEP]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "sequence longer than the maximum": counted, split by stride later
            # a sentence longer than the positions is run in stride chunks: counted as full-width ones
            sentences += [min(len(hf_tok(s.text)["input_ids"]), max_len) for s in split_sentences(text)]
    mp, h = params["encoder_matmul"], params["heads"]
    qawl_n = mp + h["classifier"] + h["role_head"] + h["proclitic_head"] + h["local_conv"]
    flops = {"qawl": sequence_flops(windows, qawl_n, params["layers"], params["hidden"]),
             "naive": sequence_flops(sentences, mp + h["classifier"], params["layers"], params["hidden"])}
    flops["qawl-int8"] = flops["qawl"]
    return {"tokens": tokens, "windows": len(windows), "sentences": len(sentences), "flops": flops}


def check_baseline_loads(model_dir: str) -> dict:
    """The qawl directory as BertForTokenClassification: nothing missing, and the same NER logits."""
    import warnings

    import torch
    from transformers import AutoModelForTokenClassification

    from qawl.model import QawlModel

    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        hf, info = AutoModelForTokenClassification.from_pretrained(model_dir, output_loading_info=True)
    qawl = QawlModel.from_pretrained(model_dir).eval()
    ids = torch.randint(5, qawl.config.vocab_size, (2, 24))
    mask = torch.ones_like(ids)
    word_features = qawl.word_vectors is not None
    with torch.inference_mode():
        # with word features qawl's logits differ by design: the baseline gets the plain encoder only
        rows = torch.zeros_like(ids) if word_features else None
        diff = (hf.eval()(input_ids=ids, attention_mask=mask).logits
                - qawl(ids, mask, word_vector_ids=rows)["ner_logits"]).abs().max()
    return {"class": type(hf).__name__, "missing_keys": sorted(info["missing_keys"]),
            "ignored_keys": len(info["unexpected_keys"]), "max_logit_diff": float(diff),
            "word_features": word_features}


def run_child(args: argparse.Namespace, setting: str, n: int, procs: int = 1, threads: int | None = None) -> dict:
    """One setting on the first n articles, in `procs` concurrent processes that share them round robin.
    With several, seconds run from the first start to the last end (all start together, after loading);
    peak RSS is their sum, since they are resident at the same time."""
    threads = threads or args.threads
    cmd = [sys.executable, __file__, "--child", setting, "--model", args.model, "--data", args.data, "--n", str(n),
           "--device", args.device, "--precision", args.precision, "--batch-size", str(args.batch_size)]
    if threads:
        cmd += ["--threads", str(max(1, threads // procs))]
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_VERBOSITY="error")
    if procs > 1:  # as torchrun does: one OpenMP thread per process
        env["OMP_NUM_THREADS"] = "1"
    with tempfile.TemporaryDirectory() as barrier:
        extra = (lambda k: ["--shard", f"{k}/{procs}", "--barrier", barrier]) if procs > 1 else (lambda k: [])
        children = [subprocess.Popen(cmd + extra(k), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     env=env) for k in range(procs)]
        results = []
        for child in children:
            try:
                stdout, stderr = child.communicate(timeout=args.child_timeout)
            except subprocess.TimeoutExpired:
                for c in children:
                    c.kill()
                return {"error": f"timed out after {args.child_timeout:g}s"}
            lines = stdout.strip().splitlines()
            if child.returncode != 0 or not lines:
                for c in children:
                    c.kill()
                tail = (stderr.strip().splitlines() or ["no output"])[-1]
                return {"error": f"exit {child.returncode}: {tail}"}
            results.append(json.loads(lines[-1]))
    if procs == 1:
        return results[0]
    out = {k: sum(r[k] for r in results) for k in ("articles", "chars", "peak_rss_mb")}
    out["seconds"] = max(r["ended"] for r in results) - min(r["started"] for r in results)
    out["load_seconds"] = max(r["load_seconds"] for r in results)
    return out


def measure_setting(args: argparse.Namespace, name: str, setting: str, procs: int, threads: int, work: dict,
                    rss_n: list[int], rss_chars: dict) -> dict:
    """One timed run of a setting in `procs` processes (and its peak-RSS runs at the sizes of --rss-n)."""
    if setting == "qawl-int8" and args.device != "cpu":
        return {"error": "int8 dynamic quantization is CPU only"}
    print(f"bench: {name}: {args.n} articles ...", file=sys.stderr)
    r = run_child(args, setting, args.n, procs, threads)
    if "error" in r:
        return r
    r["articles_per_s"] = r["articles"] / r["seconds"]
    r["tokens_per_s"] = work["tokens"] / r["seconds"]
    r["gflops"] = work["flops"][setting] / r["seconds"] / 1e9
    r["rss"] = {}
    for k in rss_n:
        if k == args.n:
            r["rss"][k] = r["peak_rss_mb"]
            continue
        print(f"bench: {name}: peak RSS with {k} articles ...", file=sys.stderr)
        m = run_child(args, setting, k, procs, threads)
        r["rss"][k] = m.get("peak_rss_mb", m.get("error"))
        if "chars" in m:
            rss_chars[k] = m["chars"] / max(1, m["articles"])
    rss_chars.setdefault(args.n, r["chars"] / max(1, r["articles"]))
    return r


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


# ---------------------------------------------------------------- report


def report(res: dict) -> str:
    w, peak = res["workload"], res["peak_gflops"]
    rss_ns = res["rss_n"]
    out = [f"## qawl inference benchmark: {res['model']}", "",
           f"- {res['n']} articles, {w['tokens']:,} tokens (qawl tokenizer); qawl runs {w['windows']} windows, "
           f"the baseline {w['sentences']} sentences",
           f"- device {res['device']} ({res['cpu']}), precision {res['precision']}, {res['threads']} torch "
           f"thread(s) per setting (shared out among the processes of an 'xN procs' row), torch {res['torch']}",
           f"- model: {res['params']['total_params']:,} parameters, {res['params']['encoder_matmul']:,} in encoder "
           f"matmuls; {res['flops_per_token']['qawl'] / 1e6:.2f} MFLOP per article token (qawl, with window "
           f"overlap), {res['flops_per_token']['naive'] / 1e6:.2f} (baseline)",
           f"- fp32 matmul peak, measured here (2048x2048): **{peak:.1f} GFLOP/s** (DESIGN.md's figure: "
           f"{REFERENCE_PEAK:g} GFLOP/s)",
           f"- baseline check: loads as {res['baseline_check']['class']}, missing keys "
           f"{res['baseline_check']['missing_keys'] or 'none'}, {res['baseline_check']['ignored_keys']} qawl-only "
           f"tensors ignored, max |NER logit diff| {res['baseline_check']['max_logit_diff']:.2e}"
           + (" (qawl adds its word-vector features, which the baseline, the plain encoder, lacks)"
              if res["baseline_check"].get("word_features") else ""), ""]
    head = ["setting", "articles/s", "tokens/s", "model GFLOP/s", "% of peak", "load s"]
    head += [f"peak RSS MB (n={k})" for k in rss_ns]
    out += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, r in res["settings"].items():
        if "error" in r:
            row = [name, f"failed: {r['error']}"] + [""] * (len(head) - 2)
        else:
            row = [name, f"{r['articles_per_s']:.2f}", f"{r['tokens_per_s']:,.0f}", f"{r['gflops']:.2f}",
                   f"{100 * r['gflops'] / peak:.1f}%", f"{r['load_seconds']:.1f}"]
            row += [("—" if k not in r["rss"] else r["rss"][k] if isinstance(r["rss"][k], str)
                     else f"{r['rss'][k]:.0f}") for k in rss_ns]
        out.append("| " + " | ".join(row) + " |")
    if res["rss_chars"]:
        sizes = ", ".join(f"n={k}: {v:,.0f}" for k, v in sorted(res["rss_chars"].items()))
        out += ["", f"Peak RSS is bounded by the chunk being predicted, not by the number of articles; it follows "
                    f"the article lengths in a chunk (mean characters per article, {sizes})."]
    rates = {name: r["articles_per_s"] for name, r in res["settings"].items() if "error" not in r}
    if "naive" in rates:
        ratios = [f"{name} {rate / rates['naive']:.1f}x" for name, rate in rates.items() if name != "naive"]
        out += ["", "Articles/s against the naive baseline (one process): " + ", ".join(ratios)
                + ". qawl also finds statements, which the baseline does not."]
    if len(res["rounds"]) > 1:
        out += ["", f"Every round ({len(res['rounds'])}; the table above shows each setting's median round): "
                    "articles/s, x the naive baseline of the same round, peak RSS growth "
                    + " -> ".join(f"n={k}" for k in rss_ns[:2]), "",
                "| round | " + " | ".join(res["rounds"][0]) + " |", "|---|" + "---|" * len(res["rounds"][0])]
        for i, results in enumerate(res["rounds"], 1):
            naive = results.get("naive", {}).get("articles_per_s")
            cells = []
            for r in results.values():
                if "error" in r:
                    cells.append("failed")
                    continue
                cell = f"{r['articles_per_s']:.2f}" + (f", {r['articles_per_s'] / naive:.2f}x" if naive else "")
                sizes = [r["rss"].get(k) for k in rss_ns[:2]]
                if len(sizes) == 2 and all(isinstance(v, float) for v in sizes):
                    cell += f", {100 * (sizes[1] - sizes[0]) / sizes[0]:+.1f}%"
                cells.append(cell)
            out.append(f"| {i} | " + " | ".join(cells) + " |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")  # no load report for the qawl-only tensors
    if args.child:
        print(json.dumps(run_setting(args)))
        return 0
    import torch

    if not Path(args.model, "config.json").exists():
        print(f"bench: {args.model}: not a model directory (no config.json)", file=sys.stderr)
        return 2
    if not Path(args.data).exists():
        print(f"bench: {args.data}: not found (give --data)", file=sys.stderr)
        return 2
    settings = [s for s in args.settings.split(",") if s]
    unknown = sorted(set(settings) - set(SETTINGS))
    if unknown:
        print(f"bench: unknown setting(s) {unknown}; choose from {SETTINGS}", file=sys.stderr)
        return 2
    threads = set_threads(args.threads)
    rss_n = [int(x) for x in args.rss_n.split(",") if x.strip()]
    params = matmul_params(args.model)
    work = workload(args, params)
    res = {"model": str(args.model), "n": args.n, "device": args.device, "precision": args.precision,
           "threads": threads, "cpu": cpu_name(), "torch": torch.__version__, "params": params, "workload": work,
           "rss_n": rss_n,
           "baseline_check": check_baseline_loads(args.model),
           "peak_gflops": measure_peak(args.device, args.peak_seconds), "settings": {}, "rss_chars": {},
           "flops_per_token": {k: v / max(1, work["tokens"]) for k, v in work["flops"].items()}}
    procs_list = [int(x) for x in args.procs.split(",") if x.strip()]
    res["procs"] = procs_list
    res["rounds"] = []
    for round_no in range(1, args.rounds + 1):
        results = {}
        for setting, procs in itertools.product(settings, procs_list):
            name = setting if procs == 1 else f"{setting} x{procs} procs"
            if args.rounds > 1:
                print(f"bench: round {round_no} of {args.rounds}", file=sys.stderr)
            results[name] = measure_setting(args, name, setting, procs, threads, work, rss_n, res["rss_chars"])
        res["rounds"].append(results)
    # the table shows each setting's median round (by articles/s); every round is listed below it
    res["settings"] = {name: sorted((r[name] for r in res["rounds"]),
                                    key=lambda r: r.get("articles_per_s", 0))[(args.rounds - 1) // 2]
                       for name in res["rounds"][0]}
    text = report(res)
    print(text)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(res, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
