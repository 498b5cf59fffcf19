"""Pretraining: a tiny config pretrains, is interrupted, resumes, and ends with the same weights."""

import math

import pytest
import torch
from safetensors.torch import load_file

from qawl.config import load_config
from qawl.pretrain import PretrainConfig, WholeWordMasker, export_encoder, pretrain
from qawl.tokenizer import load_tokenizer
from tiny import REPO, build_tokenizer, write_raw_corpus


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("pretrain")
    corpus = write_raw_corpus(root / "raw.txt.gz")
    tok = build_tokenizer(root / "tok")
    return root, corpus, tok


def _cfg(root, corpus, tok, name, **kw):
    overrides = {"corpus": str(corpus), "tokenizer_dir": str(tok), "output_dir": str(root / name)}
    overrides.update({k: str(v) for k, v in kw.items()})
    return load_config(PretrainConfig, REPO / "configs" / "pretrain-smoke.yaml", overrides)


def _weights(root, name):
    return load_file(str(root / name / "checkpoint" / "model.safetensors"))


def test_resume_after_interruption_gives_same_weights(setup):
    root, corpus, tok = setup
    torch.set_num_threads(1)
    full = pretrain(_cfg(root, corpus, tok, "full"))
    assert full["step"] == 8
    first = pretrain(_cfg(root, corpus, tok, "cut", stop_after=5))  # "killed" after 5 steps
    assert first["step"] == 5
    resumed = pretrain(_cfg(root, corpus, tok, "cut"))
    assert resumed["step"] == 8 and resumed["sequences"] == full["sequences"]
    a, b = _weights(root, "full"), _weights(root, "cut")
    assert a.keys() == b.keys()
    for k in a:
        assert torch.allclose(a[k], b[k], atol=1e-6), k
    assert math.isfinite(full["heldout_loss_final"])


def _full_run(root, corpus, tok) -> PretrainConfig:
    """The masked-LM smoke run (trained once per module, by whichever test needs it first)."""
    cfg = _cfg(root, corpus, tok, "full")
    if not (root / "full" / "checkpoint").exists():
        pretrain(cfg)
    return cfg


def test_export_keeps_mlm_head_and_reloads(setup, tmp_path):
    root, corpus, tok = setup
    out = export_encoder(_full_run(root, corpus, tok), tmp_path / "enc")
    from transformers import BertForMaskedLM

    mlm = BertForMaskedLM.from_pretrained(out)
    trained = _weights(root, "full")
    assert torch.allclose(mlm.cls.predictions.bias, trained["mlm.cls.predictions.bias"])
    assert len(load_tokenizer(out)) == mlm.config.vocab_size


def test_whole_word_masking_masks_whole_words(setup):
    _, _, tok_dir = setup
    tok = load_tokenizer(tok_dir)
    masker = WholeWordMasker(tok, mask_prob=0.3)
    import numpy as np

    ids = [tok("وزارة الصحة والمستشفيات الحكومية", add_special_tokens=False)["input_ids"]]
    batch, labels = masker(ids, np.random.default_rng(0))
    masked = (labels[0] != -100).tolist()
    pieces = tok.convert_ids_to_tokens(ids[0])
    # a continuation piece is masked exactly when the piece before it is
    for i in range(1, len(pieces)):
        if pieces[i].startswith("##"):
            assert masked[i + 1] == masked[i]  # +1: [CLS]
    assert any(masked)


def test_electra_resumes_exactly_and_exports_the_discriminator(setup, tmp_path):
    root, corpus, tok = setup
    torch.set_num_threads(1)
    full = pretrain(_cfg(root, corpus, tok, "electra-full", objective="electra"))
    pretrain(_cfg(root, corpus, tok, "electra-cut", objective="electra", stop_after=5))
    resumed = pretrain(_cfg(root, corpus, tok, "electra-cut", objective="electra"))
    assert resumed["step"] == full["step"] == 8
    a, b = _weights(root, "electra-full"), _weights(root, "electra-cut")
    assert a.keys() == b.keys() and any(k.startswith("generator.") for k in a)
    for k in a:  # the generator's samples come from the checkpointed RNG state
        assert torch.allclose(a[k], b[k], atol=1e-6), k

    import json

    log = [json.loads(line) for line in (root / "electra-full" / "log.jsonl").read_text().splitlines()]
    heldout = [r for r in log if "heldout_detection_f1" in r]
    assert heldout and all(0.0 <= r["heldout_detection_f1"] <= 1.0 and r["heldout_gen_loss"] > 0 for r in heldout)

    out = export_encoder(_cfg(root, corpus, tok, "electra-full", objective="electra"), tmp_path / "enc")
    from transformers import BertModel

    encoder = BertModel.from_pretrained(out, add_pooling_layer=False)
    assert torch.equal(encoder.encoder.layer[0].attention.self.query.weight,
                       a["discriminator.encoder.layer.0.attention.self.query.weight"])
    assert len(load_tokenizer(out)) == encoder.config.vocab_size
    card = (out / "README.md").read_text(encoding="utf-8")
    assert "ELECTRA replaced-token detection" in card and "detection F1" in card


def test_electra_continues_from_an_encoder(setup, tmp_path):
    root, corpus, tok = setup
    mlm_dir = export_encoder(_full_run(root, corpus, tok), tmp_path / "mlm")
    from qawl.pretrain import build_pretrainer

    electra = build_pretrainer(_cfg(root, corpus, tok, "warm", objective="electra", init_encoder=mlm_dir),
                               len(load_tokenizer(tok)))
    trained = _weights(root, "full")
    assert torch.equal(electra.discriminator.embeddings.word_embeddings.weight,
                       trained["mlm.bert.embeddings.word_embeddings.weight"])
    # the generator shares the encoder's word embeddings and ties its output layer to them
    assert electra.generator.cls.predictions.decoder.weight is electra.discriminator.embeddings.word_embeddings.weight
    warm = _cfg(root, corpus, tok, "warm", objective="electra", init_encoder=mlm_dir, max_steps=2)
    pretrain(warm)
    card = (export_encoder(warm, tmp_path / "electra") / "README.md").read_text(encoding="utf-8")
    assert "stage 1: whole-word masked-LM | 8 steps" in card  # the continued encoder's own pretraining


def test_unknown_objective_is_a_config_error(setup):
    root, corpus, tok = setup
    from qawl.errors import ConfigError
    from qawl.pretrain import build_pretrainer

    with pytest.raises(ConfigError, match="objective"):
        build_pretrainer(_cfg(root, corpus, tok, "bad", objective="t5"), len(load_tokenizer(tok)))
