"""report.html: one standalone page (inline CSS, plots embedded as data URIs), safe for mixed directions.

The page is laid out left to right (its headings are English); every cell that holds Arabic text carries
`dir="rtl" lang="ar"`, names of unknown script get `dir="auto"`, and numbers sit in `dir="ltr"` cells, so
the bidi algorithm never reorders a number into the Arabic around it. Every string from the data is
HTML-escaped: article text may contain `<`, `&` or quotes.
"""

from __future__ import annotations

import base64
from html import escape
from pathlib import Path
from typing import Any

from qawl.report_tables import accuracy_rows, breakdown_rows, ci_text, difference_rows, f1_rows, pct

EXAMPLES_SHOWN = 15
SPAN_SHOWN = 300

STYLE = """
body { font-family: system-ui, "DejaVu Sans", sans-serif; margin: 1.5rem auto; max-width: 78rem; color: #222; }
h1 { font-size: 1.4rem; } h2 { font-size: 1.15rem; margin-top: 2rem; border-bottom: 1px solid #ccc; }
h3 { font-size: 1rem; margin-top: 1.2rem; }
table { border-collapse: collapse; margin: .5rem 0; font-size: .88rem; }
th, td { border: 1px solid #ddd; padding: .25rem .5rem; vertical-align: top; }
th { background: #f3f3f3; text-align: start; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; unicode-bidi: isolate; }
td.ar, span.ar { font-family: "Noto Naskh Arabic", "Noto Sans Arabic", "Amiri", "DejaVu Sans", sans-serif;
  text-align: right; unicode-bidi: isolate; font-size: 1rem; line-height: 1.7; }
td.ctx { max-width: 44rem; }
mark { background: #ffe28a; padding: 0 .1em; }
mark.pred { background: #cfe3ff; }
.meta { color: #555; font-size: .85rem; }
.sig { font-weight: bold; color: #0a6; } .neg.sig { color: #c33; }
img { max-width: 100%; border: 1px solid #eee; margin: .5rem 0; }
"""


def _e(value: Any) -> str:
    return escape("" if value is None else str(value), quote=True)


def _ar(value: Any, cls: str = "ar") -> str:
    """A cell of Arabic text."""
    return f'<td class="{cls}" dir="rtl" lang="ar">{_e(value) if value is not None else "—"}</td>'


def _num(value: str) -> str:
    return f'<td class="num" dir="ltr">{_e(value)}</td>'


def _context(ctx: dict[str, Any], mark_class: str = "") -> str:
    cls = f' class="{mark_class}"' if mark_class else ""
    parts = {k: str(ctx.get(k, "")) for k in ("left", "span", "right")}
    if len(parts["span"]) > SPAN_SHOWN:  # a missed 800-character quotation: its ends say enough
        half = SPAN_SHOWN // 2
        parts["span"] = parts["span"][:half] + " … " + parts["span"][-half:]
    flat = {k: _e(v.replace("\n", " ⏎ ")) for k, v in parts.items()}
    return f'<td class="ar ctx" dir="rtl" lang="ar">{flat["left"]}<mark{cls}>{flat["span"]}</mark>{flat["right"]}</td>'


def _img(path: Path | None, alt: str) -> str:
    if path is None or not path.exists():
        return ""
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img alt="{_e(alt)}" src="data:image/png;base64,{data}">'


def scores_table(results: dict[str, Any]) -> str:
    out = ['<table><thead><tr><th>metric</th><th>P</th><th>R</th><th>F1</th><th>95% CI of F1</th>'
           '<th>gold</th><th>predicted</th></tr></thead><tbody>']
    for r in f1_rows(results):
        out.append(f"<tr><td>{_e(r['label'])}</td>{_num(pct(r['precision']))}{_num(pct(r['recall']))}"
                   f"{_num(pct(r['f1']))}{_num(ci_text(r['ci']))}{_num(str(r['n_gold']))}{_num(str(r['n_pred']))}</tr>")
    out.append("</tbody></table>")
    acc = accuracy_rows(results)
    if acc:
        out.append('<table><thead><tr><th>on matched statements</th><th>accuracy</th><th>95% CI</th>'
                   '<th>pairs</th></tr></thead><tbody>')
        for r in acc:
            out.append(f"<tr><td>{_e(r['label'])}</td>{_num(pct(r['accuracy']))}{_num(ci_text(r['ci']))}"
                       f"{_num(str(r['n']))}</tr>")
        out.append("</tbody></table>")
    return "\n".join(out)


