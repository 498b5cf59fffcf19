"""Statement scores for one document pair, after PARC 3.0 and BBC citron.

Tokens are whitespace tokens of the text after Arabic normalization (diacritics and tatweel removed,
alef/yaa/taa marbuta unified, punctuation dropped), so a quote mark or a shadda inside or outside a span
never decides a match. Contents are compared as sets of token *positions* in the shared text, not as bags
of words: a repeated sentence elsewhere in the article must not count as the same statement.
A predicted statement matches a gold one when their contents have token F1 >= 0.5; pairs are taken
greedily by best F1, one to one. Everything returns counts per document for metrics.py to sum and bootstrap.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from typing import Any

from qawl.document import STATEMENT_KINDS, Document, Span, Statement
from qawl.normalize import NormalizerConfig, is_punct, normalize, normalize_fast

Counts = dict[tuple[str, ...], tuple[int, ...]]
STATEMENT_NORMALIZER = NormalizerConfig(unify_alef=True, unify_yaa=True, unify_taa_marbuta=True,
                                        space_digits=False)
MATCH_THRESHOLD = 0.5
CONTEXT_CHARS = 80
UNKNOWN_SOURCE = "unknown"


class TokenIndex:
    """Original char ranges of a text's normalized, punctuation-free tokens."""

    def __init__(self, text: str):
        norm, offsets = normalize(text, STATEMENT_NORMALIZER)
        self.starts: list[int] = []
        self.ends: list[int] = []
        for m in re.finditer(r"\S+", norm):
            if all(is_punct(c) for c in m.group()):
                continue
            start, end = offsets.to_original(m.start(), m.end())
            self.starts.append(start)
            self.ends.append(end)

    def ids(self, span: Span | None) -> frozenset[int]:
        """Positions of the tokens the span overlaps."""
        if span is None:
            return frozenset()
        lo = bisect.bisect_right(self.ends, span.start)  # first token ending after span.start
        hi = bisect.bisect_left(self.starts, span.end)  # tokens starting before span.end
        return frozenset(range(lo, hi))


def words(text: str | None) -> tuple[str, ...]:
    """The normalized, punctuation-free tokens of a string (for names, where no positions exist)."""
    if not text:
        return ()
    return tuple(t for t in normalize_fast(text, STATEMENT_NORMALIZER).split() if not all(map(is_punct, t)))


def token_f1(a: frozenset[int], b: frozenset[int]) -> float:
    if not a or not b:
        return 0.0
    return 2 * len(a & b) / (len(a) + len(b))


def match(gold: Sequence[frozenset[int]], pred: Sequence[frozenset[int]],
          threshold: float = MATCH_THRESHOLD) -> list[tuple[int, int, float]]:
    """(gold index, pred index, F1) pairs: greedy by best F1 (ties: document order), one to one."""
    cands = sorted((-f1, gi, pi) for gi, g in enumerate(gold) for pi, p in enumerate(pred)
                   if (f1 := token_f1(g, p)) >= threshold)
    used_g, used_p, pairs = set(), set(), []
    for neg_f1, gi, pi in cands:
        if gi not in used_g and pi not in used_p:
            used_g.add(gi)
            used_p.add(pi)
            pairs.append((gi, pi, -neg_f1))
    return pairs


def _contains(outer: tuple[str, ...], inner: tuple[str, ...]) -> bool:
    """`inner` occurs in `outer` as a run of whole tokens."""
    n = len(inner)
    return n > 0 and any(outer[i:i + n] == inner for i in range(len(outer) - n + 1))


def _speaker_forms(s: Statement) -> list[tuple[str, ...]]:
    forms = [words(s.speaker_name), words(s.speaker.text if s.speaker else None)]
    return [f for f in forms if f]


def speaker_correct(gold: Statement, pred: Statement) -> bool:
    """The predicted name or speaker text equals, contains or is contained in the gold name or speaker
    text, as whole tokens. An anonymous gold source (no name, no speaker span) wants no speaker at all."""
    g_forms, p_forms = _speaker_forms(gold), _speaker_forms(pred)
    if not g_forms:
        return not p_forms
    return any(_contains(g, p) or _contains(p, g) for g in g_forms for p in p_forms)


def speaker_name_exact(gold: Statement, pred: Statement) -> bool:
    return words(gold.speaker_name) == words(pred.speaker_name)


def span_agrees(index: TokenIndex, gold: Span | None, pred: Span | None) -> bool:
    """Both absent, or both present and sharing a token (a cue with or without its و counts as found)."""
    if gold is None or pred is None:
        return gold is None and pred is None
    return bool(index.ids(gold) & index.ids(pred)) or gold.overlaps(pred)


def _summary(s: Statement | None) -> dict[str, Any] | None:
    if s is None:
        return None
    return {"content": s.content.text, "speaker": s.speaker.text if s.speaker else None,
            "speaker_name": s.speaker_name, "cue": s.cue.text if s.cue else None,
            "medium": s.medium.text if s.medium else None, "kind": s.kind, "confidence": s.confidence}


