"""Input records -> output records (corpus format, or error records), in input order, chunk by chunk.

The library side of `qawl extract`: it reads `batch_size` records at a time (constant memory), runs the
readable ones through `Extractor.pipe` and puts the error records back in their places. A document on which
prediction itself fails becomes an error record too; the run goes on.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from typing import Any

from qawl.errors import QawlError
from qawl.inputs import InputRecord

__all__ = ["predict_records", "filter_confidence", "output_record"]


def filter_confidence(record: dict[str, Any], min_confidence: float | None) -> dict[str, Any]:
    """Drop statements whose confidence (and entities whose score) is below `min_confidence`.

    Statement ids are kept as predicted (S1, S3...), so that an id means the same at every threshold.
    A missing confidence counts as 0.
    """
    if min_confidence is None or "error" in record:
        return record
    keep = lambda x: x is not None and float(x) >= min_confidence  # noqa: E731
    out = dict(record)
    out["entities"] = [e for e in record.get("entities", []) if keep(e.get("score"))]
    out["statements"] = [s for s in record.get("statements", []) if keep(s.get("confidence"))]
    return out


def output_record(rec: InputRecord, doc) -> dict[str, Any]:
    """The document as ANNOTATION.md writes it, plus the input's other top-level fields, unchanged."""
    out = doc.to_dict()
    for key, value in rec.extra.items():
        out.setdefault(key, value)
    return out


def _failure(rec: InputRecord, exc: Exception) -> dict[str, Any]:
    # qawl's own errors already say what is wrong and what to do; anything else is a bug worth its type name
    reason = str(exc) if isinstance(exc, QawlError) else f"prediction failed: {type(exc).__name__}: {exc}"
    return {"id": rec.id, "error": reason}


def _predict_chunk(extractor, chunk: list[InputRecord], batch_size: int) -> list[dict[str, Any]]:
    results: dict[int, dict[str, Any]] = {}
    readable = []
    for r in chunk:
        if r.error is not None:
            results[id(r)] = r.error_record()
            continue
        try:
            extractor.check_size(r.document())  # refuse a huge article before it costs anything
            readable.append(r)
        except QawlError as exc:
            results[id(r)] = _failure(r, exc)
    try:
        docs = list(extractor.pipe([r.document() for r in readable], batch_size=max(1, batch_size)))
        results.update({id(r): output_record(r, d) for r, d in zip(readable, docs)})
    except Exception:  # one document broke the batch: predict one by one to find it and keep the others
        for r in readable:
            try:
                results[id(r)] = output_record(r, extractor(r.document()))
            except Exception as exc:  # noqa: BLE001 - reported as this record's error, the run goes on
                results[id(r)] = _failure(r, exc)
    return [results[id(r)] for r in chunk]


def predict_records(extractor, records: Iterable[InputRecord], batch_size: int = 32,
                    min_confidence: float | None = None) -> Iterator[tuple[int, dict[str, Any]]]:
    """(input index, output record) for each input record, in input order."""
    it = iter(records)
    while True:
        chunk = list(itertools.islice(it, max(1, batch_size)))
        if not chunk:
            return
        for rec, out in zip(chunk, _predict_chunk(extractor, chunk, batch_size)):
            yield rec.index, filter_confidence(out, min_confidence)
