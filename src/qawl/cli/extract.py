"""`qawl extract`: entities and statements (who said what) from raw Arabic text, in batch, on CPU or GPU.

    qawl extract --model models/qawl-small -o out.jsonl articles.jsonl.gz
    qawl extract --format html -o page.html news/            # a directory of .txt files
    cat article.txt | qawl extract -                          # stdout, JSON Lines
    qawl extract --resume -o out.jsonl big.jsonl.gz           # continue an interrupted run
    torchrun --nproc_per_node 2 -m qawl.cli.main extract -o out.jsonl big.jsonl.gz

One output record per input record, in input order, ids kept; a record that cannot be read or predicted
is an error record {"id", "error"} and the run goes on. Exit code: 0 all records done, 1 some failed,
2 usage error (no input, bad option, missing model), 130 interrupted.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qawl.errors import QawlError
from qawl.writers import FORMATS, AtomicFile, JsonlWriter, format_for, make_writer, merge_jsonl, read_done_ids

if TYPE_CHECKING:
    from qawl.pipeline import Extractor


class UsageError(QawlError):
    """A bad combination of options (exit code 2)."""


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "extract", help="extract entities and statements from Arabic articles",
        description="Extract named entities and statements (who said what) from raw Arabic news text. "
                    "INPUT: .txt files (one article each, id = file name without .txt), directories of them, "
                    ".jsonl/.jsonl.gz files of {\"id\", \"text\"} records (other fields pass through), or '-' "
                    "for stdin (JSON Lines, or else one article).")
    p.add_argument("inputs", nargs="*", metavar="INPUT")
    p.add_argument("--model", metavar="DIR", help="model directory (default: $QAWL_MODEL or models/qawl-small)")
    p.add_argument("-o", "--output", metavar="OUT", help="output file (default: stdout); written atomically")
    p.add_argument("--format", choices=FORMATS, help="output format (default: from OUT's extension, else jsonl)")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto",
                   help="auto = cuda when available, else cpu")
    p.add_argument("--precision", choices=("auto", "fp32", "bf16", "fp16"), default="auto",
                   help="the model's arithmetic: auto = bf16 autocast on a GPU that has it (else fp16), fp32 on CPU")
    p.add_argument("--batch-size", type=_positive_int, default=32, metavar="N",
                   help="articles read and predicted together (default 32)")
    p.add_argument("--min-confidence", type=float, metavar="X",
                   help="drop statements with confidence below X and entities with score below X")
    p.add_argument("--quantize", action="store_true", help="int8 dynamic quantization (CPU only)")
    p.add_argument("--max-chars", type=_positive_int, default=None, metavar="N",
                   help="refuse (error record) an article longer than N characters (default 5,000,000): "
                        "memory grows with article length")
    p.add_argument("--allow-pickle", action="store_true",
                   help="allow pickle weights (pytorch_model.bin); only for models you trust")
    p.add_argument("--resume", action="store_true",
                   help="skip ids already in OUT (JSON Lines) and append the rest")
    p.add_argument("--quiet", action="store_true", help="no progress bar, no per-record messages")
    p.add_argument("--no-rule-fallback", dest="rule_fallback", action="store_false", default=None,
                   help="the model's statements alone, without the rule-based fallback (see qawl.fallback)")
    p.add_argument("--shard-timeout", type=float, default=600.0, metavar="S",
                   help="under torchrun: seconds rank 0 waits for the other shards after its own (default 600)")
    p.set_defaults(handler=extract_command)


def _positive_int(value: str) -> int:
    n = int(value)
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {n}")
    return n


# ---------------------------------------------------------------- sinks: where records go


class _Sink:
    """Receives (index, record); finish() on success, interrupt() on Ctrl-C/SIGTERM, abort() on a crash."""

    def write(self, index: int, record: dict[str, Any]) -> None:
        raise NotImplementedError

    def finish(self) -> None: ...

    def interrupt(self) -> None:
        self.abort()

    def abort(self) -> None: ...


class _StdoutSink(_Sink):
    def __init__(self, fmt: str):
        self.writer = make_writer(fmt, sys.stdout.buffer)

    def write(self, index: int, record: dict[str, Any]) -> None:
        self.writer.write(record)
        sys.stdout.buffer.flush()  # downstream tools see records as they come

    def finish(self) -> None:
        self.writer.close()


class _AtomicSink(_Sink):
    """All or nothing: the target appears (or is replaced) only when every record is written."""

    def __init__(self, path: str, fmt: str):
        self.file = AtomicFile(path)
        self.writer = make_writer(fmt, self.file.stream)

    def write(self, index: int, record: dict[str, Any]) -> None:
        self.writer.write(record)

    def finish(self) -> None:
        self.writer.close()
        self.file.commit()

    def abort(self) -> None:
        self.file.abort()


class _ResumeSink(_Sink):
    """New records go to a temp file, merged into the output atomically at the end, however it ends."""

    def __init__(self, path: str):
        self.path = path
        fd, self.tmp = tempfile.mkstemp(dir=Path(path).parent, prefix=f".{Path(path).name}.", suffix=".new.tmp")
        self.raw = os.fdopen(fd, "wb")
        self.writer = JsonlWriter(self.raw)

    def write(self, index: int, record: dict[str, Any]) -> None:
        self.writer.write(record)

    def finish(self) -> None:
        self.raw.close()
        try:
            with open(self.tmp, "rb") as f:
                dropped = merge_jsonl(self.path, f)
            if dropped:
                print(f"qawl: dropped {dropped} unreadable line(s) of {self.path} while merging", file=sys.stderr)
        finally:
            Path(self.tmp).unlink(missing_ok=True)

    interrupt = abort = finish  # keep what was completed, whatever stopped the run


class _ShardSink(_Sink):
    def __init__(self, shard, keep_partial: bool):
        self.shard = shard
        self.keep_partial = keep_partial

    def write(self, index: int, record: dict[str, Any]) -> None:
        self.shard.write(index, record)

    def finish(self) -> None:
        self.shard.commit()

    def interrupt(self) -> None:
        if self.keep_partial:  # --resume: rank 0 merges what each rank completed
            self.shard.commit()
        else:
            self.shard.file.abort()

    def abort(self) -> None:
        self.shard.fail("crashed; see its stderr")


def _final_sink(args: argparse.Namespace, fmt: str) -> _Sink:
    if args.output is None:
        return _StdoutSink(fmt)
    return _ResumeSink(args.output) if args.resume else _AtomicSink(args.output, fmt)


# ---------------------------------------------------------------- signals


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM (a scheduler stopping the job) takes the same path as Ctrl-C."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    old = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


@contextmanager
def _shielded() -> Iterator[None]:
    """No interruption while an output is being committed or merged."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = {s: signal.signal(s, signal.SIG_IGN) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)


