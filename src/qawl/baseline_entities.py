"""Gazetteer-free trigger rules for entities: the NER half of the rule-based reference (qawl.baseline).

No name lists: an entity is found only through the words around it, so the baseline measures what context
alone gives. PERS: the name words after a person title ("الرئيس التركي رجب طيب أردوغان") or right after a
speech verb ("وقال لافروف"). ORG: an organisation head noun and its chain of ال-words ("وزارة الخارجية
الروسية", "مجلس الأمن"). LOC: the word after a place noun ("مدينة دمشق"). No MISC rule.
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

from qawl.document import Entity
from qawl.normalize import NormalizerConfig, normalize_fast, word_pattern

# Lookup form: no diacritics or tatweel, one alef, one taa marbuta. Yaa is kept apart: on unifying it,
# the preposition على would read as the name علي.
LOOKUP = NormalizerConfig(unify_alef=True, unify_taa_marbuta=True, space_punctuation=False, space_digits=False)
CLITICS = "وفبلك"  # one-letter proclitics, left outside entity spans (ANNOTATION.md)


def forms(*groups: str) -> frozenset[str]:
    return frozenset(w for g in groups for w in g.split())


class Word(NamedTuple):  # a tuple, not a frozen dataclass: built for every word of every article, in half the time
    start: int
    end: int
    form: str  # lookup form


@lru_cache(maxsize=1 << 13)  # bounded: a long stream must not grow memory
def lookup_form(word: str) -> str:
    """A word's lookup form; cached because news repeats its words (this was most of the rules' time)."""
    return normalize_fast(word, LOOKUP)


def words_of(text: str, start: int = 0, end: int | None = None) -> list[Word]:
    """Runs of non-space, non-punctuation characters in text[start:end] (diacritics stay in their word)."""
    end = len(text) if end is None else end
    return [Word(m.start(), m.end(), lookup_form(m.group())) for m in word_pattern().finditer(text, start, end)]


PERSON_TITLES = forms("الرئيس رئيس الوزير وزير الملك الامير امير الشيخ السيد السيده الدكتور د المستشار الجنرال",
                      "العقيد اللواء العميد النائب المتحدث الناطق السفير المبعوث البابا الامام الرئيسه الوزيره",
                      "المتحدثه الناطقه السفيره النائبه الدكتوره المستشاره")
ANONYMOUS = forms("مصادر مصدر شهود وسائل تقارير مسؤولون مسؤولين ناشطون ناشطين مراقبون محللون خبراء سكان",
                  "مسؤول المسؤول دبلوماسيون شاهد شاهده الرجل رجل المراه امراه مراسل ناشط احد نظيره نظيرته")
COMPLEMENTIZERS = forms("ان انه انها انهم انهما اننا انني اني بان بانه بانها بانهم")
NAME_LINKS = forms("بن بنت ابن ابو ابي ام عبد ال")  # inside a name: "يحيى بن عبدالله", "ابو مازن"
SPEECH = forms("قال قالت اكد اكدت اضاف اضافت اوضح اوضحت اشار اشارت صرح صرحت")
ORG_HEADS = forms("وزاره حزب حركه منظمه وكاله جامعه مجلس شركه هيئه جمعيه بنك مصرف صندوق جبهه اتحاد",
                  "الاتحاد المجلس الحزب الحركه المنظمه الامم محكمه المحكمه البرلمان جيش الجيش قناه صحيفه")
PLACE_NOUNS = forms("مدينه محافظه ولايه منطقه دوله عاصمه جزيره اقليم بلده قريه مقاطعه العاصمه")
NOT_NAMES = forms("في من الى على عن مع ان انه انها ان قد لا لم لن ما هذا هذه ذلك التي الذي الذين كان كانت",
                  "امس اليوم يوم خلال بعد قبل عند حيث او ثم كما ايضا بين منذ حتى وقال وقالت باسم")
MAX_NAME_WORDS = 3
MAX_ORG_WORDS = 4


def is_al_word(form: str) -> bool:
    """A word with the article (not الى / الذي / التي, which only look like one after alef unification)."""
    return form.startswith("ال") and form not in NOT_NAMES


def _bare(form: str) -> tuple[str, int]:
    """A word without a one-letter proclitic when that makes it a trigger; (form, letters dropped)."""
    if len(form) > 3 and form[0] in CLITICS:
        return form[1:], 1
    return form, 0


def _joined(text: str, a: Word, b: Word) -> bool:
    return text[a.end:b.start].isspace()


def name_end(text: str, ws: list[Word], i: int) -> int:
    """End index (exclusive) of the name starting at ws[i]: up to three words without ال (with links such as
    "بن"), then at most one ال-word as a family name ("سامي الحداد"); never a function word or a title."""
    def ok(j: int) -> bool:
        form = ws[j].form
        return (not {form, _bare(form)[0]} & (NOT_NAMES | PERSON_TITLES | ANONYMOUS | SPEECH | COMPLEMENTIZERS)
                and (j == i or _joined(text, ws[j - 1], ws[j])))
    j = i
    while (j < len(ws) and j - i < MAX_NAME_WORDS + (ws[j].form in NAME_LINKS) and ok(j)
           and (not ws[j].form.startswith("ال") or ws[j].form in NAME_LINKS)):
        j += 1
    if i < j < len(ws) and ws[j].form.startswith("ال") and ok(j):
        j += 1  # a family name with the article
    while j > i and ws[j - 1].form in NAME_LINKS:  # a name does not end on "بن"
        j -= 1
    return j


def trigger_entities(text: str) -> list[Entity]:
    """Entities found by the trigger rules, non-overlapping, in text order."""
    ws = words_of(text)
    found: list[tuple[int, int, str]] = []
    i = 0
    while i < len(ws):
        form, skip = _bare(ws[i].form)
        hit = None
        if ws[i].form in PERSON_TITLES or form in PERSON_TITLES or form in SPEECH:
            j = i + 1
            while j < len(ws) and j - i <= 3 and is_al_word(ws[j].form) and _joined(text, ws[j - 1], ws[j]):
                j += 1  # adjectives and ministries after the title: "وزير الخارجية الروسي"
            k = name_end(text, ws, j) if j < len(ws) and _joined(text, ws[j - 1], ws[j]) else j
            # After a speech verb only a bare name before "أن" / ":" / "،" counts ("وقال لافروف إن").
            if form in SPEECH and ws[i].form not in PERSON_TITLES and not (
                    k == j or k == len(ws) or ws[k].form in COMPLEMENTIZERS or text[ws[k - 1].end:ws[k].start].strip()):
                k = j
            if k > j:
                hit = (ws[j].start, ws[k - 1].end, "PERS", k)
        elif form in ORG_HEADS:
            j = i + 1
            while j < len(ws) and j - i < MAX_ORG_WORDS and is_al_word(ws[j].form) and _joined(text, ws[j - 1], ws[j]):
                j += 1
            if j > i + 1:  # a bare head ("الجيش") is a generic noun more often than a name
                hit = (ws[i].start + skip, ws[j - 1].end, "ORG", j)
        elif form in PLACE_NOUNS and i + 1 < len(ws) and _joined(text, ws[i], ws[i + 1]) \
                and ws[i + 1].form not in NOT_NAMES:
            hit = (ws[i + 1].start, ws[i + 1].end, "LOC", i + 2)
        if hit is None:
            i += 1
            continue
        found.append(hit[:3])
        i = hit[3]
    return [Entity(s, e, label, text[s:e]) for s, e, label in found]
