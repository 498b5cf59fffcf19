"""Bad input, for the library (Extractor with the tiny model), `qawl data validate` and `qawl extract`.

Each bad record gets a clear problem naming its id and line, and every good record is still processed.
"""

from __future__ import annotations

import gzip
import json
import re
import time
import tracemalloc
from pathlib import Path

import pytest

from qawl.cli.main import main
from qawl.corpus import read_documents
from qawl.document import Document
from qawl.errors import CorpusError, DocumentTooLarge
from qawl.pipeline import DEFAULT_MAX_CHARS, Extractor
from tiny import SENTENCES, annotated_article

MARKS = "\u200f\u200e\u202b\u202c\u2066\u2069\u200b"


@pytest.fixture(scope="module")
def extractor(tiny_model_dir) -> Extractor:
    return Extractor.load(tiny_model_dir, device="cpu")


def found(doc: Document) -> tuple[list, list]:
    """What was found, without offsets: entity (label, text) and statement content texts."""
    return [(e.label, e.text) for e in doc.entities], [s.content.text for s in doc.statements]


def repeat_to(text: str, n_chars: int, sep: str = "\n\n") -> str:
    return ((text + sep) * (n_chars // (len(text) + len(sep)) + 1))[:n_chars]


# ---------------------------------------------------------------- library: odd texts


@pytest.mark.parametrize("text", ["", " ", "\n\n\t\r\n", MARKS, "\x00\x00", "\ufeff"])
def test_empty_and_blank_texts_give_empty_documents(extractor, text):
    doc = extractor(text)
    assert doc.text == text and doc.entities == () and doc.statements == ()


@pytest.mark.parametrize("text", ["The minister said talks would resume on 3.5.2024.", "1234 5678 % $ @",
                                  "😀🙂 Привет мир 你好", "<<<>>> &&& ;;;"])
def test_text_without_arabic_is_processed_without_error(extractor, text):
    doc = extractor(text)
    doc.check()
    assert doc.text == text


def test_bidi_and_zero_width_marks_change_nothing_but_offsets(extractor):
    """The normalizer removes the marks, so the model sees the same input; no span starts or ends on one."""
    clean = annotated_article().text
    marked = re.sub(r"(\S+)", lambda m: f"{MARKS[len(m.group()) % len(MARKS)]}{m.group()}\u200e", clean)
    a, b = extractor(clean), extractor(marked)
    b.check()
    unmarked = [(label, text.translate({ord(m): None for m in MARKS})) for label, text in found(b)[0]]
    assert unmarked == found(a)[0] and found(a)[0]  # marks between the words of a name stay in its text
    for e in b.entities:
        assert e.text[0] not in MARKS and e.text[-1] not in MARKS


def test_mixed_scripts_keep_exact_offsets(extractor):
    text = ("قال وزير الخارجية سامي الحداد (Sami Haddad) لوكالة Reuters إن بلاده ترحب بالحوار، "
            "وأضاف في تغريدة على X: «نحن مستعدون» 2024/05/01 — 😀")
    doc = extractor(text)
    doc.check()
    assert doc.entities


def test_nul_bytes_between_words_change_nothing_but_offsets(extractor):
    clean = annotated_article().text
    with_nul = clean.replace(" ", " \x00", 7).replace("\n", "\x00\n")
    a, b = extractor(clean), extractor(with_nul)
    b.check()
    assert found(b)[0] == found(a)[0]


def test_leftover_html_is_kept_and_offsets_point_into_it(extractor):
    text = ("<p>قال وزير الخارجية <b>سامي الحداد</b> &quot;إن بلاده ترحب بالحوار&quot;</p>\n"
            "<br/>&amp;nbsp; " + SENTENCES[1])
    doc = extractor(text)
    doc.check()  # the text is kept as given (tags included) and every span agrees with it
    assert doc.text == text


def test_long_article_is_read_in_windows_to_its_end(extractor):
    article = annotated_article().text
    text = repeat_to(article, 60_000)
    enc = extractor.encode(Document("long", text))
    assert len(enc.windows) > 100  # far more than three windows
    doc = extractor(text)
    doc.check()
    copies = len(text) // len(article)
    assert len(doc.entities) >= copies and len(doc.statements) >= copies // 2
    # nothing was cut off: predictions reach the last copy of the article
    assert max(e.end for e in doc.entities) > len(text) - len(article)
    assert max(s.content.end for s in doc.statements) > len(text) - len(article)


@pytest.mark.slow
def test_two_megabyte_article(extractor):
    article = annotated_article().text
    text = repeat_to(article, 2_000_000)
    doc = extractor(text)
    doc.check()
    assert len(doc.entities) >= len(text) // len(article)
    assert max(e.end for e in doc.entities) > len(text) - len(article)
    assert max(s.content.end for s in doc.statements) > len(text) - len(article)


# ---------------------------------------------------------------- library: resource bounds


def test_document_above_max_chars_is_refused_with_id_size_and_limit(tiny_model_dir):
    ex = Extractor.load(tiny_model_dir, device="cpu", max_chars=1_000)
    ok = Document("ok", repeat_to(SENTENCES[0], 1_000))
    big = Document("big-1", repeat_to(SENTENCES[0], 1_001))
    assert ex(ok).text == ok.text  # at the limit: fine
    with pytest.raises(DocumentTooLarge) as info:
        ex(big)
    err = info.value
    assert (err.doc_id, err.size, err.limit) == ("big-1", 1_001, 1_000)
    assert "'big-1'" in str(err) and "1,001" in str(err) and "1,000" in str(err) and "max-chars" in str(err)
    # in a stream: every document before the big one is delivered, then the error
    stream = ex.pipe([Document("a", SENTENCES[0]), Document("b", SENTENCES[1]), big, ok], batch_size=8)
    assert [next(stream).id, next(stream).id] == ["a", "b"]
    with pytest.raises(DocumentTooLarge):
        next(stream)


def test_default_limit_refuses_before_any_work(extractor, monkeypatch):
    assert extractor.max_chars == DEFAULT_MAX_CHARS == 5_000_000
    monkeypatch.setattr(extractor, "encode", lambda doc: pytest.fail("a refused document must not be encoded"))
    text = "ق" * (DEFAULT_MAX_CHARS + 1)
    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        with pytest.raises(DocumentTooLarge):
            extractor(text)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - t0 < 1.0 and peak < 1_000_000  # refused up front: no time, no memory


# ---------------------------------------------------------------- corpora: `qawl data validate`


def bad_corpus(path: Path) -> Path:
    """Good records on lines 1, 4 and 10; every other line has one problem."""
    good = [json.dumps({"id": f"g{i}", "text": s}, ensure_ascii=False).encode() for i, s in enumerate(SENTENCES[:3])]
    lines = [
        good[0],                                                                   # 1 good
        '{"id": "cut", "text": "قال الوز'.encode(),                               # 2 cut-off JSON
        b'{"id": "no-text", "meta": {}}',                                          # 3
        good[1],                                                                   # 4 good
        json.dumps({"id": "g0", "text": SENTENCES[4]}, ensure_ascii=False).encode(),  # 5 duplicate id
        '{"id": "bad-utf8", "text": "قال"}'.encode()[:-4] + b'\xd9"}',            # 6
        json.dumps({"id": "empty", "text": ""}).encode(),                          # 7
        json.dumps({"id": "html", "text": "<p>قال الوزير &quot;نعم&quot;</p>"}, ensure_ascii=False).encode(),  # 8
        json.dumps({"id": "nul", "text": "قال\x00 الوزير"}, ensure_ascii=False).encode(),  # 9
        good[2],                                                                   # 10 good
        json.dumps({"id": "latin", "text": "no Arabic here"}).encode(),            # 11
    ]
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def test_validate_names_id_line_and_problem_for_each_bad_record(tmp_path, capsys):
    path = bad_corpus(tmp_path / "bad.jsonl")
    assert main(["data", "validate", str(path)]) == 1
    out = capsys.readouterr().out.splitlines()
    expected = {
        2: "[cut] invalid JSON", 3: "[no-text] missing 'text'", 5: "[g0] duplicate document id (first on line 1)",
        6: "[bad-utf8] invalid UTF-8", 7: "[empty] warning: empty text", 8: "[html] warning: leftover HTML tag '<p>'",
        9: "[nul] warning: control character U+0000 at offset 3", 11: "[latin] warning: no Arabic letters",
    }
    for line, problem in expected.items():
        assert any(o.startswith(f"{path}:{line}: ") and problem in o for o in out), (line, problem, out)
    assert not any(o.startswith((f"{path}:1:", f"{path}:4:", f"{path}:10:")) for o in out)
    assert out[-1] == "1 file(s), 11 record(s): 4 error(s), 5 warning(s)"


def test_reading_skips_bad_records_and_keeps_every_good_one(tmp_path):
    path = bad_corpus(tmp_path / "bad.jsonl")
    problems: list[CorpusError] = []
    docs = list(read_documents(path, on_error=problems.append))
    # warnings do not stop a record; the duplicate id is a validate-level problem
    assert [d.id for d in docs] == ["g0", "g1", "g0", "empty", "html", "nul", "g2", "latin"]
    assert [(p.line, p.doc_id) for p in problems] == [(2, "cut"), (3, "no-text"), (6, "bad-utf8")]


def test_truncated_gzip_reports_where_it_stopped_and_keeps_what_was_read(tmp_path, capsys):
    records = [json.dumps({"id": f"d{i}", "text": annotated_article().text}, ensure_ascii=False) for i in range(40)]
    data = gzip.compress(("\n".join(records) + "\n").encode("utf-8"), mtime=0)
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(data[: len(data) * 2 // 3])
    assert main(["data", "validate", str(path)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2 and re.match(rf"{re.escape(str(path))}:\d+: cannot read further: ", out[0]), out
    docs = list(read_documents(path, on_error=lambda e: None))
    assert 0 < len(docs) < 40 and [d.id for d in docs] == [f"d{i}" for i in range(len(docs))]


def test_validate_refuses_a_text_file_with_a_clear_usage_error(tmp_path, capsys):
    path = tmp_path / "article.txt"
    path.write_bytes(SENTENCES[0].encode("cp1256"))
    assert main(["data", "validate", str(path)]) == 1
    assert "unknown corpus format; use .jsonl" in capsys.readouterr().out


# ---------------------------------------------------------------- `qawl extract`


@pytest.fixture
def extract(tiny_model_dir, capsys):
    """main(['extract', ...]) with the tiny model -> (exit code, output records, stderr)."""

    def go(*args) -> tuple[int, list[dict], str]:
        code = main(["extract", "--model", str(tiny_model_dir), "--quiet", *map(str, args)])
        out, err = capsys.readouterr()
        return code, [json.loads(line) for line in out.splitlines() if line.strip()], err

    return go


def test_extract_bad_jsonl_records_become_error_records(extract, tmp_path):
    path = bad_corpus(tmp_path / "bad.jsonl")
    code, recs, _ = extract(path)
    assert code == 1
    assert len(recs) == 11  # one output record per input record, in order
    errors = {i + 1: r["error"] for i, r in enumerate(recs) if "error" in r}
    assert set(errors) == {2, 3, 6, 7, 11}
    assert all("bad.jsonl:" in e for e in errors.values())  # each names its line
    assert [recs[i - 1]["id"] for i in (2, 3, 7)] == ["cut", "no-text", "empty"]
    assert recs[5]["id"] in ("bad-utf8", "bad.jsonl:6")  # an undecodable line is named by its id or its place
    # good records, duplicates, HTML and NUL texts are predicted, with offsets into their own text
    for i in (1, 4, 5, 8, 9, 10):
        Document.from_dict(recs[i - 1]).check()
    assert [recs[i - 1]["id"] for i in (1, 5)] == ["g0", "g0"]


def test_extract_txt_inputs_of_every_kind(extract, tmp_path):
    d = tmp_path / "news"
    d.mkdir()
    (d / "a-utf8.txt").write_text(SENTENCES[0], encoding="utf-8")
    (d / "b-cp1256.txt").write_bytes(SENTENCES[1].encode("cp1256"))
    (d / "c-junk.txt").write_bytes(b"\xff\xfe\x00\x01garbage\x9d")
    (d / "d-empty.txt").write_bytes(b"")
    (d / "e-html.txt").write_text("<div>" + SENTENCES[2] + "&nbsp;</div>", encoding="utf-8")
    (d / "f-bom-crlf.txt").write_bytes("\ufeff".encode() + SENTENCES[3].replace(" ", "\r\n", 2).encode())
    code, recs, _ = extract(d)
    assert code == 1
    assert [r["id"] for r in recs] == ["a-utf8", "b-cp1256", "c-junk", "d-empty", "e-html", "f-bom-crlf"]
    assert recs[1]["text"] == SENTENCES[1]  # Windows-1256 decoded
    assert "not UTF-8" in recs[2]["error"] and "empty" in recs[3]["error"]
    for r in (recs[0], recs[1], recs[4], recs[5]):
        Document.from_dict(r).check()


def test_extract_truncated_gzip_keeps_what_was_read(extract, tmp_path):
    records = [json.dumps({"id": f"d{i}", "text": SENTENCES[i % 10]}, ensure_ascii=False) for i in range(300)]
    data = gzip.compress(("\n".join(records) + "\n").encode("utf-8"), mtime=0)
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(data[: len(data) // 2])
    code, recs, _ = extract(path)
    assert code == 1
    assert "cannot read further" in recs[-1]["error"]
    good = recs[:-1]
    assert good and [r["id"] for r in good] == [f"d{i}" for i in range(len(good))]


def test_extract_max_chars_gives_an_error_record_and_goes_on(extract, tmp_path):
    path = tmp_path / "in.jsonl"
    rows = [{"id": "small", "text": SENTENCES[0]}, {"id": "huge", "text": repeat_to(SENTENCES[1], 5_000)},
            {"id": "small2", "text": SENTENCES[2]}]
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    code, recs, _ = extract("--max-chars", "4000", path)
    assert code == 1
    assert [r["id"] for r in recs] == ["small", "huge", "small2"]
    assert "error" not in recs[0] and "error" not in recs[2]
    assert "'huge' has 5,000 characters, above the limit of 4,000" in recs[1]["error"]
    code, recs, _ = extract(path)  # the default limit is far above
    assert code == 0 and all("error" not in r for r in recs)


def test_extract_exit_codes(extract, tmp_path):
    good = tmp_path / "good.jsonl"
    good.write_text(json.dumps({"id": "g", "text": SENTENCES[0]}, ensure_ascii=False) + "\n", encoding="utf-8")
    assert extract(good)[0] == 0
    assert extract(bad_corpus(tmp_path / "bad.jsonl"))[0] == 1
    code, _, err = extract(tmp_path / "missing.jsonl")
    assert code == 2 and "no such file" in err
    with pytest.raises(SystemExit) as exc:
        extract("--max-chars", "0", good)
    assert exc.value.code == 2
