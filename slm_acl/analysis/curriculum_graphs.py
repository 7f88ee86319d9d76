"""Curriculum graphs of one body: the tasks its teacher chose over time, and the teacher's own view.

Reads three tables a session writes per body: `session_df` (every training episode with its task
columns and frame), `curriculum_df` (non-exploratory teacher samples at each evaluation) and
`teacher_df` (the teacher's `info()` at each evaluation, JSON). Writes

- a PNG: training tasks as a scatter coloured by frame, one panel per pair of task dims (a 1-D space
  gets task against frames), with the teacher's last view drawn over it;
- a GIF: one frame per evaluation, the tasks trained on since the previous one, the teacher's
  non-exploratory samples (crosses) and its view at that time.

Teacher views are drawn from the keys of `info()`, whichever teacher wrote them, by the first matching
entry of `VIEWS`: Gaussian mixtures (`means` + `covariances`: 2-sigma ellipses), one diagonal Gaussian
(`mean` + `std`: SPDL), a box (`low` + `high`: ADR) and regions (`regions`: RIAC, shaded by interest).
Teachers whose `info()` has none of these (Random, GoalGAN, Setter-Solver) are shown by their samples.
Everything in `info()` is in the unit cube; the graphs convert it to raw task units. With rugged
difficulty (shuffled dims) the teacher's cube is not the task space, so no view is drawn.
"""
from __future__ import annotations

import dataclasses
import json
import textwrap
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd

from slm_acl.analysis.graphs import pyplot, read_table, save_figure

MAX_PANELS = 3
MAX_GIF_FRAMES = 60
VIEW_Z = 1  # teacher views under the task scatter (zorder 2)


@dataclasses.dataclass(frozen=True)
class Axes2D:
    """Which two dims a panel shows and how unit-cube values map to their raw units."""

    i: int
    j: int
    low: np.ndarray
    high: np.ndarray

    def raw(self, unit: np.ndarray, k: int) -> np.ndarray:
        return self.low[k] + np.asarray(unit, float) * (self.high[k] - self.low[k])

    def scale(self, k: int) -> float:
        return float(self.high[k] - self.low[k])


def _draw_mixture(ax, info: dict, axes: Axes2D) -> None:
    from matplotlib.patches import Ellipse

    means, covs = np.asarray(info["means"], float), np.asarray(info["covariances"], float)
    interest = np.asarray(info.get("alp", info.get("interest", np.ones(len(means)))), float).reshape(-1)
    top = max(float(np.max(np.abs(interest))), 1e-12) if len(interest) else 1.0
    i, j = axes.i, axes.j
    for k in range(len(means)):
        cov = covs[k][np.ix_([i, j], [i, j])] * np.outer([axes.scale(i), axes.scale(j)], [axes.scale(i), axes.scale(j)])
        values, vectors = np.linalg.eigh(cov)
        values = np.clip(values, 0.0, None)
        angle = np.degrees(np.arctan2(vectors[1, 1], vectors[0, 1]))
        strength = abs(float(interest[k])) / top if k < len(interest) else 0.5
        ax.add_patch(Ellipse((axes.raw(means[k][i], i), axes.raw(means[k][j], j)), 4 * np.sqrt(values[1]),
                             4 * np.sqrt(values[0]), angle=angle, fill=True, alpha=0.1 + 0.3 * strength,
                             facecolor="tab:red", edgecolor="darkred", lw=1, zorder=VIEW_Z))


def _draw_gaussian(ax, info: dict, axes: Axes2D) -> None:
    from matplotlib.patches import Ellipse

    mean, std = np.asarray(info["mean"], float), np.asarray(info["std"], float)
    i, j = axes.i, axes.j
    ax.add_patch(Ellipse((axes.raw(mean[i], i), axes.raw(mean[j], j)), 4 * std[i] * axes.scale(i),
                         4 * std[j] * axes.scale(j), fill=True, alpha=0.3, facecolor="tab:red", edgecolor="darkred", zorder=VIEW_Z))


