"""Reports: every file written, numbers kept as numbers, HTML escaped and safe for right-to-left text."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from qawl.document import Document, Entity, Span, Statement
from qawl.metrics import compare, evaluate
from qawl.report import summary_text, to_markdown, write_report


def load(path: Path) -> list[Document]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return [Document.from_dict(r) for r in rows if "text" in r]


@pytest.fixture
def results(fixtures_dir):
    return evaluate(load(fixtures_dir / "eval_gold.jsonl"), load(fixtures_dir / "eval_pred.jsonl"),
                    pred_errors=["d4"], n_resamples=50, name="eval_pred")


def test_all_files_are_written_and_json_round_trips(results, tmp_path):
    paths = write_report(results, tmp_path / "rep")
    for key in ("json", "md", "html", "per_type", "confusion"):
        assert paths[key].is_file() and paths[key].stat().st_size > 0, key
    assert paths["per_type"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    data = json.loads(paths["json"].read_text(encoding="utf-8"))
    assert data["statements"]["content_overlap"]["f1"] == pytest.approx(results["statements"]["content_overlap"]["f1"])
    assert isinstance(data["statements"]["content_overlap"]["f1"], float)  # floats, not strings


def test_markdown_and_summary_carry_the_scores(results):
    md = to_markdown(results)
    assert "| statements: content overlap | 87.5 | 63.6 | 73.7 |" in md
    assert "### Statements by kind" in md
    text = summary_text(results)
    assert "statements: content + speaker" in text and "75.0" in text
    assert "1 missing, 1 error records" in text


def test_html_escapes_text_and_marks_arabic_cells_rtl(tmp_path):
    text = "قال الوزير إن <script>alert(1)</script> & \"أمر\" مهم."
    content = Span(text.index("إن"), len(text) - 1, text[text.index("إن"):-1])
    gold = Document("d<1>", text, {"source": "A&B"}, [Entity(4, 10, "PERS", text[4:10])],
                    [Statement("S1", content, speaker=Span(4, 10, text[4:10]), speaker_name="الوزير")])
    r = evaluate([gold], [Document("d<1>", text)], n_resamples=10)
    html = write_report(r, tmp_path)["html"].read_text(encoding="utf-8")
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "d&lt;1&gt;" in html and "A&amp;B" in html
    assert 'dir="rtl" lang="ar"' in html and 'class="num" dir="ltr"' in html
    assert html.startswith("<!DOCTYPE html>") and 'data:image/png;base64,' in html  # standalone


def test_comparison_report(fixtures_dir, tmp_path):
    gold, pred = load(fixtures_dir / "eval_gold.jsonl"), load(fixtures_dir / "eval_pred.jsonl")
    r = compare(gold, {"eval_pred": (pred, ["d4"]), "perfect": (gold, [])}, n_resamples=50)
    paths = write_report(r, tmp_path)
    md = paths["md"].read_text(encoding="utf-8")
    assert "# qawl comparison: eval_pred vs perfect" in md and "| Δ |" in md
    assert (tmp_path / "entity_confusion_perfect.png").is_file()
    assert "Δ (perfect − eval_pred)" in paths["html"].read_text(encoding="utf-8")
    assert "delta = perfect - eval_pred" in summary_text(r)


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.slow
@pytest.mark.skipif(_chromium() is None, reason="needs the Debian chromium package")
def test_report_renders_in_headless_chromium(results, tmp_path):
    from PIL import Image

    html = write_report(results, tmp_path / "rep")["html"]
    png = tmp_path / "shot.png"
    cmd = [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
           "--window-size=1280,1600", f"--screenshot={png}", html.resolve().as_uri()]
    subprocess.run(cmd, check=True, capture_output=True, timeout=120)
    image = Image.open(png).convert("L")
    lo, hi = image.getextrema()
    assert image.size == (1280, 1600) and hi - lo > 100  # something was drawn, not a blank page
    dark = sum(image.histogram()[:128])  # pixels of text, table rules and plot ink
    assert dark > 0.005 * image.size[0] * image.size[1]
