"""The rule-based reference: cue lexicon, speakers, contents, names, headlines, entities, interface."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qawl.baseline import RuleBasedExtractor, _DocState
from qawl.baseline_entities import trigger_entities, words_of
from qawl.document import Document

EX = RuleBasedExtractor()


def only(text: str):
    statements = EX(text).statements
    assert len(statements) == 1, [s.to_dict() for s in statements]
    return statements[0]


def test_verb_cue_speaker_and_complementizer_content():
    s = only("قال وزير المالية سامي الحداد إن الموازنة الجديدة ستخفض العجز.")
    assert (s.cue.text, s.speaker.text) == ("قال", "وزير المالية سامي الحداد")
    assert s.content.text == "إن الموازنة الجديدة ستخفض العجز"  # complementizer in, full stop out
    assert (s.speaker_name, s.kind) == ("سامي الحداد", "indirect")


def test_proclitic_stays_outside_the_cue_and_continuation_keeps_the_speaker():
    doc = EX("وأكدت الوزيرة ليلى منصور أن الخطة جاهزة. وأضافت أن التنفيذ يبدأ غدا.")
    first, second = doc.statements
    assert first.cue.text == "أكدت" and first.speaker_name == "ليلى منصور"
    assert second.cue.text == "أضافت" and second.speaker is None and second.speaker_name == "ليلى منصور"


def test_quotation_after_a_colon_is_direct_without_its_marks():
    s = only("قالت المتحدثة ليلى منصور: \"الوضع في المدينة خطير جدا\".")
    assert s.content.text == "الوضع في المدينة خطير جدا" and s.kind == "direct"


def test_attribution_after_the_content_and_before_it():
    s = only("ارتفعت أسعار القمح في الأسواق المحلية، بحسب وزارة الزراعة.")
    assert (s.cue.text, s.speaker.text, s.content.text) == ("بحسب", "وزارة الزراعة", "ارتفعت أسعار القمح في الأسواق المحلية")
    s = only("وبحسب التقرير فإن أسعار القمح ارتفعت في عدن.")
    assert s.content.text == "أسعار القمح ارتفعت في عدن"  # after فإن, as ANNOTATION.md says


def test_anonymous_sources_have_no_name():
    assert only("وأكدت مصادر مطلعة أن الاتفاق قريب.").speaker_name is None


def test_title_line_is_a_headline_statement():
    doc = EX("وزير المالية: الموازنة الجديدة تدعم الأسر\n\nقال وزير المالية سامي الحداد إن العجز تراجع.")
    head = doc.statements[0]
    assert head.kind == "headline" and head.cue is None
    assert (head.speaker.text, head.content.text) == ("وزير المالية", "الموازنة الجديدة تدعم الأسر")
    assert head.speaker_name == "سامي الحداد"  # resolved from the body


def test_title_with_the_speaker_before_the_cue():
    doc = EX("الوزير يؤكد أن الأسعار ستنخفض\n\nنص الخبر هنا.")
    head = doc.statements[0]
    assert (head.kind, head.cue.text, head.speaker.text) == ("headline", "يؤكد", "الوزير")


def test_short_name_resolves_to_the_fullest_name_in_the_article():
    doc = EX("وقال الرئيس التركي رجب طيب أردوغان إن بلاده مستعدة للحوار. وأوضح أردوغان أن الاتصالات مستمرة.")
    assert [s.speaker_name for s in doc.statements] == ["رجب طيب أردوغان", "رجب طيب أردوغان"]


def test_no_cue_no_statement():
    assert EX("التقى الوزير نظيره في عمان لبحث التعاون.").statements == ()


def test_trigger_entities_without_a_gazetteer():
    text = "وقال الرئيس التركي رجب طيب أردوغان إن لوزارة الخارجية الروسية دورا في مدينة دمشق."
    found = {(e.label, e.text) for e in trigger_entities(text)}
    assert found == {("PERS", "رجب طيب أردوغان"), ("ORG", "وزارة الخارجية الروسية"), ("LOC", "دمشق")}


def test_pipe_keeps_order_ids_and_meta_and_takes_empty_text():
    docs = [Document("x9", "قال الوزير إن الوضع مستقر.", {"source": "A"}), "", "نص بلا اقتباس."]
    out = list(EX.pipe(docs, batch_size=2))
    assert [d.id for d in out] == ["x9", "2", "3"]
    assert out[0].meta["source"] == "A" and out[0].statements
    assert out[1].statements == () and out[1].entities == ()


def test_spans_always_agree_with_the_text(fixtures_dir):
    for line in (fixtures_dir / "eval_gold.jsonl").read_text(encoding="utf-8").splitlines():
        doc = EX(Document.from_dict(json.loads(line)))
        doc.check()
        assert all(s.content.text.strip() == s.content.text and s.content.text for s in doc.statements)


@pytest.mark.shared_data
def test_baseline_runs_on_the_reference_article(shared_dir):
    seed = Document.from_dict(json.loads((shared_dir / "quotes" / "seed.jsonl").read_text(encoding="utf-8")))
    doc = EX(seed)
    doc.check()
    assert len(doc.statements) >= 8


def test_words_of_matches_a_character_by_character_scan():
    """words_of runs one regex; it must split exactly where a per-character whitespace/punctuation test would."""
    import random

    from qawl.baseline_entities import Word, lookup_form, words_of
    from qawl.normalize import is_punct

    def scan(text, start=0, end=None):
        end = len(text) if end is None else end
        out, begin = [], None
        for i in range(start, end + 1):
            boundary = i == end or text[i].isspace() or is_punct(text[i])
            if boundary and begin is not None:
                out.append(Word(begin, i, lookup_form(text[begin:i])))
                begin = None
            elif not boundary and begin is None:
                begin = i
        return out

    rng = random.Random(0)
    alphabet = list("قال الرئيسُ،.!؟:\"«»\u064b\u0651\u200f\u00a0\u2003\t\n-_ـ٣3$€😀") + \
        [chr(c) for c in rng.sample(range(0x30000), 400) if not 0xD800 <= c <= 0xDFFF]
    for _ in range(2000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(40)))
        a = rng.randrange(len(text) + 1)
        b = rng.randrange(a, len(text) + 1)
        assert words_of(text) == scan(text)
        assert words_of(text, a, b) == scan(text, a, b)


def test_manner_words_and_accounts_are_not_speakers():
    """"وتابع بالقول: ..." and "..., بحسب رأيه" name no one: the statement stands without a speaker mention
    (and continues the previous speaker), instead of taking بالقول or رأيه as the speaker."""
    from qawl.baseline import RuleBasedExtractor

    rules = RuleBasedExtractor()
    text = "قال الوزير سامي الحداد إن المحادثات مستمرة. وتابع بالقول: \"لن نتراجع عن قرارنا\"."
    first, second = rules.statements(text)
    assert second.speaker is None and second.content.text == "لن نتراجع عن قرارنا"
    assert second.speaker_name == first.speaker_name
    text = "وصل الوفد إلى العاصمة. الأزمة ستنتهي قريبا، بحسب رأيه."
    (only,) = rules.statements(text)
    assert only.cue.text.endswith("حسب") and only.speaker is None


def test_the_addressee_of_a_cue_is_not_its_speaker():
    """"وأضاف الحداد لـ«الأنباء» أن ..." names the speaker, then the medium he spoke to; "وقال لوكالة الأنباء
    إن ..." names only the medium: the speaker is the one before."""
    from qawl.baseline import RuleBasedExtractor

    rules = RuleBasedExtractor()
    text = ("قال الوزير سامي الحداد إن المحادثات مستمرة. وأضاف الحداد لـ«الأنباء» أن الوفد سيصل غدا. "
            "وقال لوكالة الأنباء الوطنية إن الاتفاق قريب.")
    first, second, third = rules.statements(text)
    assert second.speaker.text == "الحداد" and second.content.text.startswith("أن الوفد")
    assert third.speaker is None and third.speaker_name == second.speaker_name


