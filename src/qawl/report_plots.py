"""PNG plots for evaluation reports (matplotlib, Agg backend: no display needed, same bytes every run)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # before pyplot: reports are written on headless machines
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

# Labels are drawn in Latin script: matplotlib does not shape Arabic, so Arabic text in a PNG would come out
# as disconnected, left-to-right letters. Arabic belongs in the HTML, where the browser shapes it.
plt.rcParams.update({"font.size": 9, "figure.dpi": 110, "svg.hashsalt": "qawl"})


def _bars(ax: Any, names: list[str], series: dict[str, list[tuple[float, list[float] | None]]]) -> None:
    width = 0.8 / max(1, len(series))
    x = np.arange(len(names))
    for n, (label, points) in enumerate(series.items()):
        values = [100 * v for v, _ in points]
        lo = [100 * (v - ci[0]) if ci else 0 for v, ci in points]
        hi = [100 * (ci[1] - v) if ci else 0 for v, ci in points]
        pos = x + (n - (len(series) - 1) / 2) * width
        ax.bar(pos, values, width, label=label, yerr=[lo, hi], capsize=3)
        for p, v, h in zip(pos, values, hi):
            ax.text(p, v + h + 1, f"{v:.1f}", ha="center", va="bottom", fontsize=7)  # above the error bar
    ax.set_xticks(x, names)
    ax.set_ylim(0, 110)
    ax.set_ylabel("F1 (%) with 95% CI")
    ax.grid(axis="y", alpha=0.3)


def _type_points(results: dict[str, Any]) -> tuple[list[str], list[tuple[float, list[float] | None]]]:
    seq = results.get("entities", {}).get("seqeval", {})
    names, points = [], []
    for label, m in seq.get("per_type", {}).items():
        names.append(label)
        points.append((m["f1"], m.get("f1_ci")))
    if "micro" in seq:
        names.append("micro")
        points.append((seq["micro"]["f1"], seq["micro"].get("f1_ci")))
    return names, points


def _kinds(results_by_name: dict[str, dict[str, Any]]) -> list[str]:
    """Statement kinds that any system predicted or the gold holds (the same bars for every system)."""
    kinds: dict[str, None] = {}
    for r in results_by_name.values():
        for kind, m in r.get("statements", {}).get("by_kind", {}).items():
            if m["content_overlap"]["n_gold"] or m["content_overlap"]["n_pred"]:
                kinds[kind] = None
    return list(kinds)


def _kind_points(results: dict[str, Any], kinds: list[str]) -> list[tuple[float, list[float] | None]]:
    st = results.get("statements", {})
    metrics = [st["by_kind"][k]["content_overlap"] for k in kinds] + [st["content_overlap"]]
    return [(m["f1"], m.get("f1_ci")) for m in metrics]


def plot_per_type(results_by_name: dict[str, dict[str, Any]], path: str | Path) -> Path:
    """Entity F1 per type and statement content F1 per kind, one bar series per system."""
    has_statements = any("statements" in r for r in results_by_name.values())
    fig, axes = plt.subplots(1, 2 if has_statements else 1, figsize=(10 if has_statements else 5.5, 3.6),
                             squeeze=False)
    first = next(iter(results_by_name.values()))
    _bars(axes[0][0], _type_points(first)[0], {n: _type_points(r)[1] for n, r in results_by_name.items()})
    axes[0][0].set_title("Entities: seqeval strict F1 per type")
    if has_statements:
        kinds = _kinds(results_by_name)
        _bars(axes[0][1], kinds + ["all"], {n: _kind_points(r, kinds) for n, r in results_by_name.items()})
        axes[0][1].set_title("Statements: content overlap F1 per kind")
    if len(results_by_name) > 1:
        axes[0][0].legend(loc="upper right", fontsize=7)
    fig.tight_layout()
    fig.savefig(path, metadata={"Software": None})
    plt.close(fig)
    return Path(path)


def plot_confusion(results: dict[str, Any], path: str | Path, title: str = "") -> Path:
    """Gold (rows) x predicted (columns) over PERS/ORG/LOC/MISC/O on overlapping spans, row-normalized
    colours with raw counts written in each cell."""
    conf = results["entities"]["confusion"]
    labels, matrix = conf["labels"], np.array(conf["matrix"], dtype=float)
    rows = matrix.sum(axis=1, keepdims=True)
    share = np.divide(matrix, rows, out=np.zeros_like(matrix), where=rows > 0)
    fig, ax = plt.subplots(figsize=(4.6, 4.0))
    ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    for i in range(len(labels)):
        for j in range(len(labels)):
            ax.text(j, i, f"{int(matrix[i, j])}", ha="center", va="center",
                    color="white" if share[i, j] > 0.6 else "black", fontsize=8)
    ax.set_xticks(range(len(labels)), labels)
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    ax.set_title(title or "Entity confusion (overlapping spans)")
    fig.tight_layout()
    fig.savefig(path, metadata={"Software": None})
    plt.close(fig)
    return Path(path)
