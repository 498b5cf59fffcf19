"""Streaming reader for raw pretraining text: one paragraph a line, blank line between documents."""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterator
from pathlib import Path


def iter_documents(path: str | Path) -> Iterator[list[str]]:
    """Each document as its list of paragraphs, read lazily (constant memory)."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8", errors="replace") as f:
        paragraphs: list[str] = []
        for line in f:
            line = line.strip()
            if line:
                paragraphs.append(line)
            elif paragraphs:
                yield paragraphs
                paragraphs = []
        if paragraphs:
            yield paragraphs


def is_heldout(paragraphs: list[str], heldout_percent: float) -> bool:
    """A stable, content-based split: the same document is held out in every script and run."""
    key = zlib.crc32(paragraphs[0].encode("utf-8")) % 10_000
    return key < heldout_percent * 100


def iter_split(path: str | Path, split: str, heldout_percent: float = 1.0) -> Iterator[list[str]]:
    want_heldout = split == "heldout"
    for paragraphs in iter_documents(path):
        if is_heldout(paragraphs, heldout_percent) == want_heldout:
            yield paragraphs
