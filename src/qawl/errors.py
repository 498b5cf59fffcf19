"""Typed errors. Each message says where the problem is and what to do about it."""

from __future__ import annotations


class QawlError(Exception):
    """Base class of every error qawl raises on purpose."""


class CorpusError(QawlError):
    """A problem in an input file, located by path, line and (when known) document id."""

    def __init__(self, path: str, line: int | None, reason: str, doc_id: str | None = None):
        self.path, self.line, self.reason, self.doc_id = str(path), line, reason, doc_id
        where = self.path if line is None else f"{self.path}:{line}"
        if doc_id is not None:
            where += f" [{doc_id}]"
        super().__init__(f"{where}: {reason}")


class SpanError(QawlError):
    """A span whose offsets or text do not agree with its document."""


class ConfigError(QawlError):
    """A config file with an unknown key, a wrong type or a missing value."""


class ModelError(QawlError):
    """A model directory that is missing files, mismatched or unsafe to load."""


class DocumentTooLarge(QawlError):
    """A document above the extractor's `max_chars`: refused before any work, so it cannot exhaust memory."""

    def __init__(self, doc_id: str, size: int, limit: int):
        self.doc_id, self.size, self.limit = doc_id, size, limit
        super().__init__(f"document {doc_id!r} has {size:,} characters, above the limit of {limit:,} "
                         f"(max_chars); split it, or raise the limit (--max-chars) if memory allows")