def _draw_box(ax, info: dict, axes: Axes2D) -> None:
    from matplotlib.patches import Rectangle

    low, high = np.asarray(info["low"], float), np.asarray(info["high"], float)
    i, j = axes.i, axes.j
    x0, y0 = axes.raw(low[i], i), axes.raw(low[j], j)
    ax.add_patch(Rectangle((x0, y0), axes.raw(high[i], i) - x0, axes.raw(high[j], j) - y0, fill=True,
                           facecolor="tab:red", alpha=0.15, edgecolor="darkred", lw=2, zorder=VIEW_Z))


def _draw_regions(ax, info: dict, axes: Axes2D) -> None:
    from matplotlib.patches import Rectangle

    regions = info["regions"]
    top = max([abs(float(r.get("interest", 0.0))) for r in regions] + [1e-12])
    i, j = axes.i, axes.j
    for r in regions:
        low, high = np.asarray(r["low"], float), np.asarray(r["high"], float)
        x0, y0 = axes.raw(low[i], i), axes.raw(low[j], j)
        ax.add_patch(Rectangle((x0, y0), axes.raw(high[i], i) - x0, axes.raw(high[j], j) - y0,
                               facecolor="tab:red", alpha=0.03 + 0.3 * abs(float(r.get("interest", 0.0))) / top,
                               edgecolor="darkred", lw=0.8, zorder=VIEW_Z))


# (info keys a view needs, how to draw it): the first entry whose keys are all in info() draws.
VIEWS: list[tuple[tuple[str, ...], Callable[[Any, dict, Axes2D], None]]] = [
    (("means", "covariances"), _draw_mixture),
    (("mean", "std"), _draw_gaussian),
    (("regions",), _draw_regions),
    (("low", "high"), _draw_box),
]


def draw_teacher_view(ax, info: dict | None, axes: Axes2D) -> bool:
    """Draw the teacher's view on a panel; returns whether one was drawn."""
    if not info:
        return False
    for keys, draw in VIEWS:
        if all(k in info for k in keys):
            draw(ax, info, axes)
            return True
    return False


def _panels(dim: int) -> list[tuple[int, int]]:
    if dim == 1:
        return [(0, -1)]
    pairs = [(k, k + 1) for k in range(0, dim - 1, 2)]
    if dim % 2 and dim > 2:
        pairs.append((dim - 2, dim - 1))
    return pairs[:MAX_PANELS]


def _panel(ax, episodes: pd.DataFrame, columns: list[str], pair: tuple[int, int], low, high,
           frame_range: tuple[float, float], samples: pd.DataFrame | None = None, info: dict | None = None,
           show_view: bool = True):
    i, j = pair
    if j < 0:  # one task dim: task against frames
        ax.scatter(episodes["frame"], episodes[columns[i]], c=episodes["frame"], cmap="viridis", s=6,
                   vmin=frame_range[0], vmax=frame_range[1])
        ax.set(xlabel="frames", ylabel=columns[i].removeprefix("task_"), ylim=(low[i], high[i]))
        return
    points = ax.scatter(episodes[columns[i]], episodes[columns[j]], c=episodes["frame"], cmap="viridis", s=6,
                        alpha=0.8, vmin=frame_range[0], vmax=frame_range[1], zorder=2)
    if samples is not None and len(samples):
        ax.scatter(samples[columns[i]], samples[columns[j]], marker="x", color="black", s=14, lw=0.8, zorder=3,
                   label="teacher samples (no exploration)")
    if show_view:
        draw_teacher_view(ax, info, Axes2D(i, j, low, high))
    ax.set(xlim=(low[i], high[i]), ylim=(low[j], high[j]), xlabel=columns[i].removeprefix("task_"),
           ylabel=columns[j].removeprefix("task_"))
    return points


def _teacher_infos(path: Path) -> pd.DataFrame | None:
    table = read_table(path)
    if table is None:
        return None
    table["info"] = [json.loads(s) if isinstance(s, str) else {} for s in table["info"]]
    return table


