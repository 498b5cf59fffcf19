"""SIGKILL at a random moment: training and pretraining resume to the same weights as an uninterrupted run, and
`qawl extract` never leaves a partial file at its output path.

Each test runs the real command in a subprocess and kills it with SIGKILL (no cleanup handlers can run) once
it is under way, at a moment drawn at random and printed (replay a failure with QAWL_KILL_SEED), then runs the
same work again in this process (saving a start-up) from whatever the kill left. scripts/stress.py repeats the
kill/resume cycles many times.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from qawl.cli.main import main
from qawl.config import load_config
from qawl.corpus import write_jsonl
from tiny import REPO, SENTENCES, annotated_article, build_tokenizer, write_raw_corpus

ENV = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}


def kill_seed() -> int:
    seed = int(os.environ.get("QAWL_KILL_SEED", random.SystemRandom().randrange(1 << 30)))
    print(f"QAWL_KILL_SEED={seed}")
    return seed


def run_and_kill(cmd: list[str], ready, rng: random.Random, max_delay: float, timeout: float = 120.0) -> bool:
    """Start `cmd`, wait until `ready()` is true, sleep a random moment, SIGKILL it.

    Returns whether the kill landed while the command was still running (False: it finished first)."""
    proc = subprocess.Popen(cmd, cwd=REPO, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + timeout
        while not ready():
            if proc.poll() is not None:
                raise AssertionError(f"{cmd[2:4]} ended before it was under way:\n"
                                     f"{proc.stderr.read().decode()[-2000:]}")
            if time.monotonic() > deadline:
                raise AssertionError(f"{cmd[2:4]} not under way after {timeout} s")
            time.sleep(0.02)
        time.sleep(rng.uniform(0.0, max_delay))
        running = proc.poll() is None
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
        return running
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stderr.close()


def assert_same_weights(a_path: Path, b_path: Path) -> None:
    a, b = load_file(str(a_path)), load_file(str(b_path))
    assert a.keys() == b.keys()
    for k in a:
        assert torch.allclose(a[k], b[k], atol=1e-6), k


# ---------------------------------------------------------------- training


@pytest.fixture(scope="module")
def train_inputs(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("train-kill")
    docs = [annotated_article(f"d{i}", repeat=1 + i % 3) for i in range(6)]
    write_jsonl(docs, root / "train.jsonl")
    write_jsonl(docs[:2], root / "dev.jsonl")
    build_tokenizer(root / "tok")  # shared: WordPiece ids differ from one training of it to the next
    return root


def _train_overrides(root: Path, out: Path) -> dict[str, str]:
    return {"output_dir": str(out), "random_encoder.tokenizer_dir": str(root / "tok"),
            "quotes_train": str(root / "train.jsonl"), "quotes_dev": str(root / "dev.jsonl"),
            "epochs": "4", "patience": "4", "checkpoint_every": "2", "num_threads": "1"}


def test_training_killed_at_a_random_step_resumes_to_the_same_weights(train_inputs):
    from qawl.train import TrainConfig, train

    root, rng = train_inputs, random.Random(kill_seed())
    torch.set_num_threads(1)
    reference = train(load_config(TrainConfig, REPO / "configs" / "smoke.yaml", _train_overrides(root, root / "ref")))
    out = root / "killed"
    cmd = [sys.executable, "-m", "qawl.cli.main", "train", "--config", "configs/smoke.yaml",
           *(f"{k}={v}" for k, v in _train_overrides(root, out).items())]
    state = out / "checkpoint" / "state.json"
    assert run_and_kill(cmd, state.exists, rng, max_delay=1.0), "training ended before the kill"
    killed_at = json.loads(state.read_text())["step"] if state.exists() else None  # None: killed mid-save
    # the same command again, in this process (saves a start-up): resumes from what the kill left
    final = train(load_config(TrainConfig, REPO / "configs" / "smoke.yaml", _train_overrides(root, out)))
    assert final["step"] == reference["step"] and final["best_epoch"] == reference["best_epoch"], killed_at
    assert_same_weights(root / "ref" / "checkpoint" / "model.safetensors", out / "checkpoint" / "model.safetensors")
    assert_same_weights(root / "ref" / "best" / "model.safetensors", out / "best" / "model.safetensors")


# ---------------------------------------------------------------- pretraining


@pytest.fixture(scope="module")
def pretrain_inputs(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("pretrain-kill")
    write_raw_corpus(root / "raw.txt.gz", n_docs=300)
    build_tokenizer(root / "tok")
    return root


def _pretrain_overrides(root: Path, out: Path) -> dict[str, str]:
    return {"corpus": str(root / "raw.txt.gz"), "tokenizer_dir": str(root / "tok"), "output_dir": str(out),
            "max_steps": "40", "checkpoint_every": "3", "eval_every": "10", "num_threads": "1"}


def test_pretraining_killed_at_a_random_step_resumes_to_the_same_weights(pretrain_inputs):
    from qawl.pretrain import PretrainConfig, pretrain

    root, rng = pretrain_inputs, random.Random(kill_seed())
    torch.set_num_threads(1)
    config = REPO / "configs" / "pretrain-smoke.yaml"
    reference = pretrain(load_config(PretrainConfig, config, _pretrain_overrides(root, root / "ref")))
    out = root / "killed"
    cmd = [sys.executable, "scripts/pretrain.py", "--config", str(config),
           *(f"{k}={v}" for k, v in _pretrain_overrides(root, out).items())]
    state = out / "checkpoint" / "state.json"
    assert run_and_kill(cmd, state.exists, rng, max_delay=0.8), "pretraining ended before the kill"
    final = pretrain(load_config(PretrainConfig, config, _pretrain_overrides(root, out)))  # resumes
    assert (final["step"], final["sequences"]) == (reference["step"], reference["sequences"])
    assert_same_weights(root / "ref" / "checkpoint" / "model.safetensors", out / "checkpoint" / "model.safetensors")


# ---------------------------------------------------------------- extraction


def _articles(path: Path, n: int) -> Path:
    with open(path, "w", encoding="utf-8") as f:
        for i in range(n):
            text = SENTENCES[i % 10] + " " + SENTENCES[(i * 7) % 10]
            f.write(json.dumps({"id": f"r{i}", "text": text}, ensure_ascii=False) + "\n")
    return path


def _writing(directory: Path, name: str):
    """A test that holds once extract has written records to a *new* temporary file next to `name` (one left
    by an earlier kill does not count)."""
    earlier = set(directory.glob(f".{name}.*.tmp"))

    def ready() -> bool:
        for p in set(directory.glob(f".{name}.*.tmp")) - earlier:
            try:
                if p.stat().st_size > 0:
                    return True
            except FileNotFoundError:  # renamed into place meanwhile
                pass
        return False

    return ready


def _extract_cmd(model: Path, *args) -> list[str]:
    return [sys.executable, "-m", "qawl.cli.main", "extract", "--quiet", "--model", str(model), *map(str, args)]


def test_killed_extract_leaves_no_partial_output(tiny_model_dir, tmp_path):
    rng = random.Random(kill_seed())
    src = _articles(tmp_path / "in.jsonl", 1500)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    target = out_dir / "result.jsonl"
    cmd = _extract_cmd(tiny_model_dir, "--batch-size", "8", "-o", target, src)
    assert run_and_kill(cmd, _writing(out_dir, target.name), rng, max_delay=0.3), "extract ended before the kill"
    assert not target.exists()
    # what SIGKILL leaves behind is only a hidden temporary file, never something at the target path
    assert all(p.name.startswith(f".{target.name}.") for p in out_dir.iterdir())


def test_killed_extract_keeps_an_existing_output_and_resume_completes(tiny_model_dir, tmp_path):
    rng = random.Random(kill_seed())
    src = _articles(tmp_path / "in.jsonl", 1000)
    target = tmp_path / "out.jsonl"
    earlier = b"".join(json.dumps({"id": f"r{i}", "error": "done earlier"}).encode() + b"\n" for i in range(50))
    target.write_bytes(earlier)
    for resume in ((), ("--resume",)):
        cmd = _extract_cmd(tiny_model_dir, *resume, "--batch-size", "8", "-o", target, src)
        assert run_and_kill(cmd, _writing(tmp_path, target.name), rng, max_delay=0.3), "extract ended first"
        assert target.read_bytes() == earlier  # untouched, not half-written
    assert main(["extract", "--quiet", "--model", str(tiny_model_dir), "--resume", "-o", str(target), str(src)]) == 0
    lines = target.read_bytes().splitlines(keepends=True)
    assert b"".join(lines[:50]) == earlier
    assert [json.loads(line)["id"] for line in lines] == [f"r{i}" for i in range(1000)]