def test_to_the_press_after_a_cue_and_attributions_end_a_speaker_mention():
    """"وقال للصحفيين إن ..." names whom he spoke to (the speaker is the one before), while لل inside a
    mention belongs to the name; "قال الحداد وفقا للتسجيل" ends the mention before the attribution; the
    object of a request ("ودعا جميع الأطراف إلى") is not the speaker, "دعا كل من X و Y" is."""
    from qawl.baseline import RuleBasedExtractor

    rules = RuleBasedExtractor()
    text = ("قال الوزير سامي الحداد إن المحادثات مستمرة. وقال للصحفيين إن الوفد سيصل غدا. "
            "وأوضحت المديرية العامة للأمن الوطني أن الطريق مغلق. وقالت سلمى وفقا للتسجيل \"كل شيء بخير والعمل مستمر كالمعتاد\". "
            "ودعا جميع الأطراف إلى ضبط النفس. ودعا كل من الوزير والسفير إلى الحوار.")
    first, press, directorate, recorded, request, both = rules.statements(text)
    assert press.speaker is None and press.speaker_name == first.speaker_name
    assert press.content.text.startswith("إن الوفد")
    assert directorate.speaker.text == "المديرية العامة للأمن الوطني"
    assert recorded.speaker.text == "سلمى" and recorded.content.text == "كل شيء بخير والعمل مستمر كالمعتاد"
    assert request.speaker is None and request.content.text.startswith("إلى ضبط")
    assert both.speaker.text == "كل من الوزير والسفير"


