"""Rules and model together: rule statements kept, confident model statements the rules miss added."""

from qawl.document import Span, Statement
from qawl.fallback import RULE_CONFIDENCE, merge_rule_statements

TEXT = ("قال الوزير سامي الحداد إن المحادثات مستمرة. وأضاف أن الوفد وصل. وذكرت الوكالة أن الطقس بارد. "
        "الناطق يرى الأمر منتهيا.")


def span(needle):
    i = TEXT.index(needle)
    return Span(i, i + len(needle), needle)


def st(sid, content, cue=None, speaker=None, confidence=0.9, medium=None):
    return Statement(sid, span(content), cue and span(cue), speaker and span(speaker), medium and span(medium),
                     None, "indirect", confidence)


RULES = [st("R1", "إن المحادثات مستمرة", cue="قال", speaker="الوزير سامي الحداد", confidence=None),
         st("R2", "أن الوفد وصل", cue="أضاف", confidence=None)]


def test_rules_kept_and_confident_model_statements_added():
    model = [st("S1", "إن المحادثات", speaker="الوزير", medium="الوكالة"),  # the rules cover it
             st("S2", "أن الطقس بارد", cue="ذكرت", speaker="الوكالة", confidence=0.8),  # the rules missed it
             st("S3", "الأمر منتهيا", speaker="الناطق", confidence=0.3)]  # missed by both, but unsure
    out = merge_rule_statements(TEXT, [], model, RULES)
    assert [s.content.text for s in out] == ["إن المحادثات مستمرة", "أن الوفد وصل", "أن الطقس بارد"]
    assert [s.id for s in out] == ["S1", "S2", "S3"]
    first, second, third = out
    assert first.speaker.text == "الوزير سامي الحداد" and first.medium.text == "الوكالة"
    assert first.confidence == RULE_CONFIDENCE and third.confidence == 0.8
    assert second.speaker is None and second.speaker_name == first.speaker_name  # "وأضاف" continues
    assert third.speaker_name == "الوكالة"


def test_min_confidence_controls_model_only_statements():
    model = [st("S3", "الأمر منتهيا", speaker="الناطق", confidence=0.3)]
    assert len(merge_rule_statements(TEXT, [], model, RULES, min_confidence=0.6)) == 2
    assert len(merge_rule_statements(TEXT, [], model, RULES, min_confidence=0.2)) == 3


def test_model_speaker_fills_a_rule_statement_without_one_from_the_cue_sentence():
    """A rule statement without a speaker mention takes the model's mention for the same content when it
    stands in the cue's sentence, outside the content; a name from an earlier sentence or from inside the
    content is what "وأضاف" continues or quotes, so the statement continues the previous speaker instead."""
    text = ("قال الوزير سامي الحداد إن المحادثات مستمرة. الناطق باسم الوفد أضاف أن الوفد وصل. "
            "وأضاف أن الطقس بارد. وتابع أن سامر يوافق.")

    def at(needle, sid=None, **roles):
        i = text.index(needle)
        spans = {k: Span(text.index(v), text.index(v) + len(v), v) for k, v in roles.items()}
        return Statement(sid or "S", Span(i, i + len(needle), needle), spans.get("cue"), spans.get("speaker"),
                         None, None, "indirect", 0.9)

    rules = [at("إن المحادثات مستمرة", cue="قال", speaker="الوزير سامي الحداد"),
             at("أن الوفد وصل", cue="أضاف"), at("أن الطقس بارد", cue="وأضاف"), at("أن سامر يوافق", cue="وتابع")]
    model = [at("إن المحادثات مستمرة", speaker="الحداد"),  # the rule's own mention wins
             at("أن الوفد وصل", speaker="الناطق باسم الوفد"),  # in the cue's sentence: fills
             at("أن الطقس بارد", speaker="الحداد"),  # an earlier sentence: no
             at("أن سامر يوافق", speaker="سامر")]  # inside the content: no
    first, second, third, fourth = merge_rule_statements(text, [], model, rules)
    assert first.speaker.text == "الوزير سامي الحداد"
    assert second.speaker.text == "الناطق باسم الوفد" and second.speaker_name is not None
    assert third.speaker is None and fourth.speaker is None
    assert third.speaker_name == fourth.speaker_name == second.speaker_name
    # without a model mention the speakerless rule statement still continues the previous speaker
    _, alone = merge_rule_statements(TEXT, [], [], RULES)
    assert alone.speaker is None and alone.speaker_name == "الوزير سامي الحداد"


def test_a_mention_after_a_preposition_does_not_fill_a_speaker():
    """"وصرح في اتصال بوكالة الأنباء أن ...": the agency is where it was said, not who said it."""
    text = ("قال الوزير سامي الحداد إن المحادثات مستمرة. وصرح في اتصال بوكالة الأنباء أن الوفد وصل. "
            "وأكد لـ\"الشرق\" أن الطقس بارد. وقال في تصريحات لصحيفة النهار إن الحل قريب.")

    def at(needle, **roles):
        i = text.index(needle)
        spans = {k: Span(text.index(v), text.index(v) + len(v), v) for k, v in roles.items()}
        return Statement("S", Span(i, i + len(needle), needle), spans.get("cue"), spans.get("speaker"),
                         None, None, "indirect", 0.9)

    rules = [at("إن المحادثات مستمرة", cue="قال", speaker="الوزير سامي الحداد"), at("أن الوفد وصل", cue="صرح"),
             at("أن الطقس بارد", cue="أكد"), at("إن الحل قريب", cue="وقال")]
    model = [at("أن الوفد وصل", speaker="وكالة الأنباء"), at("أن الطقس بارد", speaker="الشرق"),
             at("إن الحل قريب", speaker="النهار")]
    _, agency, paper, daily = merge_rule_statements(text, [], model, rules)
    assert agency.speaker is None and paper.speaker is None and daily.speaker is None
    assert agency.speaker_name == paper.speaker_name == daily.speaker_name == "الوزير سامي الحداد"


