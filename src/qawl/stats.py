"""Corpus statistics: documents, tokens, entities by label, statements by kind, the most frequent cues."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any, Iterable

from qawl.corpus import corpus_format, read_documents
from qawl.document import ENTITY_LABELS, STATEMENT_KINDS
from qawl.errors import CorpusError
from qawl.normalize import normalize_fast

TOP_CUES = 20
_UNIFY = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي"})
_CONJUNCTIONS = ("و", "ف")
# Cue verbs of ANNOTATION.md, normalized: "وأكد" counts as "اكد" even when no bare "أكد" was seen.
_KNOWN_CUES = frozenset(
    "قال اكد اشار اوضح صرح اعلن اعترف نفي دعا طالب تحدث كشف افاد بحسب وفقا نقلا اضاف تابع شدد لفت".split())


def cue_key(cue: str) -> str:
    """A cue as counted: normalized, alef and yaa unified (the leading و/ف is handled by `merge_conjunctions`)."""
    return " ".join(normalize_fast(cue).translate(_UNIFY).split())


def merge_conjunctions(counts: Counter[str]) -> Counter[str]:
    """Fold "وقال"/"فقال" into "قال", but only when the bare form is a cue: "وفقا" is a cue of its own."""
    out: Counter[str] = Counter()
    for key, n in counts.items():
        bare = key[1:]
        if key.startswith(_CONJUNCTIONS) and len(bare) >= 2 and (bare in counts or bare in _KNOWN_CUES):
            out[bare] += n
        else:
            out[key] += n
    return out


def _ordered(counts: Counter[str], known: Iterable[str]) -> dict[str, int]:
    """Known keys in their canonical order, then anything unexpected by frequency."""
    known = list(known)
    extra = sorted((k for k in counts if k not in known), key=lambda k: (-counts[k], k))
    return {k: counts[k] for k in known + extra if counts[k] or k in known}


def corpus_stats(paths: Iterable[str | Path]) -> dict[str, Any]:
    """Totals over `paths` (CoNLL sentences count as documents); unreadable records are counted, not read."""
    files, formats = [], Counter()
    documents = tokens = skipped = 0
    labels: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    cues: Counter[str] = Counter()

    def skip(_: CorpusError) -> None:
        nonlocal skipped
        skipped += 1

    for path in paths:
        files.append(str(path))
        formats[corpus_format(path)] += 1
        for doc in read_documents(path, on_error=skip):
            documents += 1
            tokens += len(doc.text.split())
            labels.update(e.label for e in doc.entities)
            kinds.update(s.kind for s in doc.statements)
            cues.update(cue_key(s.cue.text) for s in doc.statements if s.cue is not None)
    return {
        "files": files,
        "formats": dict(formats),
        "documents": documents,
        "tokens": tokens,
        "entities": sum(labels.values()),
        "entities_by_label": _ordered(labels, ENTITY_LABELS),
        "statements": sum(kinds.values()),
        "statements_by_kind": _ordered(kinds, STATEMENT_KINDS),
        "top_cues": [[cue, n] for cue, n in merge_conjunctions(cues).most_common(TOP_CUES)],
        "skipped_records": skipped,
    }


def format_stats(stats: dict[str, Any]) -> str:
    """A plain two-column table of `corpus_stats` output."""
    unit = "sentences" if set(stats["formats"]) == {"conll"} else "documents"
    rows: list[tuple[str, str]] = [("files", ", ".join(stats["files"])), (unit, f"{stats['documents']:,}"),
                                   ("tokens", f"{stats['tokens']:,}"), ("entities", f"{stats['entities']:,}")]
    rows += [(f"  {label}", f"{n:,}") for label, n in stats["entities_by_label"].items()]
    rows.append(("statements", f"{stats['statements']:,}"))
    rows += [(f"  {kind}", f"{n:,}") for kind, n in stats["statements_by_kind"].items()]
    if stats["top_cues"]:
        rows.append((f"top {len(stats['top_cues'])} cues", ""))
        rows += [(f"  {cue}", f"{n:,}") for cue, n in stats["top_cues"]]
    if stats["skipped_records"]:
        rows.append(("skipped records", f"{stats['skipped_records']:,} (see `qawl data validate`)"))
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name:<{width}}  {value}".rstrip() for name, value in rows)
