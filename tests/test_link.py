"""Rules of link.py: speaker_name resolution and statement kinds."""

from hypothesis import given, settings
from hypothesis import strategies as st

from qawl.document import Entity, Span
from qawl.link import MATCH_NORM, NameResolver, statement_kind, words
from qawl.normalize import normalize_fast

TEXT = ("قال الرئيس التركي رجب طيب أردوغان إن بلاده مستعدة. "
        "وأكد أردوغان أن المحادثات مستمرة. وقال الرئيس التركي إن الاتفاق قريب. "
        "وذكرت مصادر مطلعة أن الوفد وصل. وأعلنت وزارة الخارجية أن السفير عاد.")


def ents(text, items):
    out = []
    for name, label in items:
        start = 0
        while (i := text.find(name, start)) != -1:
            out.append(Entity(i, i + len(name), label, name))
            start = i + len(name)
    return sorted(out, key=lambda e: e.start)


def span(text, needle, nth=0):
    i = -1
    for _ in range(nth + 1):
        i = text.index(needle, i + 1)
    return Span(i, i + len(needle), needle)


def resolver(anonymous=("مصادر",)):
    entities = [e for e in ents(TEXT, [("رجب طيب أردوغان", "PERS"), ("وزارة الخارجية", "ORG")])]
    short = span(TEXT, "أردوغان", 1)
    entities.append(Entity(short.start, short.end, "PERS", short.text))
    return NameResolver(TEXT, sorted(entities, key=lambda e: e.start), anonymous)


def test_short_form_resolves_to_fullest_name():
    assert resolver().resolve(span(TEXT, "أردوغان", 1)) == "رجب طيب أردوغان"


def test_title_resolves_to_the_person_it_introduced():
    assert resolver().resolve(span(TEXT, "الرئيس التركي", 1)) == "رجب طيب أردوغان"


def test_anonymous_source_has_no_name_and_institution_keeps_its_description():
    r = resolver()
    assert r.resolve(span(TEXT, "مصادر مطلعة")) is None
    assert r.resolve(span(TEXT, "وزارة الخارجية")) == "وزارة الخارجية"


def test_office_mention_resolves_to_its_holder_not_the_organisation_inside_it():
    text = ("أكد رئيس الهيئة الوطنية لمكافحة الفساد شوقي الطبيب أن الملفات كثيرة. "
            "وقال رئيس الهيئة الوطنية لمكافحة الفساد إن التحقيق مستمر. وأعلنت الهيئة الوطنية لمكافحة الفساد أن "
            "العمل متواصل. وصرح رئيس الجامعة الأهلية إن الدروس تستأنف.")
    entities = ents(text, [("الهيئة الوطنية لمكافحة الفساد", "ORG"), ("شوقي الطبيب", "PERS"),
                           ("الجامعة الأهلية", "ORG")])
    r = NameResolver(text, entities, ())
    assert r.resolve(span(text, "رئيس الهيئة الوطنية لمكافحة الفساد", 1)) == "شوقي الطبيب"
    # the organisation itself, and an office whose holder is never named, keep the organisation's name
    assert r.resolve(span(text, "الهيئة الوطنية لمكافحة الفساد", 2)) == "الهيئة الوطنية لمكافحة الفساد"
    assert r.resolve(span(text, "رئيس الجامعة الأهلية")) == "الجامعة الأهلية"


def test_statement_kinds():
    text = 'الخارجية: لا شروط للحوار\n\nوقال الوزير: "نحن مستعدون". وأكد أن "الباب مفتوح" أمام الجميع.'
    assert statement_kind(text, span(text, "لا شروط للحوار")) == "headline"
    assert statement_kind(text, span(text, "نحن مستعدون")) == "direct"
    assert statement_kind(text, span(text, 'أن "الباب مفتوح" أمام الجميع')) == "partial"
    assert statement_kind("قال إن الوضع هادئ\n", span("قال إن الوضع هادئ\n", "إن الوضع هادئ")) == "indirect"


def test_names_become_speaker_candidates_unless_a_mention_covers_them():
    import itertools

    from qawl.decode import TokenSpan
    from qawl.link import speaker_candidates

    def ts(first, last, label=""):
        return TokenSpan(first, last, label, first, last + 1, 0.9)

    mentions = [ts(2, 4), ts(10, 10), ts(20, 23)]
    names = [ts(0, 1, "PERS"), ts(3, 3, "PERS"), ts(4, 6, "ORG"), ts(8, 9, "ORG"), ts(10, 12, "PERS"),
             ts(15, 16, "LOC"), ts(24, 25, "PERS")]
    got = speaker_candidates(mentions, names)
    free = [n for n in names if n.label in ("PERS", "ORG")
            and not any(n.first <= m.last and m.first <= n.last for m in mentions)]
    assert [(s.first, s.last) for s in got] == sorted((s.first, s.last) for s in mentions + free)
    assert [(s.first, s.last) for s in free] == [(0, 1), (8, 9), (24, 25)]  # LOC is no speaker candidate
    # every pair of candidates is disjoint
    assert all(a.last < b.first for a, b in itertools.pairwise(got))


def test_a_shortened_title_resolves_to_the_name_its_full_title_introduced():
    """"وزير التجهيز" / "الوزير التونسي" after "وزير التجهيز والإسكان التونسي محمد العرفاوي": the mention's
    words, in order, in the title phrase before the name; a title never seen before a name keeps its words."""
    text = ("قال وزير التجهيز والإسكان التونسي محمد العرفاوي إن الأشغال بدأت. وأكد وزير التجهيز أن الطريق جاهز. "
            "وقال الوزير التونسي إن التمويل متوفر. وقال وزير الصحة إن المستشفى جاهز.")
    r = NameResolver(text, ents(text, [("محمد العرفاوي", "PERS")]), ())
    assert r.resolve(span(text, "وزير التجهيز", 1)) == "محمد العرفاوي"
    assert r.resolve(span(text, "الوزير التونسي")) == "محمد العرفاوي"
    assert r.resolve(span(text, "وزير الصحة")) == "وزير الصحة"


def test_a_demonstrative_before_an_anonymous_source_keeps_it_anonymous():
    text = "وذكرت مصادر مطلعة أن الوفد وصل. وأضافت هذه المصادر أن المحادثات بدأت."
    r = NameResolver(text, [], ("مصادر",))
    assert r.resolve(span(text, "هذه المصادر")) is None
    assert r.name_for(None, "سامي الحداد") == "سامي الحداد"  # no mention: whoever spoke before goes on


def test_a_name_with_a_middle_word_left_out_resolves_to_the_full_name():
    text = "قال سيف محمد السويدي إن المطار جاهز. وأكد سيف السويدي أن الرحلات مستمرة."
    entities = ents(text, [("سيف محمد السويدي", "PERS"), ("سيف السويدي", "PERS")])
    assert NameResolver(text, entities, ()).resolve(span(text, "سيف السويدي")) == "سيف محمد السويدي"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("قالأإىة ًّـ،.:«»\"-_/0123456789٣x\u200f\n"))) | st.text())
def test_name_words_are_the_normalized_tokens_that_hold_a_letter_or_digit(text):
    """`words` takes its tokens without normalize's character loop; they must be the tokens it would give."""
    expected = [w for w in normalize_fast(text, MATCH_NORM).split() if any(c.isalnum() for c in w)]
    assert words(text) == expected
