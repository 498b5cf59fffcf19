"""Write models/<name>/README.md from the model's own training log and `qawl evaluate` reports.

    python scripts/make_model_card.py --model models/qawl-small \
        --report anercorp_test=reports/qawl-small-anercorp-test --report dev=reports/qawl-small-dev \
        --ablation "random init=reports/noprt-anercorp-test,reports/noprt-dev" \
        --ablation "pretrained (qawl-small)=reports/qawl-small-anercorp-test,reports/qawl-small-dev"
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from qawl.cards import finetuned_card


def load(report_dir: str) -> dict:
    return json.loads((Path(report_dir) / "report.json").read_text(encoding="utf-8"))


def command_of(report_dir: str) -> str:
    path = Path(report_dir) / "command.txt"
    return path.read_text().strip() if path.exists() else ""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True)
    ap.add_argument("--report", action="append", default=[], help="NAME=REPORT_DIR (anercorp_test, dev)")
    ap.add_argument("--ablation", action="append", default=[], help="LABEL=ANERCORP_REPORT_DIR,DEV_REPORT_DIR")
    ap.add_argument("--note", action="append", default=[], help="a paragraph after the scores (repeatable)")
    args = ap.parse_args()
    model = Path(args.model)
    reports, commands = {}, {}
    for item in args.report:
        name, _, d = item.partition("=")
        reports[name], commands[name] = load(d), command_of(d)
    ablation = {}
    for item in args.ablation:
        label, _, dirs = item.partition("=")
        a, _, d = dirs.partition(",")
        ablation[label] = {"anercorp_test": load(a), "dev": load(d)}
    scores = json.loads((model / "scores.json").read_text()) if (model / "scores.json").exists() else {}
    card = finetuned_card(model, reports, commands, scores, ablation or None, args.note)
    (model / "README.md").write_text(card, encoding="utf-8")
    print(model / "README.md")


if __name__ == "__main__":
    main()
