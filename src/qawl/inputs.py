"""Inputs of `qawl extract`: .txt files, directories of them, .jsonl(.gz) records and stdin, as one stream.

Every input becomes an `InputRecord` in input order, numbered by `index` (used to shard the stream over
processes). A record that cannot be read carries `error` instead of a document and the stream goes on, so
one bad article never stops a run. Nothing is read ahead: memory stays constant in the size of the input.

Encoding policy for .txt (and a plain-text stdin): UTF-8 (a BOM is dropped); else Windows-1256 only when
those bytes decode without control characters and give Arabic letters (old Arabic news exports); else an
error record. Text is otherwise kept exactly as decoded (\\r\\n included), since offsets point into it.
"""

from __future__ import annotations

import gzip
import json
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from qawl.document import Document
from qawl.errors import QawlError

__all__ = ["InputError", "InputRecord", "check_inputs", "iter_inputs", "decode_text", "text_problem",
           "has_arabic"]

# Arabic letters (not digits or punctuation): base block, supplement, extended-A, presentation forms.
_ARABIC_LETTER = re.compile("[\u0621-\u064a\u066e-\u06d3\u06d5\u06fa-\u06ff\u0750-\u077f\u08a0-\u08c9"
                            "\ufb50-\ufdfb\ufe70-\ufefc]")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")  # no text has these; a wrong decoding does
_ID_IN_BROKEN_LINE = re.compile(r'"id"\s*:\s*"((?:[^"\\]|\\.)*)"')
_PASSED_OVER = ("id", "text", "entities", "statements")  # predictions replace gold annotations


class InputError(QawlError):
    """An input that cannot be used at all (missing file, unknown kind): a usage error, exit code 2."""


@dataclass
class InputRecord:
    """One article to extract from, or the reason it cannot be (`error`)."""

    index: int  # position in the whole input stream, from 0
    id: str
    text: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)  # other top-level JSONL fields, passed through
    error: str | None = None

    def document(self) -> Document:
        assert self.text is not None and self.error is None
        return Document(self.id, self.text, self.meta)

    def error_record(self) -> dict[str, Any]:
        return {"id": self.id, "error": self.error}


def has_arabic(text: str) -> bool:
    return _ARABIC_LETTER.search(text) is not None


def text_problem(text: str) -> str | None:
    """Why a text cannot be an article (None when it can)."""
    if not text.strip():
        return "empty text" if not text else "text is only whitespace"
    if not has_arabic(text):
        return "no Arabic letters in the text; qawl reads Arabic news"
    return None


def decode_text(data: bytes) -> tuple[str | None, str | None]:
    """(text, None) or (None, why not): UTF-8, else Windows-1256 when that gives clean Arabic text."""
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        bad = f"not UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})"
    try:
        text = data.decode("cp1256")
    except UnicodeDecodeError:
        return None, f"{bad} and not Windows-1256 either; convert the file to UTF-8"
    if _CONTROL.search(text) or not has_arabic(text):
        return None, f"{bad}, and as Windows-1256 it is not Arabic text; convert the file to UTF-8"
    return text, None


def _input_kind(path: str) -> str:
    name = path.lower()
    if path == "-":
        return "stdin"
    if Path(path).is_dir():
        return "dir"
    if name.endswith((".jsonl", ".jsonl.gz")):
        return "jsonl"
    if name.endswith(".txt"):
        return "txt"
    raise InputError(f"{path}: unknown input kind; give .txt files, directories of .txt files, "
                     f".jsonl / .jsonl.gz files with {{\"id\", \"text\"}} records, or '-' for stdin")


def check_inputs(paths: Iterable[str]) -> list[str]:
    """The inputs, checked before any model is loaded: each exists and is of a known kind."""
    paths = list(paths)
    if not paths:
        raise InputError("no input; give .txt files, directories, .jsonl(.gz) files or '-' for stdin")
    if paths.count("-") > 1:
        raise InputError("'-' (stdin) can be given only once")
    for path in paths:
        if path != "-" and not Path(path).exists():
            raise InputError(f"{path}: no such file or directory")
        _input_kind(path)
    return paths


def iter_inputs(paths: Iterable[str], stdin: IO[bytes] | None = None) -> Iterator[InputRecord]:
    """Every article of every input, in order (directories sorted by file name), numbered from 0."""
    index = 0
    for path in check_inputs(paths):
        for rec in _records(path, stdin):
            rec.index = index
            index += 1
            yield rec


