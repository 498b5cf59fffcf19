"""Model output -> character spans: merge windows, constrained BIO decoding, offsets back to the original.

Each document token takes its scores from the window whose core holds it. BIO tags are decoded with
Viterbi under the IOB2 constraint (I-X only after B-X or I-X), which never yields a stray I- tag.
Spans are then widened to whole words and the predicted proclitics are left out of their start.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from qawl.encode import EncodedText, Window, proclitics_left_out
from qawl.labels import OUTSIDE, allowed_transition, chunks_of_tagged

CRFScores = tuple[np.ndarray, np.ndarray, np.ndarray]  # transitions, start, end (see qawl/crf.py)
# Between two rescalings a forward or backward vector shrinks by at most each token's least emission and
# transition factor; four tokens of even e^-150 each stay far above float64's 1e-308.
RESCALE_EVERY = 4


def merge_windows(window_arrays: list[np.ndarray], windows: list[Window]) -> np.ndarray:
    """Per-window arrays (window_len, ...) -> one document array (n_tokens, ...)."""
    first = window_arrays[0]
    merged = np.zeros((windows[-1].end,) + first.shape[1:], dtype=first.dtype)
    for arr, w in zip(window_arrays, windows):
        merged[w.core_start:w.core_end] = arr[w.core_start - w.start:w.core_end - w.start]
    return merged


def transition_mask(labels: list[str]) -> np.ndarray:
    """(from, to) -> 0 where allowed, -inf where the IOB2 constraint forbids it."""
    return _transition_mask(tuple(labels))


@lru_cache(maxsize=16)
def _transition_mask(labels: tuple[str, ...]) -> np.ndarray:
    n = len(labels)
    mask = np.zeros((n, n), dtype=np.float32)
    for i, a in enumerate(labels):
        for j, b in enumerate(labels):
            if not allowed_transition(a, b):
                mask[i, j] = -np.inf
    return mask


def _constrained(labels: list[str], crf: CRFScores | None, layers: int) -> CRFScores:
    """Per-layer (transitions, start, end) with the IOB2 constraint (-inf) added; zeros where no CRF."""
    n = len(labels)
    mask = transition_mask(labels)
    start_mask = np.array([-np.inf if l.startswith("I") else 0.0 for l in labels], dtype=np.float32)
    if crf is None:
        return (np.broadcast_to(mask, (layers, n, n)), np.broadcast_to(start_mask, (layers, n)),
                np.zeros((layers, n), np.float32))
    return crf[0] + mask, crf[1] + start_mask, crf[2]


def viterbi(log_probs: np.ndarray, labels: list[str]) -> list[str]:
    """Best IOB2-valid tag sequence for log_probs (T, n_labels)."""
    return [labels[i] for i in viterbi_layers(log_probs[None], labels)[0]]


def viterbi_layers(log_probs: np.ndarray, labels: list[str], crf: CRFScores | None = None,
                   lengths: np.ndarray | None = None) -> np.ndarray:
    """Best IOB2-valid tag ids for each of L independent layers: log_probs (L, T, n) -> (L, T).

    `crf`: per-layer learned (transitions (L, n, n), start (L, n), end (L, n)) scores added to the path score
    (qawl/crf.py); without them every valid transition scores 0. `lengths` (L,): layers shorter than T (padded
    at the end); positions past a layer's length are meaningless. All layers (the role layers of a document,
    or every document of a chunk) share one pass over the tokens, so the Python loop runs once, not per layer."""
    L, T, n = log_probs.shape
    best = log_probs.argmax(axis=2)  # (L, T)
    if T == 0:
        return best
    if crf is None:
        # the per-token argmax maximizes the unconstrained score; when it is IOB2-valid it is also the
        # constrained optimum, and the loop below is not needed for that layer
        inside = np.array([l.startswith("I") for l in labels])
        valid = ~inside[best[:, 0]] & np.isfinite(transition_mask(labels)[best[:, :-1], best[:, 1:]]).all(axis=1)
        todo = np.flatnonzero(~valid)
    else:
        todo = np.arange(L)
    if len(todo) == 0:
        return best
    trans, start, end = _constrained(labels, None if crf is None else tuple(a[todo] for a in crf), len(todo))
    chain = _Aligned(log_probs[todo], labels, trans, start, None if lengths is None else np.asarray(lengths)[todo])
    lp = chain.log_probs  # (T, K, n), time first: each step reads and writes contiguous rows
    back = np.empty((T, len(todo), n), dtype=np.int64)
    score = lp[0] + start
    for t in range(1, T):
        candidates = score[:, :, None] + trans  # (K, from, to)
        back[t] = candidates.argmax(axis=1)
        score = candidates.max(axis=1)
        score += lp[t]
    path = np.empty((T, len(todo)), dtype=np.int64)
    path[-1] = (score + end).argmax(axis=1)
    rows = np.arange(len(todo))
    for t in range(T - 1, 0, -1):
        path[t - 1] = back[t][rows, path[t]]
    best[todo] = chain.restore(path.T)
    return best


def crf_marginals(log_probs: np.ndarray, labels: list[str], crf: CRFScores, lengths: np.ndarray) -> np.ndarray:
    """P(tag at t = k | whole sequence) under the CRF (forward-backward): (L, T, n) -> (L, T, n).

    With learned transitions the heads' per-token softmax is no probability of the decoded tag (a name's
    second word leans on the transition from B-, not on its own score); the marginals are, so spans get
    calibrated confidences. Padded positions (t >= length) get meaningless values.

    The recursions run in probability space, rescaled to sum to one every RESCALE_EVERY tokens (Rabiner's
    scaling): one batched matrix product per token instead of a log-sum-exp, about twice as fast, and exact
    because each marginal is the product of the scaled forward and backward vectors normalized over the tags."""
    L, T, n = log_probs.shape
    trans, start, end = (a.astype(np.float64) for a in _constrained(labels, crf, L))  # -inf where forbidden
    chain = _Aligned(log_probs, labels, trans, start, np.asarray(lengths))
    lp = chain.log_probs.astype(np.float64)
    emit = np.exp(lp - lp.max(axis=2, keepdims=True))  # (T, L, n), each token's best tag at 1
    step = np.exp(trans)  # (L, from, to)
    step_back = np.ascontiguousarray(step.transpose(0, 2, 1))
    tiny = np.finfo(np.float64).tiny
    alpha, beta = np.empty((T, L, n)), np.empty((T, L, n))

    def rescale(vector: np.ndarray) -> None:  # in place; every RESCALE_EVERY tokens (a sum per token was 20%)
        total = vector.sum(axis=1, keepdims=True)
        vector /= np.maximum(total, tiny, out=total)

    alpha[0] = emit[0] * np.exp(start)
    rescale(alpha[0])
    for t in range(1, T):
        np.matmul(alpha[t - 1][:, None, :], step, out=alpha[t][:, None, :])
        alpha[t] *= emit[t]
        if t % RESCALE_EVERY == 0:
            rescale(alpha[t])
    beta[T - 1] = np.exp(end)
    rescale(beta[T - 1])
    for t in range(T - 2, -1, -1):
        np.matmul((emit[t + 1] * beta[t + 1])[:, None, :], step_back, out=beta[t][:, None, :])
        if t % RESCALE_EVERY == 0:
            rescale(beta[t])
    marg = alpha * beta
    marg /= np.maximum(marg.sum(axis=2, keepdims=True), tiny)
    return chain.restore(marg.transpose(1, 0, 2)).astype(np.float32)


class _Aligned:
    """Layers of different lengths made to end together, so the recursions need no per-token mask (masking
    was a third of the numpy calls of each step; decoding is a Python loop over the tokens).

    A shorter layer moves right; the tokens before it are forced to O (scores 0 for O, -inf for the rest), and
    its first token's scores take start[k] - transitions[O, k] - start[O]: the O path through the padding then
    scores exactly what the layer alone scores from its start. IOB2 forbids the same tags (I-) at the start as
    after O, so -inf stays -inf."""

    def __init__(self, log_probs: np.ndarray, labels: list[str], trans: np.ndarray, start: np.ndarray,
                 lengths: np.ndarray | None):
        L, T, n = log_probs.shape
        self.shift = np.zeros(L, dtype=np.int64) if lengths is None else T - lengths
        time_first = log_probs.transpose(1, 0, 2)
        if not self.shift.any():
            self.log_probs = np.ascontiguousarray(time_first)
            return
        o = labels.index(OUTSIDE)
        source = np.arange(T)[:, None] - self.shift[None, :]  # (T, L): right-aligned t shows original t - shift
        lp = time_first[np.clip(source, 0, T - 1), np.arange(L)[None, :]].astype(np.float64)
        forced = np.full(n, -np.inf)
        forced[o] = 0.0
        lp[source < 0] = forced
        moved = np.flatnonzero((self.shift > 0) & (self.shift < T))
        with np.errstate(invalid="ignore"):  # -inf - -inf where I- is forbidden both ways
            entry = start[moved] - trans[moved, o] - start[moved, o, None]
        lp[self.shift[moved], moved] += np.where(np.isnan(entry), -np.inf, entry)
        self.log_probs = lp

    def restore(self, values: np.ndarray) -> np.ndarray:
        """(L, T, ...) in aligned positions -> original positions (those past a layer's length: meaningless)."""
        if not self.shift.any():
            return values
        T = values.shape[1]
        source = (np.arange(T)[None, :] + self.shift[:, None]) % T
        return values[np.arange(len(source))[:, None], source]


def log_softmax(x: np.ndarray) -> np.ndarray:
    x = x - x.max(axis=-1, keepdims=True)
    return x - np.log(np.exp(x).sum(axis=-1, keepdims=True))


@dataclass(frozen=True)
class TokenSpan:
    first: int  # first token (inclusive)
    last: int  # last token (inclusive)
    label: str
    start: int  # original char offsets
    end: int
    score: float  # mean probability of the span's tags


def decode_spans(logits: np.ndarray, labels: list[str], enc: EncodedText, text: str,
                 proclitic_logits: np.ndarray | None = None) -> list[TokenSpan]:
    """Decode one document's (T, n_labels) logits into whole-word spans with character offsets into `text`."""
    (tags, probs), = decode_tags([logits[:, None, :]], labels)
    return tags_to_spans(tags[0], probs[0], labels, enc, text, proclitic_logits)


def decode_tags(logits: list[np.ndarray], labels: list[str], crf: CRFScores | None = None,
                max_cells: int = 1 << 17) -> list[tuple[np.ndarray, np.ndarray]]:
    """Best tags of several documents in padded Viterbi passes: each (T_i, L, n_labels) logits array ->
    (tag ids (L, T_i), their probabilities (L, T_i)). Token log-softmax only shifts each token's scores by a
    constant, so with a CRF the best path is the one it was trained for. The probabilities are the CRF's
    marginals with a CRF, else the heads' softmax.

    Documents are decoded shortest first, in groups of at most `max_cells` padded (layer, token, tag) values:
    one pass per group keeps the Python loop over tokens shared, and the bound keeps the forward-backward
    arrays from growing with the longest document times the number of documents (one long article among short
    ones once made the chunk's memory peak). The bound counts tags, so it is the same in bytes for 9-tag entity
    layers and 3-tag role layers. Groups of shorter documents are also narrower: on 300 news articles decoding
    took the same time from 50,000 to 200,000 values a group, and 17% more from 400,000 on."""
    lps = [log_softmax(x.astype(np.float32)).transpose(1, 0, 2) for x in logits]  # (L, T_i, n)
    out: list[tuple[np.ndarray, np.ndarray]] = [None] * len(lps)  # type: ignore[list-item]
    group: list[int] = []
    for d in sorted(range(len(lps)), key=lambda d: lps[d].shape[1]):  # a group's width is its last length
        rows = lps[d].shape[0] * (len(group) + 1)
        if group and rows * lps[d].shape[1] * lps[d].shape[2] > max_cells:
            _decode_group(lps, group, labels, crf, out)
            group = []
        group.append(d)
    if group:
        _decode_group(lps, group, labels, crf, out)
    return out


def _decode_group(lps: list[np.ndarray], group: list[int], labels: list[str], crf: CRFScores | None,
                  out: list) -> None:
    L, n = lps[group[0]].shape[0], lps[group[0]].shape[2]
    width = max(lps[d].shape[1] for d in group)
    padded = np.zeros((len(group) * L, width, n), dtype=np.float32)
    for g, d in enumerate(group):
        padded[g * L:(g + 1) * L, :lps[d].shape[1]] = lps[d]
    lengths = np.repeat([lps[d].shape[1] for d in group], L)
    tiled = None if crf is None else tuple(np.tile(a, (len(group),) + (1,) * (a.ndim - 1)) for a in crf)
    tag_ids = viterbi_layers(padded, labels, tiled, lengths)
    probs = np.exp(padded) if tiled is None else crf_marginals(padded, labels, tiled, lengths)
    for g, d in enumerate(group):
        rows, T = slice(g * L, (g + 1) * L), lps[d].shape[1]
        tags = tag_ids[rows, :T]
        out[d] = (tags, np.take_along_axis(probs[rows, :T], tags[:, :, None], axis=2)[:, :, 0])


def tags_to_spans(tags: np.ndarray, probs: np.ndarray, labels: list[str], enc: EncodedText, text: str,
                  proclitic_logits: np.ndarray | None = None) -> list[TokenSpan]:
    """One layer's tag ids (T,) -> whole-word spans with character offsets into `text`; overlaps dropped."""
    first_of_word, last_of_word = enc.word_first_token(), enc.word_last_token()
    spans = []
    for a, b, kind in tag_chunks(tags, labels):
        first, last = first_of_word[a], last_of_word[b - 1]
        start, end = enc.starts[first], enc.ends[last]
        if proclitic_logits is not None:
            k = int(proclitic_logits[first].argmax())
            # only strip letters that really are proclitics, and only when a letter of their word follows:
            # not a lone "ف" before a space, nor before a soft hyphen or bidi mark (spans never start on those)
            rest = start + k
            if k and rest < end and proclitics_left_out(text, start, rest) == k and text[rest].isalpha():
                start = rest
        if start >= end:
            continue
        spans.append(TokenSpan(first, last, kind, start, end, float(probs[a:b].mean())))
    return _drop_overlaps(spans)


def tag_chunks(tags: np.ndarray, labels: list[str]) -> list[tuple[int, int, str]]:
    """`labels.bio_to_spans` over tag ids (T,), visiting only the tokens not tagged O: most of a layer is O,
    and a Python step per token and layer was 3% of prediction."""
    positions = np.flatnonzero(tags != labels.index(OUTSIDE))
    return chunks_of_tagged(zip(positions.tolist(), (labels[t] for t in tags[positions].tolist())))


def _drop_overlaps(spans: list[TokenSpan]) -> list[TokenSpan]:
    """Widening to whole words can make neighbours overlap; keep the better-scored one.

    Kept spans never overlap, so sorted by start they are sorted by end too, and a new span overlaps one of
    them only if it overlaps its neighbour on either side: two bisections instead of a scan of all kept."""
    starts: list[int] = []
    kept: list[TokenSpan] = []
    for s in sorted(spans, key=lambda s: -s.score):
        i = bisect.bisect_right(starts, s.start)
        if (i > 0 and kept[i - 1].end > s.start) or (i < len(kept) and kept[i].start < s.end):
            continue
        starts.insert(i, s.start)
        kept.insert(i, s)
    return kept
