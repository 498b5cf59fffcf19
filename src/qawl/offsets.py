"""OffsetMap: the only code that translates positions between a normalized string and its original.

Each normalized character records the original range it stands for. A kept character owns itself plus
any deleted characters that follow it (diacritics, tatweel), so a span that ends on a letter also covers
its trailing diacritics; an inserted character (a space added around punctuation) owns an empty range.
"""

from __future__ import annotations

from dataclasses import dataclass

from qawl.errors import SpanError


@dataclass(frozen=True)
class OffsetMap:
    """`orig_starts[i]:orig_ends[i]` is the original range of normalized character i."""

    orig_starts: tuple[int, ...]
    orig_ends: tuple[int, ...]
    original_length: int

    @classmethod
    def identity(cls, length: int) -> "OffsetMap":
        return cls(tuple(range(length)), tuple(range(1, length + 1)), length)

    def __len__(self) -> int:
        return len(self.orig_starts)

    def to_original(self, norm_start: int, norm_end: int) -> tuple[int, int]:
        """Original (start, end) of the normalized range [norm_start, norm_end).

        Inserted characters at either edge are skipped; an empty or all-inserted range maps to an
        empty range at the nearest original position.
        """
        n = len(self.orig_starts)
        if not 0 <= norm_start <= norm_end <= n:
            raise SpanError(f"normalized offsets {norm_start}:{norm_end} outside a string of length {n}")
        lo, hi = norm_start, norm_end
        while lo < hi and self.orig_starts[lo] == self.orig_ends[lo]:
            lo += 1
        while hi > lo and self.orig_starts[hi - 1] == self.orig_ends[hi - 1]:
            hi -= 1
        if lo == hi:
            pos = self.orig_starts[norm_start] if norm_start < n else self.original_length
            return pos, pos
        return self.orig_starts[lo], self.orig_ends[hi - 1]

    def to_normalized(self, start: int, end: int) -> tuple[int, int]:
        """Smallest normalized range whose original range covers [start, end) (expand policy)."""
        if not 0 <= start <= end <= self.original_length:
            raise SpanError(f"offsets {start}:{end} outside a text of length {self.original_length}")
        import bisect

        # orig_ends is non-decreasing, so the first char ending after `start` is the first one touched.
        lo = bisect.bisect_right(self.orig_ends, start)
        hi = bisect.bisect_left(self.orig_starts, end)
        return lo, max(lo, hi)


class OffsetMapBuilder:
    """Accumulates an OffsetMap while a normalizer walks the original text left to right."""

    def __init__(self, original_length: int):
        self.chars: list[str] = []
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.original_length = original_length

    def keep(self, char: str, orig_index: int) -> None:
        self.chars.append(char)
        self.starts.append(orig_index)
        self.ends.append(orig_index + 1)

    def insert(self, char: str, orig_index: int) -> None:
        self.chars.append(char)
        self.starts.append(orig_index)
        self.ends.append(orig_index)

    def delete(self, orig_index: int) -> None:
        # A deleted character belongs to the kept character before it, if that one is adjacent.
        if self.ends and self.ends[-1] == orig_index and self.starts[-1] != self.ends[-1]:
            self.ends[-1] = orig_index + 1

    def build(self) -> tuple[str, OffsetMap]:
        return "".join(self.chars), OffsetMap(tuple(self.starts), tuple(self.ends), self.original_length)
