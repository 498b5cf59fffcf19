from collections import Counter

from qawl.stats import corpus_stats, cue_key, format_stats, merge_conjunctions


def test_stats_of_the_fixtures(fixtures_dir):
    stats = corpus_stats([fixtures_dir / "news.jsonl", fixtures_dir / "news.conll"])
    assert stats["documents"] == 2 + 3
    assert stats["tokens"] == 27 + 27 + 29
    assert stats["entities"] == 6 + 5
    assert stats["entities_by_label"] == {"PERS": 2, "ORG": 4, "LOC": 3, "MISC": 2}
    assert stats["statements_by_kind"] == {"direct": 1, "indirect": 3, "partial": 0, "headline": 0}
    assert dict(stats["top_cues"]) == {"قال": 1, "اضاف": 1, "اعلنت": 1, "قوله": 1}
    assert stats["skipped_records"] == 0


def test_cue_normalization():
    assert cue_key("أكّد") == "اكد"
    assert cue_key("نفى") == "نفي"
    assert cue_key("وفقا لـ") == "وفقا ل"


def test_conjunctions_fold_only_into_cues():
    counts = Counter({"قال": 2, "وقال": 3, "فاكد": 1, "وفقا ل": 4, "وفقا": 1, "وصف": 1})
    merged = merge_conjunctions(counts)
    assert merged["قال"] == 5 and merged["اكد"] == 1  # اكد is a known cue even when unseen bare
    assert merged["وفقا ل"] == 4 and merged["وفقا"] == 1 and merged["وصف"] == 1


def test_bad_records_are_counted_not_fatal(tmp_path, fixtures_dir):
    path = tmp_path / "mixed.jsonl"
    path.write_text((fixtures_dir / "news.jsonl").read_text(encoding="utf-8") + "{oops\n", encoding="utf-8")
    stats = corpus_stats([path])
    assert stats["documents"] == 2 and stats["skipped_records"] == 1
    assert "skipped records" in format_stats(stats)


def test_format_stats_table(fixtures_dir):
    table = format_stats(corpus_stats([fixtures_dir / "news.conll"]))
    lines = table.splitlines()
    assert lines[1].split() == ["sentences", "3"]
    assert lines[2].split() == ["tokens", "29"]
    assert lines[3].split() == ["entities", "5"]
