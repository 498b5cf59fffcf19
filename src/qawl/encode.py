"""Text -> model input: normalize, tokenize with offsets, cut into overlapping windows, align labels.

Alignment policy: labels live on *words* (the tokenizer's pre-tokenized units: whitespace- and
punctuation-delimited). Every subword of a word inside a span carries the span's B/I tag, and the first
subword of the span's first word carries how many one-letter proclitics (و ف ب ل ك) the span leaves out
(0, 1 or 2), so "وروسيا" -> "روسيا" and "وللأمم" -> "لأمم" are character-exact after decoding.
Documents are never truncated: windows of `max_length` tokens overlap by `overlap` tokens, and each
token belongs to the *core* of exactly one window (the one where it has the most context).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from functools import cached_property

from qawl.document import Document
from qawl.labels import NER_LABELS, OUTSIDE, PROCLITICS, ROLE_LAYERS, ROLE_TAGS, ROLES, label2id
from qawl.normalize import NormalizerConfig, normalize
from qawl.wordvec import WordVectors

IGNORE = -100
MAX_PROCLITICS = 2
NER_IDS = label2id(NER_LABELS)
ROLE_IDS = label2id(ROLE_TAGS)


@dataclass(frozen=True)
class EncodedText:
    """Subword tokens of one document, with original-text char offsets."""

    input_ids: list[int]
    starts: list[int]  # original char offset where each token starts
    ends: list[int]  # original char offset where each token ends (exclusive)
    word_ids: list[int]  # index of the word each token belongs to
    word_vector_ids: list[int] | None = None  # row of each token's word in the model's word-vector table

    def __len__(self) -> int:
        return len(self.input_ids)

    def word_first_token(self) -> list[int]:
        """For each token, the index of the first token of its word."""
        return self._word_bounds[0]

    def word_last_token(self) -> list[int]:
        """For each token, the index of the last token of its word."""
        return self._word_bounds[1]

    @cached_property
    def _word_bounds(self) -> tuple[list[int], list[int]]:
        # computed once per document: every span and every decoded layer asks for them
        first: dict[int, int] = {}
        last: dict[int, int] = {}
        for i, w in enumerate(self.word_ids):
            first.setdefault(w, i)
            last[w] = i
        return [first[w] for w in self.word_ids], [last[w] for w in self.word_ids]


@dataclass(frozen=True)
class Window:
    start: int  # first token (document token index)
    end: int  # one past the last token
    core_start: int  # tokens in [core_start, core_end) are taken from this window when merging
    core_end: int


def encode_text(text: str, tokenizer, norm: NormalizerConfig, word_vectors: WordVectors | None = None
                ) -> EncodedText:
    normalized, offsets = normalize(text, norm)
    enc = tokenizer(normalized, add_special_tokens=False, return_offsets_mapping=True)
    starts, ends = [], []
    for a, b in enc["offset_mapping"]:
        s, e = offsets.to_original(a, b)
        starts.append(s)
        ends.append(e)
    word_ids = [w if w is not None else -1 for w in enc.word_ids()]
    vector_ids = None
    if word_vectors is not None:
        vector_ids = word_vector_rows(normalized, enc["offset_mapping"], word_ids, word_vectors)
    return EncodedText(list(enc["input_ids"]), starts, ends, word_ids, vector_ids)


def word_vector_rows(normalized: str, offsets: list[tuple[int, int]], word_ids: list[int],
                     word_vectors: WordVectors) -> list[int]:
    """Each token's word looked up in the table: the word is its normalized text, as the vectors were trained."""
    bounds: dict[int, list[int]] = {}
    for (a, b), w in zip(offsets, word_ids):
        if w in bounds:
            bounds[w][1] = b
        else:
            bounds[w] = [a, b]
    rows = dict(zip(bounds, word_vectors.ids([normalized[a:b] for a, b in bounds.values()])))
    return [rows[w] for w in word_ids]


def make_windows(n_tokens: int, max_tokens: int, overlap: int, even: bool = False) -> list[Window]:
    """Overlapping windows covering [0, n_tokens); `max_tokens` excludes [CLS]/[SEP]. Neighbours overlap by
    at least `overlap` tokens, and the core boundary between them is the middle of their overlap.

    Default (training): windows of `max_tokens`, the last one moved back to end at the document's end.
    `even` (a prediction option, off by default; README, Inference): as few windows as that, but all of one
    length, just long enough, evenly spaced. A
    document of 300 tokens in windows of 254 then takes two of 182 tokens, not two of 254: 1.2x its tokens
    through the model instead of 1.7x, and the same context of at least overlap / 2 around every token."""
    if n_tokens <= max_tokens:
        return [Window(0, n_tokens, 0, n_tokens)]
    if not 0 <= overlap < max_tokens:
        raise ValueError(f"overlap {overlap} must be in [0, {max_tokens})")
    if even:
        starts, length = _even_starts(n_tokens, max_tokens, overlap)
    else:
        step, length = max_tokens - overlap, max_tokens
        starts = list(range(0, n_tokens - max_tokens, step)) + [n_tokens - max_tokens]
    windows = []
    for k, s in enumerate(starts):
        core_start = 0 if k == 0 else (s + starts[k - 1] + length) // 2
        core_end = n_tokens if k == len(starts) - 1 else (starts[k + 1] + s + length) // 2
        windows.append(Window(s, s + length, core_start, core_end))
    return windows


