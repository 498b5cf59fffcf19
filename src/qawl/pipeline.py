"""Extractor: raw Arabic text -> Document with entities and statements, one text or a stream of them.

    from qawl.pipeline import Extractor
    extractor = Extractor.load()              # models/qawl-small, or $QAWL_MODEL, or a path
    doc = extractor("قال الرئيس ... إن ...")
    for doc in extractor.pipe(texts, batch_size=32): ...

Inside `pipe`: documents are read in chunks, their windows sorted by length and batched by a token budget
(little padding), run under `torch.inference_mode`, merged back per document and yielded in input order.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

from qawl import __version__
from qawl.baseline import RuleBasedExtractor
from qawl.decode import decode_tags, merge_windows, tags_to_spans
from qawl.document import Document, Entity
from qawl.encode import EncodedText, Window, encode_text, make_windows
from qawl.errors import DocumentTooLarge, ModelError
from qawl.fallback import merge_rule_statements
from qawl.labels import NER_LABELS, ROLE_LAYERS, ROLE_TAGS
from qawl.link import LinkSettings, build_statements
from qawl.memory import bound_onednn_cache, release_free_memory
from qawl.model import QawlModel, quantize_int8
from qawl.normalize import NormalizerConfig
from qawl.tokenizer import load_tokenizer

DEFAULT_MODEL = Path(__file__).resolve().parents[2] / "models" / "qawl-small"
# Memory grows linearly with a document (offset maps, tokens, window outputs: ~0.5 KB a character with the
# tiny test model); above this a document is refused up front instead of risking the machine.
DEFAULT_MAX_CHARS = 5_000_000
# autocast dtypes; "auto" = bf16 on a GPU that has it, else fp16; fp32 on CPU, where the benchmarks and int8 are
# measured (bf16 runs there too, but is not benchmarked)
PRECISIONS = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}


@dataclass(frozen=True)
class WindowSettings:
    max_length: int = 256  # tokens per window, [CLS] and [SEP] included
    overlap: int = 64
    # prediction: a long document's windows all of one length, just long enough (encode.make_windows). Off: on
    # 300 news articles it ran 15% fewer window tokens (7% fewer once batches are padded), and on quotes/dev it
    # cost 0.2-0.5 points of entity F1 and speaker accuracy (README, Inference). Training windows are always
    # max_length.
    even: bool = False


def default_model_path() -> Path:
    env = os.environ.get("QAWL_MODEL")
    if env:
        return Path(env)
    return DEFAULT_MODEL


def _autocast_dtype(precision: str, device: torch.device) -> torch.dtype | None:
    if precision != "auto":
        return PRECISIONS[precision]
    if device.type != "cuda":
        return None
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16  # fp16 on pre-Ampere GPUs


@dataclass
class _Encoded:
    doc: Document
    enc: EncodedText
    windows: list[Window]


class Extractor:
    def __init__(self, model: QawlModel, tokenizer, normalizer: NormalizerConfig, link: LinkSettings,
                 window: WindowSettings, device: str | torch.device = "cpu", name: str = "qawl",
                 tokens_per_batch: int | None = None, max_chars: int = DEFAULT_MAX_CHARS):
        self.model = model.eval().to(device)
        self.tokenizer = tokenizer
        self.normalizer = normalizer
        self.link = link
        self.window = window
        self.device = torch.device(device)
        self.name = name
        # CPU: 2,048 tokens a batch run as fast as 4,096 and 8,192, and each halving lowers the activations'
        # peak (scripts/bench_memory.sh, scripts/trace_memory.py); a GPU wants larger batches
        self.tokens_per_batch = tokens_per_batch or (2048 if self.device.type == "cpu" else 8192)
        # batch widths rounded up to a multiple of this: few distinct shapes, so oneDNN's per-shape kernel cache,
        # capped on CPU (qawl/memory.py), keeps hitting instead of compiling for every new (rows, width)
        self.pad_to_multiple = 32
        self.max_chars = max_chars
        self.chunk_chars = 48_000  # a chunk's working set (windows, logits, hidden states) grows with its text
        self.release_memory = True  # hand freed heap back to the system after each chunk (qawl/memory.py)
        self.autocast_dtype: torch.dtype | None = None
        self.rules = RuleBasedExtractor()  # for link.rule_fallback (see fallback.py)

    @classmethod
    def load(cls, path: str | Path | None = None, device: str = "auto", quantize: bool = False,
             allow_pickle: bool = False, max_chars: int = DEFAULT_MAX_CHARS,
             rule_fallback: bool | None = None, precision: str = "auto") -> "Extractor":
        """`rule_fallback` overrides the model's own setting (None keeps it); see fallback.py.
        `precision`: "auto", "fp32", "bf16" or "fp16" (autocast of the model's forward pass; decoding
        and linking stay fp32)."""
        path = Path(path) if path is not None else default_model_path()
        if not path.is_dir():
            raise ModelError(f"{path}: model directory not found (set QAWL_MODEL or pass a path)")
        model = QawlModel.from_pretrained(path, allow_pickle=allow_pickle)
        tokenizer = load_tokenizer(path, expected_vocab_size=model.config.vocab_size)
        cfg = model.config.to_dict()
        link = LinkSettings(**{k: tuple(v) if isinstance(v, list) else v
                               for k, v in cfg.get("qawl_link", {}).items()})
        if rule_fallback is not None:
            link = replace(link, rule_fallback=rule_fallback)
        window = WindowSettings(**cfg.get("qawl_window", {}))
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        if torch.device(device).type == "cpu":
            bound_onednn_cache()
        if precision != "auto" and precision not in PRECISIONS:
            raise ModelError(f"precision must be auto, fp32, bf16 or fp16, not {precision!r}")
        if quantize:
            if device != "cpu":
                raise ModelError("--quantize is int8 dynamic quantization for CPU; on GPU bf16 is used instead")
            if precision not in ("auto", "fp32"):
                raise ModelError(f"--quantize runs int8 weights with fp32 activations; it cannot be combined "
                                 f"with {precision}")
            model = quantize_int8(model)
        ex = cls(model, tokenizer, NormalizerConfig.load(path), link, window, device, name=str(path),
                 max_chars=max_chars)
        ex.autocast_dtype = _autocast_dtype(precision, ex.device)
        return ex

    # ---- public API ------------------------------------------------------------------------------

    def __call__(self, text: str | Document) -> Document:
        return next(self.pipe([text]))

    def pipe(self, items: Iterable[str | Document], batch_size: int = 32) -> Iterator[Document]:
        """Predict for each item, in input order. Documents are predicted in chunks of at most `batch_size`
        documents and about `chunk_chars` characters, so memory stays flat however long the stream and
        however its article lengths vary.

        A document longer than `max_chars` raises DocumentTooLarge once every document before it is yielded."""
        chunk: list[Document] = []
        chars = 0
        for n, item in enumerate(items):
            doc = item if isinstance(item, Document) else Document(id=str(n + 1), text=item)
            if len(doc.text) > self.max_chars:
                if chunk:
                    yield from self.predict_documents(chunk)
                self.check_size(doc)
            chunk.append(doc)
            chars += len(doc.text)
            if len(chunk) >= batch_size or chars >= self.chunk_chars:
                yield from self.predict_documents(chunk)
                chunk, chars = [], 0
                if self.release_memory:
                    release_free_memory()
        if chunk:
            yield from self.predict_documents(chunk)

    def check_size(self, doc: Document) -> None:
        """Raise DocumentTooLarge (naming id, size and limit) when `doc` is above `max_chars`."""
        if len(doc.text) > self.max_chars:
            raise DocumentTooLarge(doc.id, len(doc.text), self.max_chars)

    @property
    def provenance(self) -> dict:
        return {"version": __version__, "model": self.name}

    # ---- internals -------------------------------------------------------------------------------

    def encode(self, doc: Document) -> _Encoded:
        enc = encode_text(doc.text, self.tokenizer, self.normalizer, self.model.word_vectors)
        windows = make_windows(len(enc), self.window.max_length - 2, self.window.overlap, even=self.window.even)
        return _Encoded(doc, enc, windows)

    def predict_documents(self, docs: list[Document]) -> list[Document]:
        for d in docs:
            self.check_size(d)
        encoded = [self.encode(d) for d in docs]
        jobs = [(i, k) for i, e in enumerate(encoded) for k in range(len(e.windows)) if len(e.enc)]
        outputs: dict[tuple[int, int], dict[str, np.ndarray]] = {}
        for batch in self._batches(jobs, encoded):
            outputs.update(self._run(batch, encoded))
        merged = [self._merge(i, e, outputs) for i, e in enumerate(encoded)]
        del outputs  # merged holds them now
        if self.release_memory:  # the batches' freed activations, before decoding and linking allocate anew
            release_free_memory()
        present = [m for m in merged if m is not None]
        # learned BIO transitions, if the model has CRFs (read per chunk: training changes them between evaluations)
        ner_crf, role_crf = self.model.decoding_scores()
        # one Viterbi pass for the whole chunk: the token loop runs once, not once per document and layer
        ner_tags = iter(decode_tags([m["ner_logits"][:, None] for m in present], NER_LABELS, ner_crf))
        role_tags = iter(decode_tags([m["role_logits"] for m in present], ROLE_TAGS, role_crf))
        return [self._finish(e, m, next(ner_tags) if m else None, next(role_tags) if m else None)
                for e, m in zip(encoded, merged)]

    def _padded(self, length: int) -> int:
        return -(-length // self.pad_to_multiple) * self.pad_to_multiple

    def _batches(self, jobs, encoded) -> Iterator[list[tuple[int, int]]]:
        size = lambda j: encoded[j[0]].windows[j[1]].end - encoded[j[0]].windows[j[1]].start + 2  # noqa: E731
        batch: list[tuple[int, int]] = []
        for job in sorted(jobs, key=size):  # similar lengths together: little padding
            if batch and self._padded(size(job)) * (len(batch) + 1) > self.tokens_per_batch:
                yield batch
                batch = []
            batch.append(job)
        if batch:
            yield batch

    def _run(self, batch, encoded) -> dict[tuple[int, int], dict[str, np.ndarray]]:
        tok = self.tokenizer
        rows, vector_rows = [], []
        for i, k in batch:
            w, enc = encoded[i].windows[k], encoded[i].enc
            rows.append([tok.cls_token_id] + enc.input_ids[w.start:w.end] + [tok.sep_token_id])
            if enc.word_vector_ids is not None:
                vector_rows.append([0] + enc.word_vector_ids[w.start:w.end] + [0])
        longest = max(len(r) for r in rows)
        width = max(longest, min(self._padded(longest), self.window.max_length))  # never past the positions
        ids = torch.full((len(rows), width), tok.pad_token_id, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        vector_ids = torch.zeros((len(rows), width), dtype=torch.long) if vector_rows else None
        for r, row in enumerate(rows):
            ids[r, :len(row)] = torch.tensor(row)
            mask[r, :len(row)] = 1
            if vector_ids is not None:
                vector_ids[r, :len(row)] = torch.tensor(vector_rows[r])
        with torch.inference_mode(), torch.autocast(self.device.type, dtype=self.autocast_dtype or torch.bfloat16,
                                                     enabled=self.autocast_dtype is not None):
            out = self.model(ids.to(self.device), mask.to(self.device),
                             word_vector_ids=None if vector_ids is None else vector_ids.to(self.device))
        result = {}
        for r, (i, k) in enumerate(batch):
            n = len(rows[r]) - 2  # drop [CLS] and [SEP]
            # copies (on CPU too): a view would keep the whole batch's output tensors alive until the chunk is merged
            result[(i, k)] = {name: out[name][r, 1:n + 1].float().to("cpu", copy=True).numpy()
                              for name in ("hidden", "ner_logits", "role_logits", "proclitic_logits")}
        return result

    @staticmethod
    def _merge(i: int, e: _Encoded, outputs) -> dict[str, np.ndarray] | None:
        """A document's window outputs as one array per output (None for a document without tokens)."""
        if len(e.enc) == 0:
            return None
        return {name: merge_windows([outputs[(i, k)][name] for k in range(len(e.windows))], e.windows)
                for name in ("hidden", "ner_logits", "role_logits", "proclitic_logits")}

    def _finish(self, e: _Encoded, merged: dict[str, np.ndarray] | None, ner_tags, role_tags) -> Document:
        doc, enc = e.doc, e.enc
        meta = dict(doc.meta)
        meta["qawl"] = self.provenance
        if merged is None:
            return Document(doc.id, doc.text, meta)
        procl = merged["proclitic_logits"]
        entity_spans = tags_to_spans(ner_tags[0][0], ner_tags[1][0], NER_LABELS, enc, doc.text, procl)
        entities = [Entity(s.start, s.end, s.label, doc.text[s.start:s.end], round(s.score, 4)) for s in entity_spans]
        role_spans: dict[str, list] = {}
        for r, role in enumerate(ROLE_LAYERS):
            spans = tags_to_spans(role_tags[0][r], role_tags[1][r], ROLE_TAGS, enc, doc.text, procl)
            role_spans.setdefault(role, []).extend(spans)
        hidden = torch.from_numpy(merged["hidden"]).to(self.device)
        linker = self.model.linker
        statements = build_statements(doc.text, entities, role_spans, hidden, linker, self.link, entity_spans)
        if self.link.rule_fallback:
            rules = self.rules.statements(doc.text)
            statements = merge_rule_statements(doc.text, entities, statements, rules, self.link.anonymous_heads,
                                               self.link.model_min_confidence)
        return Document(doc.id, doc.text, meta, entities, statements)
