"""Fine-tuning: one model for entities and statements, with accelerate, early stopping and exact resume.

Each epoch the model is scored on the dev documents with the same code path as inference (`Extractor`),
and the best epoch is saved as a Hugging Face-style directory. A checkpoint (`accelerator.save_state` plus
`state.json` with epoch, batch and best score) is written every `checkpoint_every` steps and at each epoch
end; rerunning the same command resumes from it, in the same batch order, with the same random state.
"""

from __future__ import annotations

import json
import math
import shutil
import time
from collections import Counter
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import torch
from transformers import get_linear_schedule_with_warmup

from qawl.augment import load_gazetteers, replace_mentions
from qawl.checkpoint import load_checkpoint, save_checkpoint
from qawl.config import save_config, to_dict
from qawl.corpus import read_documents
from qawl.document import Document
from qawl.errors import ConfigError
from qawl.metrics import evaluate
from qawl.link import LinkSettings, words
from qawl.model import QawlModel
from qawl.normalize import NormalizerConfig
from qawl.pipeline import Extractor, WindowSettings
from qawl.pretrain import EncoderSize
from qawl.tokenizer import load_tokenizer
from qawl.train_data import build_dataset, collate, token_budget_batches
from qawl.wordvec import WordVectors


@dataclass(frozen=True)
class RandomEncoder(EncoderSize):
    """A randomly initialised encoder of this size (tests, and the no-pretraining ablation)."""

    tokenizer_dir: str = ""


@dataclass(frozen=True)
class TrainConfig:
    output_dir: str  # checkpoints, logs and the best model (output_dir/best)
    encoder: str | None = None  # pretrained encoder directory; None with random_encoder for no pretraining
    random_encoder: RandomEncoder | None = None
    word_vectors: str | None = None  # a word-vector directory (scripts/train_word_vectors.py), or none
    crf: bool = False  # learned BIO transitions (qawl/crf.py) instead of per-token softmax losses
    local_conv: int = 0  # >0: width of a residual 1-D convolution over the encoder output (odd)
    anercorp_train: str | None = None
    quotes_train: str | None = None
    quotes_dev: str | None = None
    anercorp_heldout_percent: float = 10.0  # of ANERcorp train, for model selection
    # mention replacement (qawl/augment.py): ANERcorp training names swapped for gazetteer names
    anercorp_gazetteers: str | None = None
    mention_replacement: float = 0.0  # probability per entity
    model_dir: str | None = None  # where the best model is copied when training ends
    window: WindowSettings = field(default_factory=WindowSettings)
    tokens_per_batch: int = 4096
    epochs: int = 8
    max_steps: int = 0  # >0: stop after this many optimizer steps (tests, quick runs)
    lr: float = 1e-4  # encoder
    head_lr: float = 1e-3
    weight_decay: float = 0.01
    warmup_ratio: float = 0.06
    link_loss_weight: float = 1.0
    role_loss_weight: float = 1.0
    patience: int = 3  # epochs without improvement before stopping
    checkpoint_every: int = 200
    seed: int = 13
    num_threads: int = 0
    max_docs: int = 0  # >0: use only this many documents of each corpus (tests)
    stop_after: int = 0  # testing aid: return (as if killed) after this many steps of this run


def _read(path: str | None, limit: int) -> list[Document]:
    if not path:
        return []
    docs = list(read_documents(path))
    return docs[:limit] if limit else docs


def split_heldout(docs: list[Document], percent: float) -> tuple[list[Document], list[Document]]:
    """Every k-th sentence held out: deterministic and spread over the whole corpus."""
    if percent <= 0:
        return docs, []
    k = max(2, round(100 / percent))
    return [d for i, d in enumerate(docs) if i % k], [d for i, d in enumerate(docs) if i % k == 0]


