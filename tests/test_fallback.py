"""Rules as fallback: the model's statements first, the rule-based reference fills what they miss."""

from qawl.document import Span, Statement
from qawl.fallback import RULE_CONFIDENCE, merge_rule_statements

TEXT = "قال الوزير سامي الحداد إن المحادثات مستمرة. وأضاف أن الوفد وصل. وذكرت الوكالة أن الطقس بارد."


def span(needle):
    i = TEXT.index(needle)
    return Span(i, i + len(needle), needle)


def st(sid, content, cue=None, speaker=None, confidence=0.9):
    return Statement(sid, span(content), cue and span(cue), speaker and span(speaker), None, None, "indirect",
                     confidence)


def test_rules_fill_a_missing_speaker_and_a_missed_statement():
    model = [st("S1", "إن المحادثات مستمرة"), st("S2", "أن الوفد وصل", cue="أضاف")]
    rules = [st("R1", "إن المحادثات", cue="قال", speaker="الوزير سامي الحداد", confidence=None),
             st("R2", "أن الطقس بارد", cue="ذكرت", speaker="الوكالة", confidence=None)]
    out = merge_rule_statements(TEXT, [], model, rules)
    assert [s.content.text for s in out] == ["إن المحادثات مستمرة", "أن الوفد وصل", "أن الطقس بارد"]
    assert [s.id for s in out] == ["S1", "S2", "S3"]
    first, second, third = out
    assert first.content == model[0].content and first.speaker.text == "الوزير سامي الحداد"
    assert first.confidence == 0.9 and third.confidence == RULE_CONFIDENCE
    assert second.speaker is None and second.speaker_name == first.speaker_name  # "وأضاف" continues


def test_model_speaker_is_kept_when_present():
    model = [st("S1", "إن المحادثات مستمرة", speaker="الوزير")]
    rules = [st("R1", "إن المحادثات مستمرة", speaker="الوزير سامي الحداد", confidence=None)]
    out = merge_rule_statements(TEXT, [], model, rules)
    assert len(out) == 1 and out[0].speaker.text == "الوزير"
