"""Untrusted model directories: safetensors only by default, pickle behind an explicit opt-in (and even then
tensors only), no remote code, and a ModelError naming the problem for every broken or mismatched directory."""

from __future__ import annotations

import json
import re
import shutil
import warnings
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from qawl.cli.main import main
from qawl.errors import ConfigError, ModelError
from qawl.model import PICKLE_FILE, WEIGHTS_FILE, QawlModel
from qawl.pipeline import Extractor

SRC = Path(__file__).resolve().parents[1] / "src"


@pytest.fixture
def model_copy(tiny_model_dir, tmp_path) -> Path:
    """A private copy of the tiny model directory, to damage."""
    return Path(shutil.copytree(tiny_model_dir, tmp_path / "model"))


def edit_config(directory: Path, **changes) -> None:
    config = json.loads((directory / "config.json").read_text())
    for key, value in changes.items():
        if value is None:
            config.pop(key, None)
        else:
            config[key] = value
    (directory / "config.json").write_text(json.dumps(config))


def to_pickle(directory: Path, state: dict | None = None) -> None:
    """Replace model.safetensors by a pytorch_model.bin (pickle) holding `state` (default: the same weights)."""
    if state is None:
        state = load_file(str(directory / WEIGHTS_FILE))
    torch.save(state, directory / PICKLE_FILE)
    (directory / WEIGHTS_FILE).unlink()


def load_error(directory: Path, **kwargs) -> str:
    with pytest.raises(ModelError) as info:
        Extractor.load(directory, device="cpu", **kwargs)
    return str(info.value)


# ---------------------------------------------------------------- safe formats


def test_safetensors_directory_loads_and_predicts(tiny_model_dir):
    ex = Extractor.load(tiny_model_dir, device="cpu")
    assert isinstance(ex.model, QawlModel)
    ex("قال وزير الخارجية سامي الحداد إن بلاده ترحب بالحوار.").check()


def test_pickle_only_directory_is_refused_without_opt_in(model_copy):
    to_pickle(model_copy)
    message = load_error(model_copy)
    assert PICKLE_FILE in message and "arbitrary code" in message and "allow_pickle=True" in message


def test_pickle_loads_with_opt_in_and_warns(model_copy, tiny_model_dir):
    to_pickle(model_copy)
    with pytest.warns(UserWarning, match="pickle weights"):
        ex = Extractor.load(model_copy, device="cpu", allow_pickle=True)
    reference = QawlModel.from_pretrained(tiny_model_dir).state_dict()
    for name, value in ex.model.state_dict().items():
        assert torch.equal(value, reference[name]), name


def test_pickle_that_would_run_code_is_refused_even_with_opt_in(model_copy, tmp_path):
    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (Path.touch, (marker,))

    state = load_file(str(model_copy / WEIGHTS_FILE))
    state["classifier.bias"] = Payload()
    to_pickle(model_copy, state)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        message = load_error(model_copy, allow_pickle=True)
    assert not marker.exists()
    assert "refused" in message and "never runs code" in message and "weights_only=False" not in message


def test_cli_refuses_pickle_without_flag(model_copy, tmp_path, capsys):
    to_pickle(model_copy)
    article = tmp_path / "a.txt"
    article.write_text("قال الوزير إن الاجتماع انتهى.", encoding="utf-8")
    assert main(["extract", "--quiet", "--model", str(model_copy), str(article)]) == 2
    assert "--allow-pickle" in capsys.readouterr().err
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert main(["extract", "--quiet", "--allow-pickle", "--model", str(model_copy), str(article)]) == 0


def test_nothing_passes_trust_remote_code():
    hits = [f"{p.relative_to(SRC)}:{n}" for p in sorted(SRC.rglob("*.py"))
            for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if "trust_remote_code" in line]
    assert hits == []