def test_tune_fallback_writes_the_best_threshold_into_the_model(tiny_model_dir, tmp_path):
    """scripts/tune_fallback.py: the threshold with the best whole-statement F1 lands in config.json."""
    import json
    import runpy
    import shutil
    import sys

    from tiny import REPO, annotated_article

    from qawl.corpus import write_jsonl

    model = tmp_path / "model"
    shutil.copytree(tiny_model_dir, model)
    write_jsonl([annotated_article("a"), annotated_article("b", repeat=2)], tmp_path / "dev.jsonl")
    argv = sys.argv
    sys.argv = ["tune_fallback.py", "--model", str(model), "--data", str(tmp_path / "dev.jsonl"),
                "--thresholds", "0.3,0.9", "--write"]
    try:
        runpy.run_path(str(REPO / "scripts" / "tune_fallback.py"), run_name="__main__")
    finally:
        sys.argv = argv
    config = json.loads((model / "config.json").read_text(encoding="utf-8"))
    sweep = config["qawl_link_tuning"]["sweep"]
    assert [r["threshold"] for r in sweep] == [0.3, 0.9]
    best = max(sweep, key=lambda r: r["statement_f1"])["threshold"]
    assert config["qawl_link"]["model_min_confidence"] == best
    from qawl.pipeline import Extractor
    assert Extractor.load(model).link.model_min_confidence == best


def test_a_participle_without_a_statement_before_it_in_its_sentence_takes_the_sentence_subject():
    """"أدانت وزارة الخارجية الهجوم، قائلة إن ...": the first name of the sentence speaks; after "قال سامي إن
    ...، مضيفا أن ..." the participle continues that statement instead."""
    from qawl.document import Entity

    text = "قال سامي الحداد إن الوفد وصل، مضيفا أن المحادثات تبدأ غدا. أدانت وزارة الخارجية الهجوم، قائلة إن الوضع خطير."

    def at(needle, **roles):
        i = text.index(needle)
        spans = {k: Span(text.index(v), text.index(v) + len(v), v) for k, v in roles.items()}
        return Statement("S", Span(i, i + len(needle), needle), spans.get("cue"), spans.get("speaker"),
                         None, None, "indirect", 0.9)

    entities = [Entity(text.index(n), text.index(n) + len(n), label, n)
                for n, label in (("سامي الحداد", "PERS"), ("وزارة الخارجية", "ORG"))]
    rules = [at("إن الوفد وصل", cue="قال", speaker="سامي الحداد"), at("أن المحادثات تبدأ غدا", cue="مضيفا"),
             at("إن الوضع خطير", cue="قائلة")]
    _, added, condemned = merge_rule_statements(text, entities, [], rules)
    assert added.speaker is None and added.speaker_name == "سامي الحداد"
    assert condemned.speaker.text == "وزارة الخارجية" and condemned.speaker_name == "وزارة الخارجية"


def test_score_slice_scores_rules_and_model_on_a_slice(tiny_model_dir, tmp_path, capsys):
    """scripts/score_slice.py: one line for the rules alone and one for the model, on the documents asked for."""
    import runpy
    import sys

    from tiny import REPO, annotated_article

    from qawl.corpus import write_jsonl

    write_jsonl([annotated_article("a"), annotated_article("b", repeat=2), annotated_article("c")],
                tmp_path / "gold.jsonl")
    argv = sys.argv
    sys.argv = ["score_slice.py", "--model", str(tiny_model_dir), "--data", str(tmp_path / "gold.jsonl"), "--start", "1"]
    try:
        runpy.run_path(str(REPO / "scripts" / "score_slice.py"), run_name="__main__")
    finally:
        sys.argv = argv
    out = capsys.readouterr().out.splitlines()
    assert out[0].endswith("documents 1..2 (2)")
    assert out[1].startswith("rules alone: content F1") and "speaker accuracy" in out[2]


def test_a_model_statement_whose_cue_is_in_another_paragraph_is_not_added():
    """No annotated statement has a paragraph break between its cue and content (1 in 12,855): the object of
    an opening sentence linked to the next paragraph's «وقال» is a misreading, not a statement."""
    text = "افتتحت الحكومة محطة الطاقة الجديدة.\n\nوقال الوزير سامي الحداد إن المشروع خطوة أساسية."

    def at(needle):
        i = text.index(needle)
        return Span(i, i + len(needle), needle)

    rule = Statement("R1", at("إن المشروع خطوة أساسية"), at("قال"), at("الوزير سامي الحداد"), None, None, "indirect")
    misread = Statement("S1", at("محطة الطاقة الجديدة"), at("قال"), at("الوزير سامي الحداد"), None, None,
                        "indirect", 0.66)
    same_paragraph = Statement("S2", at("محطة الطاقة الجديدة"), None, at("الحكومة"), None, None, "indirect", 0.66)
    assert [s.content.text for s in merge_rule_statements(text, [], [misread], [rule])] == ["إن المشروع خطوة أساسية"]
    out = merge_rule_statements(text, [], [same_paragraph], [rule])
    assert [s.content.text for s in out] == ["محطة الطاقة الجديدة", "إن المشروع خطوة أساسية"]
