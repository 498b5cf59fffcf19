"""Corpus files in and out: JSON Lines (ANNOTATION.md), CoNLL `token TAG`, Label Studio JSON.

Reading streams one record at a time (constant memory). Every problem is a CorpusError naming the file, the
line and the document; with `on_error` a bad record is reported and skipped, so one bad document never loses
the others. Writing is atomic (temp file in the same directory, fsync, rename) and reproduces the shared
corpora byte for byte.

CoNLL alignment policy: a CoNLL sentence becomes a Document whose text is its tokens joined by single spaces;
going back, a token is tagged when an entity overlaps it (`conll_tags`), so entities that cover part of a
token widen to whole tokens. An I- tag that does not continue a chunk of its type opens an entity (conlleval's
reading, which ANERcorp's published counts use); it is a warning, an error only with `strict=True`, and its
token index is kept in `meta["stray_i"]` so that writing the sentence back reproduces the file.
"""

from __future__ import annotations

import codecs
import gzip
import json
import os
import re
import sys
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Callable, Iterable, Iterator

from qawl.checks import schema_problems, span_problems, tag_problem
from qawl.document import Document, Entity, Span
from qawl.errors import CorpusError
from qawl.labels import OUTSIDE, bio_to_spans
from qawl.labelstudio import from_label_studio, label_studio_config, task_to_record, to_label_studio, to_task

__all__ = [
    "CorpusWarning", "Record", "read_documents", "read_jsonl", "read_conll", "read_label_studio", "iter_records",
    "write_jsonl", "write_conll", "write_label_studio", "write_documents", "conll_tokens", "conll_tags",
    "to_label_studio", "from_label_studio", "label_studio_config", "corpus_format",
]

OnError = Callable[[CorpusError], None]
STRAY_I = "stray_i"  # meta key of CoNLL docs: token indices whose I- tag opened an entity (kept for write-back)
_TOKEN = re.compile(r"\S+")


class CorpusWarning(CorpusError):
    """A problem that does not stop a record from being read (an I- tag that opens an entity)."""


@dataclass
class Record:
    """One record as read: the document (None when unreadable), its first line and what is wrong with it."""

    line: int
    doc_id: str | None
    doc: Document | None
    errors: list[CorpusError] = field(default_factory=list)
    warnings: list[CorpusError] = field(default_factory=list)


def corpus_format(path: str | Path) -> str:
    """'jsonl', 'conll' or 'labelstudio' from the file name; '-' (stdin/stdout) is jsonl."""
    name = str(path).lower()
    if name == "-" or name.endswith((".jsonl", ".jsonl.gz")):
        return "jsonl"
    if name.endswith(".conll"):
        return "conll"
    if name.endswith(".json"):
        return "labelstudio"
    raise CorpusError(str(path), None, "unknown corpus format; use .jsonl, .jsonl.gz, .conll or .json (Label Studio)")


# ---------------------------------------------------------------- reading


def iter_records(path: str | Path) -> Iterator[Record]:
    """Every record of a corpus file with its problems; raises only when the file cannot be opened."""
    fmt = corpus_format(path)
    if str(path) != "-" and not Path(path).is_file():
        raise CorpusError(str(path), None, "file not found")
    reader = {"jsonl": _jsonl_records, "conll": _conll_records, "labelstudio": _label_studio_records}[fmt]
    return reader(str(path))


def _deliver(records: Iterable[Record], on_error: OnError | None, strict: bool) -> Iterator[Document]:
    for rec in records:
        problems = rec.errors + (rec.warnings if strict else [])
        if not problems:
            yield rec.doc
            continue
        first = problems[0]
        if len(problems) > 1:  # one report per skipped record; validate lists them all
            first = CorpusError(first.path, first.line,
                                f"{first.reason} (+{len(problems) - 1} more; see `qawl data validate`)", first.doc_id)
        if on_error is None:
            raise first
        on_error(first)


