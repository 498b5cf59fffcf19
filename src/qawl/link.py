"""Decoded spans -> Statements (after citron's resolvers): link each content to its cue, speaker and
medium with the model's pair scorer, then resolve `speaker_name` and the statement's kind by rules."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from qawl.decode import TokenSpan
from qawl.document import Entity, Span, Statement
from qawl.model import LINK_ROLES, SpanPairLinker
from qawl.normalize import NormalizerConfig, normalize_fast

QUOTES_OPEN = "\"“«„'‘"
QUOTES_CLOSE = "\"”»'’"
MATCH_NORM = NormalizerConfig(unify_alef=True, unify_yaa=True, unify_taa_marbuta=True)


def words(text: str) -> list[str]:
    """Comparison form of a name: normalized, punctuation-free whitespace tokens."""
    return [w for w in normalize_fast(text, MATCH_NORM).split() if any(c.isalnum() for c in w)]


def _contains(haystack: list[str], needle: list[str]) -> bool:
    n = len(needle)
    return n > 0 and any(haystack[i:i + n] == needle for i in range(len(haystack) - n + 1))


@dataclass(frozen=True)
class LinkSettings:
    max_distance: int = 96  # tokens between a content span and a candidate cue/speaker/medium
    anonymous_heads: tuple[str, ...] = ()  # first words of speakers whose name is null (learned in training)


def link_candidates(linker: SpanPairLinker, hidden: torch.Tensor, contents: list[TokenSpan],
                    candidates: list[TokenSpan], role: int, max_distance: int) -> list[tuple[int | None, float]]:
    """For each content: (index of the chosen candidate or None, its probability)."""
    if not contents:
        return []
    c = torch.tensor([[s.first, s.last] for s in contents], dtype=torch.long, device=hidden.device)
    q = torch.tensor([[s.first, s.last] for s in candidates], dtype=torch.long, device=hidden.device).view(-1, 2)
    with torch.no_grad():
        scores = linker(hidden, c, q, role).float().cpu().clone()  # (N, M + 1)
    c, q = c.cpu(), q.cpu()
    if len(candidates):
        gap = torch.maximum(q[None, :, 0] - c[:, None, 1], c[:, None, 0] - q[None, :, 1])
        scores[:, :-1] = scores[:, :-1].masked_fill(gap > max_distance, float("-inf"))
    probs = torch.softmax(scores, dim=-1).numpy()
    out = []
    for row in probs:
        j = int(row.argmax())
        out.append((None if j == len(candidates) else j, float(row[j])))
    return out


def statement_kind(text: str, content: Span) -> str:
    title_end = text.find("\n")
    if 0 < title_end and content.end <= title_end and text.count("\n") > 0:
        return "headline"
    before = text[:content.start].rstrip()[-1:]
    after = text[content.end:].lstrip()[:1]
    inner = content.text
    if before and before in QUOTES_OPEN and after and after in QUOTES_CLOSE:
        return "direct"
    head, _, rest = inner.partition(" ")
    if inner and inner[-1] in QUOTES_CLOSE and rest[:1] in QUOTES_OPEN:
        return "direct"  # أن "…" : a fully quoted clause after the complementizer
    if any(ch in inner for ch in QUOTES_OPEN + QUOTES_CLOSE):
        return "partial"
    return "indirect"


class NameResolver:
    """speaker mention -> the speaker's fullest name in the document (or None for anonymous sources)."""

    def __init__(self, text: str, entities: list[Entity], anonymous_heads: tuple[str, ...]):
        self.text = text
        self.people = [e for e in entities if e.label == "PERS"]
        self.named = [e for e in entities if e.label in ("PERS", "ORG")]
        self.anonymous = set(anonymous_heads)

    def fullest(self, entity: Entity) -> str:
        """The longest same-label name in the document that contains this one as whole words."""
        target = words(entity.text)
        best = entity.text
        for other in self.named:
            if other.label == entity.label and len(words(other.text)) > len(words(best)) \
                    and _contains(words(other.text), target):
                best = other.text
        return best

    def resolve(self, speaker: Span) -> str | None:
        inside = [e for e in self.named if e.start < speaker.end and e.end > speaker.start]
        if inside:
            person = [e for e in inside if e.label == "PERS"]
            return self.fullest((person or inside)[-1])
        mention = words(speaker.text)
        if not mention:
            return None
        # a title used as a name elsewhere: "الرئيس التركي رجب طيب أردوغان" ... "قال الرئيس التركي"
        for person in self.people:
            lead = words(self.text[max(0, person.start - len(speaker.text) - 12):person.start])
            if _contains(lead[-len(mention) - 1:], mention):
                return self.fullest(person)
        if mention[0] in self.anonymous:
            return None
        return speaker.text


def build_statements(text: str, entities: list[Entity], role_spans: dict[str, list[TokenSpan]],
                     hidden: torch.Tensor, linker: SpanPairLinker, settings: LinkSettings) -> list[Statement]:
    contents = sorted(role_spans.get("CONTENT", []), key=lambda s: s.start)
    links: dict[str, list[tuple[int | None, float]]] = {}
    for r, role in enumerate(LINK_ROLES):
        links[role] = link_candidates(linker, hidden, contents, role_spans.get(role, []), r, settings.max_distance)
    resolver = NameResolver(text, entities, settings.anonymous_heads)
    statements: list[Statement] = []
    previous_name: str | None = None
    for i, content in enumerate(contents):
        chosen: dict[str, Span | None] = {}
        confidence = content.score
        for role in LINK_ROLES:
            j, p = links[role][i]
            chosen[role] = None if j is None else Span.of(text, role_spans[role][j].start, role_spans[role][j].end)
            confidence *= p
        speaker = chosen["SPEAKER"]
        if speaker is not None:
            name = resolver.resolve(speaker)
        else:
            name = previous_name if chosen["CUE"] is not None else None  # "وأضاف": the last speaker goes on
        content_span = Span.of(text, content.start, content.end)
        statements.append(Statement(
            id=f"S{i + 1}", content=content_span, cue=chosen["CUE"], speaker=speaker, medium=chosen["MEDIUM"],
            speaker_name=name, kind=statement_kind(text, content_span),
            confidence=round(float(np.clip(confidence, 0.0, 1.0)), 4)))
        if name is not None:
            previous_name = name
    return statements
