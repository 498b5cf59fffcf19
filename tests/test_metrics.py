"""Hand-computed evaluation cases: seqeval strict, token overlap, statement matching, bootstrap."""

from __future__ import annotations

from pathlib import Path

import pytest
from seqeval.metrics import f1_score
from seqeval.scheme import IOB2

from qawl.document import Document, Entity, Span, Statement
from qawl.entity_metrics import token_tags, word_tokens
from qawl.metrics import align_predictions, compare, evaluate, resample_weights
from qawl.statement_metrics import match, speaker_correct, token_f1

FIXTURES = Path(__file__).parent / "fixtures"


def conll_tokens(doc: Document) -> list[Span]:
    """CoNLL documents are tokens joined by single spaces (as qawl.corpus builds them)."""
    out, pos = [], 0
    for tok in doc.text.split(" "):
        out.append(Span(pos, pos + len(tok), tok))
        pos += len(tok) + 1
    return out


def ent(text: str, sub: str, label: str, nth: int = 0) -> Entity:
    start = -1
    for _ in range(nth + 1):
        start = text.index(sub, start + 1)
    return Entity(start, start + len(sub), label, sub)


def span(text: str, sub: str) -> Span:
    start = text.index(sub)
    return Span(start, start + len(sub), sub)


def statement(text: str, content: str, speaker: str | None = None, name: str | None = None, **kw) -> Statement:
    return Statement("S", span(text, content), speaker=span(text, speaker) if speaker else None,
                     speaker_name=name, **kw)


def load(name: str) -> list[Document]:
    import json

    return [Document.from_dict(json.loads(line)) for line in (FIXTURES / name).read_text(encoding="utf-8").splitlines()
            if "text" in json.loads(line)]


# ---------------------------------------------------------------- entities


def test_seqeval_strict_gives_no_credit_for_a_partial_entity():
    text = "قال سامي الحداد اليوم"
    gold = Document("a", text, entities=[ent(text, "سامي الحداد", "PERS")])
    pred = Document("a", text, entities=[ent(text, "سامي", "PERS")])
    r = evaluate([gold], [pred], n_resamples=0, tokenize=conll_tokens)
    micro = r["entities"]["seqeval"]["micro"]
    assert (micro["precision"], micro["recall"], micro["f1"]) == (0.0, 0.0, 0.0)
    assert r["entities"]["span_overlap"]["micro"]["f1"] == 1.0  # overlap does credit it
    assert r["entities"]["errors"]["counts"] == {"boundary": 1}


def test_token_level_overlap_credits_an_entity_without_its_proclitic():
    text = "قال إن وروسيا شريك"  # ANERcorp tags the whole token وروسيا; qawl leaves و out
    gold = Document("1", text, entities=[ent(text, "وروسيا", "LOC")])
    pred = Document("1", text, entities=[ent(text, "روسيا", "LOC")])
    tokens = conll_tokens(gold)
    assert token_tags(tokens, gold.entities) == token_tags(tokens, pred.entities) == ["O", "O", "B-LOC", "O"]
    r = evaluate([gold], [pred], n_resamples=0, tokenize=conll_tokens)
    assert r["entities"]["seqeval"]["micro"]["f1"] == 1.0


def test_adjacent_entities_stay_two_chunks():
    text = "زار عمان دمشق"
    doc = Document("a", text, entities=[ent(text, "عمان", "LOC"), ent(text, "دمشق", "LOC")])
    assert token_tags(word_tokens(doc), doc.entities) == ["O", "B-LOC", "B-LOC"]


def test_point_estimates_are_seqevals_own(tmp_path):
    gold, pred = load("eval_gold.jsonl"), load("eval_pred.jsonl")
    r = evaluate(gold, pred, n_resamples=0)
    aligned, _ = align_predictions(gold, pred)
    y_true = [token_tags(word_tokens(g), g.entities) for g in gold]
    y_pred = [token_tags(word_tokens(g), p.entities) for g, p in zip(gold, aligned)]
    micro = r["entities"]["seqeval"]["micro"]
    assert micro["f1"] == pytest.approx(f1_score(y_true, y_pred, mode="strict", scheme=IOB2))
    # ... and the per-document counts the bootstrap resamples agree with them: 8 of 11 predicted, 8 of 12 gold.
    assert (micro["tp"], micro["n_pred"], micro["n_gold"]) == (8, 11, 12)
    assert micro["precision"] == pytest.approx(8 / 11) and micro["recall"] == pytest.approx(8 / 12)


