"""Extractor with the tiny model: one text, pipe order across batch sizes, empty input, save/load, int8."""

from __future__ import annotations

import shutil

import pytest
import torch

from qawl.document import Document
from qawl.model import WEIGHTS_FILE, QawlModel
from qawl.pipeline import Extractor
from tiny import SENTENCES, annotated_article

# Invented articles of different lengths; the last is longer than three windows of the tiny model (32 tokens).
TEXTS = [SENTENCES[0], SENTENCES[1] + "\n" + SENTENCES[2], "قال الحداد إن الاجتماع انتهى.",
         annotated_article(repeat=3).text, SENTENCES[5], SENTENCES[8] + " " + SENTENCES[9], SENTENCES[3]]


@pytest.fixture(scope="module")
def extractor(tiny_model_dir) -> Extractor:
    return Extractor.load(tiny_model_dir, device="cpu")


def as_dicts(docs) -> list[dict]:
    return [d.to_dict() for d in docs]


def test_one_text(extractor, tiny_model_dir):
    doc = extractor(TEXTS[3])
    assert isinstance(doc, Document) and doc.text == TEXTS[3]
    doc.check()
    assert doc.entities and doc.statements
    assert doc.meta["qawl"] == {"version": "0.1.0", "model": str(tiny_model_dir)}
    assert all(0.0 <= s.confidence <= 1.0 for s in doc.statements)
    assert "statements" in str(doc)


def test_pipe_keeps_order_and_ids_across_batch_sizes(extractor):
    docs = [Document(f"id-{i}", t, {"n": i}) for i, t in enumerate(TEXTS)]
    results = {b: as_dicts(extractor.pipe(docs, batch_size=b)) for b in (1, 3, 64)}
    assert [r["id"] for r in results[1]] == [d.id for d in docs]
    assert [r["meta"]["n"] for r in results[1]] == list(range(len(TEXTS)))
    assert results[1] == results[3] == results[64]
    # plain strings get ids 1, 2, ... in input order
    assert [d.id for d in extractor.pipe(TEXTS[:3], batch_size=2)] == ["1", "2", "3"]


def test_pipe_of_nothing_yields_nothing(extractor):
    assert list(extractor.pipe([])) == []
    assert list(extractor.pipe(iter(()), batch_size=1)) == []