def breakdown_table(results: dict[str, Any], by: str, title: str) -> str:
    rows = breakdown_rows(results, by)
    if not rows:
        return ""
    out = [f"<h3>{_e(title)}</h3><table><thead><tr><th>{'kind' if by == 'by_kind' else 'source'}</th>"
           "<th>gold</th><th>predicted</th><th>content F1</th><th>95% CI</th><th>content + speaker F1</th>"
           "<th>95% CI</th><th>speaker accuracy</th></tr></thead><tbody>"]
    for r in rows:
        out.append(f'<tr><td dir="auto">{_e(r["label"])}</td>{_num(str(r["n_gold"]))}{_num(str(r["n_pred"]))}'
                   f'{_num(pct(r["content_f1"]))}{_num(ci_text(r["content_ci"]))}{_num(pct(r["statement_f1"]))}'
                   f'{_num(ci_text(r["statement_ci"]))}{_num(pct(r["speaker_accuracy"]))}</tr>')
    out.append("</tbody></table>")
    return "\n".join(out)


def _speaker(s: dict[str, Any] | None) -> str:
    if s is None:
        return "—"
    return f"{s['speaker'] or '∅'} / {s['speaker_name'] or '∅'}"


def statement_errors(results: dict[str, Any]) -> str:
    errors = results.get("statements", {}).get("errors")
    if not errors:
        return ""
    counts = errors["counts"]
    out = [f"<p>{counts['missed']} missed, {counts['spurious']} spurious, {counts['wrong_speaker']} with a wrong "
           "speaker. Highlighted: the statement's content, in its text.</p>"]
    sections = (("missed", "Missed statements (longest first)", "gold"),
                ("spurious", "Spurious statements (most confident first)", "pred"),
                ("wrong_speaker", "Matched content, wrong speaker", "gold"))
    for key, title, side in sections:
        items = errors.get(key, [])[:EXAMPLES_SHOWN]
        if not items:
            continue
        out.append(f"<h3>{_e(title)}</h3><table><thead><tr><th>document</th><th>kind</th><th>gold speaker / name</th>"
                   "<th>predicted speaker / name</th><th>conf.</th><th>text</th></tr></thead><tbody>")
        for e in items:
            s = e[side]
            conf = "" if e.get("confidence") is None else f"{e['confidence']:.2f}"
            out.append(f'<tr><td dir="auto">{_e(e["doc_id"])}</td><td>{_e(s["kind"])}</td>'
                       f'{_ar(_speaker(e["gold"]))}{_ar(_speaker(e["pred"]))}{_num(conf)}'
                       f'{_context(e["context"], "pred" if side == "pred" else "")}</tr>')
        out.append("</tbody></table>")
    return "\n".join(out)


def entity_errors(results: dict[str, Any]) -> str:
    errors = results.get("entities", {}).get("errors")
    if not errors or not errors.get("counts"):
        return "<p>No entity errors.</p>" if errors else ""
    counts = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in sorted(errors["counts"].items()))
    out = [f"<p>{_e(counts)}.</p><h3>Most frequent</h3><table><thead><tr><th>error</th><th>gold</th>"
           "<th>predicted</th><th>text</th><th>count</th></tr></thead><tbody>"]
    for f in errors["frequent"][:EXAMPLES_SHOWN]:
        out.append(f"<tr><td>{_e(f['type'])}</td><td>{_e(f['gold'])}</td><td>{_e(f['pred'])}</td>"
                   f"{_ar(f['text'])}{_num(str(f['count']))}</tr>")
    out.append("</tbody></table>")
    for kind, items in errors["examples"].items():
        if not items:
            continue
        out.append(f"<h3>{_e(kind.replace('_', ' ').capitalize())} (examples)</h3><table><thead><tr><th>document</th>"
                   "<th>gold</th><th>predicted</th><th>text</th></tr></thead><tbody>")
        for e in items[:EXAMPLES_SHOWN]:
            g = e["gold"] and f"{e['gold']['label']}: {e['gold']['text']}"
            p = e["pred"] and f"{e['pred']['label']}: {e['pred']['text']}"
            out.append(f'<tr><td dir="auto">{_e(e["doc_id"])}</td>{_ar(g)}{_ar(p)}{_context(e["context"])}</tr>')
        out.append("</tbody></table>")
    return "\n".join(out)


