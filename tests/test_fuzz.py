"""Property tests (hypothesis) on the code that turns arbitrary text into offsets: the normalizer's offset map,
the sentence splitter, window merging, span decoding and, end to end, the Extractor with the tiny model.

Inputs mix Arabic letters, diacritics, tatweel, punctuation, digits, bidi and zero-width marks, NUL and other
control characters with any (surrogate-free) Unicode. Example counts stay modest so the suite stays fast;
scripts/stress.py runs the same properties with many more examples.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qawl.decode import decode_spans, merge_windows, tag_chunks
from qawl.document import Span
from qawl.encode import encode_text, make_windows
from qawl.labels import NER_LABELS, ROLE_TAGS, bio_to_spans
from qawl.normalize import NormalizerConfig, normalize
from qawl.sentences import split_sentences
from qawl.tokenizer import load_tokenizer
from tiny import SENTENCES, build_tokenizer

# Characters that stress offsets: diacritics/tatweel (deleted, owned by a letter), bidi and zero-width marks
# (deleted, owned by nothing), punctuation and digits (spaces inserted), quotes, NUL, CR, BOM, an emoji.
TRICKY = list("قالأإآىةوفبلكسميحد ًٌٍَُِّْـ،؛؟.!:\"«»“”()0123456789٣\n\r\t") + [
    "\u200f", "\u200e", "\u200b", "\u200c", "\u202b", "\u202c", "\u2066", "\u2069", "\ufeff", "\u00ad",
    "\x00", "\x1f", "\x85", "\u2028", "\U0001F600", "\u0301"]
WORDS = [w for s in SENTENCES for w in s.split()]
TEXT = st.one_of(
    st.text(alphabet=st.sampled_from(TRICKY), max_size=120),
    st.text(max_size=80),  # any Unicode hypothesis draws (it never draws surrogates)
    st.lists(st.one_of(st.sampled_from(WORDS), st.sampled_from(TRICKY)), max_size=60).map("".join),
    st.lists(st.sampled_from(WORDS), max_size=40).map(" ".join),
)
CONFIGS = st.builds(NormalizerConfig, *[st.booleans()] * 8)
SCALE = int(os.environ.get("QAWL_FUZZ_SCALE", "1"))  # scripts/stress.py multiplies the example counts
FAST = settings(max_examples=150 * SCALE, deadline=None)
MARKS = frozenset("\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff\u00ad")


def _clean_edges(span_text: str) -> bool:
    """No span starts or ends with whitespace or with a bidi/zero-width mark (they belong to no word)."""
    return all(not c.isspace() and c not in MARKS for c in (span_text[0], span_text[-1]))


def _check_span(text: str, start: int, end: int, what: str = "span") -> None:
    assert 0 <= start < end <= len(text), (what, start, end, len(text))


# ---------------------------------------------------------------- normalizer and offset map


@FAST
@given(TEXT, CONFIGS)
def test_offset_map_is_monotonic_and_inside_the_original(text, config):
    norm, omap = normalize(text, config)
    assert len(omap) == len(norm) and omap.original_length == len(text)
    prev_end = 0
    for a, b in zip(omap.orig_starts, omap.orig_ends):
        assert prev_end <= a <= b <= len(text)  # ordered, non-overlapping, inside: what bisect relies on
        prev_end = b


@FAST
@given(TEXT, st.data())
def test_kept_characters_are_the_original_characters(text, data):
    norm, omap = normalize(text)  # default settings: no letter unification, so kept letters are unchanged
    for i, (a, b) in enumerate(zip(omap.orig_starts, omap.orig_ends)):
        if a < b:
            assert norm[i] == text[a]
        else:
            assert norm[i] == " "  # the only inserted character


@FAST
@given(TEXT, CONFIGS, st.data())
def test_normalized_span_round_trips(text, config, data):
    norm, omap = normalize(text, config)
    lo = data.draw(st.integers(0, len(norm)))
    hi = data.draw(st.integers(lo, len(norm)))
    start, end = omap.to_original(lo, hi)
    assert 0 <= start <= end <= len(text)
    if lo < hi and omap.orig_starts[lo] < omap.orig_ends[lo] and omap.orig_starts[hi - 1] < omap.orig_ends[hi - 1]:
        # a range that starts and ends on kept characters comes back exactly
        assert omap.to_normalized(start, end) == (lo, hi)


@FAST
@given(TEXT, CONFIGS, st.data())
def test_original_span_round_trips(text, config, data):
    norm, omap = normalize(text, config)
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, len(text)))
    lo, hi = omap.to_normalized(start, end)
    assert 0 <= lo <= hi <= len(norm)
    back_start, back_end = omap.to_original(lo, hi)
    assert 0 <= back_start <= back_end <= len(text)
    # every kept character of [start, end) is inside what the normalized range maps back to
    kept = [a for a, b in zip(omap.orig_starts, omap.orig_ends) if a < b and start <= a < end]
    if kept:
        assert back_start <= kept[0] and kept[-1] < back_end


# ---------------------------------------------------------------- sentences


@FAST
@given(TEXT, st.booleans())
def test_sentences_are_valid_ordered_and_cover_the_text(text, clauses):
    spans = split_sentences(text, clauses=clauses)
    prev_end = 0
    for s in spans:
        _check_span(text, s.start, s.end, "sentence")
        assert s.start >= prev_end
        assert text[s.start:s.end] == s.text
        assert not s.text[0].isspace() and not s.text[-1].isspace()
        prev_end = s.end
    covered = {i for s in spans for i in range(s.start, s.end)}
    assert all(i in covered for i, c in enumerate(text) if not c.isspace())  # nothing is dropped


# ---------------------------------------------------------------- windows


@FAST
@given(st.integers(0, 2000), st.integers(1, 300), st.data())
def test_windows_cover_every_token_exactly_once(n, size, data):
    overlap = data.draw(st.integers(0, size - 1))
    even = data.draw(st.booleans())
    windows = make_windows(n, size, overlap, even=even)
    covered = np.zeros(n, dtype=int)
    for k, w in enumerate(windows):
        assert 0 <= w.start <= w.core_start <= w.core_end <= w.end <= n and w.end - w.start <= size
        if k:
            assert w.start > windows[k - 1].start and w.core_start == windows[k - 1].core_end
            assert windows[k - 1].end - w.start >= overlap  # every token keeps its context
        covered[w.core_start:w.core_end] += 1
    if even:  # as few windows as full-length ones, all of one length
        assert len(windows) == len(make_windows(n, size, overlap))
        assert len({w.end - w.start for w in windows}) <= 1
    assert (covered == 1).all()
    if n:
        # merging per-window slices of a document array gives the array back
        doc = np.random.default_rng(n).normal(size=(n, 3)).astype(np.float32)
        assert np.array_equal(merge_windows([doc[w.start:w.end] for w in windows], windows), doc)


# ---------------------------------------------------------------- decoding


@FAST
@given(st.sampled_from([NER_LABELS, ROLE_TAGS]), st.data())
def test_tag_chunks_over_ids_are_the_chunks_of_the_tag_strings(labels, data):
    """Stray I- tags, type changes, runs at either end: the id-based chunker that skips O tokens agrees."""
    ids = data.draw(st.lists(st.integers(0, len(labels) - 1), max_size=60))
    assert tag_chunks(np.array(ids, dtype=np.int64), labels) == bio_to_spans([labels[i] for i in ids])


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory):
    return load_tokenizer(build_tokenizer(tmp_path_factory.mktemp("fuzz-tok") / "tok"))


@settings(max_examples=150 * SCALE, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=TEXT, seed=st.integers(0, 2**32 - 1), scale=st.sampled_from([0.5, 3.0, 20.0]),
       with_proclitics=st.booleans())
def test_decoded_spans_are_exact_and_never_overlap(tokenizer, text, seed, scale, with_proclitics):
    enc = encode_text(text, tokenizer, NormalizerConfig())
    rng = np.random.default_rng(seed)
    procl = rng.normal(size=(len(enc), 3)).astype(np.float32) * scale if with_proclitics else None
    for labels in (NER_LABELS, ROLE_TAGS):
        logits = rng.normal(size=(len(enc), len(labels))).astype(np.float32) * scale
        spans = decode_spans(logits, labels, enc, text, procl)
        prev_end = 0
        for s in spans:
            _check_span(text, s.start, s.end)
            assert s.start >= prev_end  # sorted and non-overlapping within one layer
            assert 0 <= s.first <= s.last < len(enc) and 0.0 <= s.score <= 1.0
            span = Span.of(text, s.start, s.end)
            span.check(text)
            assert _clean_edges(span.text), span.text
            prev_end = s.end


# ---------------------------------------------------------------- end to end


@settings(max_examples=60 * SCALE, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts=st.lists(TEXT, min_size=1, max_size=4))
def test_extractor_output_always_validates(tiny_extractor, texts):
    docs = list(tiny_extractor.pipe(texts, batch_size=3))
    assert [d.text for d in docs] == texts
    for d in docs:
        d.check()  # every entity and statement span: inside the text, text[start:end] == span text
        for e in d.entities:
            assert e.start < e.end and e.label in ("PERS", "ORG", "LOC", "MISC") and _clean_edges(e.text)
        for s in d.statements:
            assert s.content.start < s.content.end and 0.0 <= s.confidence <= 1.0


@pytest.fixture(scope="module")
def tiny_extractor(tiny_model_dir):
    from qawl.pipeline import Extractor

    return Extractor.load(tiny_model_dir, device="cpu")
