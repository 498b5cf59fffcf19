import gzip
import json
import os
import xml.etree.ElementTree as ET

import pytest

from qawl.corpus import (conll_tags, conll_tokens, from_label_studio, label_studio_config, read_conll,
                         read_documents, read_jsonl, to_label_studio, write_conll, write_documents, write_jsonl)
from qawl.document import Document, Entity
from qawl.errors import CorpusError


@pytest.fixture
def news_jsonl(fixtures_dir):
    return fixtures_dir / "news.jsonl"


@pytest.fixture
def news_conll(fixtures_dir):
    return fixtures_dir / "news.conll"


def test_read_jsonl(news_jsonl):
    docs = list(read_jsonl(news_jsonl))
    assert [d.id for d in docs] == ["fx-001", "fx-002"]
    assert docs[0].statements[1].speaker is None and docs[0].statements[1].speaker_name == "فهد المطيري"
    for d in docs:
        d.check()


def test_jsonl_round_trip_is_byte_exact(news_jsonl, tmp_path):
    out = tmp_path / "out.jsonl"
    assert write_jsonl(read_documents(news_jsonl), out) == 2
    assert out.read_bytes() == news_jsonl.read_bytes()


def test_gzip_round_trip_is_deterministic(news_jsonl, tmp_path):
    a, b = tmp_path / "a.jsonl.gz", tmp_path / "b.jsonl.gz"
    write_jsonl(read_documents(news_jsonl), a)
    write_jsonl(read_documents(a), b)
    assert a.read_bytes() == b.read_bytes()
    assert gzip.decompress(a.read_bytes()) == news_jsonl.read_bytes()


def test_write_jsonl_to_stdout(news_jsonl, capsysbinary):
    write_jsonl(read_documents(news_jsonl), "-")
    assert capsysbinary.readouterr().out == news_jsonl.read_bytes()


def test_read_conll(news_conll):
    docs = list(read_conll(news_conll))
    assert [d.id for d in docs] == ["1", "2", "3"]
    first = docs[0]
    assert first.meta == {"format": "conll"}
    assert first.text.startswith("أعلن رئيس الوزراء")
    assert [(e.label, e.text) for e in first.entities] == [("PERS", "علي الساعدي"), ("LOC", "الموصل")]
    assert [(e.label, e.text) for e in docs[1].entities] == [("ORG", "وكالة الأنباء العراقية"), ("ORG", "البنك الدولي")]
    assert [t.text for t in conll_tokens(docs[2])][3] == "2.5"


def test_conll_round_trip_is_byte_exact(news_conll, tmp_path):
    out = tmp_path / "out.conll"
    assert write_conll(read_documents(news_conll), out) == 3
    assert out.read_bytes() == news_conll.read_bytes()


def test_stray_i_tag_is_read_as_an_entity_and_written_back(tmp_path):
    src = tmp_path / "stray.conll"
    src.write_text("قال O\nأحمد I-PERS\nسالم I-PERS\nفي O\nعمان B-LOC\nالأردن I-ORG\n\n", encoding="utf-8")
    (doc,) = read_conll(src)
    assert [(e.label, e.text) for e in doc.entities] == [("PERS", "أحمد سالم"), ("LOC", "عمان"), ("ORG", "الأردن")]
    assert doc.meta["stray_i"] == [1, 5]
    out = tmp_path / "out.conll"
    write_conll([doc], out)
    assert out.read_bytes() == src.read_bytes()
    with pytest.raises(CorpusError, match=r"stray.conll:2 \[1\]: I-PERS without"):
        list(read_conll(src, strict=True))


def test_conll_tags_tag_every_token_an_entity_overlaps():
    text = "زار وروسيا أمس"  # the entity excludes the proclitic و, the token includes it
    doc = Document("x", text, entities=[Entity(5, 10, "LOC", "روسيا")])
    assert conll_tags(doc) == ["O", "B-LOC", "O"]
    two = Document("y", "أ ب ج", entities=[Entity(0, 1, "PERS", "أ"), Entity(2, 5, "PERS", "ب ج")])
    assert conll_tags(two) == ["B-PERS", "B-PERS", "I-PERS"]


