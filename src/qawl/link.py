"""Decoded spans -> Statements (after citron's resolvers): link each content to its cue, speaker and
medium with the model's pair scorer, then resolve `speaker_name` and the statement's kind by rules."""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np
import torch

from qawl.decode import TokenSpan
from qawl.document import Entity, Span, Statement
from qawl.labels import SPEAKER_ENTITY_LABELS
from qawl.model import LINK_ROLES, SpanPairLinker
from qawl.normalize import NormalizerConfig, normalize_fast, word_pattern

QUOTES_OPEN = "\"“«„'‘"
QUOTES_CLOSE = "\"”»'’"
MATCH_NORM = NormalizerConfig(unify_alef=True, unify_yaa=True, unify_taa_marbuta=True)
# first words of a mention that name a person's office ("رئيس الهيئة الوطنية لمكافحة الفساد"): the speaker is
# the person holding it, not the organisation named inside the mention (comparison forms, see `words`)
OFFICE_TITLES = frozenset(("رئيس الرئيس وزير الوزير مدير المدير امين الامين مستشار المستشار ناطق الناطق "
                           "متحدث المتحدث سفير السفير محافظ المحافظ قائد القائد نائب النائب الباحث باحث "
                           "الكاتب رئيسه الرئيسه وزيره الوزيره مديره المديره").split())


DEMONSTRATIVES = frozenset("هذه هذا هؤلاء تلك ذلك".split())


def words(text: str) -> list[str]:
    """Comparison form of a name: normalized, punctuation-free whitespace tokens."""
    return list(_words(text))


@lru_cache(maxsize=8192)  # names repeat across an article; normalizing each again dominated long documents
def _words(text: str) -> tuple[str, ...]:
    # normalize_fast(text, MATCH_NORM).split(), less the punctuation, without its character loop (a quarter of
    # linking): MATCH_NORM spaces punctuation and digits apart, so its tokens are the word runs cut where digits
    # begin or end
    plain = normalize_fast(text, _MATCH_UNSPACED)
    return tuple(t for run in word_pattern().findall(plain) for t in _DIGIT_RUNS.findall(run)
                 if any(c.isalnum() for c in t))


_MATCH_UNSPACED = replace(MATCH_NORM, space_punctuation=False, space_digits=False)
_DIGIT_RUNS = re.compile(r"\d+|\D+")


def _contains(haystack: list[str], needle: list[str]) -> bool:
    n = len(needle)
    return n > 0 and any(haystack[i:i + n] == needle for i in range(len(haystack) - n + 1))


@dataclass(frozen=True)
class LinkSettings:
    max_distance: int = 96  # tokens between a content span and a candidate cue/speaker/medium
    anonymous_heads: tuple[str, ...] = ()  # first words of speakers whose name is null (learned in training)
    rule_fallback: bool = True  # combine with qawl.baseline's statements (fallback.py)
    model_min_confidence: float = 0.6  # with rule_fallback: a model statement the rules miss needs this
    # names (labels.SPEAKER_ENTITY_LABELS) are speaker candidates too; on for models trained with them as
    # candidates (train.py sets it), off for older ones, whose linker never saw names that are no speaker
    entity_speakers: bool = False


def link_candidates(linker: SpanPairLinker, hidden: torch.Tensor, contents: list[TokenSpan],
                    candidates: list[list[TokenSpan]], max_distance: int,
                    block: int = 32) -> list[list[tuple[int | None, float]]]:
    """For each role r (LINK_ROLES order) and each content: (index into candidates[r] of the chosen one, or
    None, and its probability).

    Contents are scored in blocks against only the candidates within `max_distance` tokens of the block
    (the others would be masked anyway), so memory stays bounded on long documents: the pair tensor is
    (block, nearby, 4d), not (N, M, 4d). The roles' candidates are scored in one linker call per block."""
    if not contents:
        return [[] for _ in candidates]
    c_all = torch.tensor([[s.first, s.last] for s in contents], dtype=torch.long).view(-1, 2)
    reach = [_Reach(spans) for spans in candidates]
    out: list[list[tuple[int | None, float]]] = [[] for _ in candidates]
    for b in range(0, len(contents), block):
        c = c_all[b:b + block]
        lo_tok, hi_tok = int(c[:, 0].min()) - max_distance, int(c[:, 1].max()) + max_distance
        near = [r.within(lo_tok, hi_tok) for r in reach]
        qs = [r.bounds[idx] for r, idx in zip(reach, near)]
        with torch.no_grad():
            role_scores = linker.score_roles(hidden, c.to(hidden.device), [q.to(hidden.device) for q in qs],
                                             list(range(len(candidates))))
        for role, (scores, q, idx) in enumerate(zip(role_scores, qs, near)):
            scores = scores.detach().float().cpu().clone()  # (n, m + 1); a "none" column alone is a view of a parameter
            if len(idx):
                gap = torch.maximum(q[None, :, 0] - c[:, None, 1], c[:, None, 0] - q[None, :, 1])
                scores[:, :-1] = scores[:, :-1].masked_fill(gap > max_distance, float("-inf"))
            probs = torch.softmax(scores, dim=-1).numpy()
            for row in probs:
                j = int(row.argmax())
                out[role].append((None if j == len(idx) else int(idx[j]), float(row[j])))
    return out