def test_an_empty_quotation_is_no_statement():
    from qawl.baseline import RuleBasedExtractor

    for text in ('قال"', 'قال: «»', 'وأضاف الوزير "  "'):
        assert RuleBasedExtractor().statements(text) == []


def test_a_medium_that_carried_the_words_is_not_their_speaker():
    """"..."، وفقا لما نقلته وكالة الأنباء": the agency carried the words of the speaker named before, so the
    statement continues that speaker; "بحسب ما ذكرت وكالة ..." (the agency reported) keeps the agency."""
    from qawl.baseline import RuleBasedExtractor

    rules = RuleBasedExtractor()
    text = ("قال الرئيس سامي الحداد إن المحادثات مستمرة. الوفد سيصل غدا، وفقا لما نقلته وكالة الأنباء الوطنية. "
            "الأسعار سترتفع، بحسب ما ذكرت وكالة رويترز.")
    first, carried, reported = rules.statements(text)
    assert carried.content.text == "الوفد سيصل غدا" and carried.speaker is None
    assert carried.speaker_name == first.speaker_name
    assert reported.speaker.text == "وكالة رويترز"


def test_a_subject_before_its_cue_is_the_speaker():
    """SVO attributions: after كان ("وكانت الشرطة قد أشارت"), after a contrast ("لكن كوهين قال", "بيد أن
    السفارة قالت") and "نقلت الصحيفة عن X قولها"; a sentence-initial "وأضاف" still has no speaker mention, and
    the subject of another verb ("الوزير زار ... وقال") is not taken."""
    from qawl.baseline import RuleBasedExtractor

    rules = RuleBasedExtractor()
    text = ("قال الوزير سامي الحداد إن المحادثات مستمرة. وأضاف أن الوفد سيصل غدا. "
            "وكانت الشرطة المحلية قد أشارت إلى أن الطريق مغلق. لكن كوهين قال إن الاتفاق صامد. "
            "بيد أن السفارة الروسية قالت إن التأشيرات صدرت. ونقلت الصحيفة عن سلمى الحداد قولها إن العمل مستمر. "
            "ونقلت الوكالة عنه قوله إن الوضع هادئ. وزار الوزير المدينة وقال إن الطريق مفتوح. "
            "يذكر أن وزير الخارجية خالد العلي، قد أكد أن الزيارة ناجحة. لكن مراسل الصحيفة قال لاحقا إن الجسر أغلق.")
    first, added, police, cohen, embassy, salma, relayed, visit, reminder, later = rules.statements(text)
    assert added.speaker is None and added.speaker_name == first.speaker_name
    assert police.speaker.text == "الشرطة المحلية" and police.content.text.startswith("أن الطريق")
    assert cohen.speaker.text == "كوهين" and embassy.speaker.text == "السفارة الروسية"
    assert salma.speaker.text == "سلمى الحداد" and salma.content.text.startswith("إن العمل")
    assert relayed.speaker is None and relayed.speaker_name == "سلمى الحداد"  # "عنه": whoever spoke last
    assert visit.speaker is None
    assert reminder.speaker.text == "وزير الخارجية خالد العلي"
    assert later.speaker.text == "مراسل الصحيفة"  # "لاحقا" says when, not who


