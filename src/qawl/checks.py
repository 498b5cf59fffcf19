"""Corpus rules, written once and shared by the readers (corpus.py) and the validator (validate.py).

Each check returns problems as plain strings; the caller adds the file, line and document id.
Three layers, from hard to soft:
- `schema_problems(obj)`: a JSON record that cannot become a Document at all;
- `span_problems(doc)`: offsets that disagree with the text (readers reject these documents too);
- `rule_problems(doc)`: ANNOTATION.md rules a readable document may still break (labels, overlaps, kinds),
  reported by `qawl data validate` but not by the readers.
"""

from __future__ import annotations

from typing import Any

from qawl.document import ENTITY_LABELS, STATEMENT_KINDS, Document, Entity, Span
from qawl.labels import NER_LABELS

ROLE_KEYS = ("content", "cue", "speaker", "medium")
_VALID_TAGS = frozenset(NER_LABELS)


def _is_int(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _span_schema(d: Any, what: str) -> list[str]:
    if not isinstance(d, dict):
        return [f"{what}: expected an object with start, end and text, got {d!r}"]
    out = [f"{what}: missing {key!r}" for key in ("start", "end", "text") if key not in d]
    if out:
        return out
    if not (_is_int(d["start"]) and _is_int(d["end"])):
        out.append(f"{what}: start and end must be integers, got {d['start']!r}:{d['end']!r}")
    if not isinstance(d["text"], str):
        out.append(f"{what}: 'text' must be a string, got {d['text']!r}")
    return out


def error_record_message(obj: Any) -> str | None:
    """The message of an error record written by `qawl extract` ({"id": ..., "error": ...}), else None."""
    if isinstance(obj, dict) and "error" in obj and "text" not in obj:
        return str(obj["error"])
    return None


def schema_problems(obj: Any) -> list[str]:
    """Problems that keep a JSON record from becoming a Document (ANNOTATION.md's format)."""
    if not isinstance(obj, dict):
        return [f"expected a JSON object (one document a line), got {type(obj).__name__}"]
    message = error_record_message(obj)
    if message is not None:
        return [f"error record from `qawl extract`, not a document: {message}"]
    out = []
    if "id" not in obj:
        out.append("missing 'id'")
    elif not isinstance(obj["id"], str):
        out.append(f"'id' must be a string, got {obj['id']!r}")
    if "text" not in obj:
        out.append("missing 'text'")
    elif not isinstance(obj["text"], str):
        out.append(f"'text' must be a string, got {type(obj['text']).__name__}")
    if not isinstance(obj.get("meta") or {}, dict):
        out.append("'meta' must be an object")
    entities = obj.get("entities") or []
    if not isinstance(entities, list):
        out.append("'entities' must be a list")
        entities = []
    for i, e in enumerate(entities, 1):
        out += _span_schema(e, f"entity #{i}")
        if isinstance(e, dict):
            if not isinstance(e.get("label"), str):
                out.append(f"entity #{i}: 'label' must be a string, got {e.get('label')!r}")
            if e.get("score") is not None and not _is_number(e["score"]):
                out.append(f"entity #{i}: 'score' must be a number, got {e['score']!r}")
    statements = obj.get("statements") or []
    if not isinstance(statements, list):
        out.append("'statements' must be a list")
        statements = []
    for i, s in enumerate(statements, 1):
        if not isinstance(s, dict):
            out.append(f"statement #{i}: expected an object, got {s!r}")
            continue
        name = f"statement {s.get('id', '#' + str(i))}"
        if not isinstance(s.get("id"), str):
            out.append(f"{name}: 'id' must be a string, got {s.get('id')!r}")
        if s.get("content") is None:
            out.append(f"{name}: no content (content is never null; drop the statement or mark its content)")
        for role in ROLE_KEYS:
            if s.get(role) is not None:
                out += _span_schema(s[role], f"{name} {role}")
        if s.get("speaker_name") is not None and not isinstance(s["speaker_name"], str):
            out.append(f"{name}: 'speaker_name' must be a string or null, got {s['speaker_name']!r}")
        if "kind" in s and not isinstance(s["kind"], str):
            out.append(f"{name}: 'kind' must be a string, got {s['kind']!r}")
        if s.get("confidence") is not None and not _is_number(s["confidence"]):
            out.append(f"{name}: 'confidence' must be a number, got {s['confidence']!r}")
    return out


def _one_span_problem(span: Span, text: str, what: str) -> str | None:
    if not 0 <= span.start <= span.end <= len(text):
        return f"{what}: offsets {span.start}:{span.end} outside a text of length {len(text)}"
    if text[span.start : span.end] != span.text:
        return (f"{what}: span text {span.text!r} != text[{span.start}:{span.end}] "
                f"{text[span.start:span.end]!r}")
    return None


def _labelled_spans(doc: Document):
    """(description, span) for every span of the document, entities first."""
    for i, e in enumerate(doc.entities, 1):
        yield f"entity #{i} ({e.label})", e.span
    for s in doc.statements:
        for role, span in s.spans().items():
            if span is not None:
                yield f"statement {s.id} {role}", span


def span_problems(doc: Document) -> list[str]:
    """Every span whose offsets fall outside the text or whose text disagrees with it."""
    found = (_one_span_problem(span, doc.text, what) for what, span in _labelled_spans(doc))
    return [p for p in found if p is not None]


def _entity_name(i: int, e: Entity) -> str:
    return f"entity #{i} {e.text!r} {e.start}:{e.end}"


def rule_problems(doc: Document) -> list[str]:
    """ANNOTATION.md rules: known labels and kinds, flat entities, non-empty spans, unique statement ids."""
    out = []
    for i, e in enumerate(doc.entities, 1):
        if e.label not in ENTITY_LABELS:
            out.append(f"{_entity_name(i, e)}: unknown label {e.label!r}; valid labels: {', '.join(ENTITY_LABELS)}")
    for what, span in _labelled_spans(doc):
        if span.start == span.end:
            out.append(f"{what}: empty span {span.start}:{span.end}")
    # Entities are flat: after sorting, each must start at or after the furthest end seen so far.
    ordered = sorted(enumerate(doc.entities, 1), key=lambda ie: (ie[1].start, ie[1].end))
    widest: tuple[int, Entity] | None = None
    for i, e in ordered:
        if widest is not None and e.start < widest[1].end:
            out.append(f"{_entity_name(*widest)} and {_entity_name(i, e)} overlap (entities are flat, no nesting)")
        if widest is None or e.end > widest[1].end:
            widest = (i, e)
    seen: set[str] = set()
    for s in doc.statements:
        if s.kind not in STATEMENT_KINDS:
            out.append(f"statement {s.id}: unknown kind {s.kind!r}; valid kinds: {', '.join(STATEMENT_KINDS)}")
        if s.id in seen:
            out.append(f"duplicate statement id {s.id!r}")
        seen.add(s.id)
    return out


def tag_problem(tag: str, prev: str) -> tuple[str | None, str | None]:
    """(error, warning) for an IOB2 tag following `prev`.

    An I- tag that does not continue a chunk of its type is only a warning: ANERcorp has such tags and its
    published entity counts read them as the start of an entity (the conlleval convention).
    """
    if tag not in _VALID_TAGS:
        return f"unknown tag {tag!r}; valid tags: {', '.join(NER_LABELS)}", None
    if tag.startswith("I-") and prev not in (f"B-{tag[2:]}", tag):
        return None, (f"{tag} without a preceding B-{tag[2:]} (after {prev!r}); "
                      "read as the start of an entity, as conlleval does")
    return None, None
