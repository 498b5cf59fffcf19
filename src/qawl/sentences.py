"""Sentence splitting for Arabic news, as Spans into the original text.

Rules, in the order they are applied:
- a newline always ends a sentence, and closes any quotation left open on its line;
- inside a quotation that is open on the current line nothing splits;
- `! ? ؟ ؛ …` end a sentence, and `،` too with `clauses=True`; `.` only when followed by whitespace, a quote,
  a bracket, another terminator or the end (so never in 3.5, 1.000 or rt.com), and not after an abbreviation
  (a single letter such as د. or J., a Latin title such as Dr., or a list number at the start of a sentence);
- a run of terminators stays together ("؟!", "..."), and a closing quotation mark after a terminator stays
  with the sentence it closes (also one whose opening mark is not on the line).
Quotation marks are matched by family (“” „, «», "), so reversed pairs common in Arabic text (”...“, »...«)
still open and close.
"""

from __future__ import annotations

from qawl.document import Span

TERMINATORS = frozenset(".!?؟؛…")
CLAUSE_MARK = "،"
_QUOTE_FAMILY = {"“": "curly", "”": "curly", "„": "curly", "«": "angle", "»": "angle", '"': "straight"}
_CLOSING_BRACKETS = frozenset(")]}")
_LATIN_TITLES = frozenset("Mr Mrs Ms Dr Prof St Jr Sr vs No Gen Col Lt Sgt Rev".split())


def _word_before(text: str, i: int) -> tuple[str, int]:
    """The run of letters or digits ending just before position i, and where it starts."""
    j = i
    while j > 0 and text[j - 1].isalnum():
        j -= 1
    return text[j:i], j


def _period_ends_sentence(text: str, i: int, segment_start: int) -> bool:
    after = text[i + 1] if i + 1 < len(text) else ""
    if after and not (after.isspace() or after in TERMINATORS or after in _QUOTE_FAMILY
                      or after in _CLOSING_BRACKETS):
        return False  # 3.5, 1.000, U.S., rt.com
    word, j = _word_before(text, i)
    if len(word) == 1 and word.isalpha() and (not word.isascii() or word.isupper()):
        return False  # د. (Dr.), م. (Eng.), J. K. initials
    if word in _LATIN_TITLES:
        return False
    if word.isdecimal() and not text[segment_start:j].strip():
        return False  # "1. " numbering a list item
    return True


def split_sentences(text: str, clauses: bool = False) -> list[Span]:
    """Sentence spans in order, non-overlapping, without leading or trailing whitespace."""
    cuts: list[int] = []  # end positions (exclusive) of sentences
    segment_start = 0
    open_quotes: list[str] = []  # families of the quotations open on this line, innermost last
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char == "\n":
            cuts.append(i)
            open_quotes.clear()
            segment_start = i + 1
        elif char in _QUOTE_FAMILY:
            family = _QUOTE_FAMILY[char]
            if family in open_quotes:  # closes it (and anything opened inside and left open)
                del open_quotes[open_quotes.index(family):]
                if not open_quotes and _last_visible(text, i) in TERMINATORS:
                    end = _extend(text, i + 1)  # a quoted sentence ends after its closing mark
                    cuts.append(end)
                    segment_start = end
                    i = end
                    continue
            else:
                open_quotes.append(family)
        elif not open_quotes and (char in TERMINATORS or (clauses and char == CLAUSE_MARK)):
            if char != "." or _period_ends_sentence(text, i, segment_start):
                end = _extend(text, i + 1)
                cuts.append(end)
                segment_start = end
                i = end
                continue
        i += 1
    cuts.append(n)
    spans, start = [], 0
    for end in cuts:
        lo, hi = start, end
        while lo < hi and text[lo].isspace():
            lo += 1
        while hi > lo and text[hi - 1].isspace():
            hi -= 1
        if lo < hi:
            spans.append(Span(lo, hi, text[lo:hi]))
        start = end
    return spans


def _last_visible(text: str, i: int) -> str:
    """The last non-space character before position i on the same line, or ''."""
    j = i - 1
    while j >= 0 and text[j].isspace() and text[j] != "\n":
        j -= 1
    return text[j] if j >= 0 and text[j] != "\n" else ""


def _extend(text: str, end: int) -> int:
    """Past further terminators, closing brackets and quote marks right after the terminator, so "؟!", "...",
    ".)" and a closing mark whose opening is not on this line (.» after a line break) stay together."""
    while end < len(text) and (text[end] in TERMINATORS or text[end] in _CLOSING_BRACKETS
                               or text[end] in _QUOTE_FAMILY):
        end += 1
    return end
