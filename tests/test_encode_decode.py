"""Label alignment across subwords and windows, and decoding back to exact original offsets."""

import numpy as np
import pytest

from qawl.decode import decode_spans, merge_windows, viterbi
from qawl.encode import IGNORE, align_labels, encode_text, make_windows
from qawl.labels import NER_LABELS, ROLE_LAYERS, ROLE_TAGS
from qawl.normalize import NormalizerConfig
from qawl.tokenizer import load_tokenizer
from tiny import annotated_article, build_tokenizer


@pytest.fixture(scope="module")
def tok(tmp_path_factory):
    return load_tokenizer(build_tokenizer(tmp_path_factory.mktemp("tok") / "tok"))


def one_hot(ids, n):
    logits = np.full((len(ids), n), -5.0, dtype=np.float32)
    for i, k in enumerate(ids):
        logits[i, max(k, 0)] = 5.0
    return logits


def gold_roundtrip(doc, tok):
    enc = encode_text(doc.text, tok, NormalizerConfig())
    labels = align_labels(doc, enc)
    procl = one_hot([max(p, 0) for p in labels.proclitics], 3)
    ents = decode_spans(one_hot(labels.ner, len(NER_LABELS)), NER_LABELS, enc, doc.text, procl)
    roles = {}
    for k, role in enumerate(ROLE_LAYERS):
        roles.setdefault(role, []).extend(
            decode_spans(one_hot([r[k] for r in labels.roles], 3), ROLE_TAGS, enc, doc.text, procl))
    return enc, labels, ents, roles


def test_gold_spans_survive_encode_and_decode(tok):
    doc = annotated_article()
    enc, labels, ents, roles = gold_roundtrip(doc, tok)
    assert [(e.start, e.end, e.label) for e in ents] == [(e.start, e.end, e.label) for e in doc.entities]
    contents = {(s.content.start, s.content.end) for s in doc.statements}
    assert {(s.start, s.end) for s in roles["CONTENT"]} == contents
    cues = {(s.cue.start, s.cue.end) for s in doc.statements}
    assert {(s.start, s.end) for s in roles["CUE"]} == cues  # "وأضاف" -> "أضاف": the proclitic is left out


def test_every_subword_of_a_span_word_is_labelled(tok):
    doc = annotated_article()
    enc, labels, _, _ = gold_roundtrip(doc, tok)
    for i in range(1, len(enc)):
        if enc.word_ids[i] == enc.word_ids[i - 1]:  # a continuation subword
            assert (labels.ner[i] == 0) == (labels.ner[i - 1] == 0)


def test_proclitic_label_only_on_span_starts(tok):
    doc = annotated_article()
    enc, labels, _, _ = gold_roundtrip(doc, tok)
    marked = [i for i, p in enumerate(labels.proclitics) if p != IGNORE]
    assert marked and all(labels.proclitics[i] in (0, 1, 2) for i in marked)
    k = next(i for i in marked if labels.proclitics[i] == 1)
    assert doc.text[enc.starts[k]] in "وفبلك"


def test_conll_convention_ignores_proclitics(tok):
    doc = annotated_article()
    enc = encode_text(doc.text, tok, NormalizerConfig())
    labels = align_labels(doc, enc, whole_token_entities=True)
    assert set(labels.proclitics) == {IGNORE}


@pytest.mark.parametrize("even", [False, True])
@pytest.mark.parametrize("n,size,overlap", [(10, 32, 8), (100, 30, 10), (257, 64, 16), (33, 32, 0)])
def test_windows_cover_every_token_once(n, size, overlap, even):
    windows = make_windows(n, size, overlap, even=even)
    covered = [0] * n
    for w in windows:
        assert 0 <= w.start <= w.core_start <= w.core_end <= w.end <= n and w.end - w.start <= size
        for i in range(w.core_start, w.core_end):
            covered[i] += 1
    assert covered == [1] * n


