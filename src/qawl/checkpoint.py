"""Crash-safe training checkpoints: `accelerator.save_state` plus a `state.json` with the step."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path


def find_checkpoint(ckpt: Path) -> Path | None:
    """The latest complete checkpoint; `.old` covers a kill between the two renames of a save."""
    for candidate in (ckpt, ckpt.with_name(ckpt.name + ".old")):
        if (candidate / "state.json").exists():
            return candidate
    return None


def save_checkpoint(accelerator, ckpt: Path, state: dict) -> None:
    """Write to a temporary folder, then swap, so a kill mid-save never leaves a broken checkpoint."""
    accelerator.wait_for_everyone()
    if not accelerator.is_main_process:
        return
    tmp = ckpt.with_name(ckpt.name + ".tmp")
    old = ckpt.with_name(ckpt.name + ".old")
    if tmp.exists():
        shutil.rmtree(tmp)
    accelerator.save_state(str(tmp))
    (tmp / "state.json").write_text(json.dumps(state, indent=2))  # written last: marks the save complete
    if ckpt.exists():
        if old.exists():
            shutil.rmtree(old)
        os.replace(ckpt, old)
    os.replace(tmp, ckpt)
    if old.exists():
        shutil.rmtree(old)


def load_checkpoint(accelerator, ckpt: Path) -> dict | None:
    found = find_checkpoint(ckpt)
    if found is None:
        return None
    accelerator.load_state(str(found))
    return json.loads((found / "state.json").read_text())