def test_save_load_predict_is_identical(extractor, tiny_model_dir, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(tiny_model_dir, copy)
    (copy / WEIGHTS_FILE).unlink()
    QawlModel.from_pretrained(tiny_model_dir).save_pretrained(copy)
    again = Extractor.load(copy, device="cpu")
    strip = lambda docs: [{k: v for k, v in d.items() if k != "meta"} for d in as_dicts(docs)]  # noqa: E731
    assert strip(again.pipe(TEXTS)) == strip(extractor.pipe(TEXTS))


HEADS = ("ner_logits", "role_logits")


def head_logits(ex: Extractor, text: str) -> dict[str, torch.Tensor]:
    """The NER and role heads' logits for the first 32 tokens of `text`, on the extractor's device and in its
    precision, returned on CPU in fp32."""
    ids = torch.tensor([ex.tokenizer(text)["input_ids"][:32]], device=ex.device)
    with torch.inference_mode(), torch.autocast(ex.device.type, dtype=ex.autocast_dtype or torch.float32,
                                                enabled=ex.autocast_dtype is not None):
        out = ex.model(ids, torch.ones_like(ids))
    return {name: out[name].float().cpu() for name in HEADS}


@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore:.*deprecated:UserWarning")
def test_quantized_extractor_runs_and_stays_close(extractor, tiny_model_dir):
    quantized = Extractor.load(tiny_model_dir, device="cpu", quantize=True)
    assert any(type(m).__module__.startswith("torch.ao.nn.quantized") for m in quantized.model.modules())
    docs = list(quantized.pipe(TEXTS, batch_size=3))
    assert [d.text for d in docs] == TEXTS
    for d in docs:
        d.check()
    # token-level agreement of the NER and role heads with the fp32 model
    ref, q = head_logits(extractor, TEXTS[0]), head_logits(quantized, TEXTS[0])
    for name in HEADS:
        agree = (ref[name].argmax(-1) == q[name].argmax(-1)).float().mean().item()
        assert agree >= 0.9, (name, agree)
        assert (ref[name] - q[name]).abs().max().item() < 0.5 * ref[name].abs().max().item()


def test_quantize_is_cpu_only(tiny_model_dir):
    from qawl.errors import ModelError

    with pytest.raises(ModelError, match="CPU"):  # refused before anything moves to a GPU
        Extractor.load(tiny_model_dir, device="cuda", quantize=True)


def test_results_do_not_depend_on_tokens_per_batch(extractor, monkeypatch):
    """Batching is a speed and memory knob only: one window a batch or all in one give the same documents."""
    reference = as_dicts(extractor.pipe(TEXTS))
    for budget in (1, 10**6):  # 1: every window alone (the first window of a batch always goes in)
        monkeypatch.setattr(extractor, "tokens_per_batch", budget)
        assert as_dicts(extractor.pipe(TEXTS)) == reference
    for multiple in (1, 64):  # batch widths padded to a multiple (64: every row to the whole window)
        monkeypatch.setattr(extractor, "pad_to_multiple", multiple)
        assert as_dicts(extractor.pipe(TEXTS)) == reference


def test_freed_memory_is_released_after_each_chunks_model_batches_and_each_full_chunk(extractor, monkeypatch):
    import qawl.pipeline

    calls = []
    monkeypatch.setattr(qawl.pipeline, "release_free_memory", lambda: calls.append(1) or True)
    list(extractor.pipe(TEXTS, batch_size=3))  # 7 texts: chunks of 3, 3 and a last one of 1
    assert len(calls) == 3 + 2  # after every chunk's model batches, and after each of the two full chunks
    monkeypatch.setattr(extractor, "release_memory", False)
    list(extractor.pipe(TEXTS, batch_size=3))
    assert len(calls) == 5


def test_onednn_cache_bound_keeps_a_users_setting(monkeypatch):
    import os

    from qawl.memory import ONEDNN_CACHE_VARIABLE, bound_onednn_cache

    monkeypatch.delenv(ONEDNN_CACHE_VARIABLE, raising=False)
    assert bound_onednn_cache(64) and os.environ[ONEDNN_CACHE_VARIABLE] == "64"
    monkeypatch.setenv(ONEDNN_CACHE_VARIABLE, "7")
    assert not bound_onednn_cache(64) and os.environ[ONEDNN_CACHE_VARIABLE] == "7"


def test_release_free_memory_reports_whether_the_c_library_can():
    import platform

    from qawl.memory import release_free_memory

    assert release_free_memory() is (platform.system() == "Linux" and platform.libc_ver()[0] == "glibc")


def test_precision_choices(tiny_model_dir):
    from qawl.errors import ModelError

    assert Extractor.load(tiny_model_dir, device="cpu").autocast_dtype is None  # auto on CPU: fp32
    assert Extractor.load(tiny_model_dir, device="cpu", precision="fp32").autocast_dtype is None
    bf16 = Extractor.load(tiny_model_dir, device="cpu", precision="bf16")
    assert bf16.autocast_dtype is torch.bfloat16
    for d in bf16.pipe(TEXTS):
        d.check()
    with pytest.raises(ModelError, match="precision"):
        Extractor.load(tiny_model_dir, device="cpu", precision="fp8")
    with pytest.raises(ModelError, match="int8"):
        Extractor.load(tiny_model_dir, device="cpu", quantize=True, precision="bf16")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("precision", ["fp32", "bf16", "fp16"])
def test_cuda_agrees_with_cpu(extractor, tiny_model_dir, precision):
    gpu = Extractor.load(tiny_model_dir, device="cuda", precision=precision)
    assert gpu.device.type == "cuda" and next(gpu.model.parameters()).is_cuda
    floor = 0.99 if precision == "fp32" else 0.9
    for text in TEXTS[:4]:
        ref, got = head_logits(extractor, text), head_logits(gpu, text)
        for name in HEADS:
            agree = (ref[name].argmax(-1) == got[name].argmax(-1)).float().mean().item()
            assert agree >= floor, (precision, name, agree)
    docs = list(gpu.pipe(TEXTS, batch_size=3))
    assert [d.text for d in docs] == TEXTS
    for d in docs:
        d.check()
    if precision == "fp32":  # same arithmetic up to kernel order: the same entities
        spans = lambda ds: [[(e.start, e.end, e.label) for e in d.entities] for d in ds]  # noqa: E731
        assert spans(docs) == spans(extractor.pipe(TEXTS, batch_size=3))
