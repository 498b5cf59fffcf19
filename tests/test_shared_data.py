"""The shared corpora validate clean, round-trip byte for byte and have the sizes their README states."""

import pytest

from qawl.corpus import read_documents, write_documents
from qawl.stats import corpus_stats
from qawl.validate import check_file

pytestmark = pytest.mark.shared_data

FILES = ["quotes/seed.jsonl", "quotes/train.jsonl", "quotes/dev.jsonl", "anercorp/train.conll", "anercorp/test.conll"]


@pytest.mark.parametrize("name", FILES)
def test_validates_clean(name, shared_dir):
    report = check_file(shared_dir / name)
    assert report.errors == [], report.errors[:5]
    # ANERcorp has I- tags that open entities (18 in test, 39 in train): warnings, read as conlleval does.
    assert len(report.warnings) == {"anercorp/train.conll": 39, "anercorp/test.conll": 18}.get(name, 0)


@pytest.mark.parametrize("name", FILES)
def test_round_trips_byte_for_byte(name, tmp_path, shared_dir):
    src = shared_dir / name
    out = tmp_path / src.name
    write_documents(read_documents(src), out)
    assert out.read_bytes() == src.read_bytes()


def test_anercorp_test_stats_match_the_readme(shared_dir):
    stats = corpus_stats([shared_dir / "anercorp/test.conll"])
    assert (stats["documents"], stats["tokens"], stats["entities"]) == (918, 25_007, 2_231)


def test_anercorp_train_stats_match_the_readme(shared_dir):
    stats = corpus_stats([shared_dir / "anercorp/train.conll"])
    assert (stats["documents"], stats["tokens"], stats["entities"]) == (3_973, 125_102, 9_000)


def test_quotes_stats_match_stats_md(shared_dir):
    train = corpus_stats([shared_dir / "quotes/train.jsonl"])
    assert (train["documents"], train["tokens"], train["entities"], train["statements"]) == (615, 259_545, 23_758, 10_289)
    dev = corpus_stats([shared_dir / "quotes/dev.jsonl"])
    assert (dev["documents"], dev["tokens"], dev["entities"], dev["statements"]) == (154, 65_698, 5_889, 2_566)
