"""`qawl evaluate` end to end on the small invented fixtures."""

from __future__ import annotations

import json

import pytest

from qawl.cli.main import main
from qawl.document import Document


@pytest.fixture
def gold(fixtures_dir):
    return str(fixtures_dir / "eval_gold.jsonl")


@pytest.fixture
def pred(fixtures_dir):
    return str(fixtures_dir / "eval_pred.jsonl")


def test_gold_and_pred_files(gold, pred, tmp_path, capsys):
    code = main(["evaluate", "--gold", gold, "--pred", pred, "--report", str(tmp_path), "--bootstrap", "50"])
    out = capsys.readouterr().out
    assert code == 0
    assert "statements: content overlap" in out and "87.5" in out
    assert "1 missing, 1 error records" in out  # d5 absent, d4 an error record: both scored as empty
    data = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert data["meta"]["predictions"]["error_ids"] == ["d4"] and data["meta"]["predictions"]["n_extra"] == 1
    assert data["statements"]["statement"]["recall"] == pytest.approx(6 / 11)
    assert data["meta"]["bootstrap"] == {"resamples": 50, "seed": 0, "confidence": 0.95, "unit": "document"}
    assert {p.name for p in tmp_path.iterdir()} >= {"report.json", "report.md", "report.html", "per_type_f1.png",
                                                     "entity_confusion.png"}


def test_seed_makes_the_intervals_reproducible(gold, pred, tmp_path):
    for name, seed in (("a", "3"), ("b", "3"), ("c", "4")):
        assert main(["evaluate", "--gold", gold, "--pred", pred, "--report", str(tmp_path / name),
                     "--bootstrap", "40", "--seed", seed]) == 0
    ci = {n: json.loads((tmp_path / n / "report.json").read_text())["statements"]["statement"]["f1_ci"] for n in "abc"}
    assert ci["a"] == ci["b"] != ci["c"]


def test_conll_gold_is_scored_per_token(fixtures_dir, tmp_path, capsys):
    code = main(["evaluate", "--data", str(fixtures_dir / "eval_gold.conll"),
                 "--pred", str(fixtures_dir / "eval_pred_conll.jsonl"), "--bootstrap", "20", "--report", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0
    # "روسيا" without its و matches ANERcorp's "وروسيا"; "وزارة" alone misses "وزارة الصحة"; عمان has the wrong type.
    assert "entities: seqeval strict, micro              50.0   50.0   50.0" in out
    assert "statements" not in out
    assert "statements" not in json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))


def test_baseline_model_and_comparison(gold, pred, tmp_path, capsys):
    assert main(["evaluate", "--gold", gold, "--model", "baseline", "--bootstrap", "20"]) == 0
    assert "baseline:" in capsys.readouterr().out
    code = main(["evaluate", "--gold", gold, "--pred", pred, "--model", "baseline", "--compare",
                 "--report", str(tmp_path), "--bootstrap", "30"])
    out = capsys.readouterr().out
    assert code == 0 and "delta = baseline - eval_pred" in out
    data = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert data["meta"]["systems"] == ["eval_pred", "baseline"]
    assert any(d["metric"] == "statements/content_overlap" for d in data["differences"])


def test_model_directory_goes_through_the_extractor(gold, monkeypatch, tmp_path, capsys):
    import qawl.pipeline

    class Echo:
        """Stands in for a trained model: predicts nothing and renames the documents."""

        def pipe(self, docs, batch_size=32):
            for d in docs:
                assert not d.statements and not d.entities  # the model never sees the gold answers
                yield Document("renamed", d.text, d.meta)

    loads = []
    monkeypatch.setattr(qawl.pipeline.Extractor, "load",
                        classmethod(lambda cls, path, **options: loads.append(options) or Echo()))
    assert main(["evaluate", "--model", str(tmp_path / "qawl-small"), "--data", gold, "--bootstrap", "10"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("qawl-small: 5 documents")
    assert "scored as empty" not in out  # predictions were matched back to the gold ids
    # --quantize scores the int8 model, as qawl extract --quantize runs it
    assert main(["evaluate", "--model", str(tmp_path / "qawl-small"), "--data", gold, "--bootstrap", "0",
                 "--quantize"]) == 0
    assert [(o["quantize"], o["device"]) for o in loads] == [(False, "auto"), (True, "cpu")]


@pytest.mark.parametrize("argv", [
    [],  # nothing to evaluate
    ["--compare", "--pred", "{pred}"],  # one system cannot be compared
    ["--pred", "{pred}", "--pred", "{pred}", "--pred", "{pred}"],  # three cannot either
    ["--pred", "{pred}", "--bootstrap", "-1"],
    ["--pred", "{pred}", "--quantize"],  # no model to quantize
])
def test_usage_errors_exit_2(gold, pred, argv, capsys):
    argv = [a.format(pred=pred) for a in argv]
    assert main(["evaluate", "--gold", gold, *argv]) == 2
    assert "qawl: error:" in capsys.readouterr().err


def test_missing_gold_file_is_an_error(pred, tmp_path, capsys):
    assert main(["evaluate", "--gold", str(tmp_path / "nope.jsonl"), "--pred", pred]) == 2
    assert "nope.jsonl" in capsys.readouterr().err