class _Reach:
    """One role's candidate spans sorted by first token, to find those a block of contents can reach."""

    def __init__(self, spans: list[TokenSpan]):
        self.bounds = torch.tensor([[s.first, s.last] for s in spans], dtype=torch.long).view(-1, 2)
        self.order = torch.argsort(self.bounds[:, 0], stable=True)
        self.firsts = self.bounds[self.order, 0].tolist()
        self.last_max = torch.cummax(self.bounds[self.order, 1], 0).values.tolist() if len(spans) else []

    def within(self, lo_tok: int, hi_tok: int) -> torch.Tensor:
        """Indices of the candidates that may lie within [lo_tok, hi_tok]: those starting after hi_tok are out
        of reach, and before the first whose running max of last tokens reaches lo_tok none is in reach."""
        hi = bisect.bisect_right(self.firsts, hi_tok)
        lo = bisect.bisect_left(self.last_max, lo_tok, 0, hi)
        return self.order[lo:hi]


def statement_kind(text: str, content: Span) -> str:
    title_end = text.find("\n")
    if 0 < title_end and content.end <= title_end and text[title_end:].strip():  # a title needs a body after it
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
    """speaker mention -> the speaker's fullest name in the document (or None for anonymous sources).

    Lookups are indexed and cached (by position, by name, by mention) so a long article stays linear-ish
    instead of comparing every statement with every entity."""

    def __init__(self, text: str, entities: list[Entity], anonymous_heads: tuple[str, ...]):
        self.text = text
        self.people = sorted((e for e in entities if e.label == "PERS"), key=lambda e: e.start)
        self.named = sorted((e for e in entities if e.label in ("PERS", "ORG")), key=lambda e: e.start)
        self.anonymous = set(anonymous_heads)
        self._starts = [e.start for e in self.named]
        self._max_ends: list[int] = []  # running max of ends: entities before index i all end by it
        for e in self.named:
            self._max_ends.append(max(e.end, self._max_ends[-1] if self._max_ends else e.end))
        # one entry per distinct (label, name), in first-occurrence order: `fullest` gives the same answer
        self._names = list(dict.fromkeys((e.label, e.text) for e in self.named))
        self._fullest: dict[tuple[str, str], str] = {}
        self._people_starts = [e.start for e in self.people]
        self._known: dict[str, None] = {}  # resolved names, in order (a dict keeps order, like a set would not)
        self._by_mention: dict[tuple[str, int], str | None] = {}

    def fullest(self, entity: Entity) -> str:
        """The longest same-label name in the document that contains this one as whole words."""
        key = (entity.label, entity.text)
        if key not in self._fullest:
            target = words(entity.text)
            best = entity.text
            for label, other in self._names:
                if label == entity.label and len(words(other)) > len(words(best)) \
                        and (_contains(words(other), target) or _abridges(target, words(other))):
                    best = other
            self._fullest[key] = best
        return self._fullest[key]

    def name_for(self, speaker: Span | None, previous: str | None) -> str | None:
        """A statement's speaker_name, statements taken in text order: its mention resolved, or, with no
        mention ("وأضاف"), whoever spoke before. (A document that carried the words, "وقال البيان إن", taken
        for whoever spoke before: dev +2, 300 training articles -3 speakers right; not done.)"""
        return previous if speaker is None else self.resolve(speaker)

    def resolve(self, speaker: Span) -> str | None:
        lo = bisect.bisect_right(self._max_ends, speaker.start)
        hi = bisect.bisect_left(self._starts, speaker.end)
        inside = [e for e in self.named[lo:hi] if e.end > speaker.start]
        if inside:
            person = [e for e in inside if e.label == "PERS"]
            if not person and self._is_office(speaker.text):
                holder = self._holder(speaker)
                if holder is not None:
                    return holder
            if person and person[0].start > speaker.start:
                # "وزير الطاقة يوسف بن حمد الكندي": a name ends the mention, even where the entity
                # recognizer cut it into pieces; take it from the first person entity to the end
                start = person[0].start
                name = Entity(start, speaker.end, "PERS", self.text[start:speaker.end])
                return self.remember(self.fullest(name))
            return self.remember(self.fullest((person or inside)[-1]))
        known = self.known_name(speaker.text)
        if known is not None:
            return known
        return self._title_lookup(speaker)

    def _title_lookup(self, speaker: Span) -> str | None:
        """A title refers to the nearest person before it that the same title introduced (cached)."""
        before = bisect.bisect_left(self._people_starts, speaker.start)
        key = (speaker.text, before)
        if key not in self._by_mention:
            self._by_mention[key] = self._resolve_mention(speaker.text, before)
        return self._by_mention[key]

    @staticmethod
    def _is_office(mention_text: str) -> bool:
        mention = words(mention_text)
        return bool(mention) and mention[0] in OFFICE_TITLES

    def _holder(self, speaker: Span) -> str | None:
        """The person an office mention refers to: the nearest person the same words introduce elsewhere in
        the document ("رئيس الهيئة ... شوقي الطبيب"), or None when no one is introduced so."""
        found = self._title_lookup(speaker)
        return found if found is not None and found != speaker.text else None

    def remember(self, name: str) -> str:
        """A name resolved in this document: later short forms of it ("الكندي") resolve to it."""
        self._known.setdefault(name, None)
        return name

    def known_name(self, mention_text: str) -> str | None:
        mention = words(mention_text)
        found = [n for n in self._known if len(words(n)) > len(mention) and _contains(words(n), mention)]
        return max(found, key=lambda n: len(words(n))) if found else None

    def _resolve_mention(self, mention_text: str, people_before: int) -> str | None:
        mention = [_bare(w) for w in words(mention_text)]
        if not mention:
            return None
        # "قال الوزير" after "وزير الخارجية سيرغي لافروف": the title's words (ال aside) stand just before a
        # name; the nearest such person before the mention wins, else the first one after it
        order = list(range(people_before - 1, -1, -1)) + list(range(people_before, len(self.people)))
        for i in order:
            person = self.people[i]
            lead = [_bare(w) for w in words(self.text[max(0, person.start - len(mention_text) - 12):person.start])]
            if _contains(lead[-len(mention) - 1:], mention):
                return self.fullest(person)
        if len(mention) > 1:
            # "وزير التجهيز" / "الوزير المصري" for "وزير التجهيز والإسكان المصري محمد ...": the mention's words
            # in order within the title phrase just before a name (nearest person before the mention first)
            for i in order:
                person = self.people[i]
                phrase = re.split(r"[.:؟?!\n]", self.text[max(0, person.start - 80):person.start])[-1]
                lead = [_bare(w) for w in words(phrase)][-8:]
                if lead and lead[0] != mention[0] and mention[0] in lead:
                    lead = lead[lead.index(mention[0]):]
                if lead[:1] == mention[:1] and _subsequence(mention, lead):
                    return self.fullest(person)
        head = mention[1] if len(mention) > 1 and mention[0] in DEMONSTRATIVES else mention[0]  # "هذه المصادر"
        if head in self.anonymous or "ال" + head in self.anonymous:
            return None
        return mention_text


