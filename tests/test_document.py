import json

import pytest

from qawl.document import Document, Entity, Span, Statement
from qawl.errors import SpanError

TEXT = "قال وزير المالية فهد المطيري إن العجز سيتراجع."


def make_doc() -> Document:
    name = Span.of(TEXT, 17, 28)
    return Document(
        id="d1", text=TEXT, meta={"source": "test"},
        entities=[Entity(17, 28, "PERS", "فهد المطيري", score=0.75)],
        statements=[Statement(id="S1", content=Span.of(TEXT, 29, 45), cue=Span.of(TEXT, 0, 3), speaker=name,
                              speaker_name="فهد المطيري", kind="indirect", confidence=0.5)],
    )


def test_span_of_takes_the_text():
    assert Span.of(TEXT, 0, 3) == Span(0, 3, "قال")


def test_round_trip_through_json():
    doc = make_doc()
    line = json.dumps(doc.to_dict(), ensure_ascii=False)
    assert Document.from_dict(json.loads(line)) == doc


def test_to_dict_key_order_follows_annotation_md():
    d = make_doc().to_dict()
    assert list(d) == ["id", "text", "entities", "statements", "meta"]
    assert list(d["statements"][0]) == ["id", "content", "cue", "speaker", "medium", "speaker_name", "kind",
                                        "confidence"]
    assert d["statements"][0]["medium"] is None


def test_scores_are_floats_and_optional():
    d = make_doc().to_dict()
    assert isinstance(d["entities"][0]["score"], float)
    plain = Entity(0, 3, "PERS", "قال").to_dict()
    assert "score" not in plain


def test_check_accepts_matching_spans():
    make_doc().check()


@pytest.mark.parametrize("entity", [Entity(17, 28, "PERS", "فهد"), Entity(40, 99, "LOC", "x")])
def test_check_rejects_a_bad_entity(entity):
    with pytest.raises(SpanError):
        make_doc().with_annotations(entities=[entity]).check()


def test_statement_without_content_is_rejected():
    with pytest.raises(SpanError):
        Statement.from_dict({"id": "S1", "content": None})


def test_lists_are_frozen_into_tuples():
    doc = Document("d", "نص", entities=[Entity(0, 2, "MISC", "نص")])
    assert isinstance(doc.entities, tuple)
