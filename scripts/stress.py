"""Long robustness runs: the slow versions of tests/test_fuzz.py, test_bad_input.py and test_interruptions.py.

    python scripts/stress.py              # full: hours of CPU, ~10 GB of RAM for the 20 MB article
    python scripts/stress.py --quick      # a one-minute smoke run of every check
    python scripts/stress.py --model DIR  # reuse a tiny model instead of training one (about 15 s)

Checks: hypothesis properties with many examples; a 20 MB article (refused under the default max_chars,
instantly and without memory, then read in windows with the limit raised); 10,000 tiny records through
`qawl extract` with flat memory; repeated kill/resume cycles of `qawl extract --resume` (SIGTERM keeps the
completed records, SIGKILL leaves the output untouched) and of training (SIGKILL, then the same weights as an
uninterrupted run). One line per check; exit code 1 when any check fails.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))  # tiny.py and the tests' helpers
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}


@dataclass(frozen=True)
class Sizes:
    fuzz_scale: int  # multiplies the example counts of tests/test_fuzz.py
    article_chars: int
    records: int
    extract_cycles: int
    train_cycles: int


QUICK = Sizes(fuzz_scale=1, article_chars=300_000, records=500, extract_cycles=2, train_cycles=1)
FULL = Sizes(fuzz_scale=50, article_chars=20_000_000, records=10_000, extract_cycles=8, train_cycles=5)


@contextlib.contextmanager
def quiet():
    """Progress bars and per-epoch lines of in-process training would bury the report."""
    with open(os.devnull, "w") as null, contextlib.redirect_stdout(null), contextlib.redirect_stderr(null):
        yield


def rss_mb() -> float:
    """Current resident memory of this process (Linux), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def kill_when(cmd: list[str], ready, delay: float, sig: int = signal.SIGKILL, timeout: float = 600) -> str:
    """Run `cmd`; once `ready()` holds, wait `delay` s and send `sig`. 'killed', or 'finished' if it ended first."""
    proc = subprocess.Popen(cmd, cwd=REPO, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        end = time.monotonic() + timeout
        while not ready() and proc.poll() is None and time.monotonic() < end:
            time.sleep(0.02)
        time.sleep(delay)
        if proc.poll() is not None:
            return "finished"
        proc.send_signal(sig)
        proc.wait(60)
        return "killed"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


# ---------------------------------------------------------------- checks


def check_fuzz(sizes: Sizes, _model: Path, _tmp: Path) -> str:
    env = {**ENV, "QAWL_FUZZ_SCALE": str(sizes.fuzz_scale)}
    # --quick leaves out the end-to-end property, which trains its own tiny model (the test suite runs it)
    select = ["-k", "not extractor"] if sizes is QUICK else []
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *select,
                           "tests/test_fuzz.py"], cwd=REPO, env=env, capture_output=True, text=True)
    last = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr[-500:]
    assert done.returncode == 0, done.stdout[-3000:]
    return f"x{sizes.fuzz_scale} examples: {last}"


