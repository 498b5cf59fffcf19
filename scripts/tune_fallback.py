"""Choose a model's rule-fallback threshold on annotated articles and (with --write) store it in the model.

    python scripts/tune_fallback.py --model models/qawl-small --data ../shared/data/quotes/dev.jsonl --write

The shipped extractor keeps every rule statement and adds a model statement the rules missed when its
confidence reaches `model_min_confidence` (qawl/fallback.py). Confidences depend on the model (softmax or CRF
marginals), so each trained model gets its own threshold: the one with the best whole-statement F1 (content
matched and speaker right) on --data. The model runs once; only the merge is repeated per threshold. With
--write the threshold goes into the model's config.json (`qawl_link.model_min_confidence`). Scores on --data
are then tuned, hence optimistic: say so wherever they are reported.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from qawl.corpus import read_documents
from qawl.document import Document
from qawl.fallback import merge_rule_statements
from qawl.metrics import evaluate
from qawl.pipeline import Extractor
from qawl.writers import AtomicFile

DEFAULT_THRESHOLDS = "0.4,0.5,0.6,0.7,0.8,0.85,0.9,0.95,1.01"  # 1.01: rule statements only


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", required=True)
    p.add_argument("--data", required=True, help="annotated articles (JSON Lines)")
    p.add_argument("--thresholds", default=DEFAULT_THRESHOLDS)
    p.add_argument("--write", action="store_true", help="store the best threshold in the model's config.json")
    args = p.parse_args(argv)

    extractor = Extractor.load(args.model, rule_fallback=False)
    gold = list(read_documents(args.data))
    model_docs = list(extractor.pipe([Document(g.id, g.text) for g in gold], batch_size=16))
    rules = [extractor.rules.statements(g.text) for g in gold]
    rows = []
    for threshold in (float(t) for t in args.thresholds.split(",")):
        merged = [Document(d.id, d.text, d.meta, d.entities,
                           merge_rule_statements(d.text, list(d.entities), list(d.statements), r,
                                                 extractor.link.anonymous_heads, threshold))
                  for d, r in zip(model_docs, rules)]
        st = evaluate(gold, merged, gold_format="jsonl", n_resamples=0)["statements"]
        rows.append({"threshold": threshold, "statement_f1": st["statement"]["f1"],
                     "content_f1": st["content_overlap"]["f1"], "speaker_accuracy": st["speaker_accuracy"]["accuracy"]})
        print(" ".join(f"{k} {v:.4f}" for k, v in rows[-1].items()), flush=True)
    best = max(rows, key=lambda r: r["statement_f1"])
    print(f"best: {best['threshold']} (whole-statement F1 {best['statement_f1']:.4f})")
    if args.write:
        path = Path(args.model) / "config.json"
        config = json.loads(path.read_text(encoding="utf-8"))
        config.setdefault("qawl_link", {})["model_min_confidence"] = best["threshold"]
        config["qawl_link_tuning"] = {"data": Path(args.data).name, "criterion": "whole-statement F1", "sweep": rows}
        out = AtomicFile(path)
        out.stream.write((json.dumps(config, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))
        out.commit()
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
