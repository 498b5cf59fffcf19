"""A corrupted copy of the fixture with one planted error a line: each is reported, with its line."""

import copy
import json

import pytest

from qawl.corpus import CorpusWarning
from qawl.validate import check_file, format_problem, validate_file


@pytest.fixture
def good(fixtures_dir):
    lines = (fixtures_dir / "news.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def _planted(good):
    """(line bytes, expected substring of the reason) for each kind of error; line 1 is clean."""
    a, b = good

    def edit(doc, fn, new_id):
        doc = copy.deepcopy(doc)
        doc["id"] = new_id
        fn(doc)
        return json.dumps(doc, ensure_ascii=False).encode("utf-8")

    def set_(path, value):
        def fn(doc):
            node = doc
            for key in path[:-1]:
                node = node[key]
            node[path[-1]] = value
        return fn

    def overlap(doc):
        e = doc["entities"][1]  # فهد المطيري; add المطيري alone, overlapping it
        doc["entities"].append({"start": e["start"] + 4, "end": e["end"], "label": "PERS", "text": e["text"][4:]})

    return [
        (json.dumps(a, ensure_ascii=False).encode(), None),
        (edit(a, set_(["entities", 0, "text"], "الكويتي"), "e-mismatch"), "span text"),
        (edit(a, set_(["entities", 2, "end"], 999), "e-range"), "outside a text of length"),
        (edit(a, set_(["entities", 0, "label"], "GPE"), "e-label"), "unknown label 'GPE'"),
        (edit(a, overlap, "e-overlap"), "overlap"),
        (edit(b, set_(["statements", 0, "content"], None), "e-content"), "no content"),
        (edit(b, set_(["statements", 1, "kind"], "quote"), "e-kind"), "unknown kind 'quote'"),
        (json.dumps(b, ensure_ascii=False).encode(), None),
        (json.dumps(b, ensure_ascii=False).encode(), "duplicate document id (first on line 8)"),
        (b'{"id": "e-json", "text": ', "invalid JSON"),
        ('{"id": "e-utf8", "text": "قال"}'.encode("utf-8")[:-4] + b'\xd9"}', "invalid UTF-8"),
        (b'{"id": "e-error", "error": "CUDA out of memory"}', "error record"),
        (b'{"id": "e-text"}', "missing 'text'"),
    ]


def test_every_planted_error_is_reported_with_its_line(good, tmp_path):
    planted = _planted(good)
    path = tmp_path / "corrupt.jsonl"
    path.write_bytes(b"\n".join(line for line, _ in planted) + b"\n")
    problems = validate_file(path)
    expected = {n: why for n, (_, why) in enumerate(planted, 1) if why}
    assert {p.line for p in problems} == set(expected)
    for p in problems:
        assert expected[p.line] in p.reason, (p.line, p.reason)
        assert p.path == str(path)
    by_line = {p.line: p for p in problems}
    assert by_line[2].doc_id == "e-mismatch" and by_line[9].doc_id == "fx-002"
    assert "valid labels: PERS, ORG, LOC, MISC" in by_line[4].reason
    assert "valid kinds: direct, indirect, partial, headline" in by_line[7].reason


def test_several_problems_in_one_document_are_all_reported(good, tmp_path):
    doc = copy.deepcopy(good[0])
    doc["entities"][0]["label"] = "GPE"
    doc["entities"][1]["text"] = "فهد"
    doc["statements"][0]["kind"] = "said"
    path = tmp_path / "multi.jsonl"
    path.write_text(json.dumps(doc, ensure_ascii=False) + "\n", encoding="utf-8")
    reasons = " | ".join(p.reason for p in validate_file(path))
    assert "GPE" in reasons and "span text" in reasons and "said" in reasons


def test_conll_problems(tmp_path):
    path = tmp_path / "bad.conll"
    path.write_text("قال O\nأحمد I-PERS\n\nفي O\nعمان B-GPE\nخطأ\n\nجيد O\n\n", encoding="utf-8")
    report = check_file(path)
    assert report.documents == 3
    assert [(p.line, p.doc_id, type(p) is CorpusWarning) for p in report.problems] == [
        (2, "1", True), (5, "2", False), (6, "2", False)]
    assert "I-PERS without a preceding B-PERS" in report.problems[0].reason
    assert "unknown tag 'B-GPE'" in report.problems[1].reason
    assert "expected 'token TAG'" in report.problems[2].reason
    assert len(report.errors) == 2 and len(report.warnings) == 1


def test_clean_fixtures_have_no_problems(fixtures_dir):
    assert validate_file(fixtures_dir / "news.jsonl") == []
    assert validate_file(fixtures_dir / "news.conll") == []


def test_format_problem(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_text('{"id": "d1"}\n', encoding="utf-8")
    (problem,) = validate_file(path)
    assert format_problem(problem) == f"{path}:1: [d1] missing 'text'"


def test_missing_file_is_one_problem(tmp_path):
    (problem,) = validate_file(tmp_path / "nope.jsonl")
    assert problem.line is None and "not found" in problem.reason
