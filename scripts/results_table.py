"""Print the README's results table from the reports of scripts/evaluate_models.sh.

    python scripts/results_table.py runs/eval
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROWS = (("qawl-small", "qawl-small (shipped: model + rule fallback)"),
        ("qawl-small-modelonly", "qawl-small, model alone (`--no-rule-fallback`)"),
        ("noprt", "same fine-tuning from a random-init encoder (+ rule fallback)"),
        ("noprt-modelonly", "same, random-init encoder, model alone"),
        ("previous", "previous qawl-small: names were no speaker candidates in training (+ rule fallback)"),
        ("previous-modelonly", "previous qawl-small, model alone"),
        ("baseline", "rule-based baseline (`--model baseline`)"))


def pct(d: dict, key: str) -> str:
    value, ci = d.get(key), d.get(f"{key}_ci") if key != "accuracy" else d.get("ci")
    if value is None:
        return "–"
    return f"{100 * value:.1f}" + (f" ({100 * ci[0]:.1f}–{100 * ci[1]:.1f})" if ci else "")


def main(out: Path) -> None:
    print("| system | ANERcorp test entity F1 | dev entity F1 | dev content F1 (overlap) | "
          "dev speaker acc. | dev statement F1 |")
    print("|---|---:|---:|---:|---:|---:|")
    for key, label in ROWS:
        a, d = out / f"{key}-anercorp-test" / "report.json", out / f"{key}-dev" / "report.json"
        if not (a.exists() and d.exists()):
            continue
        a, d = json.loads(a.read_text()), json.loads(d.read_text())
        st = d["statements"]
        print(f"| {label} | {pct(a['entities']['seqeval']['micro'], 'f1')} | "
              f"{pct(d['entities']['seqeval']['micro'], 'f1')} | {pct(st['content_overlap'], 'f1')} | "
              f"{pct(st['speaker_accuracy'], 'accuracy')} | {pct(st['statement'], 'f1')} |")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "runs/eval"))
