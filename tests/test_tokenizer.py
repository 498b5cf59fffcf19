"""Tokenizer: save -> load -> tokenize identically; a BERT vocab.txt (AraBERT-style) is really used."""

import pytest

from qawl.errors import ModelError
from qawl.tokenizer import load_tokenizer
from tiny import SENTENCES, build_tokenizer

TEXT = "أكد الرئيس أن الأمم المتحدة وإسرائيل"


@pytest.fixture(scope="module")
def tok_dir(tmp_path_factory):
    return build_tokenizer(tmp_path_factory.mktemp("tok") / "tok")


def test_save_load_tokenize_identically(tok_dir, tmp_path):
    tok = load_tokenizer(tok_dir)
    tok.save_pretrained(tmp_path)
    again = load_tokenizer(tmp_path)
    assert len(again) == len(tok)
    for s in SENTENCES:
        assert again(s)["input_ids"] == tok(s)["input_ids"]


def test_hamza_and_arabic_words_survive(tok_dir):
    tok = load_tokenizer(tok_dir)
    pieces = tok.tokenize(TEXT)
    assert "[UNK]" not in pieces
    assert any("أ" in p for p in pieces)  # no accent stripping: أ stays أ


def test_vocab_txt_directory_tokenizes_like_the_original(tok_dir, tmp_path):
    tok = load_tokenizer(tok_dir)
    by_id = sorted(tok.get_vocab().items(), key=lambda kv: kv[1])
    (tmp_path / "vocab.txt").write_text("\n".join(t for t, _ in by_id) + "\n", encoding="utf-8")
    external = load_tokenizer(tmp_path)
    assert len(external) == len(tok)
    for s in SENTENCES:
        assert external(s)["input_ids"] == tok(s)["input_ids"]


def test_vocab_without_special_tokens_is_refused(tmp_path):
    (tmp_path / "vocab.txt").write_text("قال\nإن\n", encoding="utf-8")
    with pytest.raises(ModelError, match="special tokens"):
        load_tokenizer(tmp_path)


def test_vocab_larger_than_embedding_is_refused(tok_dir):
    with pytest.raises(ModelError, match="do not belong together"):
        load_tokenizer(tok_dir, expected_vocab_size=10)