def read_documents(path: str | Path, on_error: OnError | None = None, strict: bool = False) -> Iterator[Document]:
    """Documents of a .jsonl/.jsonl.gz/.conll/.json (Label Studio) file, streamed.

    A bad record raises CorpusError, or goes to `on_error` and is skipped. `strict=True` also rejects
    records that only have warnings (CoNLL I- tags that open an entity).
    """
    return _deliver(iter_records(path), on_error, strict)


def read_jsonl(path: str | Path, on_error: OnError | None = None) -> Iterator[Document]:
    return _deliver(_jsonl_records(str(path)), on_error, False)


def read_conll(path: str | Path, on_error: OnError | None = None, strict: bool = False) -> Iterator[Document]:
    return _deliver(_conll_records(str(path)), on_error, strict)


def read_label_studio(path: str | Path, on_error: OnError | None = None) -> Iterator[Document]:
    return _deliver(_label_studio_records(str(path)), on_error, False)


def _open_binary(path: str) -> IO[bytes]:
    if path == "-":
        return sys.stdin.buffer
    return gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb")


def _record_from_obj(path: str, line: int, obj: Any) -> Record:
    """Schema and span checks shared by the JSON Lines and Label Studio readers."""
    doc_id = obj.get("id") if isinstance(obj, dict) and isinstance(obj.get("id"), (str, int)) else None
    doc_id = None if doc_id is None else str(doc_id)
    problems = schema_problems(obj)
    if problems:
        return Record(line, doc_id, None, [CorpusError(path, line, p, doc_id) for p in problems])
    doc = Document.from_dict(obj)
    return Record(line, doc_id, doc, [CorpusError(path, line, p, doc_id) for p in span_problems(doc)])


def _bad(path: str, line: int, reason: str, doc_id: str | None = None) -> Record:
    return Record(line, doc_id, None, [CorpusError(path, line, reason, doc_id)])


_ID_IN_BROKEN_LINE = re.compile(r'^\s*\{\s*"id"\s*:\s*"([^"\\]{1,200})"')


def _salvage_id(line: str) -> str | None:
    """The id of a line that does not parse, when it opens the record (so the error can name it)."""
    found = _ID_IN_BROKEN_LINE.match(line)
    return found.group(1) if found else None


def _jsonl_records(path: str) -> Iterator[Record]:
    lineno = 0
    f = _open_binary(path)
    try:
        with f:
            for lineno, raw in enumerate(f, 1):
                if not raw.strip():
                    continue
                try:
                    text = raw.decode("utf-8-sig" if lineno == 1 else "utf-8")
                except UnicodeDecodeError as exc:
                    yield _bad(path, lineno, f"invalid UTF-8 at byte {exc.start} ({raw[exc.start:exc.start + 4]!r})",
                               _salvage_id(raw.decode("utf-8", "replace")))
                    continue
                try:
                    obj = json.loads(text)
                except json.JSONDecodeError as exc:
                    yield _bad(path, lineno, f"invalid JSON: {exc.msg} at column {exc.colno}", _salvage_id(text))
                    continue
                yield _record_from_obj(path, lineno, obj)
    except (OSError, EOFError) as exc:  # truncated or corrupt gzip: report where it stopped
        yield _bad(path, lineno + 1, f"cannot read further: {exc}")