def anonymous_heads(docs: list[Document], min_count: int = 3) -> tuple[str, ...]:
    """First words of speaker mentions whose annotated speaker_name is null most of the time."""
    seen, anonymous = Counter(), Counter()
    for d in docs:
        for s in d.statements:
            if s.speaker is None or not words(s.speaker.text):
                continue
            head = words(s.speaker.text)[0]
            seen[head] += 1
            anonymous[head] += s.speaker_name is None
    return tuple(sorted(h for h, n in seen.items() if n >= min_count and anonymous[h] / n > 0.5))


def compute_loss(model, batch: dict, cfg: TrainConfig) -> tuple[torch.Tensor, dict[str, float]]:
    tags = {"ner": batch["ner"], "roles": batch["roles"]} if cfg.crf else None
    out = model(batch["input_ids"], batch["attention_mask"], links=batch["links"],
                word_vector_ids=batch.get("word_vector_ids"), tags=tags)
    ce = torch.nn.functional.cross_entropy
    if cfg.crf:  # per labelled token, as the cross-entropies are
        ner_loss = out["ner_crf_nll"] / (batch["ner"] != -100).sum().clamp(min=1)
        role_loss = out["role_crf_nll"] / (batch["roles"] != -100).sum().clamp(min=1)
    else:
        ner_loss = ce(out["ner_logits"].flatten(0, 1), batch["ner"].flatten(), ignore_index=-100)
        role_loss = ce(out["role_logits"].flatten(0, 2), batch["roles"].flatten(), ignore_index=-100) \
            if (batch["roles"] != -100).any() else out["role_logits"].sum() * 0.0
    parts = {
        "ner": ner_loss,
        "roles": role_loss,
        "proclitics": ce(out["proclitic_logits"].flatten(0, 1), batch["proclitics"].flatten(), ignore_index=-100)
        if (batch["proclitics"] != -100).any() else out["proclitic_logits"].sum() * 0.0,
        "links": out["link_loss"],
    }
    loss = parts["ner"] + cfg.role_loss_weight * parts["roles"] + parts["proclitics"] \
        + cfg.link_loss_weight * parts["links"]
    return loss, {k: float(v.detach()) for k, v in parts.items()}


def build_model(cfg: TrainConfig) -> tuple[QawlModel, object, NormalizerConfig]:
    if cfg.encoder:
        model = QawlModel.from_encoder(cfg.encoder)
        tokenizer = load_tokenizer(cfg.encoder, expected_vocab_size=model.config.vocab_size)
        norm = NormalizerConfig.load(cfg.encoder)
    elif cfg.random_encoder is None:
        raise ValueError("set `encoder` (a model directory) or `random_encoder` in the config")
    else:
        r = cfg.random_encoder
        tokenizer = load_tokenizer(r.tokenizer_dir)
        model, norm = QawlModel.from_config(r.bert_config(len(tokenizer))), NormalizerConfig.load(r.tokenizer_dir)
    if cfg.crf:
        model.add_crf()
    if cfg.local_conv:
        model.add_local_conv(cfg.local_conv)
    if cfg.word_vectors:
        vectors = WordVectors.load(cfg.word_vectors)
        if vectors.source.get("normalizer", asdict(norm)) != asdict(norm):
            raise ValueError(f"{cfg.word_vectors}: trained on text normalized differently from the encoder's")
        model.attach_word_vectors(vectors)
    return model, tokenizer, norm


def selection_score(scores: dict) -> float:
    """One number to pick the best epoch: the mean of the available F1 figures."""
    keys = [k for k in ("anercorp_heldout.entity_f1", "dev.entity_f1", "dev.content_f1", "dev.statement_f1")
            if k in scores]
    return sum(scores[k] for k in keys) / max(len(keys), 1)


def save_model(model: QawlModel, tokenizer, norm: NormalizerConfig, cfg: TrainConfig, link: LinkSettings,
               directory: Path, extra: dict) -> None:
    model.config.qawl_link = to_dict(link)
    model.config.qawl_window = to_dict(cfg.window)
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    norm.save(directory)
    save_config(cfg, directory / "train_config.yaml")
    (directory / "scores.json").write_text(json.dumps(extra, indent=2, ensure_ascii=False) + "\n")


