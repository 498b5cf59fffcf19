"""Evaluation reports from one results dict (qawl.metrics.evaluate or compare):

    report.json   every number, as produced (floats, not strings)
    report.md     the tables and a few errors, for a model card or a pull request
    report.html   standalone page with plots and the worst errors in their text (see report_html)
    *.png         per-type F1 bars and the entity confusion matrix

    from qawl.report import write_report
    paths = write_report(results, "runs/eval-dev")
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from qawl import report_html
from qawl.report_tables import (accuracy_rows, breakdown_rows, ci_text, difference_rows, f1_rows, pct,
                                summary_text)

__all__ = ["write_report", "to_markdown", "summary_text"]
MD_EXAMPLES = 5


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_") or "system"


def _md_cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ⏎ ")


def _md_scores(results: dict[str, Any]) -> list[str]:
    out = ["| metric | P | R | F1 | 95% CI of F1 | gold | predicted |", "|---|---:|---:|---:|---|---:|---:|"]
    for r in f1_rows(results):
        out.append(f"| {r['label']} | {pct(r['precision'])} | {pct(r['recall'])} | {pct(r['f1'])} | "
                   f"{ci_text(r['ci'])} | {r['n_gold']} | {r['n_pred']} |")
    acc = accuracy_rows(results)
    if acc:
        out += ["", "| on matched statements | accuracy | 95% CI | pairs |", "|---|---:|---|---:|"]
        out += [f"| {r['label']} | {pct(r['accuracy'])} | {ci_text(r['ci'])} | {r['n']} |" for r in acc]
    return out


def _md_breakdown(results: dict[str, Any], by: str, title: str) -> list[str]:
    rows = breakdown_rows(results, by)
    if not rows:
        return []
    out = ["", f"### {title}", "", "| | gold | predicted | content F1 | 95% CI | content + speaker F1 | speaker acc. |",
           "|---|---:|---:|---:|---|---:|---:|"]
    out += [f"| {_md_cell(r['label'])} | {r['n_gold']} | {r['n_pred']} | {pct(r['content_f1'])} | "
            f"{ci_text(r['content_ci'])} | {pct(r['statement_f1'])} | {pct(r['speaker_accuracy'])} |" for r in rows]
    return out


def _md_errors(results: dict[str, Any]) -> list[str]:
    out = []
    errors = results.get("statements", {}).get("errors")
    if errors:
        out += ["", "## Worst statement errors", ""]
        for key, side in (("missed", "gold"), ("spurious", "pred"), ("wrong_speaker", "gold")):
            for e in errors.get(key, [])[:MD_EXAMPLES]:
                s, ctx = e[side], e["context"]
                who = f"gold: {e['gold']['speaker_name'] if e['gold'] else '—'}; " \
                      f"predicted: {e['pred']['speaker_name'] if e['pred'] else '—'}"
                out.append(f"- **{key}** `{e['doc_id']}` ({s['kind']}; {who}): "
                           f"…{_md_cell(ctx['left'][-40:])}**{_md_cell(ctx['span'])}**{_md_cell(ctx['right'][:40])}…")
    ents = results.get("entities", {}).get("errors")
    if ents and ents.get("frequent"):
        out += ["", "## Most frequent entity errors", "", "| error | gold | predicted | text | count |",
                "|---|---|---|---|---:|"]
        out += [f"| {f['type']} | {f['gold']} | {f['pred']} | {_md_cell(f['text'])} | {f['count']} |"
                for f in ents["frequent"][:10]]
    return out


def _md_meta(meta: dict[str, Any]) -> str:
    boot = meta.get("bootstrap", {})
    return (f"{meta.get('n_documents', 0)} documents ({meta.get('gold_format', '')}); "
            f"{boot.get('resamples', 0)} bootstrap resamples over documents (seed {boot.get('seed')}), "
            f"{100 * boot.get('confidence', 0.95):.0f}% percentile intervals. Entities: seqeval strict IOB2 on "
            f"{meta.get('entity_level', 'tokens')}. Statements match at content token F1 >= 0.5, greedy one to one.")


def to_markdown(results: dict[str, Any]) -> str:
    if "differences" in results:
        a, b = results["meta"]["systems"]
        out = [f"# qawl comparison: {a} vs {b}", "", f"{results['meta']['n_documents']} documents; paired bootstrap "
               "over documents (the same resamples for both systems). * = the interval excludes 0.", "",
               f"| metric | {_md_cell(a)} | {_md_cell(b)} | Δ | 95% CI of Δ |", "|---|---:|---:|---:|---|"]
        out += [f"| {d['label']} | {pct(d['a'])} | {pct(d['b'])} | {100 * d['delta']:+.1f}{' *' if d['significant'] else ''}"
                f" | {ci_text(d['ci'])} |" for d in difference_rows(results)]
        for name in (a, b):
            res = results["systems"][name]
            out += ["", f"## {name}", "", _md_meta(res["meta"]), ""] + _md_scores(res)
            out += _md_breakdown(res, "by_kind", "Statements by kind")
        return "\n".join(out) + "\n"
    meta = results.get("meta", {})
    out = [f"# qawl evaluation: {meta.get('name', 'system')}", "", _md_meta(meta), "", "## Scores", ""]
    out += _md_scores(results)
    out += _md_breakdown(results, "by_kind", "Statements by kind")
    out += _md_breakdown(results, "by_source", "Statements by source")
    out += ["", "Plots: `per_type_f1.png`, `entity_confusion.png`; the worst errors in context: `report.html`."]
    out += _md_errors(results)
    return "\n".join(out) + "\n"


def write_report(results: dict[str, Any], out_dir: str | Path) -> dict[str, Path]:
    """Write report.json, report.md, report.html and the PNG plots into `out_dir`; returns their paths."""
    from qawl import report_plots  # matplotlib is imported only when plots are drawn

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    comparing = "differences" in results
    systems = results["systems"] if comparing else {results.get("meta", {}).get("name", "system"): results}
    paths["per_type"] = report_plots.plot_per_type(systems, out / "per_type_f1.png")
    for name, res in systems.items():
        key = f"confusion:{name}" if comparing else "confusion"
        file = f"entity_confusion_{_slug(name)}.png" if comparing else "entity_confusion.png"
        paths[key] = report_plots.plot_confusion(res, out / file, title=f"Entity confusion: {name}")
    paths["json"] = out / "report.json"
    paths["json"].write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    paths["md"] = out / "report.md"
    paths["md"].write_text(to_markdown(results), encoding="utf-8")
    html = report_html.render_comparison(results, paths) if comparing else report_html.render(results, paths)
    paths["html"] = out / "report.html"
    paths["html"].write_text(html, encoding="utf-8")
    return paths