def _conll_records(path: str) -> Iterator[Record]:
    rows: list[tuple[int, str, str]] = []  # (line, token, tag)
    errors: list[CorpusError] = []
    first_line, number = 0, 0

    def flush() -> Record:
        nonlocal rows, errors, number
        number += 1
        rec = _conll_sentence(path, first_line, str(number), rows, errors)
        rows, errors = [], []
        return rec

    with open(path, "rb") as f:
        for lineno, raw in enumerate(f, 1):
            try:
                line = raw.decode("utf-8-sig" if lineno == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                line = raw.decode("utf-8", "replace")
                bad = f"invalid UTF-8 at byte {exc.start} ({raw[exc.start:exc.start + 4]!r})"
                errors.append(CorpusError(path, lineno, bad, str(number + 1)))
            if not line.strip() or line.startswith("-DOCSTART-"):  # CoNLL-2003 document markers end a sentence
                if rows or errors:
                    yield flush()
                continue
            if not (rows or errors):
                first_line = lineno
            fields = line.split()
            if len(fields) != 2:
                errors.append(CorpusError(path, lineno, f"expected 'token TAG', got {line.strip()!r}", str(number + 1)))
                continue
            rows.append((lineno, fields[0], fields[1]))
    if rows or errors:
        yield flush()


def _conll_sentence(path: str, first_line: int, sid: str, rows: list[tuple[int, str, str]],
                    errors: list[CorpusError]) -> Record:
    warnings: list[CorpusError] = []
    stray: list[int] = []
    prev = OUTSIDE
    for i, (line, _, tag) in enumerate(rows):
        error, warning = tag_problem(tag, prev)
        if error:
            errors.append(CorpusError(path, line, error, sid))
        if warning:
            warnings.append(CorpusWarning(path, line, warning, sid))
            stray.append(i)
        prev = tag
    if errors:
        return Record(first_line, sid, None, errors, warnings)
    tokens = [token for _, token, _ in rows]
    text = " ".join(tokens)
    starts, pos = [], 0
    for token in tokens:
        starts.append(pos)
        pos += len(token) + 1
    entities = []
    for first, last, label in bio_to_spans([tag for _, _, tag in rows]):
        start, end = starts[first], starts[last - 1] + len(tokens[last - 1])
        entities.append(Entity(start, end, label, text[start:end]))
    meta: dict[str, Any] = {"format": "conll"}
    if stray:
        meta[STRAY_I] = stray
    return Record(first_line, sid, Document(sid, text, meta, tuple(entities)), [], warnings)


def _json_array_items(path: str, chunk_size: int = 1 << 20) -> Iterator[tuple[int, Any] | CorpusError]:
    """(line, item) for each element of a top-level JSON array, parsed incrementally; a CorpusError ends it."""
    decoder = json.JSONDecoder()
    utf8 = codecs.getincrementaldecoder("utf-8-sig")()
    buf, pos, line, counted, eof = "", 0, 1, 0, False
    with open(path, "rb") as f:
        def more() -> bool:
            nonlocal buf, pos, counted, eof
            if eof:
                return False
            chunk = f.read(chunk_size)
            eof = not chunk
            where()  # count the newlines of the part about to be dropped
            buf = buf[pos:] + utf8.decode(chunk, final=eof)
            counted = pos = 0
            return True

        def skip_space() -> str | None:
            nonlocal pos
            while True:
                while pos < len(buf) and buf[pos].isspace():
                    pos += 1
                if pos < len(buf):
                    return buf[pos]
                if not more():
                    return None

        def where() -> int:
            nonlocal line, counted
            line += buf.count("\n", counted, pos)
            counted = pos
            return line

        try:
            if skip_space() != "[":
                yield CorpusError(path, where(), "expected a JSON array of Label Studio tasks")
                return
            pos += 1
            expect_item = True
            while True:
                char = skip_space()
                if char is None:
                    yield CorpusError(path, where(), "invalid JSON: the array is not closed")
                    return
                if char == "]":
                    return
                if not expect_item:
                    if char != ",":
                        yield CorpusError(path, where(), f"invalid JSON: expected ',' or ']', got {char!r}")
                        return
                    pos += 1
                    expect_item = True
                    continue
                start_line = where()
                while True:
                    try:
                        item, end = decoder.raw_decode(buf, pos)
                        break
                    except json.JSONDecodeError as exc:
                        if not more():  # a real error, not a chunk boundary
                            yield CorpusError(path, start_line, f"invalid JSON: {exc.msg}")
                            return
                pos = end
                expect_item = False
                yield start_line, item
        except UnicodeDecodeError as exc:
            yield CorpusError(path, where(), f"invalid UTF-8 ({exc.reason}); stopped reading this file")


def _label_studio_records(path: str) -> Iterator[Record]:
    for item in _json_array_items(path):
        if isinstance(item, CorpusError):
            yield Record(item.line or 1, None, None, [item])
            continue
        line, task = item
        try:
            record = task_to_record(task)
        except ValueError as exc:
            data = task.get("data") if isinstance(task, dict) and isinstance(task.get("data"), dict) else {}
            doc_id = data.get("doc_id", task.get("id") if isinstance(task, dict) else None)
            yield _bad(path, line, str(exc), None if doc_id is None else str(doc_id))
            continue
        yield _record_from_obj(path, line, record)


# ---------------------------------------------------------------- writing


@contextmanager
def _atomic(path: str | Path) -> Iterator[IO[bytes]]:
    """A binary stream that replaces `path` only once everything is written and synced ('-' is stdout)."""
    if str(path) == "-":
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    target = Path(path)
    mode = target.stat().st_mode & 0o777 if target.exists() else 0o644
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as raw:
            if target.name.endswith(".gz"):
                # mtime=0 and no file name in the header: the same documents give the same bytes.
                with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz:
                    yield gz
            else:
                yield raw
            raw.flush()
            os.fsync(raw.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def _dumps(obj: Any) -> bytes:
    # ensure_ascii=False and json's default separators are what the shared corpora use.
    return json.dumps(obj, ensure_ascii=False).encode("utf-8")


def write_jsonl(docs: Iterable[Document], path: str | Path) -> int:
    """One document a line (gzip for .gz, stdout for '-'); returns the number written."""
    n = 0
    with _atomic(path) as f:
        for doc in docs:
            f.write(_dumps(doc.to_dict()) + b"\n")
            n += 1
    return n


def conll_tokens(doc: Document) -> list[Span]:
    """The span of each whitespace-separated token (the CoNLL tokens of a CoNLL-derived document)."""
    return [Span(m.start(), m.end(), m.group()) for m in _TOKEN.finditer(doc.text)]


def conll_tags(doc: Document, tokens: list[Span] | None = None) -> list[str]:
    """IOB2 tag per token: a token is tagged with the first entity (by start) that overlaps it."""
    tokens = conll_tokens(doc) if tokens is None else tokens
    entities = sorted(doc.entities, key=lambda e: (e.start, e.end))
    owner: list[int | None] = []
    j = 0
    for tok in tokens:
        while j < len(entities) and entities[j].end <= tok.start:
            j += 1  # an entity that ends before this token cannot overlap a later one either
        found = None
        for k in range(j, len(entities)):
            if entities[k].start >= tok.end:
                break
            if entities[k].end > tok.start:
                found = k
                break
        owner.append(found)
    tags = []
    for i, k in enumerate(owner):
        if k is None:
            tags.append(OUTSIDE)
        else:
            tags.append(("I-" if i and owner[i - 1] == k else "B-") + entities[k].label)
    for i in doc.meta.get(STRAY_I) or ():
        if 0 <= i < len(tags) and tags[i].startswith("B-"):  # write back ANERcorp's I- that opened an entity
            tags[i] = "I-" + tags[i][2:]
    return tags


def write_conll(docs: Iterable[Document], path: str | Path) -> int:
    """`token TAG` lines, a blank line after each document; documents without tokens are skipped."""
    n = 0
    with _atomic(path) as f:
        for doc in docs:
            tokens = conll_tokens(doc)
            if not tokens:
                continue
            lines = [f"{t.text} {tag}\n" for t, tag in zip(tokens, conll_tags(doc, tokens))]
            f.write(("".join(lines) + "\n").encode("utf-8"))
            n += 1
    return n


def write_label_studio(docs: Iterable[Document], path: str | Path, field: str = "predictions") -> int:
    """A JSON array of Label Studio tasks, one task a line, streamed."""
    n = 0
    with _atomic(path) as f:
        f.write(b"[")
        for doc in docs:
            f.write((b",\n" if n else b"\n") + _dumps(to_task(doc, field)))
            n += 1
        f.write(b"\n]\n")
    return n


def write_documents(docs: Iterable[Document], path: str | Path) -> int:
    """Write in the format the file name asks for (see `corpus_format`)."""
    writer = {"jsonl": write_jsonl, "conll": write_conll, "labelstudio": write_label_studio}[corpus_format(path)]
    return writer(docs, path)