def train(cfg: TrainConfig) -> dict:
    from accelerate import Accelerator
    from accelerate.utils import set_seed
    from tqdm import tqdm

    if cfg.num_threads:
        torch.set_num_threads(cfg.num_threads)
    set_seed(cfg.seed)
    out = Path(cfg.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    accelerator = Accelerator(mixed_precision="bf16" if torch.cuda.is_available() else "no")
    model, tokenizer, norm = build_model(cfg)

    aner = _read(cfg.anercorp_train, cfg.max_docs)
    aner_train, aner_heldout = split_heldout(aner, cfg.anercorp_heldout_percent)
    if cfg.mention_replacement > 0:
        if not cfg.anercorp_gazetteers:
            raise ConfigError("mention_replacement needs anercorp_gazetteers (the ANERGazet directory)")
        gazetteers = load_gazetteers(cfg.anercorp_gazetteers)
        aner_train = replace_mentions(aner_train, gazetteers, cfg.mention_replacement, cfg.seed)
    quotes = _read(cfg.quotes_train, cfg.max_docs)
    dev = _read(cfg.quotes_dev, cfg.max_docs)
    w = cfg.window
    wv = model.word_vectors
    parts = [build_dataset(aner_train, tokenizer, norm, w.max_length, w.overlap, True, wv),
             build_dataset(quotes, tokenizer, norm, w.max_length, w.overlap, False, wv)]
    rows = [r for p in parts for r in p]  # small enough to hold; datasets does the conversion work
    lengths = [len(r["input_ids"]) for r in rows]
    link = LinkSettings(anonymous_heads=anonymous_heads(quotes), entity_speakers=True)

    steps_per_epoch = len(token_budget_batches(lengths, cfg.tokens_per_batch, cfg.seed))
    total = cfg.max_steps or steps_per_epoch * cfg.epochs
    encoder_params = [p for n, p in model.named_parameters() if n.startswith("bert.")]
    head_params = [p for n, p in model.named_parameters() if not n.startswith("bert.")]
    optimizer = torch.optim.AdamW([{"params": encoder_params, "lr": cfg.lr},
                                   {"params": head_params, "lr": cfg.head_lr}], weight_decay=cfg.weight_decay)
    scheduler = get_linear_schedule_with_warmup(optimizer, int(cfg.warmup_ratio * total), total)
    model, optimizer, scheduler = accelerator.prepare(model, optimizer, scheduler)

    ckpt = out / "checkpoint"
    state = load_checkpoint(accelerator, ckpt)
    if state is None:
        state = {"step": 0, "epoch": 0, "batch": 0, "best": -1.0, "best_epoch": -1, "bad_epochs": 0,
                 "history": [], "seconds": 0.0}
        save_config(cfg, out / "train_config.yaml")
    else:
        accelerator.print(f"resuming at epoch {state['epoch']}, batch {state['batch']} (step {state['step']})")
    world, rank = accelerator.num_processes, accelerator.process_index
    log_path = out / "log.jsonl"
    steps_this_run = 0
    t0 = time.time() - state["seconds"]
    bar = tqdm(total=total, initial=state["step"], desc="train", disable=not accelerator.is_main_process,
               dynamic_ncols=True)
    model.train()
    while state["epoch"] < cfg.epochs and state["step"] < total:
        batches = token_budget_batches(lengths, cfg.tokens_per_batch, cfg.seed + state["epoch"])
        usable = len(batches) - len(batches) % world
        while state["batch"] < usable and state["step"] < total:
            batch_ids = batches[state["batch"] + rank]
            batch = collate([rows[i] for i in batch_ids], tokenizer.pad_token_id)
            batch = {k: (v.to(accelerator.device) if torch.is_tensor(v) else
                         [[tuple(t.to(accelerator.device) for t in trip) for trip in row] for row in v])
                     for k, v in batch.items()}
            with accelerator.autocast():
                loss, parts = compute_loss(model, batch, cfg)
            accelerator.backward(loss)
            accelerator.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
            state["batch"] += world
            state["step"] += 1
            steps_this_run += 1
            bar.update(1)
            if state["step"] % 10 == 0 and accelerator.is_main_process:
                bar.set_postfix(loss=f"{loss.item():.3f}")
                with open(log_path, "a") as f:
                    f.write(json.dumps({"step": state["step"], "epoch": state["epoch"], "loss": loss.item(),
                                        **parts}) + "\n")
            if state["step"] % cfg.checkpoint_every == 0:
                state["seconds"] = time.time() - t0
                save_checkpoint(accelerator, ckpt, state)
            if cfg.stop_after and steps_this_run >= cfg.stop_after:
                state["seconds"] = time.time() - t0
                save_checkpoint(accelerator, ckpt, state)
                bar.close()
                return state
        # end of epoch (or of max_steps): score on dev, keep the best
        unwrapped = accelerator.unwrap_model(model)
        scores = {}
        if accelerator.is_main_process:
            # the model alone is selected: the rule fallback would blur the differences between epochs
            extractor = Extractor(unwrapped, tokenizer, norm, replace(link, rule_fallback=False), cfg.window,
                                  accelerator.device)
            scores = evaluate_split(extractor, aner_heldout, dev)
            extractor.model.train()
        score = selection_score(scores)
        record = {"epoch": state["epoch"], "step": state["step"], "seconds": round(time.time() - t0, 1),
                  "selection": score, **scores}
        state["history"].append(record)
        accelerator.print(json.dumps(record))
        if score > state["best"]:
            state.update(best=score, best_epoch=state["epoch"], bad_epochs=0)
            if accelerator.is_main_process:
                save_model(unwrapped, tokenizer, norm, cfg, link, out / "best", {"selected_epoch": record,
                                                                               "history": state["history"]})
        else:
            state["bad_epochs"] += 1
        state["epoch"] += 1
        state["batch"] = 0
        state["seconds"] = time.time() - t0
        save_checkpoint(accelerator, ckpt, state)
        if state["bad_epochs"] >= cfg.patience:
            accelerator.print(f"early stop: no improvement for {cfg.patience} epochs")
            break
    bar.close()
    if cfg.model_dir and accelerator.is_main_process and (out / "best").exists():
        dest = Path(cfg.model_dir)
        if dest.exists():
            shutil.rmtree(dest)
        shutil.copytree(out / "best", dest)
    state["done"] = True
    return state


def evaluate_split(extractor: Extractor, conll_docs: list[Document], dev_docs: list[Document]) -> dict:
    """Model-selection figures, computed by the same metrics as `qawl evaluate` (no bootstrap here)."""
    scores: dict[str, float] = {}
    if conll_docs:
        r = evaluate(conll_docs, extractor.pipe(conll_docs, batch_size=64), gold_format="conll", n_resamples=0)
        scores["anercorp_heldout.entity_f1"] = r["entities"]["seqeval"]["micro"]["f1"]
    if dev_docs:
        r = evaluate(dev_docs, extractor.pipe(dev_docs, batch_size=16), gold_format="jsonl", n_resamples=0)
        scores["dev.entity_f1"] = r["entities"]["seqeval"]["micro"]["f1"]
        st = r["statements"]
        scores["dev.content_f1"] = st["content_overlap"]["f1"]
        scores["dev.statement_f1"] = st["statement"]["f1"]
        scores["dev.speaker_accuracy"] = st["speaker_accuracy"]["accuracy"]
    return {k: round(float(v), 4) for k, v in scores.items() if v is not None and not math.isnan(v)}
