"""Mention replacement for NER training: swap names in training sentences for other names of the same type
from a gazetteer (ANERGazet), so the entity head sees far more name forms than the corpus holds in
context. Training-time only: the gazetteers are read from their directory and never copied into a model.

    docs = replace_mentions(docs, load_gazetteers("../shared/data/anercorp/gazetteers"), 0.3, seed=13)
"""

from __future__ import annotations

import random
from pathlib import Path

from qawl.document import Document, Entity
from qawl.errors import ConfigError

GAZETTEER_FILES = {"PERS": "AlignedPersGazetteer.txt", "LOC": "AlignedLocGazetteer.txt",
                   "ORG": "AlignedOrgGazetteer.txt"}


def load_gazetteers(directory: str | Path) -> dict[str, list[str]]:
    """label -> names, from ANERGazet's three files (blank lines and '====' separators skipped)."""
    out = {}
    for label, name in GAZETTEER_FILES.items():
        path = Path(directory) / name
        if not path.is_file():
            raise ConfigError(f"{path}: gazetteer file not found")
        names = {line.strip() for line in path.read_text(encoding="utf-8").splitlines()}
        out[label] = sorted(n for n in names if len(n) > 1 and not set(n) <= set("=-"))  # no stray letters
    return out


def replace_mentions(docs: list[Document], gazetteers: dict[str, list[str]], probability: float,
                     seed: int) -> list[Document]:
    """Each entity whose label has a gazetteer is replaced, with `probability`, by a random name of it;
    offsets are rebuilt so every span still indexes its document's text. Documents with statements are
    refused (their spans would need moving too; this is for entity-only corpora such as ANERcorp)."""
    rng = random.Random(seed)
    out = []
    for doc in docs:
        if doc.statements:
            raise ValueError(f"{doc.id}: replace_mentions is for entity-only documents; this one has statements")
        pieces, entities, at, shift = [], [], 0, 0
        for e in sorted(doc.entities, key=lambda e: e.start):
            if e.start < at:
                raise ValueError(f"{doc.id}: overlapping entities at {e.start}; BIO corpora have none")
            names = gazetteers.get(e.label)
            new = rng.choice(names) if names and rng.random() < probability else e.text
            pieces += [doc.text[at:e.start], new]
            start = e.start + shift
            entities.append(Entity(start, start + len(new), e.label, new, e.score))
            shift += len(new) - (e.end - e.start)
            at = e.end
        pieces.append(doc.text[at:])
        out.append(Document(doc.id, "".join(pieces), dict(doc.meta), entities))
    return out
