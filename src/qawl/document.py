"""The one data model, from reader to model to writer.

`start`/`end` are always end-exclusive code-point offsets into the *original* text,
and `text[start:end] == span.text` always holds (see ANNOTATION.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from qawl.errors import SpanError

ENTITY_LABELS = ("PERS", "ORG", "LOC", "MISC")
STATEMENT_KINDS = ("direct", "indirect", "partial", "headline")


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    text: str

    @classmethod
    def of(cls, text: str, start: int, end: int) -> "Span":
        """The span of `text[start:end]`."""
        if not 0 <= start <= end <= len(text):
            raise SpanError(f"offsets {start}:{end} outside a text of length {len(text)}")
        return cls(start, end, text[start:end])

    def check(self, text: str) -> None:
        if not 0 <= self.start <= self.end <= len(text):
            raise SpanError(f"offsets {self.start}:{self.end} outside a text of length {len(text)}")
        if text[self.start : self.end] != self.text:
            raise SpanError(
                f"span text {self.text!r} != text[{self.start}:{self.end}] {text[self.start:self.end]!r}"
            )

    def overlaps(self, other: "Span") -> bool:
        return self.start < other.end and other.start < self.end

    def to_dict(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "text": self.text}

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> "Span | None":
        if d is None:
            return None
        return cls(int(d["start"]), int(d["end"]), str(d["text"]))


@dataclass(frozen=True)
class Entity:
    start: int
    end: int
    label: str
    text: str
    score: float | None = None

    @property
    def span(self) -> Span:
        return Span(self.start, self.end, self.text)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"start": self.start, "end": self.end, "label": self.label, "text": self.text}
        if self.score is not None:
            d["score"] = float(self.score)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Entity":
        score = d.get("score")
        return cls(int(d["start"]), int(d["end"]), str(d["label"]), str(d["text"]),
                   None if score is None else float(score))


@dataclass(frozen=True)
class Statement:
    id: str
    content: Span
    cue: Span | None = None
    speaker: Span | None = None
    medium: Span | None = None
    speaker_name: str | None = None
    kind: str = "indirect"
    confidence: float | None = None

    def spans(self) -> dict[str, Span | None]:
        return {"content": self.content, "cue": self.cue, "speaker": self.speaker, "medium": self.medium}

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"id": self.id}
        for role, span in self.spans().items():
            d[role] = None if span is None else span.to_dict()
        d["speaker_name"] = self.speaker_name
        d["kind"] = self.kind
        if self.confidence is not None:
            d["confidence"] = float(self.confidence)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Statement":
        content = Span.from_dict(d.get("content"))
        if content is None:
            raise SpanError(f"statement {d.get('id')!r} has no content")
        conf = d.get("confidence")
        return cls(
            id=str(d["id"]), content=content, cue=Span.from_dict(d.get("cue")),
            speaker=Span.from_dict(d.get("speaker")), medium=Span.from_dict(d.get("medium")),
            speaker_name=d.get("speaker_name"), kind=str(d.get("kind", "indirect")),
            confidence=None if conf is None else float(conf),
        )


@dataclass(frozen=True)
class Document:
    id: str
    text: str
    meta: dict[str, Any] = field(default_factory=dict)
    entities: tuple[Entity, ...] = ()
    statements: tuple[Statement, ...] = ()

    def __post_init__(self) -> None:
        # Lists are accepted for convenience and frozen into tuples.
        object.__setattr__(self, "entities", tuple(self.entities))
        object.__setattr__(self, "statements", tuple(self.statements))

    def span(self, start: int, end: int) -> Span:
        return Span.of(self.text, start, end)

    def with_annotations(self, entities=None, statements=None) -> "Document":
        return replace(
            self,
            entities=self.entities if entities is None else tuple(entities),
            statements=self.statements if statements is None else tuple(statements),
        )

    def check(self) -> None:
        """Raise SpanError when any span disagrees with the text."""
        for e in self.entities:
            e.span.check(self.text)
        for s in self.statements:
            for span in s.spans().values():
                if span is not None:
                    span.check(self.text)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "text": self.text,
            "entities": [e.to_dict() for e in self.entities],
            "statements": [s.to_dict() for s in self.statements],
            "meta": self.meta,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Document":
        return cls(
            id=str(d["id"]), text=d["text"], meta=dict(d.get("meta") or {}),
            entities=tuple(Entity.from_dict(e) for e in d.get("entities") or ()),
            statements=tuple(Statement.from_dict(s) for s in d.get("statements") or ()),
        )

    def __str__(self) -> str:
        head = self.text[:60].replace("\n", " ")
        return (f"Document({self.id!r}: {head!r}{'…' if len(self.text) > 60 else ''} | "
                f"{len(self.entities)} entities, {len(self.statements)} statements)")
