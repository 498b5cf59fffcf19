"""Signs that an article's text is damaged or not what qawl reads: shared by `qawl data validate` (warnings).

Each check names the problem, the offset where it first occurs and what to do. They are warnings, not
errors: the text stays usable (qawl keeps it exactly, offsets point into it), but a corpus with leftover HTML,
control characters or decoding damage was probably scraped or converted badly.
"""

from __future__ import annotations

import re

__all__ = ["text_warnings"]

# Arabic letters (not digits or punctuation): base block, supplement, extended-A, presentation forms.
_ARABIC_LETTER = re.compile("[\u0621-\u064a\u066e-\u06d3\u06d5\u06fa-\u06ff\u0750-\u077f\u08a0-\u08c9"
                            "\ufb50-\ufdfb\ufe70-\ufefc]")
# C0/C1 controls except tab, newline and carriage return (NUL and friends come from broken conversions).
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# A tag needs a Latin name right after '<' (so "<3" or Arabic text between angle brackets is not one).
_HTML_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9]{0,10}(?:\s[^<>]{0,200})?/?>")
# An entity needs its closing ';' (so "AT&T" is not one).
_HTML_ENTITY = re.compile(r"&(?:[A-Za-z]{2,8}|#[0-9]{2,7}|#[xX][0-9A-Fa-f]{2,6});")


def _first(pattern: re.Pattern[str], text: str) -> tuple[int, str, int] | None:
    """(offset of the first match, its text, number of matches) or None."""
    matches = pattern.finditer(text)
    first = next(matches, None)
    if first is None:
        return None
    return first.start(), first.group(), 1 + sum(1 for _ in matches)


def text_warnings(text: str, article: bool = True) -> list[str]:
    """What looks wrong with a text, each with an offset and a remedy; [] for a clean text.

    `article=False` (a CoNLL sentence such as ") .") skips the checks that only make sense for a whole article."""
    if not text:
        return ["empty text; drop the record or fill in the article"]
    if not text.strip():
        return [f"text is only whitespace ({len(text)} characters); drop the record or fill in the article"]
    out = []
    if article and not _ARABIC_LETTER.search(text):
        out.append("no Arabic letters in the text; qawl reads Arabic news")
    found = _first(_CONTROL, text)
    if found:
        at, char, n = found
        out.append(f"control character U+{ord(char):04X} at offset {at} ({n} in all); the text was probably "
                   f"converted badly; remove control characters")
    if "\ufffd" in text:
        out.append(f"replacement character U+FFFD at offset {text.index(chr(0xFFFD))} ({text.count(chr(0xFFFD))} "
                   f"in all): the text was decoded with errors before it reached this file")
    found = _first(_HTML_TAG, text)
    if found:
        at, tag, n = found
        out.append(f"leftover HTML tag {tag[:40]!r} at offset {at} ({n} in all); strip markup when scraping")
    found = _first(_HTML_ENTITY, text)
    if found:
        at, entity, n = found
        out.append(f"leftover HTML entity {entity!r} at offset {at} ({n} in all); unescape it when scraping "
                   f"(html.unescape)")
    return out