def test_fixture_entity_scores_by_hand():
    r = evaluate(load("eval_gold.jsonl"), load("eval_pred.jsonl"), n_resamples=0)
    e = r["entities"]
    assert e["span_exact"]["micro"]["tp"] == 7  # "لقناة الفجر" keeps its ل: wrong as chars, right as tokens
    assert e["span_overlap"]["micro"]["tp"] == 9  # + "ليلى" inside "ليلى منصور"
    assert e["seqeval"]["per_type"]["ORG"]["precision"] == pytest.approx(3 / 4)
    labels, m = e["confusion"]["labels"], e["confusion"]["matrix"]
    cell = lambda g, p: m[labels.index(g)][labels.index(p)]  # noqa: E731
    assert (cell("LOC", "ORG"), cell("PERS", "PERS"), cell("LOC", "O"), cell("O", "LOC")) == (1, 3, 2, 1)


# ---------------------------------------------------------------- statements


def test_matching_is_greedy_by_best_f1_and_one_to_one():
    gold = [frozenset({0, 1, 2, 3, 4}), frozenset({10, 11})]
    pred = [frozenset({0, 1}), frozenset({0, 1, 2, 3, 4}), frozenset({20})]
    # pred 0 also reaches F1 >= 0.5 with gold 0 (4/7) but the exact pred 1 takes it first.
    assert token_f1(gold[0], pred[0]) == pytest.approx(4 / 7)
    assert match(gold, pred) == [(0, 1, 1.0)]


def test_match_threshold_is_token_f1_half():
    assert match([frozenset(range(4))], [frozenset({0, 1})]) == [(0, 0, pytest.approx(2 / 3))]
    assert match([frozenset(range(4))], [frozenset({0})]) == []  # F1 = 0.4


def test_content_tokens_ignore_punctuation_diacritics_and_quotes():
    text = "قال الوزير: \"الوضعُ مستقرّ\"."
    gold = Document("a", text, statements=[statement(text, "الوضعُ مستقرّ")])
    pred = Document("a", text, statements=[statement(text, "\"الوضعُ مستقرّ\".")])
    r = evaluate([gold], [pred], n_resamples=0)
    assert r["statements"]["content_exact"]["f1"] == 1.0


def test_speaker_containment_counts_whole_tokens_only():
    text = "قال وزير المالية سامي الحداد إن العجز تراجع وقال حداد شيئا"
    gold = statement(text, "إن العجز تراجع", "وزير المالية سامي الحداد", "سامي الحداد")
    assert speaker_correct(gold, statement(text, "إن العجز تراجع", "الحداد", None))  # contained
    assert speaker_correct(gold, statement(text, "إن العجز تراجع", None, "وزير المالية سامي الحداد"))
    assert not speaker_correct(gold, statement(text, "إن العجز تراجع", "حداد", None))  # part of a token
    assert not speaker_correct(gold, statement(text, "إن العجز تراجع", None, None))


def test_anonymous_source_is_matched_by_no_speaker():
    text = "وأكدت مصادر مطلعة أن الاتفاق قريب"
    anonymous = statement(text, "أن الاتفاق قريب")  # no name, no speaker span
    assert speaker_correct(anonymous, statement(text, "أن الاتفاق قريب"))
    assert not speaker_correct(anonymous, statement(text, "أن الاتفاق قريب", "مصادر مطلعة", "مصادر مطلعة"))
    # With a speaker span but a null name, the span is what a prediction must find.
    vague = statement(text, "أن الاتفاق قريب", "مصادر مطلعة", None)
    assert speaker_correct(vague, statement(text, "أن الاتفاق قريب", "مصادر", None))