def _drain(results: Iterator[tuple[int, dict[str, Any]]], sink: _Sink, bar, quiet: bool) -> tuple[int, int, bool]:
    """Write every result to the sink; (records written, error records, whether the run was interrupted)."""
    written = failed = 0
    try:
        for index, record in results:
            sink.write(index, record)
            written += 1
            if "error" in record:
                failed += 1
                if not quiet:
                    bar.write(f"qawl: failed: {record['id']}: {record['error']}", file=sys.stderr)
            bar.update(1)
    except KeyboardInterrupt:
        with _shielded():
            sink.interrupt()
        return written, failed, True
    except BaseException:
        with _shielded():
            sink.abort()
        raise
    with _shielded():
        sink.finish()
    return written, failed, False


# ---------------------------------------------------------------- the command


def _check(args: argparse.Namespace, fmt: str, distributed: bool) -> None:
    if args.resume and (args.output is None or fmt != "jsonl"):
        raise UsageError("--resume needs -o OUT with JSON Lines output (.jsonl or .jsonl.gz)")
    if args.output is not None and not Path(args.output).resolve().parent.is_dir():
        raise UsageError(f"{args.output}: the output's directory does not exist")
    if distributed and "-" in args.inputs:
        raise UsageError("stdin ('-') cannot be shared between processes; give files under torchrun")
    if args.quantize and args.device == "cuda":
        raise UsageError("--quantize is int8 dynamic quantization for CPU; on GPU bf16 autocast is used instead")
    if args.quantize and args.precision not in ("auto", "fp32"):
        raise UsageError(f"--quantize keeps fp32 activations; it cannot be combined with --precision {args.precision}")