def test_accounts_clause_splits_and_stated_objects():
    """"وفق قوله" is an account of the last speaker, not a cue of its own; "...، اعتبر الشفي أن ..." ends the
    content before it and starts a statement; a verbal noun after the cue ("وأكد استعداد الاتحاد ...") is
    what was stated, not who stated it."""
    from qawl.baseline import RuleBasedExtractor

    rules = RuleBasedExtractor()
    text = ("قال الوزير سمير الشفي إن المفاوضات متواصلة. والقطاع العام خط أحمر، وفق قوله، مؤكدا أن الموقف ثابت. "
            "وبعد أن ذكر بأن الاتحاد طرف أساسي في الحوار، اعتبر الشفي أن التوقيع يخول المشاركة. "
            "وأكد استعداد الاتحاد للتفاعل إيجابيا مع الحكومة.")
    found = rules.statements(text)
    assert [s.cue.text if s.cue else None for s in found] == ["قال", "وفق", "مؤكدا", "ذكر", "اعتبر", "أكد"]
    assert found[1].speaker is None and found[1].speaker_name == "سمير الشفي"
    assert found[1].content.text == "والقطاع العام خط أحمر"
    assert found[3].content.text == "بأن الاتحاد طرف أساسي في الحوار"
    assert found[4].speaker.text == "الشفي" and found[4].content.text == "أن التوقيع يخول المشاركة"
    assert found[5].speaker is None and found[5].content.text == "استعداد الاتحاد للتفاعل إيجابيا مع الحكومة"


def test_more_cue_verbs():
    """Opinion and pledge verbs frame statements too: "ويرى المحلل أن", "وأردف", "وتعهد الرئيس بـ", "حث على",
    and the participle "مبينا أن"."""
    from qawl.baseline import RuleBasedExtractor

    rules = RuleBasedExtractor()
    text = ("ويرى المحلل سامر العلي أن الأزمة ستطول، مبينا أن الحل سياسي. وأردف أن الحوار ضروري. "
            "وتعهد الرئيس بمواصلة الإصلاحات. وحثت الوزيرة على الهدوء.")
    found = rules.statements(text)
    assert [s.cue.text for s in found] == ["يرى", "مبينا", "أردف", "تعهد", "حثت"]
    assert found[0].speaker.text == "المحلل سامر العلي" and found[0].content.text == "أن الأزمة ستطول"
    assert found[2].speaker is None and found[2].speaker_name == found[0].speaker_name
    assert found[3].speaker.text == "الرئيس" and found[3].content.text == "بمواصلة الإصلاحات"
    assert found[4].content.text == "على الهدوء"


