"""Arabic normalization for model input, after AraBERT v0.2's pre-processing.

`normalize(text)` returns the normalized string and an OffsetMap back to `text`; `normalize_fast(text)`
returns only the string for tokenizer training and pretraining.
The settings are a small dataclass saved as `normalizer.json` beside every model.
"""

from __future__ import annotations

import json
import re
import sys
import unicodedata
from dataclasses import asdict, dataclass, fields
from functools import lru_cache
from importlib import resources
from pathlib import Path

from qawl.errors import ConfigError
from qawl.offsets import OffsetMap, OffsetMapBuilder

NORMALIZER_FILE = "normalizer.json"


@dataclass(frozen=True)
class NormalizerConfig:
    remove_diacritics: bool = True
    remove_tatweel: bool = True
    remove_invisible: bool = True  # zero-width and bidi control marks from scraped text
    space_punctuation: bool = True
    space_digits: bool = True
    unify_alef: bool = False
    unify_yaa: bool = False
    unify_taa_marbuta: bool = False

    def save(self, directory: str | Path) -> None:
        Path(directory, NORMALIZER_FILE).write_text(json.dumps(asdict(self), indent=2) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, directory: str | Path) -> "NormalizerConfig":
        path = Path(directory, NORMALIZER_FILE)
        if not path.exists():
            return cls()
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: unreadable normalizer settings ({exc})") from None
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: expected a JSON object of normalizer settings, got {type(data).__name__}")
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ConfigError(f"{path}: unknown normalizer settings {sorted(unknown)}; valid: {sorted(known)}")
        return cls(**data)


@lru_cache(maxsize=None)
def _charmap() -> dict:
    return json.loads(resources.files("qawl").joinpath("charmaps/arabic.json").read_text(encoding="utf-8"))


def _ranges(name: str) -> list[tuple[int, int]]:
    return [(int(a, 16), int(b, 16)) for a, b in _charmap()[name]]


@lru_cache(maxsize=None)
def _tables(config: NormalizerConfig) -> tuple[frozenset[str], dict[int, str]]:
    removed: set[str] = set()
    for name, on in (("diacritics", config.remove_diacritics), ("tatweel", config.remove_tatweel),
                     ("invisible", config.remove_invisible)):
        if on:
            for a, b in _ranges(name):
                removed.update(chr(c) for c in range(a, b + 1))
    mapping: dict[int, str] = {}
    for name, on in (("unify_alef", config.unify_alef), ("unify_yaa", config.unify_yaa),
                     ("unify_taa_marbuta", config.unify_taa_marbuta)):
        if on:
            mapping.update({ord(k): v for k, v in _charmap()[name].items()})
    return frozenset(removed), mapping


@lru_cache(maxsize=None)
def _invisible() -> frozenset[str]:
    return frozenset(chr(c) for a, b in _ranges("invisible") for c in range(a, b + 1))


@lru_cache(maxsize=65536)
def is_punct(char: str) -> bool:
    return unicodedata.category(char)[0] in "PS"


def _needs_space(prev: str, char: str, config: NormalizerConfig) -> bool:
    if prev.isspace() or char.isspace():
        return False
    if config.space_punctuation and (is_punct(prev) or is_punct(char)):
        return True
    return config.space_digits and prev.isdecimal() != char.isdecimal()


def normalize(text: str, config: NormalizerConfig = NormalizerConfig()) -> tuple[str, OffsetMap]:
    """Normalized text and the map from its positions back to `text`."""
    removed, mapping = _tables(config)
    invisible = _invisible() if config.remove_invisible else frozenset()
    builder = OffsetMapBuilder(len(text))
    prev = ""
    for i, char in enumerate(text):
        if char in removed:
            # a diacritic belongs to the letter before it; a bidi or zero-width mark belongs to nothing,
            # so no span starts or ends on one ("الحداد\u200e" -> "الحداد")
            if char not in invisible:
                builder.delete(i)
            continue
        char = mapping.get(ord(char), char)
        if prev and _needs_space(prev, char, config):
            builder.insert(" ", i)
        builder.keep(char, i)
        prev = char
    return builder.build()


def normalize_fast(text: str, config: NormalizerConfig = NormalizerConfig()) -> str:
    """The normalized string alone (tokenizer training, pretraining, the rules' lookup forms). A plain
    character loop measured about 10x faster than a regex with lookarounds over the Unicode punctuation
    class; without spacing nothing is inserted, and one `str.translate` does the same character by character."""
    if not config.space_punctuation and not config.space_digits:
        return text.translate(_translation(config))
    return normalize(text, config)[0]


@lru_cache(maxsize=None)
def _translation(config: NormalizerConfig) -> dict[int, str | None]:
    removed, mapping = _tables(config)
    return {**mapping, **{ord(c): None for c in removed}}


@lru_cache(maxsize=None)
def word_pattern() -> re.Pattern:
    """A word: no whitespace and no character that `is_punct` calls punctuation or symbol (Unicode P*, S*).
    One regex over the text instead of a Python test per character (built once, from the Unicode tables)."""
    category = unicodedata.category  # is_punct's test, inlined: this scans every code point (~0.2 s)
    ranges: list[list[int]] = []
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        if char.isspace() or category(char)[0] in "PS":
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1][1] = code
            else:
                ranges.append([code, code])
    cls = "".join(re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}" for a, b in ranges)
    return re.compile(f"[^{cls}]+")

__all__ = ["NormalizerConfig", "normalize", "normalize_fast", "OffsetMap", "is_punct", "word_pattern"]
