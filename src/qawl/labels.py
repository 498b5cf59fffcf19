"""Label sets and BIO <-> span conversion: the only place label logic lives."""

from __future__ import annotations

from collections.abc import Iterable

from qawl.document import ENTITY_LABELS

ROLES = ("CUE", "SPEAKER", "CONTENT", "MEDIUM")
# BIO layers of the role head: one per role, plus a second content layer for statements nested inside
# another statement's content (about 8% of contents in the article corpus)
ROLE_LAYERS = ROLES + ("CONTENT",)
OUTSIDE = "O"
PROCLITICS = frozenset("وفبلك")  # one-letter clitics that ANNOTATION.md keeps outside spans
# entity types that are often a statement's speaker: their spans are speaker candidates for the linker too, in
# training (as negatives where they are not the speaker) and in prediction, because the role head alone finds
# few speaker mentions (a quarter of dev's) while the entity head finds most names
SPEAKER_ENTITY_LABELS = ("PERS", "ORG")


def bio_labels(types: tuple[str, ...]) -> list[str]:
    return [OUTSIDE] + [f"{p}-{t}" for t in types for p in ("B", "I")]


NER_LABELS = bio_labels(ENTITY_LABELS)  # O, B-PERS, I-PERS, ...
ROLE_TAGS = [OUTSIDE, "B", "I"]  # one BIO layer per role, since roles may overlap


def label2id(labels: list[str]) -> dict[str, int]:
    return {label: i for i, label in enumerate(labels)}


def bio_to_spans(tags: list[str]) -> list[tuple[int, int, str]]:
    """(first, last_exclusive, type) for each chunk of IOB2 tags; a stray I- starts a new chunk."""
    return chunks_of_tagged((i, tag) for i, tag in enumerate(tags) if tag != OUTSIDE)


def chunks_of_tagged(tagged: Iterable[tuple[int, str]]) -> list[tuple[int, int, str]]:
    """`bio_to_spans` from the tokens not tagged O alone, as (position, tag) in increasing position: a gap in
    the positions is an O. Decoding passes only these (most of a layer is O)."""
    spans: list[tuple[int, int, str]] = []
    start, kind, previous = None, None, -2
    for i, tag in tagged:
        prefix, _, t = tag.partition("-")
        if start is not None and (i != previous + 1 or prefix != "I" or t != kind):
            spans.append((start, previous + 1, kind))
            start, kind = None, None
        if prefix == "B" or (prefix == "I" and start is None):
            start, kind = i, t
        previous = i
    if start is not None:
        spans.append((start, previous + 1, kind))
    return spans


def spans_to_bio(n: int, spans: list[tuple[int, int, str]]) -> list[str]:
    tags = [OUTSIDE] * n
    for first, last, kind in spans:
        tags[first] = f"B-{kind}"
        for i in range(first + 1, last):
            tags[i] = f"I-{kind}"
    return tags


def allowed_transition(prev: str, tag: str) -> bool:
    """IOB2 constraint: I-X may only follow B-X or I-X."""
    if not tag.startswith("I"):
        return True
    suffix = tag[1:]  # "-X" or "" for untyped role tags
    return prev in ("B" + suffix, "I" + suffix)