def check_huge_article(sizes: Sizes, model: Path, _tmp: Path) -> str:
    from qawl.document import Document
    from qawl.errors import DocumentTooLarge
    from qawl.pipeline import DEFAULT_MAX_CHARS, Extractor
    from tiny import annotated_article

    article = annotated_article().text + "\n\n"
    ex = Extractor.load(model, device="cpu")
    huge = (article * (20_000_000 // len(article) + 1))[:20_000_000]
    before, t0 = rss_mb(), time.perf_counter()
    try:
        ex(Document("huge", huge))
        raise AssertionError("a 20 MB article passed the default max_chars")
    except DocumentTooLarge as exc:
        assert exc.limit == DEFAULT_MAX_CHARS
    refused = f"20 MB refused in {time.perf_counter() - t0:.3f} s (+{rss_mb() - before:.0f} MB)"
    assert time.perf_counter() - t0 < 1 and rss_mb() - before < 50
    text = huge[:sizes.article_chars]
    del huge
    ex.max_chars = max(ex.max_chars, len(text))
    before, t0 = rss_mb(), time.perf_counter()
    doc = ex(Document("long", text))
    seconds = time.perf_counter() - t0
    doc.check()
    assert len(doc.entities) >= len(text) // len(article), "fewer entities than copies of the article"
    last = max(e.end for e in doc.entities)
    assert last > len(text) - len(article), f"last entity ends at {last} of {len(text)}: truncated?"
    return (f"{refused}; {len(text):,} chars read in {seconds:.1f} s, {len(doc.entities):,} entities, "
            f"{len(doc.statements):,} statements, last entity ends {len(text) - last} chars before the end; "
            f"RSS +{rss_mb() - before:.0f} MB")


def check_many_records(sizes: Sizes, model: Path, tmp: Path) -> str:
    from qawl.cli.main import main
    from qawl.pipeline import Extractor
    from tiny import SENTENCES

    src = tmp / "many.jsonl"
    with open(src, "w", encoding="utf-8") as f:
        for i in range(sizes.records):
            f.write(json.dumps({"id": f"r{i}", "text": SENTENCES[i % 10]}, ensure_ascii=False) + "\n")
    ex = Extractor.load(model, device="cpu")

    def texts():
        for i in range(sizes.records):
            yield SENTENCES[i % 10]

    samples, t0 = [], time.perf_counter()
    for n, _ in enumerate(ex.pipe(texts(), batch_size=32), 1):
        if n % max(1, sizes.records // 10) == 0:
            samples.append(rss_mb())
    rate = sizes.records / (time.perf_counter() - t0)
    growth = samples[-1] - samples[0]
    assert growth < 100, f"memory grew by {growth:.0f} MB over the stream: {samples}"
    out = tmp / "many.out.jsonl"
    assert main(["extract", "--quiet", "--model", str(model), "-o", str(out), str(src)]) == 0
    with open(out, encoding="utf-8") as f:
        ids = [json.loads(line)["id"] for line in f]
    assert ids == [f"r{i}" for i in range(sizes.records)]
    return f"{sizes.records:,} records at {rate:.0f}/s; RSS over the stream {samples[0]:.0f} -> {samples[-1]:.0f} MB"


def check_extract_cycles(sizes: Sizes, model: Path, tmp: Path) -> str:
    from qawl.cli.main import main
    from tiny import SENTENCES

    n = max(3000, sizes.records)
    src = tmp / "cycles.jsonl"
    with open(src, "w", encoding="utf-8") as f:
        for i in range(n):
            text = SENTENCES[i % 10] + " " + SENTENCES[(i * 3) % 10]
            f.write(json.dumps({"id": f"r{i}", "text": text}, ensure_ascii=False) + "\n")
    target = tmp / "cycles.out.jsonl"
    cmd = [sys.executable, "-m", "qawl.cli.main", "extract", "--quiet", "--resume", "--batch-size", "8",
           "--model", str(model), "-o", str(target), str(src)]
    rng, kept = random.Random(os.environ.get("QAWL_KILL_SEED")), []

    def temps() -> set[Path]:
        return set(tmp.glob(f".{target.name}.*.tmp"))

    def writing(earlier: set[Path]) -> bool:
        """Records written to a temp file of this run (one left by an earlier SIGKILL does not count)."""
        for p in temps() - earlier:
            with contextlib.suppress(FileNotFoundError):
                if p.stat().st_size > 0:
                    return True
        return False

    for cycle in range(sizes.extract_cycles):
        before = target.read_bytes() if target.exists() else b""
        sig = signal.SIGKILL if cycle % 2 else signal.SIGTERM
        earlier = temps()
        outcome = kill_when(cmd, lambda: writing(earlier), rng.uniform(0, 0.5), sig)
        after = target.read_bytes() if target.exists() else b""
        ids = [json.loads(line)["id"] for line in after.splitlines()]
        assert ids == [f"r{i}" for i in range(len(ids))], f"cycle {cycle}: ids out of order or repeated"
        if outcome == "finished":
            kept.append("done")
            break
        if sig == signal.SIGKILL:
            assert after == before, f"cycle {cycle}: SIGKILL changed the output"
        else:
            assert after.startswith(before), f"cycle {cycle}: SIGTERM lost completed records"
        kept.append(f"{signal.Signals(sig).name}:{len(ids)}")
    assert main(["extract", "--quiet", "--resume", "--model", str(model), "-o", str(target), str(src)]) == 0
    ids = [json.loads(line)["id"] for line in target.read_bytes().splitlines()]
    assert ids == [f"r{i}" for i in range(n)]
    return f"{sizes.extract_cycles} kill cycles (records kept after each: {kept}), then complete: {n} records once each"


def check_train_cycles(sizes: Sizes, _model: Path, tmp: Path) -> str:
    import torch
    from safetensors.torch import load_file

    from qawl.config import load_config
    from qawl.corpus import write_jsonl
    from qawl.train import TrainConfig, train
    from tiny import annotated_article, build_tokenizer

    docs = [annotated_article(f"d{i}", repeat=1 + i % 3) for i in range(6)]
    write_jsonl(docs, tmp / "train.jsonl")
    write_jsonl(docs[:2], tmp / "dev.jsonl")
    build_tokenizer(tmp / "tok")

    def overrides(out: Path) -> dict[str, str]:
        return {"output_dir": str(out), "random_encoder.tokenizer_dir": str(tmp / "tok"),
                "quotes_train": str(tmp / "train.jsonl"), "quotes_dev": str(tmp / "dev.jsonl"),
                "epochs": str(4 + 2 * sizes.train_cycles), "patience": "99", "checkpoint_every": "2",
                "num_threads": "1"}

    torch.set_num_threads(1)
    smoke = REPO / "configs" / "smoke.yaml"
    with quiet():
        reference = train(load_config(TrainConfig, smoke, overrides(tmp / "ref")))
    out = tmp / "killed"
    state = out / "checkpoint" / "state.json"
    cmd = [sys.executable, "-m", "qawl.cli.main", "train", "--config", str(smoke),
           *(f"{k}={v}" for k, v in overrides(out).items())]
    rng, steps = random.Random(os.environ.get("QAWL_KILL_SEED")), []

    def step() -> int:
        try:
            return json.loads(state.read_text())["step"]
        except (OSError, ValueError):
            return -1

    for _ in range(sizes.train_cycles):
        seen = step()
        outcome = kill_when(cmd, lambda: step() > seen, rng.uniform(0, 1.0))
        steps.append(step() if outcome == "killed" else "done")
    with quiet():
        final = train(load_config(TrainConfig, smoke, overrides(out)))
    assert final["step"] == reference["step"]
    a = load_file(str(tmp / "ref" / "checkpoint" / "model.safetensors"))
    b = load_file(str(state.parent / "model.safetensors"))
    worst = max(float((a[k] - b[k]).abs().max()) for k in a)
    assert a.keys() == b.keys() and worst <= 1e-6, f"weights differ by {worst}"
    return f"killed at checkpoint steps {steps}; resumed to step {final['step']}, max weight difference {worst:.1e}"


CHECKS = {"fuzz": check_fuzz, "huge-article": check_huge_article, "many-records": check_many_records,
          "extract-kill-cycles": check_extract_cycles, "train-kill-cycles": check_train_cycles}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small sizes: a one-minute smoke run")
    ap.add_argument("--model", type=Path, help="a tiny model directory to reuse (default: train one)")
    ap.add_argument("--only", choices=list(CHECKS), action="append", help="run only these checks")
    args = ap.parse_args()
    sizes = QUICK if args.quick else FULL
    import torch

    torch.set_num_threads(1)
    failed = 0
    with tempfile.TemporaryDirectory(prefix="qawl-stress-") as tmp:
        model = args.model
        if model is None:
            from tiny import build_tiny_model

            t0 = time.perf_counter()
            with quiet():
                model = build_tiny_model(Path(tmp) / "tiny")
            print(f"built the tiny model in {time.perf_counter() - t0:.0f} s", flush=True)
        for name in args.only or CHECKS:
            work = Path(tmp) / name
            work.mkdir()
            t0 = time.perf_counter()
            try:
                detail = CHECKS[name](sizes, model, work)
                print(f"ok    {name:20} {time.perf_counter() - t0:6.1f} s  {detail}", flush=True)
            except Exception as exc:  # noqa: BLE001 - report every check, then fail
                failed += 1
                print(f"FAIL  {name:20} {time.perf_counter() - t0:6.1f} s  {type(exc).__name__}: {exc}", flush=True)
                traceback.print_exc(limit=3)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