def _records(path: str, stdin: IO[bytes] | None) -> Iterator[InputRecord]:
    kind = _input_kind(path)
    if kind == "txt":
        yield _txt_record(Path(path))
    elif kind == "dir":
        for file in sorted(p for p in Path(path).iterdir() if p.is_file() and p.suffix.lower() == ".txt"):
            yield _txt_record(file)
    elif kind == "jsonl":
        opener = gzip.open if path.lower().endswith(".gz") else open
        try:
            with opener(path, "rb") as f:
                yield from _jsonl_records(f, Path(path).name)
        except (OSError, EOFError) as exc:  # a truncated .gz: what was read is kept, the rest is one error
            yield InputRecord(0, f"{Path(path).name}:end", error=f"{path}: cannot read further: {exc}")
    else:
        yield from _stdin_records(stdin if stdin is not None else sys.stdin.buffer)


def _text_record(doc_id: str, data: bytes, where: str) -> InputRecord:
    text, why = decode_text(data)
    if text is None:
        return InputRecord(0, doc_id, error=f"{where}: {why}")
    problem = text_problem(text)
    if problem:
        return InputRecord(0, doc_id, error=f"{where}: {problem}")
    return InputRecord(0, doc_id, text)


def _txt_record(path: Path) -> InputRecord:
    # the id is the file name without .txt, so that ant-000123.txt matches gold id ant-000123
    try:
        data = path.read_bytes()
    except OSError as exc:
        return InputRecord(0, path.stem, error=f"{path}: cannot read: {exc.strerror}")
    return _text_record(path.stem, data, str(path))


def _jsonl_records(lines: Iterable[bytes], name: str) -> Iterator[InputRecord]:
    for lineno, raw in enumerate(lines, 1):
        if raw.strip():
            yield _jsonl_record(raw, name, lineno)


def _jsonl_record(raw: bytes, name: str, lineno: int) -> InputRecord:
    where = f"{name}:{lineno}"
    fallback_id = where  # a record without a readable id is named by its place, so --resume can skip it
    try:
        line = raw.decode("utf-8-sig" if lineno == 1 else "utf-8")
    except UnicodeDecodeError as exc:
        return InputRecord(0, fallback_id, error=f"{where}: invalid UTF-8 at byte {exc.start}")
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        doc_id = _salvage_id(line) or fallback_id
        return InputRecord(0, doc_id, error=f"{where}: malformed JSON line: {exc.msg} (column {exc.colno})")
    if not isinstance(obj, dict):
        return InputRecord(0, fallback_id, error=f"{where}: expected a JSON object, got {type(obj).__name__}")
    raw_id = obj.get("id")
    doc_id = str(raw_id) if isinstance(raw_id, (str, int)) and not isinstance(raw_id, bool) else fallback_id
    text = obj.get("text")
    if text is None:
        return InputRecord(0, doc_id, error=f"{where}: record has no 'text'")
    if not isinstance(text, str):
        return InputRecord(0, doc_id, error=f"{where}: 'text' must be a string, got {type(text).__name__}")
    meta = obj.get("meta")
    if meta is not None and not isinstance(meta, dict):
        return InputRecord(0, doc_id, error=f"{where}: 'meta' must be an object, got {type(meta).__name__}")
    problem = text_problem(text)
    if problem:
        return InputRecord(0, doc_id, error=f"{where}: {problem}")
    extra = {k: v for k, v in obj.items() if k not in _PASSED_OVER and k != "meta"}
    return InputRecord(0, doc_id, text, dict(meta or {}), extra)


def _salvage_id(line: str) -> str | None:
    """The "id" of a line that is not valid JSON, when it can still be read (so the error record keeps it)."""
    found = _ID_IN_BROKEN_LINE.search(line)
    if not found:
        return None
    try:
        return json.loads(f'"{found.group(1)}"')
    except json.JSONDecodeError:
        return None


def _stdin_records(stream: IO[bytes]) -> Iterator[InputRecord]:
    """JSON Lines when the first non-blank line is a JSON object, else the whole of stdin is one article."""
    lines = iter(stream)
    head: list[bytes] = []
    for raw in lines:
        head.append(raw)
        if raw.strip():
            break
    first = head[-1] if head else b""
    if _is_json_object(first):
        yield _jsonl_record(first, "<stdin>", len(head))
        for lineno, raw in enumerate(lines, len(head) + 1):
            if raw.strip():
                yield _jsonl_record(raw, "<stdin>", lineno)
        return
    data = b"".join(head) + b"".join(lines)  # one article: it has to be whole anyway
    yield _text_record("stdin", data, "<stdin>")


def _is_json_object(raw: bytes) -> bool:
    try:
        return isinstance(json.loads(raw.decode("utf-8-sig")), dict)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return False
