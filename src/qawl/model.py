"""QawlModel: one BERT encoder, three token heads and a span-pair linker.

    input_ids (B, T) [+ word_vector_ids (B, T)] -> encoder [-> + local convolution] -> hidden (B, T, H)
        classifier   -> ner_logits        (B, T, 9)        BIO over PERS/ORG/LOC/MISC
        role_head    -> role_logits       (B, T, 5, 3)     BIO layers: CUE SPEAKER CONTENT MEDIUM, nested CONTENT
        proclitic_head -> proclitic_logits (B, T, 3)       proclitic letters a span leaves out (0, 1, 2)
    linker: for a content span and candidate cue/speaker/medium spans (or none), a pair score.

Optional word features (qawl/wordvec.py): a frozen table of static word vectors, looked up for the word each
subword belongs to, projected by `word_proj` and added to the subword embeddings before the encoder (the
table is saved as int8 under `wordvec/` of the model directory, and named in config.qawl_word_vectors).

The encoder is `self.bert` and the NER head `self.classifier`, as in BertForTokenClassification, so a
saved qawl model also loads as a plain token-classification model (the naive baseline of the benchmark).
Weights are saved and loaded as safetensors only; pickle needs an explicit `allow_pickle=True`.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn
from transformers import BertConfig, BertModel

from qawl.crf import BioCRF
from qawl.errors import ModelError
from qawl.labels import NER_LABELS, ROLE_LAYERS, ROLE_TAGS
from qawl.wordvec import WordVectors

WEIGHTS_FILE = "model.safetensors"
WORDVEC_DIR = "wordvec"
PICKLE_FILE = "pytorch_model.bin"  # loaded only with allow_pickle=True, and then only as plain tensors
LINK_ROLES = ("CUE", "SPEAKER", "MEDIUM")  # what a content span is linked to
N_DISTANCE_BUCKETS = 16


def distance_bucket(distance: torch.Tensor) -> torch.Tensor:
    """Signed log-scale buckets of a token distance: 0..N_DISTANCE_BUCKETS-1."""
    half = N_DISTANCE_BUCKETS // 2
    mag = torch.clamp(torch.log2(distance.abs().float() + 1).long(), max=half - 1)
    return torch.where(distance < 0, mag, mag + half)


class SpanPairLinker(nn.Module):
    """Scores (content span, candidate span) pairs; a learned 'none' score competes with the candidates."""

    def __init__(self, hidden: int, dim: int = 128):
        super().__init__()
        self.span_proj = nn.Linear(2 * hidden, dim)  # [first token; last token] -> span vector
        self.role_embed = nn.Embedding(len(LINK_ROLES), dim)
        self.dist_embed = nn.Embedding(N_DISTANCE_BUCKETS, dim)
        self.scorer = nn.Sequential(nn.Linear(4 * dim, dim), nn.GELU(), nn.Linear(dim, 1))
        self.none_score = nn.Parameter(torch.zeros(len(LINK_ROLES)))

    def span_vectors(self, hidden: torch.Tensor, spans: torch.Tensor) -> torch.Tensor:
        """hidden (T, H), spans (N, 2) inclusive token bounds -> (N, dim)."""
        return torch.tanh(self.span_proj(torch.cat([hidden[spans[:, 0]], hidden[spans[:, 1]]], dim=-1)))

    def forward(self, hidden: torch.Tensor, contents: torch.Tensor, candidates: torch.Tensor,
                role: int) -> torch.Tensor:
        """hidden (T, H); contents (N, 2); candidates (M, 2) -> scores (N, M + 1), last column = none."""
        return self.score_roles(hidden, contents, [candidates], [role])[0]

    def score_roles(self, hidden: torch.Tensor, contents: torch.Tensor, candidates: list[torch.Tensor],
                    roles: list[int]) -> list[torch.Tensor]:
        """`forward` for several roles at once, each role's candidates (M_r, 2) -> scores (N, M_r + 1): the
        contents' vectors are computed once and all pairs go through the scorer together (one call instead of
        one per role; linking is a Python loop of small tensor operations)."""
        c = self.span_vectors(hidden, contents)  # (N, d)
        n = c.shape[0]
        nones = [self.none_score[role].expand(n, 1) for role in roles]
        sizes = [q.shape[0] for q in candidates]
        if not sum(sizes):
            return nones
        spans = torch.cat(candidates)
        role_ids = torch.repeat_interleave(torch.tensor(roles, device=spans.device),
                                           torch.tensor(sizes, device=spans.device))
        q = self.span_vectors(hidden, spans) + self.role_embed(role_ids)  # (M, d)
        # signed distance from the candidate to the content (negative: candidate before the content)
        before = spans[None, :, 1] - contents[:, None, 0]  # (N, M)
        after = spans[None, :, 0] - contents[:, None, 1]
        dist = torch.where(before < 0, before, torch.where(after > 0, after, torch.zeros_like(after)))
        d = self.dist_embed(distance_bucket(dist))  # (N, M, d)
        cc, qq = c[:, None, :].expand_as(d), q[None, :, :].expand_as(d)
        pair = torch.cat([cc, qq, cc * qq, d], dim=-1)  # (N, M, 4d)
        scores = self.scorer(pair).squeeze(-1).split(sizes, dim=1)
        return [torch.cat([s, none], dim=1) for s, none in zip(scores, nones)]


class QawlModel(nn.Module):
    def __init__(self, config: BertConfig, encoder: BertModel | None = None):
        super().__init__()
        self.config = config
        self.bert = encoder if encoder is not None else BertModel(config, add_pooling_layer=False)
        h = config.hidden_size
        self.dropout = nn.Dropout(config.hidden_dropout_prob)
        self.classifier = nn.Linear(h, len(NER_LABELS))
        self.role_head = nn.Linear(h, len(ROLE_LAYERS) * len(ROLE_TAGS))
        self.proclitic_head = nn.Linear(h, 3)
        self.linker = SpanPairLinker(h)
        if getattr(config, "qawl_crf", False):
            self.add_crf()
        self.local_conv: nn.Module | None = None
        if getattr(config, "qawl_local_conv", 0):
            self.add_local_conv(config.qawl_local_conv)
        self.word_vectors: WordVectors | None = None
        wv = getattr(config, "qawl_word_vectors", None)
        if wv:
            self.word_proj = nn.Linear(wv["dim"], h)  # the table itself comes with attach_word_vectors

    def attach_word_vectors(self, vectors: WordVectors) -> None:
        """Use a word-vector table (before training, or when loading a model that was trained with one)."""
        self.config.qawl_word_vectors = {"dim": vectors.dim, "size": len(vectors.vocab)}
        if not hasattr(self, "word_proj") or self.word_proj.in_features != vectors.dim:
            self.word_proj = nn.Linear(vectors.dim, self.config.hidden_size)
            nn.init.normal_(self.word_proj.weight, std=self.config.initializer_range)
            nn.init.zeros_(self.word_proj.bias)
        # frozen and not in model.safetensors: saved once, int8, under wordvec/
        device = self.word_proj.weight.device
        self.register_buffer("word_table", vectors.vectors.float().to(device), persistent=False)
        self.word_vectors = vectors

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                links: list[list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]] | None = None,
                word_vector_ids: torch.Tensor | None = None, tags: dict[str, torch.Tensor] | None = None
                ) -> dict[str, torch.Tensor]:
        """`links` (training only): per batch row, per LINK_ROLES entry, (contents (N, 2), candidates (M, 2),
        targets (N,)) where a target indexes the candidates and M means 'none'. `word_vector_ids` (B, T):
        each token's row in the word-vector table (0 = unknown word, [CLS], [SEP], padding). `tags` (training
        a model with CRFs): gold "ner" (B, T) and "roles" (B, T, layers), -100 where unlabelled; the CRFs'
        summed negative log-likelihoods come back as "ner_crf_nll" and "role_crf_nll"."""
        if self.word_vectors is not None:
            if word_vector_ids is None:
                raise ValueError("this model uses word vectors: pass word_vector_ids")
            embeds = self.bert.embeddings.word_embeddings(input_ids) \
                + self.word_proj(self.word_table[word_vector_ids])
            hidden = self.bert(inputs_embeds=embeds, attention_mask=attention_mask).last_hidden_state
        else:
            hidden = self.bert(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state  # (B, T, H)
        if self.local_conv is not None:
            # residual: each token also sees its neighbours' states directly, a word-order prior for an
            # encoder whose attention learned little of it in pretraining
            near = self.local_conv((hidden * attention_mask[..., None]).transpose(1, 2)).transpose(1, 2)
            hidden = hidden + near
        x = self.dropout(hidden)
        B, T, _ = x.shape
        out = {
            "hidden": hidden,
            "ner_logits": self.classifier(x),  # (B, T, 9)
            "role_logits": self.role_head(x).view(B, T, len(ROLE_LAYERS), len(ROLE_TAGS)),  # (B, T, 5, 3)
            "proclitic_logits": self.proclitic_head(x),  # (B, T, 3)
        }
        if links is not None:
            # link loss lives in forward so that DDP sees every parameter used in one call
            losses = [nn.functional.cross_entropy(self.linker(x[b], contents, candidates, role), targets,
                                                  reduction="sum")
                      for b, row in enumerate(links) for role, (contents, candidates, targets) in enumerate(row)
                      if contents.shape[0]]
            n = sum(row[r][0].shape[0] for row in links for r in range(len(row)))
            out["link_loss"] = torch.stack(losses).sum() / n if losses else x.sum() * 0.0
        if tags is not None and self.has_crf:
            ner = tags["ner"]
            out["ner_crf_nll"] = self.ner_crf.nll(out["ner_logits"], ner, ner != -100)
            roles = tags["roles"]
            out["role_crf_nll"] = sum(crf.nll(out["role_logits"][:, :, r], roles[:, :, r], roles[:, :, r] != -100)
                                      for r, crf in enumerate(self.role_crfs))
        return out

    @property
    def has_crf(self) -> bool:
        return hasattr(self, "ner_crf")

    def decoding_scores(self) -> tuple[tuple | None, tuple | None]:
        """Learned transition scores for decoding, with a leading layer axis (qawl.decode.viterbi_layers):
        (entity tags (1 layer), role layers), or (None, None)."""
        if not self.has_crf:
            return None, None
        ner = [self.ner_crf.scores()]
        roles = [crf.scores() for crf in self.role_crfs]
        return tuple(tuple(np.stack([r[k] for r in layers]) for k in range(3)) for layers in (ner, roles))

    # ---- construction, saving, loading ---------------------------------------------------------

    @classmethod
    def from_encoder(cls, encoder_dir: str | Path, allow_pickle: bool = False) -> "QawlModel":
        """A fresh model on a pretrained encoder directory (qawl's own, AraBERT, CAMeLBERT...)."""
        encoder_dir = Path(encoder_dir)
        _check_weights(encoder_dir, allow_pickle)
        config = _qawl_config(BertConfig.from_pretrained(encoder_dir))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            encoder = BertModel.from_pretrained(encoder_dir, config=config, add_pooling_layer=False,
                                                use_safetensors=not allow_pickle or None)
        return cls(config, encoder)

    @classmethod
    def from_config(cls, config: BertConfig) -> "QawlModel":
        """A randomly initialised model (tests, and the no-pretraining ablation)."""
        return cls(_qawl_config(config))

    def add_local_conv(self, width: int) -> None:
        """A residual 1-D convolution of odd `width` over the encoder's output (config `local_conv`)."""
        if width < 1 or width % 2 == 0:
            raise ValueError(f"local_conv: the width must be a positive odd number, got {width}")
        h = self.config.hidden_size
        self.config.qawl_local_conv = width
        self.local_conv = nn.Sequential(nn.Conv1d(h, h, width, padding=width // 2), nn.GELU())

    def add_crf(self) -> None:
        """Learned BIO transitions for the entity tags and each role layer (qawl/crf.py); called before
        training a model with them, and on loading one."""
        self.config.qawl_crf = True
        self.ner_crf = BioCRF(NER_LABELS)
        self.role_crfs = nn.ModuleList(BioCRF(ROLE_TAGS) for _ in ROLE_LAYERS)

    def save_pretrained(self, directory: str | Path) -> None:
        from safetensors.torch import save_file

        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        self.config.save_pretrained(directory)
        state = {k: v.detach().contiguous() for k, v in self.state_dict().items()}
        save_file(state, str(directory / WEIGHTS_FILE), metadata={"format": "pt"})
        if self.word_vectors is not None:
            self.word_vectors.save(directory / WORDVEC_DIR)

    @classmethod
    def from_pretrained(cls, directory: str | Path, allow_pickle: bool = False) -> "QawlModel":
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        directory = Path(directory)
        if not (directory / "config.json").exists():
            raise ModelError(f"{directory}: no config.json; not a model directory")
        try:
            config = BertConfig.from_pretrained(directory)
        except (OSError, ValueError, TypeError, AttributeError, json.JSONDecodeError) as exc:
            raise ModelError(f"{directory}/config.json: unreadable ({exc})") from None
        labels = [config.id2label[i] for i in range(len(config.id2label))] if config.id2label else []
        if labels != NER_LABELS or config.to_dict().get("qawl_roles") != list(ROLE_LAYERS):
            raise ModelError(f"{directory}/config.json: label maps are {labels or 'missing'}; a qawl model "
                             f"needs id2label {NER_LABELS} and qawl_roles {list(ROLE_LAYERS)}")
        try:
            model = cls(config)
        except (ValueError, TypeError) as exc:  # e.g. hidden_size not a multiple of num_attention_heads
            raise ModelError(f"{directory}/config.json: describes no valid model ({exc})") from None
        weights = directory / WEIGHTS_FILE
        if weights.exists():
            try:
                state = load_file(str(weights))
            except (SafetensorError, OSError) as exc:
                raise ModelError(f"{weights}: cannot read weights ({exc}); the file is truncated or corrupt") from None
        else:
            state = _load_pickle(directory, allow_pickle)
            weights = directory / PICKLE_FILE
        expected = model.state_dict()
        missing = sorted(set(expected) - set(state))
        unexpected = sorted(set(state) - set(expected))
        if missing or unexpected:
            raise ModelError(f"{weights}: weights do not match the config: missing {missing[:5]}, "
                             f"unexpected {unexpected[:5]}")
        for k, v in state.items():
            if v.shape != expected[k].shape:
                raise ModelError(f"{weights}: {k} has shape {tuple(v.shape)}, config expects "
                                 f"{tuple(expected[k].shape)} (vocabulary or size mismatch)")
        model.load_state_dict({k: v.float() for k, v in state.items()})
        wv = getattr(config, "qawl_word_vectors", None)
        if wv:
            vectors = WordVectors.load(directory / WORDVEC_DIR)
            if (vectors.dim, len(vectors.vocab)) != (wv["dim"], wv["size"]):
                raise ModelError(f"{directory / WORDVEC_DIR}: {len(vectors.vocab)} words x {vectors.dim}, "
                                 f"config.json expects {wv['size']} x {wv['dim']}")
            model.attach_word_vectors(vectors)
        return model

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())


class TapConv1d(nn.Module):
    """A same-padded Conv1d as one Linear from each position to its contribution to every tap, summed
    shifted: the same function, but a Linear is what dynamic int8 quantization converts (left in fp32, the
    convolution took 10% of the int8 model's forward time)."""

    def __init__(self, conv: nn.Conv1d):
        super().__init__()
        out_channels, in_channels, width = conv.weight.shape
        if conv.padding != (width // 2,) or conv.stride != (1,) or conv.dilation != (1,) or conv.groups != 1:
            raise ValueError("only a same-padded, stride-1, undilated, ungrouped Conv1d becomes taps")
        self.width, self.out_channels = width, out_channels
        self.taps = nn.Linear(in_channels, width * out_channels, bias=False)
        with torch.no_grad():  # taps.weight[k * out + o, i] = conv.weight[o, i, k]
            self.taps.weight.copy_(conv.weight.permute(2, 0, 1).reshape(width * out_channels, in_channels))
        self.bias = None if conv.bias is None else nn.Parameter(conv.bias.detach().clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (B, channels, T) -> (B, out_channels, T), as the convolution."""
        B, _, T = x.shape
        half = self.width // 2
        taps = self.taps(x.transpose(1, 2)).view(B, T, self.width, self.out_channels)
        taps = nn.functional.pad(taps, (0, 0, 0, 0, half, half))  # (B, T + 2 half, width, out)
        out = taps[:, 0:T, 0]
        for k in range(1, self.width):  # position t takes tap k of position t + k - half
            out = out + taps[:, k:k + T, k]
        if self.bias is not None:
            out = out + self.bias
        return out.transpose(1, 2)


def quantize_int8(model: QawlModel) -> QawlModel:
    """A copy of `model` for CPU inference with int8 dynamic quantization of its Linear layers; the local
    convolution is first rewritten as a Linear over its taps (TapConv1d), so that it is quantized too."""
    import copy

    model = copy.deepcopy(model)
    if model.local_conv is not None:
        model.local_conv[0] = TapConv1d(model.local_conv[0])
    return torch.ao.quantization.quantize_dynamic(model, {nn.Linear}, dtype=torch.qint8, inplace=True)


def _qawl_config(config: BertConfig) -> BertConfig:
    config.id2label = dict(enumerate(NER_LABELS))
    config.label2id = {l: i for i, l in enumerate(NER_LABELS)}
    config.qawl_roles = list(ROLE_LAYERS)
    config.qawl_role_tags = list(ROLE_TAGS)
    config.architectures = ["QawlModel"]
    return config


def _check_weights(directory: Path, allow_pickle: bool) -> None:
    if (directory / WEIGHTS_FILE).exists():
        return
    if (directory / PICKLE_FILE).exists():
        if not allow_pickle:
            raise ModelError(f"{directory}: only pickle weights ({PICKLE_FILE}), which can run arbitrary "
                             f"code when loaded; pass allow_pickle=True (--allow-pickle) if you trust the source")
        warnings.warn(f"loading pickle weights from {directory} (allow_pickle=True)", stacklevel=3)
        return
    raise ModelError(f"{directory}: no {WEIGHTS_FILE} (or pytorch_model.bin) found")


def _load_pickle(directory: Path, allow_pickle: bool) -> dict[str, torch.Tensor]:
    import pickle

    _check_weights(directory, allow_pickle)
    path = directory / PICKLE_FILE
    try:
        # weights_only=True even when pickle is allowed: tensors and plain containers only, never code
        state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        # torch's message suggests weights_only=False; keep only the line that names the refused object
        why = next((line for line in str(exc).splitlines() if "GLOBAL" in line or "global" in line), "")
        raise ModelError(f"{path}: refused: the pickle holds more than tensors ({why.strip()[:200] or 'unknown'}); "
                         f"qawl never runs code from a model file; convert the weights to {WEIGHTS_FILE}") from None
    except (RuntimeError, OSError, EOFError, ValueError) as exc:
        raise ModelError(f"{path}: cannot read pickle weights ({exc}); the file is truncated or corrupt") from None
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ModelError(f"{path}: expected a state dict of tensors, got {type(state).__name__}")
    return state
