"""Entity scores for one document pair: per-token IOB2 for seqeval, char spans, confusion pairs, errors.

Alignment policy (char offsets meet tokens): a token is inside an entity when the entity's char span
overlaps it. ANERcorp tags whole tokens ("وروسيا" B-LOC) while qawl's spans leave a proclitic out
("روسيا"), so strict char comparison would punish a correct prediction; overlap makes both the same token.
Everything here returns *counts* per document so that metrics.py can sum and bootstrap them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from seqeval.scheme import IOB2, Entities

from qawl.document import ENTITY_LABELS, Document, Entity, Span
from qawl.labels import OUTSIDE
from qawl.normalize import is_punct

Counts = dict[tuple[str, ...], tuple[int, ...]]
Tokenizer = Callable[[Document], Sequence[Span]]
CONFUSION_LABELS = (*ENTITY_LABELS, OUTSIDE)
CONTEXT_CHARS = 60


def word_tokens(doc: Document) -> list[Span]:
    """Default tokens for JSONL text: runs of non-space, non-punctuation characters, and each punctuation
    mark alone. Diacritics and tatweel are not punctuation, so they stay inside their word."""
    text, spans, start = doc.text, [], None
    for i, char in enumerate(text):
        if char.isspace() or is_punct(char):
            if start is not None:
                spans.append(Span(start, i, text[start:i]))
                start = None
            if not char.isspace():
                spans.append(Span(i, i + 1, char))
        elif start is None:
            start = i
    if start is not None:
        spans.append(Span(start, len(text), text[start:]))
    return spans


def token_tags(tokens: Sequence[Span], entities: Sequence[Entity]) -> list[str]:
    """IOB2 tags: each entity tags every token its char span overlaps. When two entities touch the same
    token, the earlier one keeps it (a token carries one tag), so the sequence stays valid IOB2."""
    tags = [OUTSIDE] * len(tokens)
    for ent in sorted(entities, key=lambda e: (e.start, e.end)):
        inside = [i for i, t in enumerate(tokens) if t.start < ent.end and ent.start < t.end and tags[i] == OUTSIDE]
        # Only a contiguous run may form one chunk; a gap would otherwise hide a second B-.
        for n, i in enumerate(inside):
            first = n == 0 or inside[n - 1] != i - 1
            tags[i] = f"{'B' if first else 'I'}-{ent.label}"
    return tags


@dataclass(frozen=True, order=True)
class Chunk:
    """An entity as seqeval sees it: token range [first, last) and type, plus its char range."""

    first: int
    last: int
    label: str
    start: int
    end: int


def _chunks(tags: list[str], tokens: Sequence[Span]) -> list[Chunk]:
    # seqeval's own strict IOB2 chunker, so what we count is exactly what seqeval scores.
    found = Entities([tags], IOB2, suffix=False).entities[0]
    return sorted(Chunk(e.start, e.end, e.tag, tokens[e.start].start, tokens[e.end - 1].end) for e in found)


def _greedy_pairs(gold: Sequence[tuple[int, int]], pred: Sequence[tuple[int, int]],
                  same: Callable[[int, int], bool]) -> list[tuple[int, int]]:
    """One-to-one pairs of overlapping ranges, largest overlap first (ties: document order)."""
    cands = []
    for gi, (gs, ge) in enumerate(gold):
        for pi, (ps, pe) in enumerate(pred):
            ov = min(ge, pe) - max(gs, ps)
            if ov > 0 and same(gi, pi):
                cands.append((-ov, (gs, ge) != (ps, pe), gi, pi))  # identical ranges win ties
    used_g, used_p, pairs = set(), set(), []
    for _, _, gi, pi in sorted(cands):
        if gi not in used_g and pi not in used_p:
            used_g.add(gi)
            used_p.add(pi)
            pairs.append((gi, pi))
    return pairs


def _context(text: str, start: int, end: int) -> dict[str, Any]:
    return {"left": text[max(0, start - CONTEXT_CHARS):start], "span": text[start:end],
            "right": text[end:end + CONTEXT_CHARS], "start": start, "end": end}


def _chunk_dict(text: str, c: Chunk | None) -> dict[str, Any] | None:
    return None if c is None else {"label": c.label, "text": text[c.start:c.end], "start": c.start, "end": c.end}


def _prf(tp_p: int, n_p: int, tp_r: int, n_r: int) -> tuple[int, int, int, int]:
    return (tp_p, n_p, tp_r, n_r)


def score_document(gold: Document, pred: Document, tokens: Sequence[Span],
                   char_spans: bool) -> tuple[Counts, list[str], list[str], list[dict[str, Any]]]:
    """Counts for one document, its gold and predicted IOB2 tags (for seqeval), and its errors.

    Count keys are paths into the results dict; each value is (tp_pred, n_pred, tp_gold, n_gold) for a
    P/R/F1, or a confusion cell count under ("entities", "confusion", gold_label, pred_label).
    """
    gold_tags, pred_tags = token_tags(tokens, gold.entities), token_tags(tokens, pred.entities)
    g_chunks, p_chunks = _chunks(gold_tags, tokens), _chunks(pred_tags, tokens)
    counts: Counts = {}
    p_set = {(c.first, c.last, c.label) for c in p_chunks}
    exact = [c for c in g_chunks if (c.first, c.last, c.label) in p_set]
    for label in ENTITY_LABELS:
        tp = sum(c.label == label for c in exact)
        counts[("entities", "seqeval", "per_type", label)] = _prf(
            tp, sum(c.label == label for c in p_chunks), tp, sum(c.label == label for c in g_chunks))
    counts[("entities", "seqeval", "micro")] = _prf(len(exact), len(p_chunks), len(exact), len(g_chunks))

    # Confusion over overlapping chunks, any label; the leftovers are missed (X->O) or spurious (O->X).
    g_rng = [(c.first, c.last) for c in g_chunks]
    p_rng = [(c.first, c.last) for c in p_chunks]
    pairs = _greedy_pairs(g_rng, p_rng, lambda gi, pi: True)
    paired_g, paired_p = {g for g, _ in pairs}, {p for _, p in pairs}
    cells: dict[tuple[str, str], int] = {}
    for gi, pi in pairs:
        key = (g_chunks[gi].label, p_chunks[pi].label)
        cells[key] = cells.get(key, 0) + 1
    for gi, c in enumerate(g_chunks):
        if gi not in paired_g:
            cells[(c.label, OUTSIDE)] = cells.get((c.label, OUTSIDE), 0) + 1
    for pi, c in enumerate(p_chunks):
        if pi not in paired_p:
            cells[(OUTSIDE, c.label)] = cells.get((OUTSIDE, c.label), 0) + 1
    for (g, p), n in cells.items():
        counts[("entities", "confusion", g, p)] = (n,)

    errors = []
    for gi, pi in pairs:
        g, p = g_chunks[gi], p_chunks[pi]
        if (g.first, g.last, g.label) == (p.first, p.last, p.label):
            continue
        kind = "boundary" if g.label == p.label else "wrong_type"
        errors.append((kind, g, p))
    errors += [("missed", c, None) for i, c in enumerate(g_chunks) if i not in paired_g]
    errors += [("spurious", None, c) for i, c in enumerate(p_chunks) if i not in paired_p]
    error_dicts = []
    for kind, g, p in errors:
        start = min(c.start for c in (g, p) if c is not None)
        end = max(c.end for c in (g, p) if c is not None)
        error_dicts.append({"doc_id": gold.id, "type": kind, "gold": _chunk_dict(gold.text, g),
                            "pred": _chunk_dict(gold.text, p), "context": _context(gold.text, start, end)})

    if char_spans:
        counts.update(_char_span_counts(gold.entities, pred.entities))
    return counts, gold_tags, pred_tags, error_dicts


def _char_span_counts(gold: Sequence[Entity], pred: Sequence[Entity]) -> Counts:
    """Exact (same start, end, label) and overlap (same label, overlapping, one to one) char-span counts."""
    counts: Counts = {}
    p_exact = {(e.start, e.end, e.label) for e in pred}
    g_exact = {(e.start, e.end, e.label) for e in gold}
    pairs = _greedy_pairs([(e.start, e.end) for e in gold], [(e.start, e.end) for e in pred],
                          lambda gi, pi: gold[gi].label == pred[pi].label)
    for name, hit_labels in (("span_exact", [label for s, e, label in g_exact & p_exact]),
                             ("span_overlap", [gold[gi].label for gi, _ in pairs])):
        for label in ENTITY_LABELS:
            tp = hit_labels.count(label)
            counts[("entities", name, "per_type", label)] = _prf(
                tp, sum(e.label == label for e in pred), tp, sum(e.label == label for e in gold))
        counts[("entities", name, "micro")] = _prf(len(hit_labels), len(pred), len(hit_labels), len(gold))
    return counts
