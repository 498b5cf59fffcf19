"""Evaluation: gold documents + predicted documents -> one results dict of plain floats and ints.

Entities: seqeval strict IOB2 entity-level P/R/F1 (the metric behind published ANERcorp numbers), on
per-token tags built from char spans (see entity_metrics); for JSONL also char-span exact and overlap.
Statements: content matching after PARC 3.0 / citron (see statement_metrics).
Every P/R/F1 and accuracy gets a percentile bootstrap interval over documents. Each document contributes
counts, so one resample is a weighted sum of per-document counts: all metrics, and in `compare` both
systems, share the same resamples, which makes the paired difference intervals meaningful.
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
from seqeval.metrics import classification_report
from seqeval.scheme import IOB2

from qawl import __version__, entity_metrics, statement_metrics
from qawl.document import ENTITY_LABELS, Document, Span
from qawl.entity_metrics import CONFUSION_LABELS

Key = tuple[str, ...]
DEFAULT_RESAMPLES = 1000
MAX_ERRORS = 25  # examples kept per error type; the report shows the worst of them


def align_predictions(gold: Sequence[Document], pred: Iterable[Document],
                      error_ids: Iterable[str] = ()) -> tuple[list[Document], dict[str, Any]]:
    """One prediction per gold document, matched by id. A missing prediction, an error record or a
    prediction whose text differs from the gold text (its offsets would point elsewhere) counts as a
    document with nothing predicted."""
    by_id = {d.id: d for d in pred}
    errors = set(error_ids) - set(by_id)
    aligned, missing, failed, mismatch = [], [], [], []
    for g in gold:
        p = by_id.get(g.id)
        if p is not None and p.text != g.text:
            mismatch.append(g.id)
            p = None
        if p is None:
            (failed if g.id in errors else missing if g.id not in by_id else []).append(g.id)
            p = Document(g.id, g.text, dict(g.meta))
        aligned.append(p)
    gold_ids = {g.id for g in gold}
    info = {"n_missing": len(missing), "n_error_records": len(failed), "n_text_mismatch": len(mismatch),
            "n_extra": sum(i not in gold_ids for i in by_id),
            "missing_ids": missing[:20], "error_ids": failed[:20], "text_mismatch_ids": mismatch[:20]}
    return aligned, info


def resample_weights(n_docs: int, n_resamples: int, seed: int) -> np.ndarray:
    """(n_resamples, n_docs) counts of how often each document is drawn in each bootstrap resample."""
    rng = np.random.default_rng(seed)
    weights = np.zeros((n_resamples, n_docs), dtype=np.float64)
    if n_docs and n_resamples:
        idx = rng.integers(0, n_docs, size=(n_resamples, n_docs))
        np.add.at(weights, (np.arange(n_resamples)[:, None], idx), 1.0)
    return weights


def _div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    # Zero division scores 0, as seqeval's zero_division=0 does.
    return np.divide(a, b, out=np.zeros_like(a, dtype=np.float64), where=b > 0)


def _prf(sums: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    p, r = _div(sums[..., 0], sums[..., 1]), _div(sums[..., 2], sums[..., 3])
    return p, r, _div(2 * p * r, p + r)


def _ci(values: np.ndarray, confidence: float, n_docs: int = 1) -> list[float] | None:
    if values.size == 0 or n_docs == 0:  # no resamples, or nothing to resample
        return None
    tail = (1 - confidence) / 2 * 100
    lo, hi = np.percentile(values, [tail, 100 - tail])
    return [float(lo), float(hi)]


def _summarize(counts: np.ndarray, weights: np.ndarray, confidence: float) -> dict[str, Any]:
    """Point estimate and bootstrap interval of one metric from its (n_docs, k) count matrix."""
    total, n = counts.sum(axis=0), counts.shape[0]
    boot = weights @ counts
    if counts.shape[1] == 4:
        p, r, f = _prf(total)
        bp, br, bf = _prf(boot)
        return {"precision": float(p), "recall": float(r), "f1": float(f),
                "tp": int(total[2]), "n_pred": int(total[1]), "n_gold": int(total[3]),
                "precision_ci": _ci(bp, confidence, n), "recall_ci": _ci(br, confidence, n),
                "f1_ci": _ci(bf, confidence, n)}
    acc = _div(total[0], total[1])
    return {"accuracy": float(acc), "correct": int(total[0]), "total": int(total[1]),
            "ci": _ci(_div(boot[:, 0], boot[:, 1]), confidence, n)}


def _set(tree: dict[str, Any], key: Key, value: Any) -> None:
    for part in key[:-1]:
        tree = tree.setdefault(part, {})
    tree[key[-1]] = value


def _worst(errors: list[dict[str, Any]], rank: Callable[[dict[str, Any]], Any], limit: int) -> list[dict[str, Any]]:
    return sorted(errors, key=rank)[:limit]


def _entity_error_section(errors: list[dict[str, Any]], limit: int) -> dict[str, Any]:
    """The most frequent entity errors first: a surface form missed 30 times matters more than one typo."""
    def form(e: dict[str, Any]) -> tuple[str, str, str, str]:
        g, p = e["gold"], e["pred"]
        return (e["type"], g["label"] if g else "O", p["label"] if p else "O", (g or p)["text"])
    freq = Counter(form(e) for e in errors)
    by_type: dict[str, Any] = {}
    for kind in ("missed", "spurious", "wrong_type", "boundary"):
        of_kind = [e for e in errors if e["type"] == kind]
        by_type[kind] = _worst(of_kind, lambda e: -freq[form(e)], limit)
    frequent = [{"type": t, "gold": g, "pred": p, "text": x, "count": n} for (t, g, p, x), n in freq.most_common(limit)]
    return {"counts": dict(Counter(e["type"] for e in errors)), "examples": by_type, "frequent": frequent}


def _statement_error_section(errors: list[dict[str, Any]], limit: int) -> dict[str, Any]:
    missed = [e for e in errors if e["type"] == "missed"]
    spurious = [e for e in errors if e["type"] == "spurious"]
    wrong = [e for e in errors if e["type"] == "wrong_speaker"]
    return {
        "counts": {"missed": len(missed), "spurious": len(spurious), "wrong_speaker": len(wrong)},
        # The longest missed contents and the most confident spurious ones are the costliest mistakes.
        "missed": _worst(missed, lambda e: -len(e["gold"]["content"]), limit),
        "spurious": _worst(spurious, lambda e: -(e["confidence"] if e["confidence"] is not None else 0.0), limit),
        "wrong_speaker": _worst(wrong, lambda e: -len(e["gold"]["content"]), limit),
    }


def _conll_tokenizer() -> Callable[[Document], Sequence[Span]]:
    from qawl.corpus import conll_tokens  # imported here: the corpus reader is only needed for CoNLL gold

    return conll_tokens


def score(gold: Sequence[Document], pred: Sequence[Document], *, gold_format: str = "jsonl",
          tokenize: Callable[[Document], Sequence[Span]] | None = None,
          max_errors: int = MAX_ERRORS) -> tuple[dict[Key, np.ndarray], dict[str, Any]]:
    """Per-document count matrices (key -> (n_docs, k)) and the parts of the results that are not
    resampled (seqeval's own point estimates, confusion matrix, errors). `pred` is aligned with `gold`."""
    if gold_format not in ("jsonl", "conll"):
        raise ValueError(f"gold_format {gold_format!r}; valid: 'jsonl', 'conll'")
    conll = gold_format == "conll"
    tokenize = tokenize or (_conll_tokenizer() if conll else entity_metrics.word_tokens)
    per_doc: list[dict[Key, tuple[int, ...]]] = []
    y_true, y_pred, ent_errors, st_errors = [], [], [], []
    for g, p in zip(gold, pred, strict=True):
        counts, g_tags, p_tags, errs = entity_metrics.score_document(g, p, tokenize(g), char_spans=not conll)
        y_true.append(g_tags)
        y_pred.append(p_tags)
        ent_errors += errs
        if not conll:
            st_counts, st_errs = statement_metrics.score_document(g, p)
            counts.update(st_counts)
            st_errors += st_errs
        per_doc.append(counts)
    # An empty document pair yields every fixed key, so an empty corpus still gets the full results shape.
    empty = Document("", "")
    template = entity_metrics.score_document(empty, empty, [], char_spans=not conll)[0]
    if not conll:
        template.update(statement_metrics.score_document(empty, empty)[0])
        template = {k: v for k, v in template.items() if k[1] != "by_source"}
    keys = list(dict.fromkeys(k for c in [template, *per_doc] for k in c))  # first-seen: PERS ORG LOC MISC
    widths = {k: len(next(c[k] for c in [template, *per_doc] if k in c)) for k in keys}
    matrices = {k: np.array([c.get(k, (0,) * widths[k]) for c in per_doc], dtype=np.float64).reshape(-1, widths[k])
                for k in keys}

    # seqeval itself gives the published point estimates; our per-document counts (from seqeval's own
    # strict chunker) must agree with it, and they are what the bootstrap resamples.
    report: dict[str, Any] = {}
    if any(y_true) or any(y_pred):
        with warnings.catch_warnings():  # seqeval averages empty arrays when a label never occurs
            warnings.simplefilter("ignore", RuntimeWarning)
            report = classification_report(y_true, y_pred, mode="strict", scheme=IOB2, output_dict=True,
                                           zero_division=0)
    seqeval_points = {label: report[label] for label in ENTITY_LABELS if label in report}
    if "micro avg" in report:
        seqeval_points["micro"] = report["micro avg"]
    extra = {"seqeval_points": seqeval_points, "entity_errors": _entity_error_section(ent_errors, max_errors)}
    if not conll:
        extra["statement_errors"] = _statement_error_section(st_errors, max_errors)
    return matrices, extra


def _results(matrices: dict[Key, np.ndarray], extra: dict[str, Any], weights: np.ndarray,
             confidence: float) -> dict[str, Any]:
    results: dict[str, Any] = {}
    confusion = np.zeros((len(CONFUSION_LABELS), len(CONFUSION_LABELS)), dtype=int)
    for key, m in matrices.items():
        if key[:2] == ("entities", "confusion"):
            confusion[CONFUSION_LABELS.index(key[2]), CONFUSION_LABELS.index(key[3])] = int(m.sum())
            continue
        _set(results, key, _summarize(m, weights, confidence))
    ents = results.setdefault("entities", {})
    for name, point in extra["seqeval_points"].items():
        target = ents["seqeval"]["micro"] if name == "micro" else ents["seqeval"]["per_type"][name]
        target.update(precision=float(point["precision"]), recall=float(point["recall"]), f1=float(point["f1-score"]))
    ents["confusion"] = {"labels": list(CONFUSION_LABELS), "rows": "gold", "columns": "predicted",
                         "matrix": confusion.tolist()}
    ents["errors"] = extra["entity_errors"]
    if "statement_errors" in extra:
        results["statements"]["errors"] = extra["statement_errors"]
    return results


def evaluate(gold: Sequence[Document], pred: Iterable[Document], *, pred_errors: Iterable[str] = (),
             gold_format: str = "jsonl", n_resamples: int = DEFAULT_RESAMPLES, seed: int = 0,
             confidence: float = 0.95, name: str = "system", max_errors: int = MAX_ERRORS,
             tokenize: Callable[[Document], Sequence[Span]] | None = None) -> dict[str, Any]:
    """The results dict for one system. `pred_errors` are ids of documents the system failed on."""
    gold = list(gold)
    aligned, info = align_predictions(gold, pred, pred_errors)
    matrices, extra = score(gold, aligned, gold_format=gold_format, tokenize=tokenize, max_errors=max_errors)
    weights = resample_weights(len(gold), n_resamples, seed)
    results = _results(matrices, extra, weights, confidence)
    results["meta"] = _meta(gold, aligned, info, gold_format, name, n_resamples, seed, confidence)
    return results


def _meta(gold: Sequence[Document], pred: Sequence[Document], info: dict[str, Any], gold_format: str,
          name: str, n_resamples: int, seed: int, confidence: float) -> dict[str, Any]:
    return {
        "name": name, "qawl_version": __version__, "gold_format": gold_format, "n_documents": len(gold),
        "n_gold_entities": sum(len(d.entities) for d in gold), "n_pred_entities": sum(len(d.entities) for d in pred),
        "n_gold_statements": sum(len(d.statements) for d in gold),
        "n_pred_statements": sum(len(d.statements) for d in pred),
        "entity_level": "token (char span overlaps token)" if gold_format == "conll" else "word tokens and char spans",
        "statement_match": {"token_f1_threshold": statement_metrics.MATCH_THRESHOLD, "pairing": "greedy one-to-one"},
        "bootstrap": {"resamples": n_resamples, "seed": seed, "confidence": confidence, "unit": "document"},
        "predictions": info,
    }


def _flat_points(results: dict[str, Any], prefix: tuple[str, ...] = ()) -> dict[str, tuple[str, float]]:
    out: dict[str, tuple[str, float]] = {}
    for k, v in results.items():
        if isinstance(v, dict) and "f1" in v:
            out["/".join(prefix + (k,))] = ("f1", v["f1"])
        elif isinstance(v, dict) and "accuracy" in v:
            out["/".join(prefix + (k,))] = ("accuracy", v["accuracy"])
        elif isinstance(v, dict) and k not in ("errors", "meta", "confusion"):
            out.update(_flat_points(v, prefix + (k,)))
    return out


def compare(gold: Sequence[Document], systems: dict[str, tuple[Iterable[Document], Iterable[str]]], *,
            gold_format: str = "jsonl", n_resamples: int = DEFAULT_RESAMPLES, seed: int = 0,
            confidence: float = 0.95, max_errors: int = MAX_ERRORS) -> dict[str, Any]:
    """Two systems on the same gold, with paired bootstrap intervals of each difference (second - first).

    `systems` maps a name to (predicted documents, ids of failed documents); exactly two are compared."""
    if len(systems) != 2:
        raise ValueError(f"compare needs exactly two systems, got {len(systems)}: {sorted(systems)}")
    gold = list(gold)
    weights = resample_weights(len(gold), n_resamples, seed)
    results, matrices = {}, {}
    for name, (pred, errors) in systems.items():
        aligned, info = align_predictions(gold, pred, errors)
        matrices[name], extra = score(gold, aligned, gold_format=gold_format, max_errors=max_errors)
        results[name] = _results(matrices[name], extra, weights, confidence)
        results[name]["meta"] = _meta(gold, aligned, info, gold_format, name, n_resamples, seed, confidence)
    a, b = list(systems)
    differences = []
    for key, m_a in matrices[a].items():
        m_b = matrices[b].get(key)
        if m_b is None or key[:2] == ("entities", "confusion"):
            continue
        if m_a.shape[1] == 4:
            measure, va, vb = "f1", _prf(m_a.sum(0))[2], _prf(m_b.sum(0))[2]
            boot = _prf(weights @ m_b)[2] - _prf(weights @ m_a)[2]
        else:
            measure, va, vb = "accuracy", _div(m_a.sum(0)[0], m_a.sum(0)[1]), _div(m_b.sum(0)[0], m_b.sum(0)[1])
            sa, sb = weights @ m_a, weights @ m_b
            boot = _div(sb[:, 0], sb[:, 1]) - _div(sa[:, 0], sa[:, 1])
        ci = _ci(boot, confidence, len(gold))
        differences.append({"metric": "/".join(key), "measure": measure, "a": float(va), "b": float(vb),
                            "delta": float(vb - va), "ci": ci,
                            "significant": bool(ci is not None and (ci[0] > 0 or ci[1] < 0))})
    # seqeval's entity point estimates replace the count-based ones in each system; keep deltas consistent.
    points = {name: _flat_points(r) for name, r in results.items()}
    for d in differences:
        if d["metric"] in points[a] and d["metric"] in points[b]:
            d["a"], d["b"] = points[a][d["metric"]][1], points[b][d["metric"]][1]
            d["delta"] = d["b"] - d["a"]
    return {"meta": {"systems": [a, b], "difference": f"{b} - {a}", "gold_format": gold_format,
                     "n_documents": len(gold), "qawl_version": __version__,
                     "bootstrap": {"resamples": n_resamples, "seed": seed, "confidence": confidence,
                                   "paired": True, "unit": "document"}},
            "systems": results, "differences": differences}
