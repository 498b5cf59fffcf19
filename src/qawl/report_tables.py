"""The tables of an evaluation report, as rows of plain values: markdown, HTML and the CLI summary all
render the same rows, so the three can never disagree."""

from __future__ import annotations

from typing import Any

Row = dict[str, Any]


def pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.1f}"


def ci_text(ci: list[float] | None) -> str:
    return "" if not ci else f"[{100 * ci[0]:.1f}, {100 * ci[1]:.1f}]"


def _prf_row(label: str, m: dict[str, Any] | None, path: str) -> Row | None:
    if not m:
        return None
    # With nothing predicted, precision is undefined: shown as "—" (the results dict keeps seqeval's 0.0).
    precision = m["precision"] if m["n_pred"] else None
    return {"label": label, "path": path, "precision": precision, "recall": m["recall"], "f1": m["f1"],
            "ci": m.get("f1_ci"), "n_gold": m["n_gold"], "n_pred": m["n_pred"]}


def _acc_row(label: str, m: dict[str, Any] | None, path: str) -> Row | None:
    if not m:
        return None
    return {"label": label, "path": path, "accuracy": m["accuracy"] if m["total"] else None, "ci": m.get("ci"),
            "n": m["total"]}


def f1_rows(results: dict[str, Any], per_type: bool = True) -> list[Row]:
    """P/R/F1 rows: entities (seqeval micro and per type, char spans) then statements."""
    rows: list[Row | None] = []
    ents = results.get("entities", {})
    seq = ents.get("seqeval", {})
    rows.append(_prf_row("entities: seqeval strict, micro", seq.get("micro"), "entities/seqeval/micro"))
    if per_type:
        for label, m in seq.get("per_type", {}).items():
            rows.append(_prf_row(f"entities: {label}", m, f"entities/seqeval/per_type/{label}"))
    for name in ("span_exact", "span_overlap"):
        if name in ents:
            rows.append(_prf_row(f"entities: char {name.replace('_', ' ')}, micro", ents[name]["micro"],
                                 f"entities/{name}/micro"))
    st = results.get("statements", {})
    rows.append(_prf_row("statements: content exact", st.get("content_exact"), "statements/content_exact"))
    rows.append(_prf_row("statements: content overlap", st.get("content_overlap"), "statements/content_overlap"))
    rows.append(_prf_row("statements: content + speaker", st.get("statement"), "statements/statement"))
    return [r for r in rows if r is not None]


ACCURACIES = (("speaker", "speaker_accuracy"), ("speaker_name exact", "speaker_name_accuracy"),
              ("cue", "cue_accuracy"), ("medium", "medium_accuracy"), ("kind", "kind_accuracy"))


def accuracy_rows(results: dict[str, Any]) -> list[Row]:
    """Accuracies on matched statements."""
    st = results.get("statements", {})
    rows = [_acc_row(label, st.get(key), f"statements/{key}") for label, key in ACCURACIES]
    return [r for r in rows if r is not None]


def breakdown_rows(results: dict[str, Any], by: str) -> list[Row]:
    """One row per statement kind or source: content F1, whole-statement F1, speaker accuracy."""
    rows = []
    for name, m in results.get("statements", {}).get(by, {}).items():
        co, whole, sp = m["content_overlap"], m["statement"], m["speaker_accuracy"]
        if not (co["n_gold"] or co["n_pred"]):
            continue
        rows.append({"label": name, "n_gold": co["n_gold"], "n_pred": co["n_pred"], "content_f1": co["f1"],
                     "content_ci": co.get("f1_ci"), "statement_f1": whole["f1"], "statement_ci": whole.get("f1_ci"),
                     "speaker_accuracy": sp["accuracy"]})
    return sorted(rows, key=lambda r: -r["n_gold"])


def difference_rows(comparison: dict[str, Any]) -> list[Row]:
    """The compared metrics that also appear in a single report, in report order."""
    a_name = comparison["meta"]["systems"][0]
    wanted = [r["path"] for r in f1_rows(comparison["systems"][a_name]) + accuracy_rows(comparison["systems"][a_name])]
    by_path = {d["metric"]: d for d in comparison["differences"]}
    label = {r["path"]: r["label"] for r in f1_rows(comparison["systems"][a_name])}
    label.update({r["path"]: f"statements: {r['label']} accuracy" for r in accuracy_rows(comparison["systems"][a_name])})
    return [dict(by_path[p], label=label[p]) for p in wanted if p in by_path]


def summary_text(results: dict[str, Any]) -> str:
    """A concise fixed-width table for the terminal."""
    if "differences" in results:
        a, b = results["meta"]["systems"]
        lines = [f"{'metric':42} {a[:12]:>12} {b[:12]:>12} {'delta':>7}  95% CI of delta"]
        for d in difference_rows(results):
            mark = " *" if d["significant"] else ""
            lines.append(f"{d['label']:42} {pct(d['a']):>12} {pct(d['b']):>12} {100 * d['delta']:>+7.1f}  "
                         f"{ci_text(d['ci'])}{mark}")
        lines.append(f"delta = {b} - {a}; * = the paired bootstrap interval excludes 0")
        return "\n".join(lines)
    meta = results.get("meta", {})
    lines = [f"{meta.get('name', 'system')}: {meta.get('n_documents', 0)} documents, "
             f"{meta.get('bootstrap', {}).get('resamples', 0)} bootstrap resamples",
             f"{'metric':42} {'P':>6} {'R':>6} {'F1':>6}  95% CI of F1"]
    for r in f1_rows(results):
        lines.append(f"{r['label']:42} {pct(r['precision']):>6} {pct(r['recall']):>6} {pct(r['f1']):>6}  {ci_text(r['ci'])}")
    for r in accuracy_rows(results):
        lines.append(f"{'statements: ' + r['label'] + ' accuracy':42} {'':>6} {'':>6} {pct(r['accuracy']):>6}  "
                     f"{ci_text(r['ci'])}")
    info = meta.get("predictions", {})
    failed = {k: info.get(k, 0) for k in ("n_missing", "n_error_records", "n_text_mismatch")}
    if any(failed.values()):
        lines.append("scored as empty: " + ", ".join(f"{v} {k[2:].replace('_', ' ')}" for k, v in failed.items() if v))
    return "\n".join(lines)
