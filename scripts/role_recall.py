"""How many gold cue, speaker, content and medium spans the role head finds (before linking).

    python scripts/role_recall.py --model models/qawl-small --data ../shared/data/quotes/dev.jsonl

A gold span counts as found when a predicted span of the same role overlaps it. This is the diagnostic
behind the speaker candidates of `qawl.link.speaker_candidates`: the role head finds few speaker mentions
(a quarter of dev's for the model of commit 981c53a), so names from the entity head are candidates too.
"""

from __future__ import annotations

import argparse

import qawl.pipeline
from qawl.corpus import read_documents
from qawl.document import Document
from qawl.labels import ROLES
from qawl.pipeline import Extractor


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", required=True)
    p.add_argument("--data", required=True, help="annotated articles (JSON Lines)")
    args = p.parse_args(argv)

    # the role spans are what the pipeline hands to the linker: read them there
    spans_by_text: dict[str, dict] = {}
    link = qawl.pipeline.build_statements

    def recording(text, entities, role_spans, *rest, **kw):
        spans_by_text[text] = role_spans
        return link(text, entities, role_spans, *rest, **kw)

    qawl.pipeline.build_statements = recording
    extractor = Extractor.load(args.model, rule_fallback=False)
    gold = list(read_documents(args.data))
    for _ in extractor.pipe([Document(g.id, g.text) for g in gold]):
        pass
    print("| role | gold spans | found (a predicted span overlaps) | predicted spans |\n|---|---:|---:|---:|")
    for role in ROLES:
        n_gold = n_found = n_pred = 0
        for g in gold:
            predicted = spans_by_text.get(g.text, {}).get(role, [])
            wanted = {(s.start, s.end) for s in (getattr(st, role.lower()) for st in g.statements) if s}
            n_gold += len(wanted)
            n_pred += len(predicted)
            n_found += sum(any(p.start < e and s < p.end for p in predicted) for s, e in wanted)
        print(f"| {role} | {n_gold} | {n_found} ({n_found / max(1, n_gold):.0%}) | {n_pred} |")


if __name__ == "__main__":
    main()
