"""Check corpus files against ANNOTATION.md and report every problem, not just the first.

The readers (corpus.py) already find what makes a record unreadable (invalid JSON or UTF-8, missing fields,
span text mismatches, unknown CoNLL tags); this adds the annotation rules of `checks.rule_problems` and
document ids repeated across a file, and warnings about damaged text (textcheck.py: leftover HTML, control
characters, no Arabic letters).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from qawl.checks import rule_problems
from qawl.corpus import CorpusWarning, iter_records
from qawl.errors import CorpusError
from qawl.textcheck import text_warnings


@dataclass
class FileReport:
    path: str
    documents: int = 0
    problems: list[CorpusError] = field(default_factory=list)

    @property
    def errors(self) -> list[CorpusError]:
        return [p for p in self.problems if not isinstance(p, CorpusWarning)]

    @property
    def warnings(self) -> list[CorpusError]:
        return [p for p in self.problems if isinstance(p, CorpusWarning)]


def check_file(path: str | Path) -> FileReport:
    """Every problem of one file, in file order, with the number of records read."""
    report = FileReport(str(path))
    try:
        records = iter_records(path)
        first_line: dict[str, int] = {}
        for rec in records:
            report.documents += 1
            report.problems += rec.errors + rec.warnings
            if rec.doc is not None:
                report.problems += [CorpusError(report.path, rec.line, reason, rec.doc_id)
                                    for reason in rule_problems(rec.doc)]
                article = rec.doc.meta.get("format") != "conll"  # a CoNLL record is one sentence
                report.problems += [CorpusWarning(report.path, rec.line, reason, rec.doc_id)
                                    for reason in text_warnings(rec.doc.text, article)]
            if rec.doc_id is not None:
                if rec.doc_id in first_line:
                    report.problems.append(CorpusError(
                        report.path, rec.line, f"duplicate document id (first on line {first_line[rec.doc_id]})",
                        rec.doc_id))
                else:
                    first_line[rec.doc_id] = rec.line
    except CorpusError as exc:  # the file itself: missing, unknown format
        report.problems.append(exc)
    report.problems.sort(key=lambda p: p.line or 0)
    return report


def validate_file(path: str | Path) -> list[CorpusError]:
    """All problems of a corpus file; warnings are CorpusWarning instances (a subclass of CorpusError)."""
    return check_file(path).problems


def format_problem(problem: CorpusError) -> str:
    """`path:line: [doc_id] reason`, the line `qawl data validate` prints."""
    where = problem.path if problem.line is None else f"{problem.path}:{problem.line}"
    doc = "" if problem.doc_id is None else f"[{problem.doc_id}] "
    level = "warning: " if isinstance(problem, CorpusWarning) else ""
    return f"{where}: {doc}{level}{problem.reason}"
