"""Fine-tuning: tiny end-to-end train -> save -> load -> predict, exact resume, config errors."""

import pytest
import torch
from safetensors.torch import load_file

from qawl.config import load_config
from qawl.errors import ConfigError
from qawl.model import TapConv1d
from qawl.pipeline import Extractor
from qawl.train import TrainConfig, anonymous_heads, split_heldout
from tiny import REPO, annotated_article, build_tiny_model, build_tokenizer


def test_train_save_load_predict(tiny_model_dir):
    extractor = Extractor.load(tiny_model_dir)
    doc = annotated_article()
    pred = extractor(doc.text)
    assert pred.text == doc.text
    for e in pred.entities:
        assert doc.text[e.start:e.end] == e.text and e.label in ("PERS", "ORG", "LOC", "MISC")
    for s in pred.statements:
        for span in s.spans().values():
            assert span is None or doc.text[span.start:span.end] == span.text
        assert 0.0 <= s.confidence <= 1.0
    assert list(extractor.pipe([])) == []
    assert extractor("").entities == ()
    # trained with names as speaker candidates, so it predicts with them; a model saved before that keeps
    # its old behaviour (LinkSettings' default)
    assert extractor.link.entity_speakers


def test_models_without_the_setting_predict_without_name_candidates(tiny_model_dir, tmp_path):
    import json
    import shutil

    old = tmp_path / "old"
    shutil.copytree(tiny_model_dir, old)
    config = json.loads((old / "config.json").read_text(encoding="utf-8"))
    del config["qawl_link"]["entity_speakers"]
    (old / "config.json").write_text(json.dumps(config), encoding="utf-8")
    assert not Extractor.load(old).link.entity_speakers


def test_tiny_model_learns_its_training_entities(tiny_model_dir):
    """Trained for seconds on six copies of one article, the model must recover most of its names."""
    doc = annotated_article()
    pred = Extractor.load(tiny_model_dir)(doc.text)
    gold = {(e.start, e.end, e.label) for e in doc.entities}
    found = {(e.start, e.end, e.label) for e in pred.entities}
    assert len(gold & found) / len(gold) >= 0.5


def test_resume_gives_same_weights(tmp_path):
    torch.set_num_threads(1)
    tok = build_tokenizer(tmp_path / "tok")
    full = build_tiny_model(tmp_path / "full", epochs=3, tokenizer_dir=tok)
    cut = tmp_path / "cut"
    with pytest.raises(FileNotFoundError):
        load_file(str(cut / "model" / "model.safetensors"))
    build_tiny_model(cut, epochs=3, tokenizer_dir=tok, stop_after=7)  # stops as if killed after 7 steps
    assert not (cut / "model").exists()
    build_tiny_model(cut, epochs=3, tokenizer_dir=tok)  # same command again: resumes from the checkpoint
    a, b = load_file(str(full / "model.safetensors")), load_file(str(cut / "model" / "model.safetensors"))
    assert a.keys() == b.keys()
    for k in a:
        assert torch.allclose(a[k], b[k], atol=1e-6), k


def test_unknown_config_key_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="unknown keys"):
        load_config(TrainConfig, REPO / "configs" / "smoke.yaml", {"learning_rate": "1e-3"})


def test_heldout_split_is_deterministic_and_disjoint():
    docs = [annotated_article(str(i)) for i in range(25)]
    train_part, held = split_heldout(docs, 10.0)
    assert len(held) == 3 and {d.id for d in held}.isdisjoint(d.id for d in train_part)
    assert split_heldout(docs, 10.0) == (train_part, held)


def test_anonymous_heads_learned_from_annotations():
    from qawl.document import Statement

    doc = annotated_article()
    anon = [Statement(f"A{i}", doc.statements[0].content, None, doc.statements[0].speaker, None, None)
            for i in range(3)]
    heads = anonymous_heads([doc.with_annotations(statements=anon)])
    assert heads == ("وزير",)


@pytest.mark.parametrize("name", ["qawl-small.yaml", "qawl-small-gaz.yaml", "qawl-small-noprt.yaml"])
def test_shipped_training_configs_load(name):
    cfg = load_config(TrainConfig, REPO / "configs" / name)
    assert cfg.epochs > 0 and cfg.crf
    assert (cfg.mention_replacement > 0) == (cfg.anercorp_gazetteers is not None)


def test_mention_replacement_without_gazetteers_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="anercorp_gazetteers"):
        build_tiny_model(tmp_path, epochs=1, mention_replacement=0.3)


def test_a_model_with_a_local_convolution_trains_saves_and_reloads(tmp_path):
    """`local_conv: 3` adds a residual convolution over the encoder output; it is saved with the model,
    reloads, and changes what the heads see."""
    model_dir = build_tiny_model(tmp_path, epochs=2, local_conv=3)
    extractor = Extractor.load(model_dir)
    assert extractor.model.config.qawl_local_conv == 3 and extractor.model.local_conv is not None
    doc = annotated_article()
    pred = extractor(doc.text)
    assert all(doc.text[e.start:e.end] == e.text for e in pred.entities)
    ids = torch.tensor([[2, 5, 6, 7, 3]], device=extractor.device)  # the model is on cuda where there is one
    mask = torch.ones_like(ids)
    with torch.no_grad():
        with_conv = extractor.model(ids, mask)["hidden"]
        conv, extractor.model.local_conv = extractor.model.local_conv, None
        without = extractor.model(ids, mask)["hidden"]
        extractor.model.local_conv = conv
    assert not torch.allclose(with_conv, without)
    with pytest.raises(ValueError, match="odd"):
        extractor.model.add_local_conv(4)
    # int8: the convolution runs as a quantized Linear over its taps, and the hidden states stay close
    quantized = Extractor.load(model_dir, device="cpu", quantize=True)
    assert isinstance(quantized.model.local_conv[0], TapConv1d)
    assert type(quantized.model.local_conv[0].taps).__module__.startswith("torch.ao.nn.quantized")
    with torch.no_grad():
        q_hidden = quantized.model(ids.cpu(), mask.cpu())["hidden"]
    assert (q_hidden - with_conv.cpu()).abs().max() < 0.2 * with_conv.abs().max()


@pytest.mark.parametrize("width", [1, 3, 5])
def test_tap_convolution_is_the_convolution(width):
    torch.manual_seed(width)
    conv = torch.nn.Conv1d(8, 6, width, padding=width // 2)
    x = torch.randn(2, 8, 9)
    assert torch.allclose(TapConv1d(conv)(x), conv(x), atol=1e-5)
    with pytest.raises(ValueError, match="same-padded"):
        TapConv1d(torch.nn.Conv1d(8, 6, width, padding=width // 2, stride=2))