def test_fixture_statement_scores_by_hand():
    r = evaluate(load("eval_gold.jsonl"), load("eval_pred.jsonl"), pred_errors=["d4"], n_resamples=0)
    s = r["statements"]
    assert (s["content_overlap"]["tp"], s["content_overlap"]["n_pred"], s["content_overlap"]["n_gold"]) == (7, 8, 11)
    assert s["content_exact"]["tp"] == 6
    assert s["statement"]["precision"] == pytest.approx(6 / 8) and s["statement"]["recall"] == pytest.approx(6 / 11)
    assert s["speaker_accuracy"]["accuracy"] == pytest.approx(6 / 7)
    assert s["speaker_name_accuracy"]["accuracy"] == pytest.approx(5 / 7)
    for key in ("cue_accuracy", "medium_accuracy", "kind_accuracy"):
        assert s[key]["accuracy"] == pytest.approx(6 / 7), key
    kinds = s["by_kind"]
    assert kinds["headline"]["content_overlap"]["recall"] == 0.5 and kinds["headline"]["content_overlap"]["precision"] == 1.0
    assert kinds["indirect"]["content_overlap"]["recall"] == pytest.approx(5 / 8)
    assert kinds["indirect"]["content_overlap"]["precision"] == pytest.approx(4 / 5)
    assert kinds["direct"]["content_overlap"]["precision"] == 1.0
    by_source = s["by_source"]
    assert by_source["A"]["content_overlap"]["recall"] == pytest.approx(5 / 6)
    assert by_source["unknown"]["content_overlap"]["n_gold"] == 1
    assert s["errors"]["counts"] == {"missed": 4, "spurious": 1, "wrong_speaker": 1}


# ---------------------------------------------------------------- alignment and bootstrap


def test_error_records_and_missing_predictions_count_as_empty():
    gold = load("eval_gold.jsonl")
    r = evaluate(gold, [], pred_errors=["d1"], n_resamples=0)
    assert r["statements"]["content_overlap"]["recall"] == 0.0
    assert r["statements"]["content_overlap"]["n_gold"] == 11
    info = r["meta"]["predictions"]
    assert (info["n_error_records"], info["n_missing"]) == (1, 4)


def test_a_prediction_on_another_text_counts_as_empty():
    gold = load("eval_gold.jsonl")
    pred = [Document(gold[0].id, gold[0].text + " ", entities=gold[0].entities, statements=gold[0].statements)]
    r = evaluate(gold[:1], pred, n_resamples=0)
    assert r["meta"]["predictions"]["n_text_mismatch"] == 1
    assert r["statements"]["content_overlap"]["tp"] == 0


def test_bootstrap_brackets_the_estimate_and_is_reproducible():
    gold, pred = load("eval_gold.jsonl"), load("eval_pred.jsonl")
    a = evaluate(gold, pred, n_resamples=300, seed=7)
    b = evaluate(gold, pred, n_resamples=300, seed=7)
    c = evaluate(gold, pred, n_resamples=300, seed=8)
    for r in (a,):
        for m in (r["statements"]["content_overlap"], r["statements"]["statement"], r["entities"]["seqeval"]["micro"]):
            lo, hi = m["f1_ci"]
            assert lo <= m["f1"] <= hi and lo < hi
            assert isinstance(m["f1"], float) and all(isinstance(x, float) for x in m["f1_ci"])
    assert a["statements"]["statement"]["f1_ci"] == b["statements"]["statement"]["f1_ci"]
    assert a["statements"]["statement"]["f1_ci"] != c["statements"]["statement"]["f1_ci"]


def test_resample_weights_draw_n_documents_each_time():
    w = resample_weights(5, 20, seed=0)
    assert w.shape == (20, 5) and (w.sum(axis=1) == 5).all()


def test_compare_identical_systems_differ_by_nothing():
    gold, pred = load("eval_gold.jsonl"), load("eval_pred.jsonl")
    r = compare(gold, {"a": (pred, ["d4"]), "b": (pred, ["d4"])}, n_resamples=100)
    assert r["differences"] and all(d["delta"] == 0.0 and d["ci"] == [0.0, 0.0] for d in r["differences"])
    better = compare(gold, {"pred": (pred, []), "gold": (gold, [])}, n_resamples=200)
    whole = next(d for d in better["differences"] if d["metric"] == "statements/statement")
    assert whole["delta"] == pytest.approx(1.0 - 2 * 6 / (8 + 11))
    assert whole["ci"][0] <= whole["delta"] <= whole["ci"][1]


def test_empty_input_gives_zero_scores_not_errors():
    r = evaluate([], [], n_resamples=10)
    assert r["entities"]["seqeval"]["micro"]["f1"] == 0.0 and r["entities"]["seqeval"]["micro"]["f1_ci"] is None
    assert r["statements"]["content_overlap"]["f1"] == 0.0 and set(r["statements"]["by_kind"]) == {
        "direct", "indirect", "partial", "headline"}
    assert r["meta"]["n_documents"] == 0
