"""A campaign at a glance: % mastered against frames, mean +- standard error over seeds, one line per teacher.

One panel per (criterion, expert knowledge, student) and body; TeachMyAgent draws its curves the same way
(mean +- SE). The statistics that say which teacher is better, with what confidence, are the report's.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from slm_acl.analysis.graphs import pyplot, save_figure

PANEL_KEYS = ["criterion", "expert_knowledge", "student", "body"]


def benchmark_graph(curves: pd.DataFrame, out: Path, title: str) -> Path | None:
    """Draw `curves` (benchmark_curves_df) to `out`; None when there is nothing to draw yet."""
    curves = curves[curves["mastered"].notna()] if len(curves) else curves
    if not len(curves):
        return None
    panels = list(curves.groupby(PANEL_KEYS, sort=False))
    cols = min(3, len(panels))
    rows = int(np.ceil(len(panels) / cols))
    plt = pyplot()
    fig, axes = plt.subplots(rows, cols, figsize=(5.5 * cols, 3.8 * rows), squeeze=False)
    for ax, (keys, panel) in zip(axes.flat, panels):
        for teacher, runs in panel.groupby("teacher", sort=False):
            by_frame = runs.groupby("frame")["mastered"]
            mean, n = by_frame.mean(), by_frame.count()
            se = (by_frame.std(ddof=1) / np.sqrt(n)).fillna(0.0)
            line, = ax.plot(mean.index, mean.values, label=f"{teacher} (n={int(n.max())})")
            ax.fill_between(mean.index, (mean - se).values, (mean + se).values, alpha=0.2, color=line.get_color())
        ax.set_title(" | ".join(str(k) for k in keys), fontsize=9)
        ax.set_xlabel("frames")
        ax.set_ylabel("% mastered")
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(panels):]:
        ax.axis("off")
    fig.suptitle(f"{title}: % of the test set mastered, mean +- SE over seeds")
    return save_figure(fig, out)
