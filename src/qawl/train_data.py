"""Gold documents -> training windows (a `datasets.Dataset`) and token-budget batches."""

from __future__ import annotations

import random
from collections.abc import Iterable

import torch
from datasets import Dataset

from qawl.document import Document
from qawl.encode import IGNORE, align_labels, encode_text, make_windows, span_token_range
from qawl.labels import ROLE_LAYERS, SPEAKER_ENTITY_LABELS
from qawl.model import LINK_ROLES
from qawl.normalize import NormalizerConfig
from qawl.wordvec import WordVectors


def window_examples(doc: Document, tokenizer, norm: NormalizerConfig, max_length: int, overlap: int,
                    whole_token_entities: bool, word_vectors: WordVectors | None = None) -> list[dict]:
    """Training examples for one document, one per window; token indices include the [CLS] shift."""
    enc = encode_text(doc.text, tokenizer, norm, word_vectors)
    if len(enc) == 0:
        return []
    labels = align_labels(doc, enc, whole_token_entities)
    has_roles = not whole_token_entities  # CoNLL corpora say nothing about statements
    ranges = {}
    for s in doc.statements:
        for role in ("CONTENT",) + LINK_ROLES:
            span = getattr(s, role.lower())
            if span is not None:
                ranges[(s.id, role)] = span_token_range(enc, span.start, span.end)
    # names that are not a speaker here compete with the speakers, as they do in prediction (qawl.link)
    speakers = [r for (_, rl), r in ranges.items() if rl == "SPEAKER" and r is not None]
    named = [r for r in (span_token_range(enc, e.start, e.end) for e in doc.entities
                         if e.label in SPEAKER_ENTITY_LABELS)
             if r is not None and not any(r[0] <= b and a <= r[1] for a, b in speakers)]
    examples = []
    for w in make_windows(len(enc), max_length - 2, overlap):
        inside = lambda r: r is not None and w.start <= r[0] and r[1] < w.end  # noqa: E731
        shift = lambda r: [r[0] - w.start + 1, r[1] - w.start + 1]  # noqa: E731
        links = {}
        for role in LINK_ROLES:
            candidates = sorted({tuple(r) for (sid, rl), r in ranges.items() if rl == role and inside(r)}
                                | ({tuple(r) for r in named if inside(r)} if role == "SPEAKER" else set()))
            contents, targets = [], []
            for s in doc.statements:
                c = ranges.get((s.id, "CONTENT"))
                if not inside(c):
                    continue
                own = ranges.get((s.id, role), "none") if getattr(s, role.lower()) is not None else "none"
                if own == "none":
                    target = len(candidates)
                elif own is not None and inside(own):
                    target = candidates.index(tuple(own))
                else:
                    continue  # its cue/speaker lies outside this window: no signal here
                contents.append(shift(c))
                targets.append(target)
            links[role] = {"contents": contents, "candidates": [shift(r) for r in candidates], "targets": targets}
        sl = slice(w.start, w.end)
        examples.append({
            "input_ids": [tokenizer.cls_token_id] + enc.input_ids[sl] + [tokenizer.sep_token_id],
            "ner": [IGNORE] + labels.ner[sl] + [IGNORE],
            "roles": [[IGNORE] * len(ROLE_LAYERS)] + (labels.roles[sl] if has_roles
                                                 else [[IGNORE] * len(ROLE_LAYERS)] * (w.end - w.start))
                     + [[IGNORE] * len(ROLE_LAYERS)],
            "proclitics": [IGNORE] + labels.proclitics[sl] + [IGNORE],
            "links": links,
        })
        if enc.word_vector_ids is not None:
            examples[-1]["word_vector_ids"] = [0] + enc.word_vector_ids[sl] + [0]
    return examples


def build_dataset(docs: Iterable[Document], tokenizer, norm: NormalizerConfig, max_length: int, overlap: int,
                  whole_token_entities: bool, word_vectors: WordVectors | None = None) -> Dataset:
    rows = [ex for d in docs for ex in window_examples(d, tokenizer, norm, max_length, overlap,
                                                       whole_token_entities, word_vectors)]
    return Dataset.from_list(rows)


def token_budget_batches(lengths: list[int], tokens_per_batch: int, seed: int) -> list[list[int]]:
    """Index batches of similar length (padded size <= budget), in a seeded random order."""
    rng = random.Random(seed)
    order = list(range(len(lengths)))
    rng.shuffle(order)
    batches: list[list[int]] = []
    # sort within large chunks so batches are uniform in length yet differ between epochs
    for c in range(0, len(order), 1000):
        chunk = sorted(order[c:c + 1000], key=lambda i: lengths[i])
        batch: list[int] = []
        for i in chunk:
            if batch and max(lengths[j] for j in batch + [i]) * (len(batch) + 1) > tokens_per_batch:
                batches.append(batch)
                batch = []
            batch.append(i)
        if batch:
            batches.append(batch)
    rng.shuffle(batches)
    return batches


def collate(rows: list[dict], pad_id: int) -> dict:
    width = max(len(r["input_ids"]) for r in rows)
    B = len(rows)
    ids = torch.full((B, width), pad_id, dtype=torch.long)
    mask = torch.zeros((B, width), dtype=torch.long)
    ner = torch.full((B, width), IGNORE, dtype=torch.long)
    roles = torch.full((B, width, len(ROLE_LAYERS)), IGNORE, dtype=torch.long)
    procl = torch.full((B, width), IGNORE, dtype=torch.long)
    vector_ids = torch.zeros((B, width), dtype=torch.long) if "word_vector_ids" in rows[0] else None
    links = []
    for b, r in enumerate(rows):
        n = len(r["input_ids"])
        ids[b, :n] = torch.tensor(r["input_ids"])
        mask[b, :n] = 1
        ner[b, :n] = torch.tensor(r["ner"])
        roles[b, :n] = torch.tensor(r["roles"])
        procl[b, :n] = torch.tensor(r["proclitics"])
        if vector_ids is not None:
            vector_ids[b, :n] = torch.tensor(r["word_vector_ids"])
        links.append([(torch.tensor(r["links"][role]["contents"], dtype=torch.long).view(-1, 2),
                       torch.tensor(r["links"][role]["candidates"], dtype=torch.long).view(-1, 2),
                       torch.tensor(r["links"][role]["targets"], dtype=torch.long))
                      for role in LINK_ROLES])
    batch = {"input_ids": ids, "attention_mask": mask, "ner": ner, "roles": roles, "proclitics": procl,
             "links": links}
    if vector_ids is not None:
        batch["word_vector_ids"] = vector_ids
    return batch