def test_even_windows_are_just_long_enough():
    """300 tokens in windows of at most 254 overlapping by 64: two of 182, not two of 254."""
    assert [(w.start, w.end, w.core_start, w.core_end) for w in make_windows(300, 254, 64, even=True)] == \
        [(0, 182, 0, 150), (118, 300, 150, 300)]
    assert [(w.start, w.end) for w in make_windows(300, 254, 64)] == [(0, 254), (46, 300)]


def test_long_document_over_three_windows_decodes_like_gold(tok):
    doc = annotated_article(repeat=4)
    enc = encode_text(doc.text, tok, NormalizerConfig())
    windows = make_windows(len(enc), 30, 8)
    assert len(windows) > 3
    labels = align_labels(doc, enc)
    gold = one_hot(labels.ner, len(NER_LABELS))
    # each window sees only its slice; merging must restore the document
    merged = merge_windows([gold[w.start:w.end] for w in windows], windows)
    assert np.array_equal(merged, gold)
    ents = decode_spans(merged, NER_LABELS, enc, doc.text)
    assert [(e.start, e.end) for e in ents] == [(e.start, e.end) for e in doc.entities]


def test_viterbi_never_emits_stray_inside_tag():
    labels = NER_LABELS
    lp = np.log(np.full((4, len(labels)), 0.01))
    lp[:, labels.index("I-PERS")] = np.log(0.9)  # the argmax alone would give I- I- I- I-
    tags = viterbi(lp, labels)
    assert tags[0] != "I-PERS"
    for a, b in zip(tags, tags[1:]):
        assert not b.startswith("I-") or a[2:] == b[2:]


def test_layered_viterbi_is_the_exact_constrained_optimum():
    """Batched over layers, the decoder still returns each layer's best IOB2-valid path (brute force check)."""
    import itertools

    from qawl.decode import viterbi_layers
    from qawl.labels import ROLE_TAGS, allowed_transition

    rng = np.random.default_rng(3)
    lp = np.log(rng.dirichlet(np.ones(len(ROLE_TAGS)) * 0.3, size=(6, 5))).astype(np.float32)  # (L, T, n)
    best = viterbi_layers(lp, ROLE_TAGS)
    for layer in range(lp.shape[0]):
        valid = [p for p in itertools.product(range(len(ROLE_TAGS)), repeat=lp.shape[1])
                 if not ROLE_TAGS[p[0]].startswith("I")
                 and all(allowed_transition(ROLE_TAGS[a], ROLE_TAGS[b]) for a, b in zip(p, p[1:]))]
        score = lambda p: sum(lp[layer, t, k] for t, k in enumerate(p))  # noqa: E731
        assert np.isclose(score(tuple(best[layer])), max(score(p) for p in valid))
        assert [ROLE_TAGS[k] for k in best[layer]] == viterbi(lp[layer], ROLE_TAGS)


def test_names_are_negative_speaker_candidates_in_training(tok):
    from qawl.encode import span_token_range
    from qawl.train_data import window_examples

    doc = annotated_article()
    (example,) = window_examples(doc, tok, NormalizerConfig(), 512, 64, False)
    enc = encode_text(doc.text, tok, NormalizerConfig())
    link = example["links"]["SPEAKER"]
    candidates = {tuple(c) for c in link["candidates"]}
    shifted = lambda span: tuple(i + 1 for i in span_token_range(enc, span.start, span.end))  # noqa: E731
    speakers = {shifted(s.speaker) for s in doc.statements if s.speaker}
    # names inside a speaker mention ("سامي الحداد" in "وزير الخارجية سامي الحداد") are not extra candidates
    names = {shifted(e) for e in doc.entities if e.label in ("PERS", "ORG")
             and not any(s.speaker and s.speaker.start < e.end and e.start < s.speaker.end for s in doc.statements)}
    assert names, "the fixture needs a name that is not a speaker"
    assert candidates == speakers | names
    # each target still points at the statement's own speaker (or at "none")
    for target, s in zip(link["targets"], doc.statements):
        assert target == (len(link["candidates"]) if s.speaker is None
                          else link["candidates"].index(list(shifted(s.speaker))))