def test_config_auto_map_never_imports_code_from_the_directory(model_copy, tmp_path):
    marker = tmp_path / "imported"
    (model_copy / "evil_model.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    edit_config(model_copy, auto_map={"AutoConfig": "evil_model.EvilConfig", "AutoModel": "evil_model.EvilModel"})
    Extractor.load(model_copy, device="cpu")
    assert not marker.exists()


# ---------------------------------------------------------------- broken or mismatched directories


def _missing_config(d: Path) -> None:
    (d / "config.json").unlink()


def _unreadable_config(d: Path) -> None:
    (d / "config.json").write_text('{"hidden_size": 32,')


def _no_label_maps(d: Path) -> None:
    edit_config(d, id2label=None, label2id=None, qawl_roles=None, qawl_role_tags=None)


def _impossible_config(d: Path) -> None:
    edit_config(d, num_attention_heads=3)  # 32 is not a multiple of 3


def _truncated_weights(d: Path) -> None:
    data = (d / WEIGHTS_FILE).read_bytes()
    (d / WEIGHTS_FILE).write_bytes(data[: len(data) // 2])


def _garbage_weights(d: Path) -> None:
    (d / WEIGHTS_FILE).write_bytes(b"\x00" * 64)


def _no_weights(d: Path) -> None:
    (d / WEIGHTS_FILE).unlink()


def _wrong_hidden_size(d: Path) -> None:
    edit_config(d, hidden_size=64, intermediate_size=128)


def _wrong_vocab_size(d: Path) -> None:
    edit_config(d, vocab_size=300)


def _missing_tensor(d: Path) -> None:
    from safetensors.torch import save_file

    state = load_file(str(d / WEIGHTS_FILE))
    del state["classifier.weight"]
    save_file(state, str(d / WEIGHTS_FILE))


def _tokenizer_larger_than_embedding(d: Path) -> None:
    model = QawlModel.from_pretrained(d)
    model.config.vocab_size = 100
    QawlModel(model.config).save_pretrained(d)  # consistent weights, but 100 rows for a bigger vocabulary


def _missing_tokenizer(d: Path) -> None:
    (d / "tokenizer.json").unlink()


def _corrupt_tokenizer(d: Path) -> None:
    (d / "tokenizer.json").write_text('{"version": "1.0", "trunc')


CASES = {
    "missing config.json": (_missing_config, r"no config\.json; not a model directory"),
    "unreadable config.json": (_unreadable_config, r"config\.json: unreadable"),
    "config without qawl label maps": (_no_label_maps, r"label maps are .*needs id2label .*qawl_roles"),
    "impossible config": (_impossible_config, r"config\.json: describes no valid model .*attention heads"),
    "truncated model.safetensors": (_truncated_weights,
                                    r"model\.safetensors: cannot read weights .*truncated or corrupt"),
    "garbage model.safetensors": (_garbage_weights, r"model\.safetensors: cannot read weights"),
    "no weights": (_no_weights, r"no model\.safetensors \(or pytorch_model\.bin\) found"),
    "wrong tensor shapes": (_wrong_hidden_size, r"has shape \(32,?.*\), config expects \(64"),
    "vocabulary size mismatch": (_wrong_vocab_size, r"word_embeddings\.weight has shape \(\d+, 32\), config expects "
                                                    r"\(300, 32\) \(vocabulary or size mismatch\)"),
    "missing tensor": (_missing_tensor, r"weights do not match the config: missing \['classifier\.weight'\]"),
    "tokenizer vocab larger than the embedding": (_tokenizer_larger_than_embedding,
                                                  r"tokenizer has \d+ tokens but the model's embedding has 100 rows"),
    "missing tokenizer files": (_missing_tokenizer, r"no tokenizer\.json or vocab\.txt"),
    "corrupt tokenizer.json": (_corrupt_tokenizer, r"tokenizer\.json: unreadable tokenizer"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_broken_directory_fails_with_a_model_error_naming_the_problem(model_copy, case):
    damage, expected = CASES[case]
    damage(model_copy)
    message = load_error(model_copy)
    assert re.search(expected, message), message
    assert str(model_copy) in message  # and where


def test_missing_directory_and_corrupt_normalizer_settings(model_copy, tmp_path):
    assert "model directory not found" in load_error(tmp_path / "nowhere")
    (model_copy / "normalizer.json").write_text('{"remove_diacritics": tr')
    with pytest.raises(ConfigError, match=r"normalizer\.json: unreadable normalizer settings"):
        Extractor.load(model_copy, device="cpu")


def test_cli_reports_a_broken_model_as_a_usage_error(model_copy, tmp_path, capsys):
    _truncated_weights(model_copy)
    article = tmp_path / "a.txt"
    article.write_text("قال الوزير إن الاجتماع انتهى.", encoding="utf-8")
    assert main(["extract", "--quiet", "--model", str(model_copy), str(article)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("qawl: error: ") and "truncated or corrupt" in err and "Traceback" not in err
