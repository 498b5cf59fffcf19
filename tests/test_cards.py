"""The fine-tuned model card (scripts/make_model_card.py): written from the model directory and evaluation
reports, naming the word vectors, the fallback threshold, the scores, the ablations and the notes."""

import json
import shutil
import sys

from tiny import REPO, annotated_article

from qawl.cards import finetuned_card
from qawl.cli.main import main as qawl_main
from qawl.corpus import write_jsonl


def test_card_from_reports_and_ablations(tiny_model_dir, tmp_path, monkeypatch):
    import runpy

    model = tmp_path / "model"
    shutil.copytree(tiny_model_dir, model)
    gold = tmp_path / "dev.jsonl"
    write_jsonl([annotated_article("a"), annotated_article("b", repeat=2)], gold)
    for name, flags in (("dev", []), ("alone", ["--no-rule-fallback"])):
        code = qawl_main(["evaluate", "--model", str(model), "--data", str(gold), "--report", str(tmp_path / name),
                          "--bootstrap", "20", *flags])
        assert code == 0 and (tmp_path / name / "report.json").exists()
    monkeypatch.setattr(sys, "argv", [
        "make_model_card.py", "--model", str(model), "--report", f"dev={tmp_path / 'dev'}",
        "--ablation", f"shipped={tmp_path / 'dev'},{tmp_path / 'dev'}",
        "--ablation", f"model alone={tmp_path / 'alone'},{tmp_path / 'alone'}",
        "--note", "**A note.** Kept as written."])
    runpy.run_path(str(REPO / "scripts" / "make_model_card.py"), run_name="__main__")
    card = (model / "README.md").read_text(encoding="utf-8")
    threshold = json.loads((model / "config.json").read_text())["qawl_link"]["model_min_confidence"]
    dev = json.loads((tmp_path / "dev" / "report.json").read_text())
    content_f1 = 100 * dev["statements"]["content_overlap"]["f1"]
    assert f"its confidence\nis at least {threshold} (chosen on dev)" in card
    assert "its cue stands in its content's paragraph" in card
    assert f"{content_f1:.1f}" in card
    assert "| shipped |" in card and "| model alone |" in card
    assert card.rstrip().count("**A note.** Kept as written.") == 1
    # without reports the card still builds, with no score table it has no figures for
    bare = finetuned_card(model, {}, {}, {})
    assert "# " in bare and "| micro |" not in bare and "whole statement F1" not in bare