def _error(doc: Document, kind: str, g: Statement | None, p: Statement | None, f1: float) -> dict[str, Any]:
    spans = [s.content for s in (g, p) if s is not None]
    start, end = min(s.start for s in spans), max(s.end for s in spans)
    return {"doc_id": doc.id, "source": doc.meta.get("source"), "type": kind, "f1": f1,
            "confidence": p.confidence if p is not None else None, "gold": _summary(g), "pred": _summary(p),
            "context": {"left": doc.text[max(0, start - CONTEXT_CHARS):start], "span": doc.text[start:end],
                        "right": doc.text[end:end + CONTEXT_CHARS], "start": start, "end": end}}


def _add(counts: Counts, key: tuple[str, ...], values: tuple[int, ...]) -> None:
    old = counts.get(key)
    counts[key] = values if old is None else tuple(a + b for a, b in zip(old, values))


def score_document(gold: Document, pred: Document) -> tuple[Counts, list[dict[str, Any]]]:
    """Counts for one document and its statement errors (missed, spurious, wrong speaker).

    P/R/F1 counts are (tp_pred, n_pred, tp_gold, n_gold); accuracies are (correct, total) over matched pairs.
    """
    index = TokenIndex(gold.text)
    g_ids = [index.ids(s.content) for s in gold.statements]
    p_ids = [index.ids(s.content) for s in pred.statements]
    pairs = match(g_ids, p_ids)
    source = str(gold.meta.get("source") or UNKNOWN_SOURCE)
    n_g, n_p, n_m = len(gold.statements), len(pred.statements), len(pairs)
    counts: Counts = {}
    exact = sum(g_ids[gi] == p_ids[pi] for gi, pi, _ in pairs)
    right = [(gi, pi, speaker_correct(gold.statements[gi], pred.statements[pi])) for gi, pi, _ in pairs]
    n_right = sum(ok for *_, ok in right)
    counts[("statements", "content_exact")] = (exact, n_p, exact, n_g)
    counts[("statements", "content_overlap")] = (n_m, n_p, n_m, n_g)
    counts[("statements", "statement")] = (n_right, n_p, n_right, n_g)
    counts[("statements", "speaker_accuracy")] = (n_right, n_m)
    for name, ok in (
        ("speaker_name_accuracy", lambda g, p: speaker_name_exact(g, p)),
        ("cue_accuracy", lambda g, p: span_agrees(index, g.cue, p.cue)),
        ("medium_accuracy", lambda g, p: span_agrees(index, g.medium, p.medium)),
        ("kind_accuracy", lambda g, p: g.kind == p.kind),
    ):
        counts[("statements", name)] = (sum(ok(gold.statements[gi], pred.statements[pi]) for gi, pi, _ in pairs), n_m)

    # Per kind: recall by the gold kind, precision by the predicted kind (as per-type NER scores do).
    for kind in STATEMENT_KINDS:
        g_k = [i for i, s in enumerate(gold.statements) if s.kind == kind]
        p_k = [i for i, s in enumerate(pred.statements) if s.kind == kind]
        m_g = sum(gold.statements[gi].kind == kind for gi, _, _ in pairs)
        m_p = sum(pred.statements[pi].kind == kind for _, pi, _ in pairs)
        r_g = sum(ok and gold.statements[gi].kind == kind for gi, _, ok in right)
        r_p = sum(ok and pred.statements[pi].kind == kind for _, pi, ok in right)
        _add(counts, ("statements", "by_kind", kind, "content_overlap"), (m_p, len(p_k), m_g, len(g_k)))
        _add(counts, ("statements", "by_kind", kind, "statement"), (r_p, len(p_k), r_g, len(g_k)))
        _add(counts, ("statements", "by_kind", kind, "speaker_accuracy"), (r_g, m_g))
    _add(counts, ("statements", "by_source", source, "content_overlap"), (n_m, n_p, n_m, n_g))
    _add(counts, ("statements", "by_source", source, "statement"), (n_right, n_p, n_right, n_g))
    _add(counts, ("statements", "by_source", source, "speaker_accuracy"), (n_right, n_m))

    errors = []
    matched_g, matched_p = {gi for gi, _, _ in pairs}, {pi for _, pi, _ in pairs}
    errors += [_error(gold, "missed", s, None, 0.0) for i, s in enumerate(gold.statements) if i not in matched_g]
    errors += [_error(gold, "spurious", None, s, 0.0) for i, s in enumerate(pred.statements) if i not in matched_p]
    f1_of = {(gi, pi): f1 for gi, pi, f1 in pairs}
    errors += [_error(gold, "wrong_speaker", gold.statements[gi], pred.statements[pi], f1_of[(gi, pi)])
               for gi, pi, ok in right if not ok]
    return counts, errors
