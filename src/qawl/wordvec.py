"""A fixed table of static word vectors (word2vec or fastText, scripts/train_word_vectors.py), looked up per word.

Directory layout (also copied into a model directory that uses them, under `wordvec/`):
    vocab.txt              one normalized word a line; line i is row i + 1
    vectors.safetensors    "codes": int8 (len(vocab) + 1, dim) and "scales": float32 (len(vocab) + 1,);
                           row = codes * scale; row 0 = unknown word (zeros)
    config.json            dim, size, how they were trained

The table is int8 with one scale per row (a quarter of float32, which keeps the default model under 60 MB);
`from_vectors` quantizes at once, so training and inference see the very same values.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from qawl.errors import ModelError

VOCAB_FILE = "vocab.txt"
VECTORS_FILE = "vectors.safetensors"
CONFIG_FILE = "config.json"
UNKNOWN = 0


class WordVectors:
    def __init__(self, vocab: list[str], codes: torch.Tensor, scales: torch.Tensor, source: dict | None = None):
        if codes.shape[0] != len(vocab) + 1 or scales.shape != codes.shape[:1] or codes.dtype != torch.int8:
            raise ModelError(f"word vectors: {tuple(codes.shape)} {codes.dtype} codes and {tuple(scales.shape)} "
                             f"scales for {len(vocab)} words (expected int8 (words + 1, dim) and (words + 1,))")
        self.vocab = vocab
        self.codes = codes
        self.scales = scales.float()
        self.source = source or {}
        self._index = {w: i + 1 for i, w in enumerate(vocab)}

    @property
    def dim(self) -> int:
        return int(self.codes.shape[1])

    @property
    def vectors(self) -> torch.Tensor:
        """The float32 table (len(vocab) + 1, dim)."""
        return self.codes.float() * self.scales[:, None]

    @classmethod
    def from_vectors(cls, words: Sequence[str], matrix: np.ndarray, source: dict | None = None) -> "WordVectors":
        table = torch.zeros((len(words) + 1, matrix.shape[1]), dtype=torch.float32)
        table[1:] = torch.as_tensor(np.asarray(matrix, dtype=np.float32))
        scales = table.abs().amax(dim=1) / 127
        codes = torch.round(table / scales.clamp(min=1e-12)[:, None]).to(torch.int8)
        return cls(list(words), codes, scales, source)

    def ids(self, words: Sequence[str]) -> list[int]:
        """Row of each word; 0 for a word outside the table."""
        index = self._index
        return [index.get(w, UNKNOWN) for w in words]

    def save(self, directory: str | Path) -> None:
        from safetensors.torch import save_file

        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        (directory / VOCAB_FILE).write_text("".join(w + "\n" for w in self.vocab), encoding="utf-8")
        save_file({"codes": self.codes.contiguous(), "scales": self.scales.contiguous()}, str(directory / VECTORS_FILE))
        meta = {"dim": self.dim, "size": len(self.vocab), "source": self.source}
        (directory / CONFIG_FILE).write_text(json.dumps(meta, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, directory: str | Path) -> "WordVectors":
        from safetensors.torch import load_file

        directory = Path(directory)
        try:
            vocab = (directory / VOCAB_FILE).read_text(encoding="utf-8").split("\n")[:-1]
            tensors = load_file(str(directory / VECTORS_FILE))
            codes, scales = tensors["codes"], tensors["scales"]
            meta = json.loads((directory / CONFIG_FILE).read_text(encoding="utf-8"))
        except (OSError, KeyError, ValueError) as exc:
            raise ModelError(f"{directory}: cannot read word vectors ({exc})") from exc
        return cls(vocab, codes, scales, meta.get("source"))
