"""Several processes on one input (torchrun): shard by record index, one shard file per rank, rank 0 merges.

    torchrun --nproc_per_node 2 -m qawl.cli.main extract --model DIR -o out.jsonl in.jsonl.gz

Rank r takes the records whose input index i has i % world_size == r (round robin: no need to count the
input first, and long and short articles spread evenly). It writes `{"i": index, "r": record}` lines to
its shard, in index order, and renames the shard into place when done (or writes a `.failed` note). Rank 0
waits for every shard with a timeout and merges them by index (a k-way merge: constant memory), so the
output is in input order. The only collective is one broadcast at the start, over gloo, that gives the run
a token: shard files of an earlier run are never mistaken for this one's.
"""

from __future__ import annotations

import heapq
import json
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qawl.errors import QawlError
from qawl.writers import AtomicFile, dumps

__all__ = ["DistInfo", "ShardError", "ShardFiles", "run_token"]


class ShardError(QawlError):
    """Another process's shard is missing, failed or unreadable."""


@dataclass(frozen=True)
class DistInfo:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @classmethod
    def from_env(cls) -> "DistInfo":
        """RANK / WORLD_SIZE / LOCAL_RANK as torchrun sets them (one process when absent)."""
        try:
            world = int(os.environ.get("WORLD_SIZE", "1"))
            rank = int(os.environ.get("RANK", "0"))
            local = int(os.environ.get("LOCAL_RANK", str(rank)))
        except ValueError as exc:
            raise QawlError(f"RANK/WORLD_SIZE/LOCAL_RANK must be integers ({exc})") from None
        if world < 1 or not 0 <= rank < world:
            raise QawlError(f"RANK={rank} is not in 0..WORLD_SIZE-1 (WORLD_SIZE={world})")
        return cls(rank, world, local)

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    def mine(self, index: int) -> bool:
        return index % self.world_size == self.rank


def run_token(info: DistInfo) -> str:
    """A token shared by all ranks of this run: rank 0's random one, broadcast over gloo.

    Without a rendezvous (RANK/WORLD_SIZE set by hand, no MASTER_ADDR) it falls back to
    TORCHELASTIC_RUN_ID, and then the caller must make sure no stale shard files are left.
    """
    if not info.distributed:
        return "single"
    if not (os.environ.get("MASTER_ADDR") and os.environ.get("MASTER_PORT")):
        return os.environ.get("TORCHELASTIC_RUN_ID", "run")
    import torch.distributed as dist

    own_group = not dist.is_initialized()
    if own_group:
        dist.init_process_group("gloo", rank=info.rank, world_size=info.world_size)
    try:
        box = [uuid.uuid4().hex[:12] if info.rank == 0 else None]
        dist.broadcast_object_list(box, src=0)
        return str(box[0])
    finally:
        if own_group:
            dist.destroy_process_group()  # nothing else is collective: a stuck rank shows as a timeout


class ShardFiles:
    """The shard files of one run, next to the output (or in the current directory for stdout)."""

    def __init__(self, directory: str | Path, name: str, token: str, world_size: int):
        self.dir = Path(directory)
        self.world_size = world_size
        self.paths = [self.dir / f".{name}.{token}.shard-{r}-of-{world_size}.jsonl" for r in range(world_size)]

    def failed_note(self, rank: int) -> Path:
        return self.paths[rank].with_suffix(".failed")

    def writer(self, rank: int) -> "ShardWriter":
        self.failed_note(rank).unlink(missing_ok=True)
        return ShardWriter(self.paths[rank], self.failed_note(rank))

    def wait(self, timeout: float, strict: bool = True, poll: float = 0.2) -> list[int]:
        """The ranks whose shard is in place, once all are (or after `timeout` s when not `strict`).

        Strict: raise ShardError on a rank's failure note, or when shards are still missing at the timeout."""
        deadline = time.monotonic() + timeout
        while True:
            for r in range(self.world_size):
                note = self.failed_note(r)
                if strict and note.exists():
                    raise ShardError(f"rank {r} failed: {note.read_text(encoding='utf-8', errors='replace')}")
            missing = [r for r in range(self.world_size) if not self.paths[r].exists()]
            if not missing:
                return list(range(self.world_size))
            if time.monotonic() >= deadline:
                if not strict:
                    return [r for r in range(self.world_size) if r not in missing]
                files = ", ".join(str(self.paths[r]) for r in missing)
                raise ShardError(f"timed out after {timeout:g}s waiting for the shards of rank(s) {missing} "
                                 f"({files}); did those processes crash? (raise --shard-timeout if they are "
                                 f"only slow)")
            time.sleep(poll)

    def merged(self, ranks: list[int] | None = None) -> Iterator[dict[str, Any]]:
        """The records of the shards in input order (each shard is already in index order)."""
        ranks = list(range(self.world_size)) if ranks is None else ranks
        streams = [_read_shard(self.paths[r]) for r in ranks if self.paths[r].exists()]
        for _, record in heapq.merge(*streams, key=lambda pair: pair[0]):
            yield record

    def remove(self) -> None:
        for r, path in enumerate(self.paths):
            path.unlink(missing_ok=True)
            self.failed_note(r).unlink(missing_ok=True)


def _read_shard(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    with open(path, "rb") as f:
        for lineno, raw in enumerate(f, 1):
            try:
                item = json.loads(raw)
                yield int(item["i"]), item["r"]
            except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
                raise ShardError(f"{path}:{lineno}: unreadable shard line ({exc})") from None


class ShardWriter:
    """One rank's shard: written to a temp file, renamed into place by commit()."""

    def __init__(self, path: Path, failed_note: Path):
        self.file = AtomicFile(path)
        self.failed_note = failed_note
        self.count = 0

    def write(self, index: int, record: dict[str, Any]) -> None:
        self.file.stream.write(b'{"i": %d, "r": ' % index + dumps(record) + b"}\n")
        self.count += 1

    def commit(self) -> None:
        self.file.commit()

    def fail(self, reason: str) -> None:
        self.file.abort()
        note = AtomicFile(self.failed_note)
        note.stream.write(reason.encode("utf-8"))
        note.commit()