def _meta_line(meta: dict[str, Any]) -> str:
    boot = meta.get("bootstrap", {})
    info = meta.get("predictions", {})
    parts = [f"{meta.get('n_documents', 0)} documents ({meta.get('gold_format', '')})",
             f"{meta.get('n_gold_entities', 0)} gold / {meta.get('n_pred_entities', 0)} predicted entities",
             f"{meta.get('n_gold_statements', 0)} gold / {meta.get('n_pred_statements', 0)} predicted statements",
             f"bootstrap: {boot.get('resamples', 0)} resamples over documents, seed {boot.get('seed')}, "
             f"{100 * boot.get('confidence', 0.95):.0f}% percentile intervals"]
    failed = [f"{info[k]} {k[2:].replace('_', ' ')}" for k in ("n_missing", "n_error_records", "n_text_mismatch")
              if info.get(k)]
    if failed:
        parts.append("scored as empty: " + ", ".join(failed))
    return f'<p class="meta">{_e("; ".join(parts))}.</p>'


def _page(title: str, body: list[str]) -> str:
    return ("<!DOCTYPE html>\n<html lang=\"en\" dir=\"ltr\">\n<head><meta charset=\"utf-8\">"
            f"<meta name=\"viewport\" content=\"width=device-width\"><title>{_e(title)}</title>"
            f"<style>{STYLE}</style></head>\n<body>\n<h1>{_e(title)}</h1>\n" + "\n".join(b for b in body if b)
            + "\n</body>\n</html>\n")


def render(results: dict[str, Any], plots: dict[str, Path]) -> str:
    meta = results.get("meta", {})
    return _page(f"qawl evaluation: {meta.get('name', 'system')}", [
        _meta_line(meta), "<h2>Scores</h2>", scores_table(results),
        breakdown_table(results, "by_kind", "Statements by kind"),
        breakdown_table(results, "by_source", "Statements by source"),
        "<h2>Plots</h2>", _img(plots.get("per_type"), "F1 per type"), _img(plots.get("confusion"), "confusion"),
        "<h2>Worst statement errors</h2>" if "statements" in results else "", statement_errors(results),
        "<h2>Entity errors</h2>", entity_errors(results)])


def render_comparison(comparison: dict[str, Any], plots: dict[str, Path]) -> str:
    a, b = comparison["meta"]["systems"]
    rows = ['<table><thead><tr><th>metric</th>'
            f'<th dir="auto">{_e(a)}</th><th dir="auto">{_e(b)}</th><th>Δ ({_e(b)} − {_e(a)})</th>'
            "<th>95% CI of Δ (paired)</th></tr></thead><tbody>"]
    for d in difference_rows(comparison):
        cls = "num" + (" sig" if d["significant"] else "") + (" neg" if d["delta"] < 0 else "")
        rows.append(f"<tr><td>{_e(d['label'])}</td>{_num(pct(d['a']))}{_num(pct(d['b']))}"
                    f'<td class="{cls}" dir="ltr">{100 * d["delta"]:+.1f}</td>{_num(ci_text(d["ci"]))}</tr>')
    rows.append("</tbody></table><p class=\"meta\">Bold: the paired bootstrap interval excludes 0.</p>")
    body = [f'<p class="meta">{_e(comparison["meta"]["n_documents"])} documents, the same bootstrap resamples '
            "for both systems.</p>", "<h2>Differences</h2>", "\n".join(rows), "<h2>Plots</h2>",
            _img(plots.get("per_type"), "F1 per type, both systems")]
    for name in (a, b):
        res = comparison["systems"][name]
        body += [f'<h2>System: <bdi>{_e(name)}</bdi></h2>', _meta_line(res["meta"]), scores_table(res),
                 breakdown_table(res, "by_kind", "Statements by kind"), _img(plots.get(f"confusion:{name}"), name),
                 "<h3>Statement errors</h3>" if "statements" in res else "", statement_errors(res)]
    return _page(f"qawl comparison: {a} vs {b}", body)
