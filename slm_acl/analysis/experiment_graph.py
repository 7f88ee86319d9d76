"""The experiment graph of a search: each trial's score against each searched variable (PNG)."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from slm_acl.analysis.graphs import pyplot, save_figure

LOG_SCALE_KINDS = {"loguniform"}


def _numeric(values: pd.Series) -> bool:
    return all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) for v in values)


def experiment_graph(table: pd.DataFrame, keys: Sequence[Any], out: Path, title: str) -> Path | None:
    """One panel per searched key: score of each trial (dots coloured by score); failed trials as red x.

    Numeric values sit on a numeric axis (log for __loguniform); lists, strings and booleans are
    categories. `keys` are the search block's SearchedKey entries (name and kind).
    """
    if table.empty:
        return None
    plt = pyplot()
    n = len(keys)
    cols = min(n, 3)
    rows = (n + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(4.6 * cols + 1, 3.8 * rows), squeeze=False,
                             layout="constrained")
    scores = table["score"].astype(float)
    finite = scores[np.isfinite(scores)]
    low = float(finite.min()) if len(finite) else 0.0
    high = float(finite.max()) if len(finite) else 1.0
    failed = table["status"] == "ERROR"
    for ax, key in zip(axes.flat, keys):
        values = table[key.name]
        if _numeric(values):
            x = values.astype(float).to_numpy()
            if key.kind in LOG_SCALE_KINDS:
                ax.set_xscale("log")
        else:
            labels = sorted({str(v) for v in values})
            x = np.array([labels.index(str(v)) for v in values], dtype=float)
            ax.set_xticks(range(len(labels)), labels, rotation=20, fontsize=8)
        ok = ~failed & np.isfinite(scores)
        points = ax.scatter(x[ok], scores[ok], c=scores[ok], cmap="viridis", vmin=low, vmax=high,
                            edgecolors="black", linewidths=0.4, s=46, zorder=3)
        if failed.any():
            ax.scatter(x[failed], np.full(int(failed.sum()), low), marker="x", color="red", s=50,
                       label="failed", zorder=4)
            ax.legend(fontsize=8, loc="best")
        ax.set_xlabel(key.name, fontsize=9)
        ax.set_ylabel("score")
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    if len(finite):
        fig.colorbar(points, ax=axes.ravel().tolist(), shrink=0.8, label="score")
    measure = "% mastered (test set) or return_ma"
    fig.suptitle(f"{title}: {len(table)} trials, {int(failed.sum())} failed; score = {measure}", fontsize=10)
    return save_figure(fig, out, tight=False)
