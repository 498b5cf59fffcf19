"""A readable right-to-left HTML page of extraction results, streamed one article at a time.

Spans may overlap (a speaker is usually a PERS entity too, nested contents overlap), so the text is cut at
every span boundary and each piece carries the classes of all the spans over it. Everything taken from the
input is HTML-escaped.
"""

from __future__ import annotations

from html import escape
from typing import IO, Any

from qawl.writers import RecordWriter

ROLES = ("content", "speaker", "cue", "medium")
ROLE_NAMES = {"content": "content", "speaker": "speaker", "cue": "cue", "medium": "medium"}

_CSS = """
body { font-family: "Noto Naskh Arabic", "Amiri", "Arial", sans-serif; margin: 2em auto; max-width: 60em;
       line-height: 1.9; color: #222; padding: 0 1em; }
h1 { font-size: 1.4em; } h2 { font-size: 1.1em; margin-bottom: .3em; color: #444; }
article { border-top: 1px solid #ccc; padding: .5em 0 1.5em; }
.text { white-space: pre-wrap; font-size: 1.15em; }
.content { background: #fff3b0; } .speaker { background: #cfe3ff; font-weight: bold; }
.cue { background: #ffd0c8; font-weight: bold; } .medium { background: #d2f5d0; }
.PERS { border-bottom: 2px solid #1f5fbf; } .ORG { border-bottom: 2px solid #8a2be2; }
.LOC { border-bottom: 2px solid #1a8a3a; } .MISC { border-bottom: 2px dashed #a05a00; }
sup.sid { font-size: .7em; color: #a00; font-weight: bold; margin: 0 .1em; }
table { border-collapse: collapse; margin-top: .8em; width: 100%; font-size: .95em; }
th, td { border: 1px solid #ccc; padding: .2em .5em; vertical-align: top; text-align: right; }
th { background: #f2f2f2; } td.num { direction: ltr; text-align: left; }
.error { color: #a00; } .legend span { padding: 0 .4em; margin-inline-end: .5em; } .meta { color: #666; }
"""


def _marks(record: dict[str, Any]) -> list[tuple[int, int, str, str]]:
    """(start, end, css class, tooltip) for every entity and statement span of a record."""
    marks = []
    for e in record.get("entities") or ():
        score = e.get("score")
        tip = e["label"] + ("" if score is None else f" {float(score):.2f}")
        marks.append((e["start"], e["end"], e["label"], tip))
    for s in record.get("statements") or ():
        for role in ROLES:
            span = s.get(role)
            if span:
                marks.append((span["start"], span["end"], role, f"{s.get('id')} {ROLE_NAMES[role]}"))
    return marks


def highlight(text: str, record: dict[str, Any]) -> str:
    """The text as HTML, each piece wrapped in a <span> with the classes of the spans that cover it."""
    marks = [m for m in _marks(record) if 0 <= m[0] < m[1] <= len(text)]
    starts = {s["content"]["start"]: s.get("id") for s in record.get("statements") or () if s.get("content")}
    cuts = sorted({0, len(text)} | {m[0] for m in marks} | {m[1] for m in marks})
    out = []
    for a, b in zip(cuts, cuts[1:]):
        if a in starts:
            out.append(f'<sup class="sid">{escape(str(starts[a]))}</sup>')
        over = [m for m in marks if m[0] <= a and b <= m[1]]
        piece = escape(text[a:b])
        if over:
            classes = " ".join(dict.fromkeys(m[2] for m in over))
            tip = " · ".join(m[3] for m in over)
            piece = f'<span class="{escape(classes)}" title="{escape(tip)}">{piece}</span>'
        out.append(piece)
    return "".join(out)


def statement_table(record: dict[str, Any]) -> str:
    statements = record.get("statements") or ()
    if not statements:
        return '<p class="meta">no statements</p>'
    head = "".join(f"<th>{h}</th>" for h in ("id", "speaker_name", "speaker", "cue", "content", "medium",
                                                 "kind", "confidence"))
    rows = []
    for s in statements:
        span = lambda role: escape((s.get(role) or {}).get("text", ""))  # noqa: E731
        conf = s.get("confidence")
        rows.append(
            f"<tr><td>{escape(str(s.get('id')))}</td><td>{escape(s.get('speaker_name') or '')}</td>"
            f"<td>{span('speaker')}</td><td>{span('cue')}</td><td>{span('content')}</td><td>{span('medium')}"
            f"</td><td>{escape(str(s.get('kind', '')))}</td>"
            f"<td class=\"num\">{'' if conf is None else f'{float(conf):.3f}'}</td></tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


class HtmlWriter(RecordWriter):
    def __init__(self, stream: IO[bytes]):
        super().__init__(stream)
        self.provenance: dict[str, Any] | None = None
        self.failed = 0
        legend = "".join(f'<span class="{c}">{c}</span>' for c in ("speaker", "cue", "content", "medium", "PERS",
                                                                      "ORG", "LOC", "MISC"))
        self._put(f'<!DOCTYPE html>\n<html lang="ar" dir="rtl">\n<head>\n<meta charset="utf-8">\n'
                  f"<title>qawl: who said what</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
                  f'<h1>qawl: who said what</h1>\n<p class="legend">{legend}</p>\n')

    def _put(self, s: str) -> None:
        self.stream.write(s.encode("utf-8"))

    def write(self, record: dict[str, Any]) -> None:
        self.count += 1
        doc_id = escape(str(record.get("id")))
        if "error" in record:
            self.failed += 1
            self._put(f'<article class="error"><h2><bdi>{doc_id}</bdi></h2><p class="error" dir="auto">'
                      f"{escape(str(record['error']))}</p></article>\n")
            return
        if self.provenance is None:
            self.provenance = (record.get("meta") or {}).get("qawl")
        n_ent, n_st = len(record.get("entities") or ()), len(record.get("statements") or ())
        self._put(f'<article id="doc-{doc_id}"><h2><bdi>{doc_id}</bdi> <bdi class="meta">({n_st} statements, '
                  f'{n_ent} entities)</bdi></h2>\n<div class="text">{highlight(record.get("text", ""), record)}</div>\n'
                  f"{statement_table(record)}</article>\n")

    def close(self) -> None:
        prov = self.provenance or {}
        foot = (f"{self.count} article(s), {self.failed} failed"
                + (f" · qawl {escape(str(prov.get('version')))}, model {escape(str(prov.get('model')))}"
                   if prov else ""))
        self._put(f'<footer class="meta" dir="ltr">{foot}</footer>\n</body>\n</html>\n')
        super().close()