def _even_starts(n_tokens: int, max_tokens: int, overlap: int) -> tuple[list[int], int]:
    """Starts and the common length of the fewest evenly spaced windows of at most `max_tokens` covering
    `n_tokens` with neighbours overlapping by at least `overlap` (n_tokens > max_tokens)."""
    k = -(-(n_tokens - overlap) // (max_tokens - overlap))  # the fewest windows that can do it
    while True:
        length = -(-(n_tokens + (k - 1) * overlap) // k)
        starts = [i * (n_tokens - length) // (k - 1) for i in range(k)]
        # integer spacing can exceed the exact one by a token: lengthen by one where the overlap fell short
        if any(b - a > length - overlap for a, b in zip(starts, starts[1:])):
            length += 1
            starts = [i * (n_tokens - length) // (k - 1) for i in range(k)]
        if length <= max_tokens:
            return starts, length
        k += 1


def span_token_range(enc: EncodedText, start: int, end: int) -> tuple[int, int] | None:
    """First and last token (inclusive) of the words that the char span [start, end) overlaps."""
    # token offsets never decrease, so the overlapping tokens are one run found by two bisections
    first = bisect.bisect_right(enc.ends, start)  # first token ending after `start`
    last = bisect.bisect_left(enc.starts, end) - 1  # last token starting before `end`
    if first > last:
        return None
    return enc.word_first_token()[first], enc.word_last_token()[last]


def proclitics_left_out(text: str, word_start: int, span_start: int) -> int | None:
    """How many proclitic characters lie between a word's start and a span's start (None: not proclitics)."""
    n = span_start - word_start
    stretch = text[word_start:span_start]
    # a tatweel may join a proclitic to a foreign word: "لـCNN" -> "CNN"
    if 0 <= n <= MAX_PROCLITICS and all(c in PROCLITICS or c == "\u0640" for c in stretch) \
            and (not stretch or stretch[0] in PROCLITICS):
        return n
    return None


@dataclass
class TokenLabels:
    ner: list[int]
    roles: list[list[int]]  # (T, len(ROLE_LAYERS))
    proclitics: list[int]  # number of proclitics left out, at a span's first token; IGNORE elsewhere


def align_labels(doc: Document, enc: EncodedText, whole_token_entities: bool = False) -> TokenLabels:
    """Token labels from a gold document. CoNLL corpora tag whole tokens (proclitic included), so their
    proclitic labels are IGNORE: they say nothing about where an article-style span starts."""
    n = len(enc)
    ner = [NER_IDS[OUTSIDE]] * n
    roles = [[ROLE_IDS[OUTSIDE]] * len(ROLE_LAYERS) for _ in range(n)]
    procl = [IGNORE] * n

    def mark_start(first: int, span_start: int) -> None:
        if whole_token_entities:
            return
        k = proclitics_left_out(doc.text, enc.starts[first], span_start)
        if k is not None:
            procl[first] = k

    for ent in sorted(doc.entities, key=lambda e: e.start):
        rng = span_token_range(enc, ent.start, ent.end)
        if rng is None:
            continue
        first, last = rng
        if any(ner[i] != NER_IDS[OUTSIDE] for i in range(first, last + 1)):
            continue  # two entities in one word: keep the first
        ner[first] = NER_IDS[f"B-{ent.label}"]
        for i in range(first + 1, last + 1):
            ner[i] = NER_IDS[f"I-{ent.label}"]
        mark_start(first, ent.start)

    for role in ROLES:
        layers = [k for k, name in enumerate(ROLE_LAYERS) if name == role]
        spans = {(getattr(s, role.lower()).start, getattr(s, role.lower()).end)
                 for s in doc.statements if getattr(s, role.lower()) is not None}
        # spans of one role that overlap go to the next layer of that role (outer spans first);
        # what still overlaps after the last layer is dropped
        for start, end in sorted(spans, key=lambda se: (se[0] - se[1], se[0])):
            rng = span_token_range(enc, start, end)
            if rng is None:
                continue
            first, last = rng
            for r in layers:
                if all(roles[i][r] == ROLE_IDS[OUTSIDE] for i in range(first, last + 1)):
                    roles[first][r] = ROLE_IDS["B"]
                    for i in range(first + 1, last + 1):
                        roles[i][r] = ROLE_IDS["I"]
                    mark_start(first, start)
                    break
    return TokenLabels(ner, roles, procl)