def test_an_attribution_after_a_framed_statement_is_no_statement_of_its_own():
    """"أعلن الوزير أن ...، بحسب ما أوردته الوكالة" is one statement; "..., بحسب وزارة الصحة" alone is one."""
    from qawl.baseline import RuleBasedExtractor

    rules = RuleBasedExtractor()
    text = "أعلن الوزير سامي الحداد أن الطريق مغلق، بحسب ما أوردته الوكالة. وارتفع عدد الإصابات إلى عشر، بحسب وزارة الصحة."
    framed, health = rules.statements(text)
    assert framed.cue.text == "أعلن" and framed.speaker.text == "الوزير سامي الحداد"
    assert health.cue.text == "بحسب" and health.speaker.text == "وزارة الصحة"
    assert health.content.text == "وارتفع عدد الإصابات إلى عشر"


def test_what_a_mention_after_a_cue_is_not():
    """An addressee set off by commas ("وقال لافروف، لوسائل إعلام روسية، إن") or a description ("محامية بوبيت")
    is not the name; "لـCNN" is whom it was said to; "كل دول العالم" after دعا is whom it asked; "ذلك" is what
    was denied; "وحسب رويترز، أضافت هيلي" is a statement by هيلي that رويترز carried."""
    from qawl.baseline import RuleBasedExtractor

    rules = RuleBasedExtractor()
    text = ("وقال لافروف، لوسائل إعلام روسية، إن الطرد متوقع. وقالت جاكلين بروميسلو، محامية بوبيت، لبي بي سي إنها ستدافع. "
            "وكانت مصادر أكدت لـCNN أن القوات انسحبت. ودعا كل دول العالم إلى التمسك بالمبادئ. "
            "ونفت ذلك، وأكدت أن الرحلة تمت. وحسب رويترز، أضافت هيلي للصحفيين إن العقوبات باقية.")
    lavrov, lawyer, sources, call, denied, haley = rules.statements(text)
    researcher = rules.statements("أعلن الباحث بمركز الدراسات، طه الشابي، اليوم، أن المشروع جاهز.")[0]
    assert researcher.speaker.text == "طه الشابي"  # a family name may start with ال
    waiter = rules.statements('وقال نادل في مطعم يدعى جوناثان، لوكالة الأنباء "رأيت امرأة تركض نحو الباب".')[0]
    assert waiter.speaker.text == "جوناثان"
    assert lavrov.speaker.text == "لافروف" and lawyer.speaker.text == "جاكلين بروميسلو"
    assert sources.speaker.text == "مصادر" and call.speaker is None
    assert denied.cue.text == "أكدت" and denied.speaker is None
    assert haley.cue.text == "أضافت" and haley.speaker.text == "هيلي"


def test_hashtag_names_and_whom_it_was_said_to():
    """Some outlets tag names ("أعلنت #الصين أن", "جو #بايدن"); "قال عنه الناقد" and "قالت لها الوزيرة" put
    to or of whom it was said between the cue and its speaker; "قال له إن" has no speaker after the cue."""
    tagged = only("أعلنت #الصين، الأربعاء، أن الزعيم زار بكين.")
    assert tagged.speaker.text == "الصين"
    assert only("وقال السيناتور جو #بايدن إن التعليق مؤسف.").speaker.text == "السيناتور جو #بايدن"
    of_him = only("وقال عنه الناقد سامر العلي إنه أفضل كتاب العام.")
    assert (of_him.cue.text, of_him.speaker.text, of_him.content.text) == ("قال", "الناقد سامر العلي",
                                                                          "إنه أفضل كتاب العام")
    assert only("وقالت لها الوزيرة ليلى منصور إن الخطة جاهزة.").speaker.text == "الوزيرة ليلى منصور"
    to_him = only("قال له إن الطريق مغلق.")
    assert to_him.speaker is None and to_him.content.text == "إن الطريق مغلق"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("قال أكد، .«»\n:٣2"))), st.data())
def test_words_of_a_sentence_sliced_from_the_article_are_the_words_scanned_anew(text, data):
    """The rules take a sentence's words from the article's; a span cutting through a word is scanned anew."""
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, len(text)))
    assert _DocState(text).words_in(start, end) == words_of(text, start, end)
