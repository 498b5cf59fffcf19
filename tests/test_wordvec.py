"""Static word-vector features: the table, per-token lookup, and a tiny train -> save -> load -> predict."""

from dataclasses import asdict

import numpy as np
import pytest
import torch
from tiny import SENTENCES, annotated_article, build_tiny_model, build_tokenizer

from qawl.cards import vector_kind
from qawl.encode import encode_text
from qawl.errors import ModelError
from qawl.model import WORDVEC_DIR, QawlModel
from qawl.normalize import NormalizerConfig, normalize_fast
from qawl.pipeline import Extractor
from qawl.tokenizer import load_tokenizer
from qawl.wordvec import WordVectors


def tiny_vectors(dim: int = 8) -> WordVectors:
    words = sorted(set(normalize_fast(" ".join(SENTENCES)).split()))
    rng = np.random.default_rng(0)
    return WordVectors.from_vectors(words, rng.normal(size=(len(words), dim)).astype(np.float32),
                                    source={"normalizer": asdict(NormalizerConfig())})


def test_table_round_trip_and_unknown_words(tmp_path):
    vectors = tiny_vectors()
    vectors.save(tmp_path / "wv")
    loaded = WordVectors.load(tmp_path / "wv")
    assert loaded.vocab == vectors.vocab and loaded.dim == 8
    assert loaded.codes.dtype == torch.int8 and torch.equal(loaded.vectors, vectors.vectors)
    # int8 with a scale per row: each value within half a step of the float vector it came from
    original = np.random.default_rng(0).normal(size=(len(vectors.vocab), 8)).astype(np.float32)
    step = np.abs(original).max(axis=1, keepdims=True) / 127
    assert np.all(np.abs(loaded.vectors[1:].numpy() - original) <= step / 2 + 1e-6)
    assert loaded.ids(["الحداد", "كلمة-غير-موجودة"]) == [vectors.vocab.index("الحداد") + 1, 0]
    assert torch.count_nonzero(loaded.vectors[0]) == 0  # row 0: unknown


def test_every_subword_of_a_word_gets_the_word_row(tmp_path):
    tok = load_tokenizer(build_tokenizer(tmp_path / "tok"))
    vectors = tiny_vectors()
    text = "قال الحداد إن المستشفيات مستعدة"
    enc = encode_text(text, tok, NormalizerConfig(), vectors)
    for i, w in enumerate(enc.word_ids):
        first, last = enc.word_first_token()[i], enc.word_last_token()[i]
        word = text[enc.starts[first]:enc.ends[last]]
        assert enc.word_vector_ids[i] == vectors.ids([word])[0], word
    assert enc.word_vector_ids[enc.starts.index(text.index("الحداد"))] > 0
    assert encode_text(text, tok, NormalizerConfig()).word_vector_ids is None


def test_train_with_word_vectors_save_load_predict(tmp_path):
    torch.set_num_threads(1)
    tiny_vectors().save(tmp_path / "wv")
    model_dir = build_tiny_model(tmp_path / "m", epochs=3, word_vectors=str(tmp_path / "wv"))
    assert (model_dir / WORDVEC_DIR / "vectors.safetensors").exists()
    extractor = Extractor.load(model_dir)
    assert extractor.model.word_vectors is not None
    doc = annotated_article()
    first, again = extractor(doc.text), Extractor.load(model_dir)(doc.text)
    assert first.to_dict() == again.to_dict()

    # the features are used: the same input with the table zeroed gives other logits
    e = extractor.encode(doc)
    ids = torch.tensor([e.enc.input_ids[:50]], device=extractor.device)  # cuda where there is one
    rows = torch.tensor([e.enc.word_vector_ids[:50]], device=extractor.device)
    with torch.inference_mode():
        with_vectors = extractor.model(ids, torch.ones_like(ids), word_vector_ids=rows)["ner_logits"]
        blank = extractor.model(ids, torch.ones_like(ids), word_vector_ids=torch.zeros_like(rows))["ner_logits"]
    assert not torch.allclose(with_vectors, blank)

    # int8 dynamic quantization keeps the features (the projection is quantized like every Linear)
    quantized = Extractor.load(model_dir, device="cpu", quantize=True)(doc.text)
    assert quantized.text == doc.text and all(doc.text[e.start:e.end] == e.text for e in quantized.entities)


def test_table_not_matching_the_config_is_refused(tmp_path):
    torch.set_num_threads(1)
    tiny_vectors().save(tmp_path / "wv")
    model_dir = build_tiny_model(tmp_path / "m", epochs=1, word_vectors=str(tmp_path / "wv"))
    WordVectors.from_vectors(["واحد"], np.ones((1, 8))).save(model_dir / WORDVEC_DIR)
    with pytest.raises(ModelError, match="config.json expects"):
        QawlModel.from_pretrained(model_dir)


@pytest.mark.parametrize("ngrams", [False, True], ids=["word2vec-skipgram", "fasttext-cbow"])
def test_train_word_vectors_script_exports_a_table(tmp_path, ngrams):
    """scripts/train_word_vectors.py: fastText (character n-grams) or plain word2vec skip-gram (max_n=0),
    exported as the int8 table the model reads, words normalized as the tokenizer normalizes them."""
    pytest.importorskip("gensim")
    import runpy

    from tiny import REPO, write_raw_corpus

    main = runpy.run_path(str(REPO / "scripts" / "train_word_vectors.py"))["main"]
    tok_dir = build_tokenizer(tmp_path / "tok")
    corpus = write_raw_corpus(tmp_path / "raw.txt.gz")
    options = ["max_n=5", "skipgram=false"] if ngrams else []  # configs/wordvec.yaml: word2vec skip-gram
    main(["--config", str(REPO / "configs" / "wordvec.yaml"), f"corpus={corpus}", f"tokenizer={tok_dir}",
          f"output_dir={tmp_path / 'wv'}", "dim=8", "min_count=1", "epochs=1", "threads=1", *options])
    vectors = WordVectors.load(tmp_path / "wv")
    assert vectors.dim == 8 and vectors.codes.dtype == torch.int8
    assert vectors.source["skipgram"] is (not ngrams) and vectors.source["max_n"] == (5 if ngrams else 0)
    assert vector_kind(vectors.source) == ("fastText CBOW (2-5 character n-grams)" if ngrams else "word2vec skip-gram")
    word = normalize_fast("الحداد", NormalizerConfig.load(tok_dir))
    assert vectors.ids([word])[0] > 0 and torch.count_nonzero(vectors.vectors[vectors.ids([word])[0]]) > 0