def curriculum_graphs(episodes_csv: Path, curriculum_csv: Path, teacher_csv: Path, low: Sequence[float],
                      high: Sequence[float], png: Path, gif: Path | None, title: str,
                      shuffled: bool = False) -> list[Path]:
    """Write the PNG (and the GIF) of one body's curriculum; returns the files written."""
    episodes = read_table(episodes_csv)
    if episodes is None:
        return []
    columns = [c for c in episodes.columns if c.startswith("task_")]
    if not columns:
        return []
    low, high = np.asarray(low, float), np.asarray(high, float)
    samples, infos = read_table(curriculum_csv), _teacher_infos(teacher_csv)
    frame_range = (float(episodes["frame"].min()), float(episodes["frame"].max()))
    pairs = _panels(len(columns))
    plt = pyplot()
    written = []

    fig, axes = plt.subplots(1, len(pairs), figsize=(5.2 * len(pairs) + 0.8, 4.6), squeeze=False)
    last_info = infos["info"].iloc[-1] if infos is not None else None
    points = None
    for ax, pair in zip(axes[0], pairs):
        points = _panel(ax, episodes, columns, pair, low, high, frame_range, info=last_info, show_view=not shuffled)
    if points is not None:
        fig.colorbar(points, ax=axes[0].tolist(), label="frame")
    note = " (dims shuffled: teacher view not drawn)" if shuffled else ""
    fig.suptitle(textwrap.fill(f"{title}: training tasks over time, teacher's last view{note}", 60 * len(pairs)),
                 fontsize=9)
    written.append(save_figure(fig, png, tight=False))

    if gif is not None and samples is not None and infos is not None:
        written.append(_gif(episodes, columns, samples, infos, low, high, frame_range, gif, title, shuffled))
    return written


def curriculum_frame(episodes: pd.DataFrame, columns: list[str], samples: pd.DataFrame | None, info: dict | None,
                     low: np.ndarray, high: np.ndarray, frame_range: tuple[float, float], title: str,
                     shuffled: bool = False) -> np.ndarray:
    """One picture of a body's curriculum at an evaluation, as an RGB array (height, width, 3): the training
    tasks of `episodes` coloured by frame, the teacher's non-exploratory `samples` and its view `info`.

    The GIF's frames, and the image TensorBoard gets at each evaluation while the session trains.
    """
    plt = pyplot()
    pairs = _panels(len(columns))
    fig, axes = plt.subplots(1, len(pairs), figsize=(5.0 * len(pairs), 4.4), squeeze=False)
    for ax, pair in zip(axes[0], pairs):
        _panel(ax, episodes, columns, pair, low, high, frame_range, samples, info, show_view=not shuffled)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.canvas.draw()
    image = np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()
    plt.close(fig)
    return image


def _gif(episodes, columns, samples, infos, low, high, frame_range, out: Path, title: str,
         shuffled: bool) -> Path:
    import imageio.v2 as imageio

    from slm_acl.lib.io import atomic_write

    eval_frames = sorted(samples["frame"].unique())
    if len(eval_frames) > MAX_GIF_FRAMES:
        eval_frames = [eval_frames[k] for k in np.linspace(0, len(eval_frames) - 1, MAX_GIF_FRAMES).astype(int)]
    images, previous = [], -np.inf
    for frame in eval_frames:
        recent = episodes[(episodes["frame"] > previous) & (episodes["frame"] <= frame)]
        at = infos[infos["frame"] == frame]
        info = at["info"].iloc[-1] if len(at) else None
        images.append(curriculum_frame(recent, columns, samples[samples["frame"] == frame], info, low, high,
                                       frame_range, f"{title}: frames {max(previous, 0):.0f}-{frame:.0f}", shuffled))
        previous = frame
    atomic_write(out, lambda f: imageio.mimwrite(f, images, format="GIF", duration=500, loop=0),  # ms per frame
                 binary=True)
    return out
