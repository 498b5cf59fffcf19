"""`qawl data validate|stats|convert|labelstudio-config`: thin shells over qawl.validate, qawl.stats, qawl.corpus."""

from __future__ import annotations

import argparse
import json
import sys

from qawl.corpus import label_studio_config, read_documents, write_documents
from qawl.errors import CorpusError
from qawl.stats import corpus_stats, format_stats
from qawl.validate import check_file, format_problem


def register(subparsers: argparse._SubParsersAction) -> None:
    data = subparsers.add_parser("data", help="validate, describe and convert corpus files")
    sub = data.add_subparsers(dest="data_command", metavar="ACTION")
    data.set_defaults(handler=lambda args: (data.print_help(sys.stderr), 2)[1])

    p = sub.add_parser("validate", help="report every problem in corpus files (.jsonl, .jsonl.gz, .conll, .json)")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--strict", action="store_true", help="count warnings as errors")
    p.set_defaults(handler=validate)

    p = sub.add_parser("stats", help="documents, tokens, entities, statements and top cues")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--json", action="store_true", help="print the statistics as JSON")
    p.set_defaults(handler=stats)

    p = sub.add_parser("convert", help="convert between .jsonl(.gz), .conll and Label Studio .json by extension")
    p.add_argument("input", metavar="IN")
    p.add_argument("output", metavar="OUT", help="'-' writes JSON Lines to stdout")
    p.set_defaults(handler=convert)

    p = sub.add_parser("labelstudio-config", help="print the Label Studio labelling config (XML)")
    p.set_defaults(handler=lambda args: (print(label_studio_config(), end=""), 0)[1])


def validate(args: argparse.Namespace) -> int:
    errors = warnings = documents = 0
    for path in args.files:
        report = check_file(path)
        documents += report.documents
        for problem in report.problems:
            print(format_problem(problem))
        errors += len(report.errors)
        warnings += len(report.warnings)
    print(f"{len(args.files)} file(s), {documents:,} record(s): {errors} error(s), {warnings} warning(s)")
    return 1 if errors or (args.strict and warnings) else 0


def stats(args: argparse.Namespace) -> int:
    result = corpus_stats(args.files)
    print(json.dumps(result, ensure_ascii=False, indent=2) if args.json else format_stats(result))
    return 0


def convert(args: argparse.Namespace) -> int:
    skipped = 0

    def report(error: CorpusError) -> None:
        nonlocal skipped
        skipped += 1
        print(f"qawl: skipped: {error}", file=sys.stderr)

    n = write_documents(read_documents(args.input, on_error=report), args.output)
    print(f"wrote {n:,} document(s) to {args.output}" + (f"; skipped {skipped}" if skipped else ""),
          file=sys.stderr)
    return 1 if skipped else 0
