"""Output of `qawl extract`: record writers for jsonl/json/csv/html, and where the bytes go.

Writers stream: each record is written as it comes, so memory stays constant whatever the format. Records
are the dicts of ANNOTATION.md (Document.to_dict) or error records {"id", "error"}.

Destinations: `AtomicFile` writes to a temp file in the target's directory and renames it over the target
only on `commit()` (fsync first), so a crash or Ctrl-C never leaves a half-written output. `merge_jsonl`
appends new records to an existing JSON Lines output the same way (--resume).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

__all__ = ["FORMATS", "RecordWriter", "make_writer", "format_for", "AtomicFile", "read_done_ids",
           "iter_jsonl_lines", "merge_jsonl", "CSV_COLUMNS"]

FORMATS = ("jsonl", "json", "csv", "html")
CSV_COLUMNS = ("doc_id", "statement_id", "speaker_name", "speaker", "cue", "content", "medium", "kind",
               "confidence")


def format_for(path: str | None) -> str:
    """The output format a file name implies (jsonl when it implies none)."""
    name = (path or "").lower().removesuffix(".gz")
    for fmt in ("json", "csv", "html"):
        if name.endswith("." + fmt) or (fmt == "html" and name.endswith(".htm")):
            return fmt
    return "jsonl"


def dumps(record: dict[str, Any]) -> bytes:
    return json.dumps(record, ensure_ascii=False).encode("utf-8")


class RecordWriter:
    """Writes records to a binary stream; `close()` writes what a format needs at the end (not the stream)."""

    def __init__(self, stream: IO[bytes]):
        self.stream = stream
        self.count = 0

    def write(self, record: dict[str, Any]) -> None:
        raise NotImplementedError

    def close(self) -> None:
        self.stream.flush()


class JsonlWriter(RecordWriter):
    def write(self, record: dict[str, Any]) -> None:
        self.stream.write(dumps(record) + b"\n")
        self.count += 1


class JsonArrayWriter(RecordWriter):
    """One JSON array, one record a line, streamed."""

    def write(self, record: dict[str, Any]) -> None:
        self.stream.write((b",\n" if self.count else b"[\n") + dumps(record))
        self.count += 1

    def close(self) -> None:
        self.stream.write(b"\n]\n" if self.count else b"[]\n")
        super().close()


class CsvWriter(RecordWriter):
    """One flat row per statement, with a UTF-8 BOM so that spreadsheets read the Arabic as UTF-8."""

    def __init__(self, stream: IO[bytes]):
        super().__init__(stream)
        self.text = io.TextIOWrapper(stream, encoding="utf-8", newline="", write_through=True)
        self.text.write("\ufeff")
        self.rows = csv.writer(self.text)
        self.rows.writerow(CSV_COLUMNS)

    def write(self, record: dict[str, Any]) -> None:
        self.count += 1
        for s in record.get("statements") or ():
            span = lambda role: (s.get(role) or {}).get("text", "")  # noqa: E731
            conf = s.get("confidence")
            self.rows.writerow([record.get("id"), s.get("id"), s.get("speaker_name") or "", span("speaker"),
                                span("cue"), span("content"), span("medium"), s.get("kind", ""),
                                "" if conf is None else f"{float(conf):.4f}"])

    def close(self) -> None:
        self.text.flush()
        self.text.detach()  # leave the byte stream open: it belongs to the caller
        super().close()


def make_writer(fmt: str, stream: IO[bytes]) -> RecordWriter:
    if fmt == "html":
        from qawl.writers_html import HtmlWriter

        return HtmlWriter(stream)
    writers = {"jsonl": JsonlWriter, "json": JsonArrayWriter, "csv": CsvWriter}
    if fmt not in writers:
        raise ValueError(f"unknown output format {fmt!r}; choose one of {', '.join(FORMATS)}")
    return writers[fmt](stream)


# ---------------------------------------------------------------- destinations


class AtomicFile:
    """A binary stream (gzip for .gz) that replaces `path` only on commit(); abort() leaves `path` as it was."""

    def __init__(self, path: str | Path, suffix: str = ".tmp"):
        self.path = Path(path)
        self.mode = self.path.stat().st_mode & 0o777 if self.path.exists() else 0o644
        fd, self.tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.", suffix=suffix)
        self.raw = os.fdopen(fd, "wb")
        # mtime=0 and no name in the gzip header: the same records give the same bytes
        self.stream: IO[bytes] = (gzip.GzipFile(filename="", mode="wb", fileobj=self.raw, mtime=0)
                                  if self.path.name.endswith(".gz") else self.raw)
        self.done = False

    def _close(self) -> None:
        if self.stream is not self.raw:
            self.stream.close()
        self.raw.flush()
        os.fsync(self.raw.fileno())
        self.raw.close()

    def commit(self) -> None:
        if self.done:
            return
        self._close()
        os.chmod(self.tmp, self.mode)
        os.replace(self.tmp, self.path)
        self.done = True

    def abort(self) -> None:
        if self.done:
            return
        try:
            self.stream.close()
            self.raw.close()
        finally:
            Path(self.tmp).unlink(missing_ok=True)
            self.done = True


def _open_read(path: str | Path) -> IO[bytes]:
    return gzip.open(path, "rb") if str(path).endswith(".gz") else open(path, "rb")


def iter_jsonl_lines(path: str | Path) -> Iterator[tuple[bytes, dict[str, Any] | None]]:
    """(line, parsed object or None when it does not parse) for each non-blank line; a cut-off gzip ends it."""
    try:
        with _open_read(path) as f:
            for raw in f:
                if not raw.strip():
                    continue
                try:
                    obj = json.loads(raw)
                except (json.JSONDecodeError, UnicodeDecodeError):
                    obj = None
                yield raw if raw.endswith(b"\n") else raw + b"\n", obj if isinstance(obj, dict) else None
    except (OSError, EOFError):
        return


def read_done_ids(path: str | Path) -> set[str]:
    """Ids of the records already in a JSON Lines output (error records included: they would fail again)."""
    if not Path(path).exists():
        return set()
    return {str(obj["id"]) for _, obj in iter_jsonl_lines(path) if obj is not None and "id" in obj}


def merge_jsonl(path: str | Path, new_lines: Iterable[bytes]) -> int:
    """Atomically rewrite `path` as its readable records followed by `new_lines`; returns lines dropped.

    A line that does not parse (the cut-off end of a file written by something else) is dropped, since
    appending after it would corrupt the next record.
    """
    out = AtomicFile(path, suffix=".merge.tmp")
    dropped = 0
    try:
        if Path(path).exists():
            for raw, obj in iter_jsonl_lines(path):
                if obj is None:
                    dropped += 1
                    continue
                out.stream.write(raw)
        for raw in new_lines:
            out.stream.write(raw)
        out.commit()
    except BaseException:
        out.abort()
        raise
    return dropped
