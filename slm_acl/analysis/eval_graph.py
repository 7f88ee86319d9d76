"""The picture of one evaluation of a saved policy: every test task, its return, and whether it was mastered.

The report's `task_heatmaps` colours tasks by the fraction of seeds mastering them; one policy's
evaluation has more to show, its return on every task, so each task here is a point on the first two
task-space axes coloured by its return, with the mastered ones (return above `success_return`)
outlined. One panel per body, each with its own colour scale (bodies' returns differ in scale).
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Sequence

import numpy as np

from slm_acl.analysis.graphs import pyplot, save_figure

COLS = 3


@dataclasses.dataclass(frozen=True)
class TaskReturns:
    """One body's evaluation on its test set."""

    title: str
    columns: list[str]  # the test set's columns: the task-space axes first
    tasks: np.ndarray  # (n_tasks, len(columns)) raw task parameters
    returns: np.ndarray  # (n_tasks,)
    mastered: np.ndarray | None  # (n_tasks,) bool; None without a success_return


def task_returns_graph(panels: Sequence[TaskReturns], out: Path, title: str) -> Path | None:
    """One panel per body (a body without a test set has none); None when no panel is left."""
    panels = [p for p in panels if len(p.returns)]
    if not panels:
        return None
    plt = pyplot()
    cols = min(COLS, len(panels))
    rows = -(-len(panels) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5.2 * cols, 4.2 * rows), squeeze=False)
    for ax, panel in zip(axes.flat, panels):
        _draw(fig, ax, panel)
    for ax in axes.flat[len(panels):]:
        ax.set_visible(False)
    fig.suptitle(f"{title}\nreturn on each test task (outlined: mastered)", fontsize=10)
    return save_figure(fig, out)


def _draw(fig, ax, panel: TaskReturns) -> None:
    tasks = np.asarray(panel.tasks, dtype=float).reshape(len(panel.returns), -1)
    x = tasks[:, 0]
    y = tasks[:, 1] if tasks.shape[1] > 1 else np.zeros(len(x))
    mastered = np.zeros(len(x), bool) if panel.mastered is None else np.asarray(panel.mastered, bool)
    size = float(np.clip(6000 / len(x), 15, 300))
    art = ax.scatter(x, y, c=panel.returns, cmap="viridis", s=size, marker="s",
                     edgecolors=np.where(mastered, "black", "none").tolist(), linewidths=1.6)
    fig.colorbar(art, ax=ax, label="return")
    ax.set_xlabel(panel.columns[0])
    if tasks.shape[1] > 1:
        ax.set_ylabel(panel.columns[1])
    else:
        ax.set_yticks([])
    dims = f" (first two of {tasks.shape[1]} dims)" if tasks.shape[1] > 2 else ""
    share = "" if panel.mastered is None else f", {100 * mastered.mean():.0f}% mastered"
    ax.set_title(f"{panel.title}{dims}\n{len(x)} tasks{share}", fontsize=9)