def test_jsonl_to_conll_converts_entities_to_tags(news_jsonl, tmp_path):
    out = tmp_path / "news.conll"
    write_documents(read_documents(news_jsonl), out)
    lines = out.read_text(encoding="utf-8").splitlines()
    assert "فهد B-PERS" in lines and "المطيري I-PERS" in lines and "الكويت: B-LOC" in lines


def test_bad_records_are_reported_and_the_rest_survive(news_jsonl, tmp_path):
    good = news_jsonl.read_bytes().splitlines()
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(b"\n".join([good[0], b"{not json", b'{"id": "x", "error": "model failed"}',
                                b'{"id": "\xff"}', b'{"text": "no id"}', good[1]]) + b"\n")
    errors: list[CorpusError] = []
    docs = list(read_documents(bad, on_error=errors.append))
    assert [d.id for d in docs] == ["fx-001", "fx-002"]
    assert [e.line for e in errors] == [2, 3, 4, 5]
    assert "invalid JSON" in errors[0].reason
    assert "error record" in errors[1].reason and errors[1].doc_id == "x"
    assert "UTF-8" in errors[2].reason
    assert "missing 'id'" in errors[3].reason
    with pytest.raises(CorpusError, match="bad.jsonl:2"):
        list(read_documents(bad))


def test_span_mismatch_raises_with_location(news_jsonl, tmp_path):
    d = json.loads(news_jsonl.read_text(encoding="utf-8").splitlines()[1])
    d["entities"][0]["text"] = "منظمة"
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(d, ensure_ascii=False) + "\n", encoding="utf-8")
    with pytest.raises(CorpusError) as info:
        list(read_documents(bad))
    assert (info.value.line, info.value.doc_id) == (1, "fx-002")
    assert "span text" in info.value.reason


def test_reading_streams(tmp_path, news_jsonl):
    line = news_jsonl.read_text(encoding="utf-8").splitlines()[0]
    big = tmp_path / "big.jsonl"
    big.write_text((line + "\n") * 50, encoding="utf-8")
    it = read_documents(big)
    assert next(it).id == "fx-001"  # a generator: nothing is read ahead into a list


def test_atomic_write_leaves_the_old_file_on_failure(tmp_path, news_jsonl):
    out = tmp_path / "out.jsonl"
    out.write_text("old\n", encoding="utf-8")

    def docs():
        yield from read_documents(news_jsonl)
        raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError):
        write_jsonl(docs(), out)
    assert out.read_text(encoding="utf-8") == "old\n"
    assert os.listdir(tmp_path) == ["out.jsonl"]  # no temp file left behind


def test_unknown_extension_and_missing_file(tmp_path):
    with pytest.raises(CorpusError, match="unknown corpus format"):
        list(read_documents(tmp_path / "x.txt"))
    with pytest.raises(CorpusError, match="file not found"):
        list(read_documents(tmp_path / "missing.jsonl"))


# ---------------------------------------------------------------- Label Studio


def test_label_studio_config_is_valid_xml_with_every_label():
    root = ET.fromstring(label_studio_config())
    values = {el.get("value") for el in root.iter("Label")}
    assert values == {"PERS", "ORG", "LOC", "MISC", "CUE", "SPEAKER", "CONTENT", "MEDIUM"}
    assert {el.get("value") for el in root.iter("Choice")} == {"direct", "indirect", "partial", "headline"}
    assert root.find(".//Relations") is not None
    assert root.find(".//TextArea").get("perRegion") == "true"


@pytest.mark.parametrize("field", ["predictions", "annotations"])
def test_label_studio_round_trip_keeps_everything(news_jsonl, field):
    docs = list(read_documents(news_jsonl))
    tasks = json.loads(json.dumps(to_label_studio(docs, field), ensure_ascii=False))
    assert from_label_studio(tasks) == docs


