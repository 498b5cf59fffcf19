"""Mention replacement (qawl/augment.py): names swapped for gazetteer names, every offset rebuilt."""

from __future__ import annotations

import pytest

from qawl.augment import GAZETTEER_FILES, load_gazetteers, replace_mentions
from qawl.document import Document, Entity, Span, Statement
from qawl.errors import ConfigError

TEXT = "التقى سامي الحداد في عمان بممثلي شركة النور للطاقة خلال مؤتمر الطاقة العربي ."


def entity(label: str, needle: str) -> Entity:
    i = TEXT.index(needle)
    return Entity(i, i + len(needle), label, needle)


DOC = Document("s1", TEXT, {"source": "invented"}, [entity("PERS", "سامي الحداد"), entity("LOC", "عمان"),
                                                   entity("ORG", "شركة النور للطاقة"),
                                                   entity("MISC", "مؤتمر الطاقة العربي")])


@pytest.fixture()
def gazetteers(tmp_path):
    names = {"PERS": "====\nليلى المنصوري\nس\n\nكريم\n", "LOC": "الزرقاء\nوادي السلام\n", "ORG": "هيئة المياه\n"}
    for label, content in names.items():
        (tmp_path / GAZETTEER_FILES[label]).write_text(content, encoding="utf-8")
    return load_gazetteers(tmp_path)


def test_gazetteers_skip_separators_blank_lines_and_stray_letters(gazetteers):
    assert gazetteers == {"PERS": ["كريم", "ليلى المنصوري"], "LOC": ["الزرقاء", "وادي السلام"], "ORG": ["هيئة المياه"]}


def test_every_name_replaced_offsets_rebuilt_and_the_rest_kept(gazetteers):
    (out,) = replace_mentions([DOC], gazetteers, 1.0, seed=0)
    out.check()  # every entity span agrees with the new text
    assert [e.label for e in out.entities] == ["PERS", "LOC", "ORG", "MISC"]
    for e in out.entities[:3]:
        assert e.text in gazetteers[e.label]
    assert out.entities[3].text == "مؤتمر الطاقة العربي"  # no MISC gazetteer: kept
    # the words between the names are untouched
    gaps = lambda d: [d.text[a.end:b.start] for a, b in zip(d.entities, d.entities[1:])]
    assert gaps(out) == gaps(DOC) and out.id == DOC.id and out.meta == DOC.meta


def test_probability_zero_is_the_identity_and_a_seed_repeats(gazetteers):
    assert replace_mentions([DOC], gazetteers, 0.0, seed=0) == [DOC]
    assert replace_mentions([DOC] * 5, gazetteers, 0.5, seed=3) == replace_mentions([DOC] * 5, gazetteers, 0.5, seed=3)


def test_documents_with_statements_or_a_missing_gazetteer_are_refused(gazetteers, tmp_path):
    content = Span(TEXT.index("بممثلي"), len(TEXT) - 2, TEXT[TEXT.index("بممثلي"):len(TEXT) - 2])
    with_statement = Document("s2", TEXT, {}, DOC.entities, [Statement("S1", content)])
    with pytest.raises(ValueError, match="s2"):
        replace_mentions([with_statement], gazetteers, 0.5, seed=0)
    (tmp_path / GAZETTEER_FILES["ORG"]).unlink()
    with pytest.raises(ConfigError, match="AlignedOrgGazetteer.txt"):
        load_gazetteers(tmp_path)
