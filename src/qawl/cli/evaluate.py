"""`qawl evaluate`: score a model or a prediction file against gold, or compare two of them.

    qawl evaluate --model models/qawl-small --data dev.jsonl --report runs/eval-dev
    qawl evaluate --gold dev.jsonl --pred predictions.jsonl
    qawl evaluate --gold test.conll --model models/qawl-small --model baseline --report runs/cmp
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from qawl.document import Document
from qawl.errors import CorpusError, QawlError

BASELINE = "baseline"


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("evaluate", help="score predictions against gold (entities and statements)",
                              description="Score a model or a prediction file against gold annotations; with two "
                                          "systems, compare them side by side with paired bootstrap intervals.")
    p.add_argument("--gold", "--data", dest="gold", required=True, metavar="FILE",
                   help="gold corpus: .jsonl, .jsonl.gz, .conll (ANERcorp) or Label Studio .json")
    p.add_argument("--model", dest="systems", action="append", type=lambda v: ("model", v), default=[],
                   metavar="DIR", help=f"a model directory to run on the gold text, or '{BASELINE}' for the "
                                       "rule-based reference (repeatable)")
    p.add_argument("--pred", dest="systems", action="append", type=lambda v: ("pred", v), metavar="FILE",
                   help="predictions (same schema; error records count as empty documents) (repeatable)")
    p.add_argument("--compare", action="store_true", help="compare exactly two systems (implied by two)")
    p.add_argument("--report", metavar="DIR", help="write report.json, report.md, report.html and plots here")
    p.add_argument("--bootstrap", type=int, default=1000, metavar="N", help="bootstrap resamples (default 1000)")
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    p.add_argument("--batch-size", type=int, default=32, help="documents per model batch (default 32)")
    p.add_argument("--no-rule-fallback", dest="rule_fallback", action="store_false", default=None,
                   help="--model DIR: the model's statements alone, without the rule-based fallback")
    p.add_argument("--quantize", action="store_true",
                   help="--model DIR: run on CPU with int8 dynamic quantization, as qawl extract --quantize")
    p.set_defaults(handler=evaluate_command)


def _read(path: str, on_error) -> list[Document]:
    from qawl.corpus import read_documents

    return list(read_documents(path, on_error=on_error))


def _predictions(kind: str, value: str, gold: list[Document], batch_size: int,
                 rule_fallback: bool | None = None, quantize: bool = False) -> tuple[list[Document], list[str]]:
    """(predicted documents, ids of documents the system failed on) for one --model or --pred."""
    if kind == "pred":
        failed: list[str] = []

        def on_error(error: CorpusError) -> None:
            if error.doc_id is not None:
                failed.append(error.doc_id)  # an error record (or a broken one) scores as an empty document
            else:
                print(f"qawl: unreadable prediction: {error}", file=sys.stderr)

        return _read(value, on_error), failed
    if value == BASELINE:
        from qawl.baseline import RuleBasedExtractor

        extractor = RuleBasedExtractor()
    else:
        from qawl.cli.extract import load_extractor  # imported here: torch and the model are needed only for --model

        extractor = load_extractor(value, "cpu" if quantize else "auto", quantize, allow_pickle=False,
                                   rule_fallback=rule_fallback)
    print(f"qawl: running {value} on {len(gold):,} document(s)", file=sys.stderr)
    bare = (Document(d.id, d.text, dict(d.meta)) for d in gold)  # the system must not see the answers
    preds = [Document(g.id, p.text, p.meta, p.entities, p.statements)  # pipe keeps order; keep gold ids
             for g, p in zip(gold, extractor.pipe(bare, batch_size=batch_size), strict=True)]
    return preds, []


def _names(systems: list[tuple[str, str]]) -> list[str]:
    names = []
    for kind, value in systems:
        name = BASELINE if (kind, value) == ("model", BASELINE) else Path(value.rstrip("/")).name or value
        name = name.removesuffix(".gz").removesuffix(".jsonl")
        names.append(name if name not in names else f"{name}#{len(names) + 1}")
    return names


def evaluate_command(args: argparse.Namespace) -> int:
    from qawl import metrics
    from qawl.corpus import corpus_format
    from qawl.report import summary_text, write_report

    systems = args.systems
    if not systems:
        raise QawlError("nothing to evaluate: give --model DIR, --model baseline or --pred FILE")
    if len(systems) > 2 or (args.compare and len(systems) != 2):
        raise QawlError(f"--compare takes exactly two systems (--model/--pred), got {len(systems)}")
    if args.bootstrap < 0:
        raise QawlError(f"--bootstrap must be 0 or more, got {args.bootstrap}")
    bad_gold = 0

    def gold_error(error: CorpusError) -> None:
        nonlocal bad_gold
        bad_gold += 1
        print(f"qawl: skipped gold record: {error}", file=sys.stderr)

    gold = _read(args.gold, gold_error)
    gold_format = "conll" if corpus_format(args.gold) == "conll" else "jsonl"
    if args.quantize and not any(kind == "model" and value != BASELINE for kind, value in systems):
        raise QawlError("--quantize applies to a --model DIR; there is none to run")
    runs = {name: _predictions(kind, value, gold, args.batch_size, args.rule_fallback, args.quantize)
            for name, (kind, value) in zip(_names(systems), systems)}
    options = dict(gold_format=gold_format, n_resamples=args.bootstrap, seed=args.seed)
    if len(runs) == 2:
        results = metrics.compare(gold, runs, **options)
    else:
        (name, (preds, failed)), = runs.items()
        results = metrics.evaluate(gold, preds, pred_errors=failed, name=name, **options)
    print(summary_text(results))
    if args.report:
        paths = write_report(results, args.report)
        print(f"report: {paths['html']}", file=sys.stderr)
    if bad_gold:
        print(f"qawl: {bad_gold} gold record(s) could not be read and were left out", file=sys.stderr)
    return 1 if bad_gold else 0
