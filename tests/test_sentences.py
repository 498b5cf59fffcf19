import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qawl.sentences import split_sentences


def texts(text, **kw):
    return [s.text for s in split_sentences(text, **kw)]


@pytest.mark.parametrize("text, expected", [
    ("وصل الوفد إلى بغداد. وبدأت المحادثات فورا.", ["وصل الوفد إلى بغداد.", "وبدأت المحادثات فورا."]),
    ("هل انتهت الأزمة؟ لا أحد يعرف! الانتظار مستمر", ["هل انتهت الأزمة؟", "لا أحد يعرف!", "الانتظار مستمر"]),
    ("ارتفع المؤشر؛ وتراجع الدولار.", ["ارتفع المؤشر؛", "وتراجع الدولار."]),
    ("متى؟! لا جواب", ["متى؟!", "لا جواب"]),
    ("العنوان\n\nالفقرة الأولى", ["العنوان", "الفقرة الأولى"]),
])
def test_basic_splits(text, expected):
    assert texts(text) == expected


@pytest.mark.parametrize("text", [
    "بلغ النمو 3.5 في المئة هذا العام.",
    "حضر 1.000 شخص الافتتاح.",
    "نشر الموقع rt.com الخبر.",
])
def test_never_inside_numbers_or_domains(text):
    assert texts(text) == [text]


def test_abbreviations_do_not_end_sentences():
    assert texts("التقى د. سمير الخطيب بالوفد. ثم غادر.") == ["التقى د. سمير الخطيب بالوفد.", "ثم غادر."]
    assert texts("كتب J. K. Smith الرواية. وصدرت أمس.") == ["كتب J. K. Smith الرواية.", "وصدرت أمس."]
    assert texts("قال أ.د. نبيل حداد إن البحث اكتمل.") == ["قال أ.د. نبيل حداد إن البحث اكتمل."]
    assert texts("استقبل Dr. Brown الطلاب.") == ["استقبل Dr. Brown الطلاب."]


def test_list_numbers_do_not_end_sentences():
    assert texts("1. خفض الضرائب\n2. دعم الصادرات") == ["1. خفض الضرائب", "2. دعم الصادرات"]


def test_closing_quote_stays_with_its_sentence():
    text = "قال الوزير: \"لن نتراجع.\" وغادر القاعة."
    assert texts(text) == ["قال الوزير: \"لن نتراجع.\"", "وغادر القاعة."]
    text = "وأضاف: «سنعود قريبا!» ثم صمت."
    assert texts(text) == ["وأضاف: «سنعود قريبا!»", "ثم صمت."]
    text = "وتابع: «لن نتخلى عن الحوار\nوسنواصل العمل.» ثم غادر. وانتهى اللقاء."
    assert texts(text) == ["وتابع: «لن نتخلى عن الحوار", "وسنواصل العمل.»", "ثم غادر.", "وانتهى اللقاء."]


def test_no_split_inside_an_open_quotation():
    text = "قال: “الوضع صعب. لكننا صامدون” وأكد ذلك. ثم غادر."
    assert texts(text) == ["قال: “الوضع صعب. لكننا صامدون” وأكد ذلك.", "ثم غادر."]


def test_reversed_quotation_marks_still_pair():
    text = "قال: ”الوضع صعب. لكننا صامدون“ وأكد ذلك. ثم غادر."
    assert texts(text) == ["قال: ”الوضع صعب. لكننا صامدون“ وأكد ذلك.", "ثم غادر."]


def test_a_quotation_left_open_ends_with_its_line():
    text = "قال: «الوضع صعب. لكننا صامدون\nوفي سياق آخر. انتهى"
    assert texts(text) == ["قال: «الوضع صعب. لكننا صامدون", "وفي سياق آخر.", "انتهى"]


def test_clauses_option_splits_on_the_arabic_comma():
    text = "ارتفعت الأسعار، وتراجع الطلب."
    assert texts(text) == [text]
    assert texts(text, clauses=True) == ["ارتفعت الأسعار،", "وتراجع الطلب."]


def test_spans_index_the_original_text():
    text = "  أولا.   ثانيا؟  \n\n ثالثا  "
    spans = split_sentences(text)
    assert [(s.start, s.end) for s in spans] == [(2, 7), (10, 16), (21, 26)]
    assert all(text[s.start:s.end] == s.text for s in spans)


def test_empty_and_blank():
    assert split_sentences("") == []
    assert split_sentences(" \n\t ") == []


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("قال ون.!?؟؛،\n\"«»“”()3د"))), st.booleans())
def test_spans_are_ordered_trimmed_and_cover_all_text(text, clauses):
    spans = split_sentences(text, clauses=clauses)
    previous_end = 0
    for s in spans:
        assert previous_end <= s.start < s.end
        assert text[s.start:s.end] == s.text
        assert not s.text[0].isspace() and not s.text[-1].isspace()
        assert not text[previous_end:s.start].strip()  # nothing but whitespace is left out
        previous_end = s.end
    assert not text[previous_end:].strip()
