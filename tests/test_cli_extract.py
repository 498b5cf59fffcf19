"""`qawl extract` end to end with the tiny model: inputs, formats, error records, exit codes, resume, atomicity."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from qawl.cli.main import main
from qawl.document import Document

# Invented news sentences, written for these tests.
ARTICLES = {
    "n1": "قال وزير الخارجية سامي الحداد إن بلاده ترحب بالحوار مع جيرانها.",
    "n2": "وأكدت وزارة الصحة في بيان أن عدد المصابين تراجع خلال الأسبوع الماضي.",
    "n3": "أعلنت شركة النور للطاقة عن افتتاح محطة شمسية في مدينة الزرقاء.\nوقال المدير إن المحطة ستعمل في الصيف.",
    "n4": "وأوضح الخبير الاقتصادي كريم عادل أن الدولار سجل تراجعا أمام اليورو.",
}


def write_jsonl(path: Path, records: list) -> Path:
    lines = [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in records]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def articles(tmp_path) -> Path:
    return write_jsonl(tmp_path / "in.jsonl", [{"id": k, "text": v, "meta": {"source": "test", "n": i},
                                                "url": f"https://example.org/{k}"}
                                               for i, (k, v) in enumerate(ARTICLES.items())])


@pytest.fixture
def run(tiny_model_dir, capsys):
    """main(['extract', '--model', tiny, '--quiet', *args]) -> (exit code, stdout, stderr)."""

    def go(*args: str, quiet: bool = True) -> tuple[int, str, str]:
        argv = ["extract", "--model", str(tiny_model_dir), *(["--quiet"] if quiet else []), *map(str, args)]
        code = main(argv)
        out, err = capsys.readouterr()
        return code, out, err

    return go


def records(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_jsonl_keeps_ids_order_meta_and_other_fields(run, articles, tiny_model_dir):
    code, out, _ = run(articles)
    assert code == 0
    recs = records(out)
    assert [r["id"] for r in recs] == list(ARTICLES)
    for i, r in enumerate(recs):
        assert r["text"] == ARTICLES[r["id"]]
        assert r["meta"]["source"] == "test" and r["meta"]["n"] == i
        assert r["meta"]["qawl"] == {"version": "0.1.0", "model": str(tiny_model_dir)}
        assert r["url"] == f"https://example.org/{r['id']}"
        Document.from_dict(r).check()  # offsets point into the original text
        for s in r["statements"]:
            assert 0.0 <= s["confidence"] <= 1.0
    assert any(r["statements"] for r in recs)


def test_txt_file_directory_and_gz(run, tmp_path):
    folder = tmp_path / "news"
    folder.mkdir()
    for name in ("b", "a", "c"):
        (folder / f"{name}.txt").write_text(ARTICLES["n1"] + "\n", encoding="utf-8")
    (folder / "notes.md").write_text("not an article", encoding="utf-8")
    import gzip

    gz = tmp_path / "more.jsonl.gz"
    with gzip.open(gz, "wt", encoding="utf-8") as f:
        f.write(json.dumps({"id": "z", "text": ARTICLES["n2"]}, ensure_ascii=False) + "\n")
    code, out, _ = run(folder / "b.txt", folder, gz)
    assert code == 0
    recs = records(out)
    assert [r["id"] for r in recs] == ["b", "a", "b", "c", "z"]
    assert recs[0]["text"] == ARTICLES["n1"] + "\n"  # the text as it is in the file


def test_stdin_jsonl_and_plain_text(run, monkeypatch):
    stdin = json.dumps({"id": "s1", "text": ARTICLES["n1"]}, ensure_ascii=False) + "\n"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin.encode("utf-8"))))
    code, out, _ = run("-")
    assert code == 0 and [r["id"] for r in records(out)] == ["s1"]
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(ARTICLES["n3"].encode("utf-8"))))
    code, out, _ = run("-")
    (rec,) = records(out)
    assert code == 0 and rec["id"] == "stdin" and rec["text"] == ARTICLES["n3"]


def test_json_format_parses(run, articles, tmp_path):
    out = tmp_path / "out.json"
    assert run("-o", out, articles)[0] == 0
    data = json.loads(out.read_text(encoding="utf-8"))
    assert [r["id"] for r in data] == list(ARTICLES)
    assert run("--format", "json", write_jsonl(tmp_path / "empty.jsonl", []))[1].strip() == "[]"


def test_csv_has_bom_header_and_one_row_per_statement(run, articles, tmp_path):
    out = tmp_path / "out.csv"
    assert run("-o", out, articles)[0] == 0
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == ["doc_id", "statement_id", "speaker_name", "speaker", "cue", "content", "medium", "kind",
                       "confidence"]
    code, jsonl, _ = run(articles)
    expected = [(r["id"], s["id"], s["content"]["text"]) for r in records(jsonl) for s in r["statements"]]
    assert [(r[0], r[1], r[5]) for r in rows[1:]] == expected


def test_html_is_rtl_and_escaped(run, tmp_path):
    src = write_jsonl(tmp_path / "x.jsonl", [{"id": "<b>x</b>", "text": ARTICLES["n1"] + " <script>alert(1)</script>"},
                                             {"id": "bad", "text": ""}])
    out = tmp_path / "page.html"
    assert run("-o", out, src)[0] == 1
    page = out.read_text(encoding="utf-8")
    assert 'dir="rtl"' in page and "<script>" not in page and "<b>x</b>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "&lt;b&gt;x&lt;/b&gt;" in page
    assert "<table>" in page or "no statements" in page


def test_error_records_and_exit_code(run, tmp_path):
    src = write_jsonl(tmp_path / "in.jsonl", [
        {"id": "ok", "text": ARTICLES["n1"]},
        {"id": "empty", "text": ""},
        {"id": "blank", "text": " \n\t "},
        {"id": "latin", "text": "The minister said the talks would resume."},
        '{"id": "broken", "text": "نص',
        {"id": "notext", "meta": {}},
        {"id": "ok2", "text": ARTICLES["n2"]},
    ])
    code, out, _ = run(src)
    assert code == 1
    recs = records(out)
    assert [r["id"] for r in recs] == ["ok", "empty", "blank", "latin", "broken", "notext", "ok2"]
    errors = {r["id"]: r["error"] for r in recs if "error" in r}
    assert set(errors) == {"empty", "blank", "latin", "broken", "notext"}
    assert all(set(r) == {"id", "error"} for r in recs if "error" in r)
    assert "in.jsonl:5: malformed JSON" in errors["broken"] and "no Arabic" in errors["latin"]
    assert "no 'text'" in errors["notext"]
    assert "text" in recs[-1]  # the run went on after the failures


def test_usage_errors_exit_2(run, tmp_path, articles):
    assert run()[0] == 2  # no input
    assert run(tmp_path / "missing.jsonl")[0] == 2
    assert run(tmp_path)[0] == 0  # an empty directory is fine: nothing to do
    (tmp_path / "x.csv").write_text("a,b\n")
    assert run(tmp_path / "x.csv")[0] == 2
    assert run("--resume", articles)[0] == 2  # --resume needs -o
    assert run("--resume", "-o", tmp_path / "o.csv", articles)[0] == 2
    assert main(["extract", "--model", str(tmp_path / "nomodel"), str(articles)]) == 2
    with pytest.raises(SystemExit) as exc:
        main(["extract", "--format", "xml", str(articles)])
    assert exc.value.code == 2
    with pytest.raises(SystemExit):
        main(["extract", "--batch-size", "0", str(articles)])


def test_device_flag_and_quantize(run, articles):
    import torch

    if not torch.cuda.is_available():
        assert run("--device", "cuda", articles)[0] == 2  # a clear usage error, not a CUDA traceback
    assert run("--device", "cuda", "--quantize", articles)[0] == 2  # int8 is CPU only
    assert run("--quantize", "--precision", "fp16", articles)[0] == 2  # int8 weights keep fp32 activations
    code, out, _ = run("--device", "cpu", articles)
    code_q, out_q, _ = run("--quantize", articles)
    assert code == code_q == 0
    plain, quantized = records(out), records(out_q)
    assert [r["id"] for r in quantized] == [r["id"] for r in plain]
    for r in quantized:
        Document.from_dict(r).check()


@pytest.mark.skipif("not __import__('torch').cuda.is_available()", reason="needs a CUDA device")
@pytest.mark.parametrize("precision", ["auto", "fp32", "fp16"])
def test_extract_on_cuda(run, articles, precision):
    code, out, _ = run("--device", "cuda", "--precision", precision, articles)
    code_cpu, out_cpu, _ = run("--device", "cpu", articles)
    assert code == code_cpu == 0
    on_gpu, on_cpu = records(out), records(out_cpu)
    assert [r["id"] for r in on_gpu] == [r["id"] for r in on_cpu]
    for r in on_gpu:
        Document.from_dict(r).check()


def test_windows_1256_txt_and_undecodable(run, tmp_path):
    (tmp_path / "w.txt").write_bytes(ARTICLES["n4"].encode("cp1256"))
    (tmp_path / "latin1.txt").write_bytes("Le ministre a dit été".encode("latin-1"))
    (tmp_path / "junk.txt").write_bytes(b"\xe9t\xe9\x01\x02\xff")
    code, out, _ = run(tmp_path / "w.txt", tmp_path / "latin1.txt", tmp_path / "junk.txt")
    assert code == 1
    w, latin, junk = records(out)
    assert w["text"] == ARTICLES["n4"] and "error" not in w
    assert "not UTF-8" in latin["error"] and "not UTF-8" in junk["error"]


def test_min_confidence(run, articles):
    _, out, _ = run(articles)
    everything = records(out)
    assert any(r["statements"] for r in everything)
    _, out, _ = run("--min-confidence", "1.01", articles)
    assert all(r["statements"] == [] and r["entities"] == [] for r in records(out))
    _, out, _ = run("--min-confidence", "0", articles)
    assert records(out) == everything
    confidences = sorted(s["confidence"] for r in everything for s in r["statements"])
    middle = confidences[len(confidences) // 2]
    _, out, _ = run("--min-confidence", str(middle), articles)
    kept = [(r["id"], s["id"]) for r in records(out) for s in r["statements"]]
    assert kept == [(r["id"], s["id"]) for r in everything for s in r["statements"] if s["confidence"] >= middle]


def test_resume_skips_done_ids(run, articles, tmp_path):
    out = tmp_path / "out.jsonl"
    done = [{"id": "n1", "text": ARTICLES["n1"], "entities": [], "statements": [], "meta": {"earlier": True}},
            {"id": "n2", "error": "failed before"}]
    write_jsonl(out, done)
    code, _, _ = run("--resume", "-o", out, articles)
    assert code == 0
    recs = records(out.read_text(encoding="utf-8"))
    assert [r["id"] for r in recs] == ["n1", "n2", "n3", "n4"]
    assert recs[0]["meta"] == {"earlier": True} and recs[1]["error"] == "failed before"
    assert run("--resume", "-o", out, articles)[0] == 0  # nothing left to do
    assert out.read_text(encoding="utf-8").count("\n") == 4
    assert sorted(os.listdir(tmp_path)) == ["in.jsonl", "out.jsonl"]  # no temp files left


def _fail_after(monkeypatch, n: int, exc: BaseException) -> None:
    from qawl import writers

    original, calls = writers.JsonlWriter.write, []

    def write(self, record):
        calls.append(record)
        if len(calls) > n:
            raise exc
        original(self, record)

    monkeypatch.setattr(writers.JsonlWriter, "write", write)


def test_output_is_atomic_when_a_run_crashes(run, articles, tmp_path, monkeypatch):
    out = tmp_path / "out.jsonl"
    _fail_after(monkeypatch, 2, RuntimeError("disk on fire"))
    with pytest.raises(RuntimeError):
        run("-o", out, articles)
    assert not out.exists()
    out.write_text("previous\n", encoding="utf-8")
    with pytest.raises(RuntimeError):
        run("-o", out, articles)
    assert out.read_text(encoding="utf-8") == "previous\n"  # untouched, not half-written
    assert sorted(os.listdir(tmp_path)) == ["in.jsonl", "out.jsonl"]


def test_interrupted_resume_keeps_completed_records(run, articles, tmp_path, monkeypatch):
    out = tmp_path / "out.jsonl"
    _fail_after(monkeypatch, 2, KeyboardInterrupt())
    assert run("--resume", "--batch-size", "1", "-o", out, articles)[0] == 130
    assert [r["id"] for r in records(out.read_text(encoding="utf-8"))] == ["n1", "n2"]
    monkeypatch.undo()
    assert run("--resume", "-o", out, articles)[0] == 0
    assert [r["id"] for r in records(out.read_text(encoding="utf-8"))] == list(ARTICLES)
    assert sorted(os.listdir(tmp_path)) == ["in.jsonl", "out.jsonl"]


def test_interrupted_run_without_resume_writes_nothing(run, articles, tmp_path, monkeypatch):
    out = tmp_path / "out.jsonl"
    _fail_after(monkeypatch, 1, KeyboardInterrupt())
    assert run("-o", out, articles)[0] == 130
    assert sorted(os.listdir(tmp_path)) == ["in.jsonl"]


def test_shard_timeout_is_a_clear_error(run, articles, tmp_path, monkeypatch):
    # rank 0 of two, with no rank 1: it must give up after --shard-timeout, naming the missing shard
    for key, value in {"RANK": "0", "WORLD_SIZE": "2", "LOCAL_RANK": "0", "TORCHELASTIC_RUN_ID": "t1"}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("MASTER_ADDR", raising=False)
    out = tmp_path / "out.jsonl"
    code, _, err = run("--shard-timeout", "0.5", "-o", out, articles)
    assert code == 1 and "timed out" in err and "rank(s) [1]" in err
    assert not out.exists()


@pytest.mark.slow
def test_torchrun_two_processes_merge_in_input_order(tiny_model_dir, articles, tmp_path):
    many = write_jsonl(tmp_path / "many.jsonl", [{"id": f"d{i}", "text": t} for i in range(5)
                                                 for t in ARTICLES.values()] + [{"id": "bad", "text": ""}])
    single, multi = tmp_path / "single.jsonl", tmp_path / "multi.jsonl"
    assert main(["extract", "--quiet", "--model", str(tiny_model_dir), "-o", str(single), str(many)]) == 1
    torchrun = shutil.which("torchrun")
    assert torchrun, "torchrun not on PATH"
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.run([torchrun, "--standalone", "--nproc_per_node", "2", "-m", "qawl.cli.main", "extract",
                           "--quiet", "--model", str(tiny_model_dir), "--batch-size", "3", "-o", str(multi),
                           str(many)], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1, proc.stderr[-3000:]  # rank 0 reports the failed record ("bad")
    assert multi.read_bytes() == single.read_bytes()
    assert not [p for p in os.listdir(tmp_path) if ".shard-" in p]  # shards merged and removed