def _device(choice: str, quantize: bool, local_rank: int) -> str:
    import torch

    if choice == "cuda" and not torch.cuda.is_available():
        raise UsageError("--device cuda: no CUDA device is available here; use --device cpu or auto")
    if choice == "auto":
        choice = "cuda" if torch.cuda.is_available() and not quantize else "cpu"
    if choice == "cuda":
        return f"cuda:{local_rank % torch.cuda.device_count()}"  # one GPU per process under torchrun
    return "cpu"


def load_extractor(model: str | None, device: str, quantize: bool, allow_pickle: bool,
                   max_chars: int | None = None, rule_fallback: bool | None = None,
                   precision: str = "auto") -> "Extractor":
    from qawl.pipeline import DEFAULT_MAX_CHARS, Extractor

    with warnings.catch_warnings():
        # torch's int8 quantized-tensor constructors warn that they are deprecated; the API still works
        warnings.filterwarnings("ignore", message=r".*quantize.*deprecated", category=UserWarning)
        warnings.filterwarnings("ignore", message=r"torch\.ao\.quantization is deprecated", category=DeprecationWarning)
        return Extractor.load(model, device=device, quantize=quantize, allow_pickle=allow_pickle,
                              max_chars=max_chars or DEFAULT_MAX_CHARS, rule_fallback=rule_fallback,
                              precision=precision)


def extract_command(args: argparse.Namespace) -> int:
    try:
        return _extract(args)
    except BrokenPipeError:  # `qawl extract ... | head`: the reader left; not an error of ours
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so that the final flush at exit does not fail again
        return 141


def _extract(args: argparse.Namespace) -> int:
    from tqdm.auto import tqdm

    from qawl.batch import predict_records
    from qawl.inputs import check_inputs, iter_inputs
    from qawl.sharding import DistInfo, ShardError, ShardFiles, run_token

    if args.output == "-":
        args.output = None  # '-o -' is stdout, as for the inputs
    info = DistInfo.from_env()
    paths = check_inputs(args.inputs)
    fmt = args.format or format_for(args.output)
    _check(args, fmt, info.distributed)
    token = run_token(info)  # before the model loads: the only collective step
    extractor = load_extractor(args.model, _device(args.device, args.quantize, info.local_rank), args.quantize,
                               args.allow_pickle, args.max_chars, args.rule_fallback, args.precision)
    done = read_done_ids(args.output) if args.resume else set()
    records = (r for r in iter_inputs(paths) if info.mine(r.index) and r.id not in done)
    results = predict_records(extractor, records, args.batch_size, args.min_confidence)
    bar = tqdm(unit="doc", desc="extract", file=sys.stderr, disable=args.quiet or info.rank != 0,
               dynamic_ncols=True)
    with _sigterm_as_interrupt(), bar:
        if not info.distributed:
            written, failed, interrupted = _drain(results, _final_sink(args, fmt), bar, args.quiet)
        else:
            out = Path(args.output) if args.output else Path.cwd() / "stdout"
            shards = ShardFiles(out.resolve().parent, out.name, token, info.world_size)
            sink = _ShardSink(shards.writer(info.rank), keep_partial=args.resume)
            written, failed, interrupted = _drain(results, sink, bar, args.quiet)
            if info.rank != 0:
                # failures are counted by rank 0; a non-zero exit here would make torchrun stop rank 0
                return 130 if interrupted else 0
            if interrupted and not args.resume:
                return 130
            try:
                ranks = shards.wait(10.0 if interrupted else args.shard_timeout, strict=not interrupted)
            except ShardError as exc:
                print(f"qawl: error: {exc}", file=sys.stderr)
                return 1
            merged = ((0, record) for record in shards.merged(ranks))
            written, failed, _ = _drain(merged, _final_sink(args, fmt), _NoBar(), quiet=True)
            shards.remove()
    if interrupted:
        if not args.quiet:
            kept = (f"; the completed records are in {args.output}" if args.resume
                    else f"; {args.output} not written (use --resume to keep partial work)" if args.output else "")
            print(f"qawl: interrupted{kept}", file=sys.stderr)
        return 130
    if not args.quiet:
        where = args.output or "stdout"
        skipped = f"; skipped {len(done)} id(s) already in {where}" if done else ""
        print(f"qawl: {written} record(s) to {where}, {failed} failed{skipped}", file=sys.stderr)
    return 1 if failed else 0


class _NoBar:
    n = 0

    def update(self, k: int) -> None: ...

    def write(self, s: str, file=None) -> None: ...