def test_label_studio_file_round_trip(news_jsonl, tmp_path):
    tasks = tmp_path / "tasks.json"
    write_documents(read_documents(news_jsonl), tasks)
    back = tmp_path / "back.jsonl"
    write_documents(read_documents(tasks), back)
    assert back.read_bytes() == news_jsonl.read_bytes()


def _task(text, result, **data):
    return {"id": 7, "data": {"text": text, **data}, "annotations": [{"result": result, "was_cancelled": False}]}


def _labels(rid, start, end, text, label, control="role"):
    return {"id": rid, "from_name": control, "to_name": "text", "type": "labels",
            "value": {"start": start, "end": end, "text": text, "labels": [label]}}


def test_label_studio_regions_drawn_by_an_annotator():
    text = "قال الوزير إن الخطة جاهزة"
    result = [
        _labels("a1", 0, 3, "قال", "CUE"),
        _labels("b2", 14, 25, "الخطة جاهزة", "CONTENT"),
        {"id": "b2", "from_name": "kind", "to_name": "text", "type": "choices",
         "value": {"start": 14, "end": 25, "choices": ["indirect"]}},
        {"id": "b2", "from_name": "speaker_name", "to_name": "text", "type": "textarea",
         "value": {"start": 14, "end": 25, "text": ["الوزير"]}},
        _labels("c3", 4, 10, "الوزير", "SPEAKER"),
        {"from_id": "b2", "to_id": "a1", "type": "relation", "direction": "right"},  # either direction links
        {"from_id": "c3", "to_id": "b2", "type": "relation", "direction": "right"},
    ]
    (doc,) = from_label_studio([_task(text, result)])
    assert doc.id == "7"
    (s,) = doc.statements
    assert (s.id, s.kind, s.cue.text, s.speaker.text, s.speaker_name) == ("S1", "indirect", "قال", "الوزير", "الوزير")


def test_label_studio_unlinked_role_is_an_error():
    text = "قال الوزير إن الخطة جاهزة"
    result = [_labels("a1", 0, 3, "قال", "CUE")]
    with pytest.raises(CorpusError, match="not linked"):
        from_label_studio([_task(text, result, doc_id="d9")])


def test_label_studio_bad_task_in_a_file_is_skipped(tmp_path, news_jsonl):
    docs = list(read_documents(news_jsonl))
    tasks = to_label_studio(docs)
    tasks.insert(1, {"data": {"text": "نص", "doc_id": "broken"},
                     "predictions": [{"result": [_labels("x", 0, 2, "نص", "PER", "entity")]}]})
    path = tmp_path / "tasks.json"
    path.write_text(json.dumps(tasks, ensure_ascii=False, indent=1), encoding="utf-8")
    errors: list[CorpusError] = []
    assert [d.id for d in read_documents(path, on_error=errors.append)] == ["fx-001", "fx-002"]
    (error,) = errors
    assert error.doc_id == "broken" and "unknown region labels ['PER']" in error.reason
    assert path.read_text(encoding="utf-8").splitlines()[error.line - 1].strip() == "{"


def test_label_studio_array_is_parsed_incrementally_across_chunk_boundaries(news_jsonl, tmp_path):
    from qawl.corpus import _json_array_items

    path = tmp_path / "tasks.json"
    tasks = to_label_studio(read_documents(news_jsonl))
    path.write_text(json.dumps(tasks, ensure_ascii=False, indent=2), encoding="utf-8")
    whole = list(_json_array_items(str(path)))
    tiny = list(_json_array_items(str(path), chunk_size=7))  # splits UTF-8 characters and JSON tokens
    assert whole == tiny and [item for _, item in whole] == tasks
    lines = path.read_text(encoding="utf-8").splitlines()
    assert [lines[line - 1] for line, _ in whole] == ["  {", "  {"]
