"""Model output -> character spans: merge windows, constrained BIO decoding, offsets back to the original.

Each document token takes its scores from the window whose core holds it. BIO tags are decoded with
Viterbi under the IOB2 constraint (I-X only after B-X or I-X), which never yields a stray I- tag.
Spans are then widened to whole words and the predicted proclitics are left out of their start.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

import numpy as np

from qawl.encode import EncodedText, Window, proclitics_left_out
from qawl.labels import allowed_transition, bio_to_spans


def merge_windows(window_arrays: list[np.ndarray], windows: list[Window]) -> np.ndarray:
    """Per-window arrays (window_len, ...) -> one document array (n_tokens, ...)."""
    first = window_arrays[0]
    merged = np.zeros((windows[-1].end,) + first.shape[1:], dtype=first.dtype)
    for arr, w in zip(window_arrays, windows):
        merged[w.core_start:w.core_end] = arr[w.core_start - w.start:w.core_end - w.start]
    return merged


def transition_mask(labels: list[str]) -> np.ndarray:
    """(from, to) -> 0 where allowed, -inf where the IOB2 constraint forbids it."""
    n = len(labels)
    mask = np.zeros((n, n), dtype=np.float32)
    for i, a in enumerate(labels):
        for j, b in enumerate(labels):
            if not allowed_transition(a, b):
                mask[i, j] = -np.inf
    return mask


def viterbi(log_probs: np.ndarray, labels: list[str]) -> list[str]:
    """Best IOB2-valid tag sequence for log_probs (T, n_labels)."""
    T, n = log_probs.shape
    if T == 0:
        return []
    trans = transition_mask(labels)
    # the per-token argmax maximizes the unconstrained score; when it is IOB2-valid it is also the
    # constrained optimum, and the Python loop below (a fifth of inference time) is not needed
    best = log_probs.argmax(axis=1)
    start_ok = not labels[int(best[0])].startswith("I")
    if start_ok and np.isfinite(trans[best[:-1], best[1:]]).all():
        return [labels[i] for i in best]
    start_ok = np.array([0.0 if not l.startswith("I") else -np.inf for l in labels], dtype=np.float32)
    score = log_probs[0] + start_ok
    back = np.zeros((T, n), dtype=np.int64)
    for t in range(1, T):
        cand = score[:, None] + trans  # (from, to)
        back[t] = cand.argmax(axis=0)
        score = cand.max(axis=0) + log_probs[t]
    best = [int(score.argmax())]
    for t in range(T - 1, 0, -1):
        best.append(int(back[t, best[-1]]))
    return [labels[i] for i in reversed(best)]


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
    """Decode (T, n_labels) logits into whole-word spans with character offsets into `text`."""
    lp = log_softmax(logits.astype(np.float32))
    tags = viterbi(lp, labels)
    tag_ids = [labels.index(t) for t in tags]
    probs = np.exp(lp[np.arange(len(tags)), tag_ids]) if tags else np.zeros(0)
    first_of_word, last_of_word = enc.word_first_token(), enc.word_last_token()
    spans = []
    for a, b, kind in bio_to_spans(tags):
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