def _abridges(short: list[str], long: list[str]) -> bool:
    """"سيف السويدي" of "سيف محمد السويدي", "الشرطة الدولية" of "الشرطة الجنائية الدولية": the same first and
    last word, the middle a subsequence."""
    return len(short) > 1 and short[0] == long[0] and short[-1] == long[-1] and _subsequence(short, long)


def _subsequence(short: list[str], long: list[str]) -> bool:
    it = iter(long)
    return all(w in it for w in short)


def _bare(word: str) -> str:
    """A word without its definite article, so that "الوزير" matches "وزير"."""
    return word[2:] if word.startswith("ال") and len(word) > 3 else word


def speaker_candidates(speakers: list[TokenSpan], entities: list[TokenSpan]) -> list[TokenSpan]:
    """The role head's speaker mentions and the names that overlap none of them, in text order."""
    starts = sorted(s.first for s in speakers)
    lasts = sorted(s.last for s in speakers)
    # a name overlaps some mention unless every mention ends before it or starts after it
    free = [e for e in entities if e.label in SPEAKER_ENTITY_LABELS
            and bisect.bisect_left(lasts, e.first) + len(starts) - bisect.bisect_right(starts, e.last) == len(starts)]
    return sorted(speakers + free, key=lambda s: s.first)


def build_statements(text: str, entities: list[Entity], role_spans: dict[str, list[TokenSpan]],
                     hidden: torch.Tensor, linker: SpanPairLinker, settings: LinkSettings,
                     entity_spans: list[TokenSpan] = ()) -> list[Statement]:
    """Statements from one document's decoded role spans. `entity_spans`, the entity head's spans, add
    speaker candidates (`LinkSettings.entity_speakers`)."""
    if settings.entity_speakers and entity_spans:
        role_spans = {**role_spans, "SPEAKER": speaker_candidates(role_spans.get("SPEAKER", []), entity_spans)}
    contents = sorted(role_spans.get("CONTENT", []), key=lambda s: s.start)
    found = link_candidates(linker, hidden, contents, [role_spans.get(role, []) for role in LINK_ROLES],
                            settings.max_distance)
    links = dict(zip(LINK_ROLES, found))
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
        name = resolver.name_for(speaker, previous_name)  # "وأضاف": whoever spoke last goes on
        content_span = Span.of(text, content.start, content.end)
        statements.append(Statement(
            id=f"S{i + 1}", content=content_span, cue=chosen["CUE"], speaker=speaker, medium=chosen["MEDIUM"],
            speaker_name=name, kind=statement_kind(text, content_span),
            confidence=round(float(np.clip(confidence, 0.0, 1.0)), 4)))
        previous_name = name
    return statements
