"""The figures of a comparison report: which teacher beats which, by how much, how surely, and on which tasks.

Each figure answers one question:

- radar charts (`radar_charts`): how does each teacher compare with Random, criterion by criterion? Drawn as
  TeachMyAgent (Romac et al. 2021) draws them: one polygon per teacher whose vertex on a criterion's axis is the
  teacher's mean % mastered divided by Random's, Random being the dashed circle at 1; a star marks a vertex
  where Welch's t-test against Random gives p < 0.05.
- bar plots (`bar_plots`): which differences are significant? Mean +- SE per teacher with every seed's final
  score over its bar, and a bracket over each pair of teachers that Welch's t-test separates
  (* p < 0.05, ** p < 0.01, *** p < 0.001).
- interval estimates and performance profiles (`interval_plot`, `performance_profiles`): aggregate performance
  with its uncertainty, as Agarwal et al. 2021 ("Deep RL at the edge of the statistical precipice", rliable)
  advise for a handful of seeds: median, IQM and mean with their 95 % bootstrap intervals, and the fraction of
  runs that score above each threshold.
- task heatmaps (`task_heatmaps`): which test tasks does each teacher's student master? Every test task at its
  place in the task space, coloured by the fraction of seeds that master it at the final evaluation.

The numbers (means, intervals, p-values) come from the report's tables; this module only draws them. Every
function returns what it wrote, or None / [] when there is nothing to draw, and does not raise on empty tables,
NaNs, single seeds or a campaign without Random.
"""
from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from slm_acl.analysis.graphs import pyplot, save_figure
from slm_acl.analysis.report.stats import AGGREGATES
from slm_acl.analysis.report.summary import BASELINE
from slm_acl.analysis.report.summary import PANEL as PANEL_KEYS
BAR_KEYS = PANEL_KEYS + ["body"]  # ratios and p-values are per body; bodies sharing an embodiment get own panels
RADAR_KEYS = ["expert_knowledge", "student", "embodiment"]
METRICS = list(AGGREGATES)  # median, IQM, mean
ALPHA = 0.05
STARS = [(0.001, "***"), (0.01, "**"), (ALPHA, "*")]
BASELINE_COLOR = "tab:gray"
PALETTE = ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown", "tab:pink", "tab:olive",
           "tab:cyan"]  # tab10 without its grey, which is Random's
CMAP = "viridis"
BAR_COLS = 3
MAP_COLS = 4


@dataclasses.dataclass(frozen=True, eq=False)  # eq=False: numpy arrays have no truth value to compare by
class TaskMap:
    """The final evaluation of one teacher (or cell) on its test set, for `task_heatmaps`."""

    title: str
    columns: list[str]  # task-space dimension names, in the order of `tasks`' columns
    tasks: np.ndarray  # (n_tasks, d) raw task parameters
    mastered: np.ndarray  # (n_tasks,) fraction of seeds, 0..1, that master each task


# ---------------------------------------------------------------------------------------------- shared helpers

def _frame(df: pd.DataFrame | None, keys: Sequence[str]) -> pd.DataFrame:
    """A copy of `df` (empty when None) whose key columns are strings: "" where the column or the value is missing."""
    df = pd.DataFrame() if df is None else df.copy()
    for key in keys:
        df[key] = df[key].fillna("").astype(str) if key in df else ""
    return df


def _num(df: pd.DataFrame, column: str) -> pd.Series:
    """A column as floats (NaN where missing or not a number)."""
    if column not in df:
        return pd.Series(np.nan, index=df.index, dtype=float)
    return pd.to_numeric(df[column], errors="coerce").astype(float)


def _label(parts: Iterable[str]) -> str:
    return " | ".join(str(p) for p in parts if str(p))


def teacher_colors(teachers: Iterable[str]) -> dict[str, str]:
    """One colour per teacher, the same in every figure of a report: grey for Random, the others by name."""
    others = sorted({str(t) for t in teachers} - {BASELINE})
    return {**{t: PALETTE[i % len(PALETTE)] for i, t in enumerate(others)}, BASELINE: BASELINE_COLOR}


def _grid(n_panels: int, cols: int, panel_size: tuple[float, float], **kwargs):
    """A figure with `n_panels` panels, `cols` to a row at most; the panels left over are switched off."""
    cols = min(cols, n_panels)
    rows = int(np.ceil(n_panels / cols))
    fig, axes = pyplot().subplots(rows, cols, figsize=(panel_size[0] * cols, panel_size[1] * rows), squeeze=False,
                                  **kwargs)
    for ax in axes.flat[n_panels:]:
        ax.axis("off")
    return fig, list(axes.flat[:n_panels])


# ------------------------------------------------------------------------------------------------- radar charts

def _file_part(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", str(text))


def radar_name(stem: str, keys: Sequence[str]) -> str:
    """`{stem}_radar_{ek}_{student}_{embodiment}.png`, each part sanitised and empty parts dropped."""
    parts = [_file_part(p) for p in (stem, "radar", *keys) if str(p)]
    return "_".join(parts) + ".png"


def radar_charts(summary: pd.DataFrame, out_dir: Path, stem: str) -> list[Path]:
    """One radar chart per (expert knowledge, student, embodiment): the criteria as axes, one polygon per
    non-Random teacher at `ratio_to_random`, Random as the dashed circle at 1, a star where Welch's p vs Random
    is below 0.05. Combinations without any finite ratio (no Random, say) are skipped."""
    summary = _frame(summary, RADAR_KEYS + ["criterion", "teacher", "body"])
    summary["ratio"] = _num(summary, "ratio_to_random")
    summary["p"] = _num(summary, "p_welch_vs_random")
    colors = teacher_colors(summary["teacher"])
    others = summary[summary["teacher"] != BASELINE]
    written: list[Path] = []
    for keys, chart in others.groupby(RADAR_KEYS, sort=False):
        if np.isfinite(chart["ratio"]).any():
            out = Path(out_dir) / radar_name(stem, keys)
            while out in written:  # two combinations that sanitise to the same name
                out = out.with_name(out.stem + "_.png")
            written.append(_radar(chart, keys, colors, out))
    return written


def _radar(chart: pd.DataFrame, keys: Sequence[str], colors: dict[str, str], out: Path) -> Path:
    criteria = list(dict.fromkeys(chart["criterion"]))
    angles = 2 * np.pi * np.arange(len(criteria)) / len(criteria)
    fig = pyplot().figure(figsize=(8, 5.5))
    ax = fig.add_axes((0.1, 0.08, 0.5, 0.78), projection="polar")  # room on the right for the legend
    ring = np.linspace(0, 2 * np.pi, 200)
    ax.plot(ring, np.ones_like(ring), "--", color=BASELINE_COLOR, label=f"{BASELINE} (= 1)")
    show_body = chart["body"].nunique() > 1
    starred = False
    for (teacher, body), rows in chart.groupby(["teacher", "body"], sort=False):
        at = rows.drop_duplicates("criterion").set_index("criterion").reindex(criteria)
        r = at["ratio"].to_numpy(float)
        color = colors[teacher]
        ax.plot(np.append(angles, angles[:1]), np.append(r, r[:1]), "o-", color=color, ms=4,
                label=_label([teacher, body if show_body else ""]))
        sig = np.isfinite(r) & (at["p"].to_numpy(float) < ALPHA)
        ax.plot(angles[sig], r[sig], "*", ms=16, color=color, markeredgecolor="black")
        starred |= bool(sig.any())
    if starred:
        ax.plot([], [], "*", ms=12, color="white", markeredgecolor="black", label=f"Welch p < {ALPHA} vs {BASELINE}")
    ax.set_xticks(angles, criteria)
    ax.set_ylim(0, max(1.25, 1.15 * float(np.nanmax(chart["ratio"]))))
    ax.tick_params(axis="x", pad=12)
    count = "" if len(criteria) >= 3 else f" ({len(criteria)} {'criterion' if len(criteria) == 1 else 'criteria'})"
    ax.set_title(f"mean % mastered / {BASELINE}'s: {_label(keys)}{count}", fontsize=10, pad=18)
    ax.legend(loc="upper left", bbox_to_anchor=(1.15, 1.05), fontsize=8)
    return save_figure(fig, out, tight=False)


# ---------------------------------------------------------------------------------------------------- bar plots

def stars(p: float | None) -> str:
    """'***', '**' or '*' for a p-value below 0.001, 0.01 or 0.05; '' otherwise, NaN and None included."""
    p = np.nan if p is None else float(p)
    return next((mark for cut, mark in STARS if p < cut), "")


def significant_pairs(pairs_panel: pd.DataFrame | None) -> list[tuple[str, str, str]]:
    """(teacher_a, teacher_b, stars) for every pair of one panel whose Welch p-value is below 0.05."""
    if pairs_panel is None or not len(pairs_panel):
        return []
    found = zip(pairs_panel["teacher_a"], pairs_panel["teacher_b"], _num(pairs_panel, "p_welch"))
    return [(str(a), str(b), stars(p)) for a, b, p in found if stars(p)]


def bracket_levels(spans: Sequence[tuple[float, float]]) -> list[int]:
    """The stacking level (0 = lowest) of each bracket spanning bars x_a..x_b: the lowest level where it touches
    no bracket already placed. Short brackets are placed first, so a long one sits over the short ones it spans."""
    levels = [0] * len(spans)
    placed: list[tuple[float, float, int]] = []
    for k in sorted(range(len(spans)), key=lambda k: (abs(spans[k][1] - spans[k][0]), min(spans[k]))):
        lo, hi = sorted(spans[k])
        taken = {level for a, b, level in placed if a <= hi and lo <= b}
        levels[k] = next(level for level in range(len(spans) + 1) if level not in taken)
        placed.append((lo, hi, levels[k]))
    return levels


def _select(df: pd.DataFrame, keys: Sequence[str], values: Sequence[str]) -> pd.DataFrame:
    mask = pd.Series(True, index=df.index)
    for key, value in zip(keys, values):
        mask &= df[key] == value
    return df[mask]


def _panel_rows(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per teacher, Random first, then the order of the summary."""
    rows = rows.drop_duplicates("teacher")
    return pd.concat([rows[rows["teacher"] == BASELINE], rows[rows["teacher"] != BASELINE]])


def bar_plots(sessions: pd.DataFrame, summary: pd.DataFrame, pairs: pd.DataFrame | None, out: Path,
              title: str) -> Path | None:
    """One panel per (criterion, expert knowledge, student, embodiment) and body: a bar per teacher (mean, SE
    error bar, Random in grey), each seed's final score as a dot, Welch brackets over the pairs with p < 0.05 and
    n under each teacher's name. None when no teacher has a mean yet."""
    pair_keys = [k for k in BAR_KEYS if pairs is not None and k in pairs]
    summary = _frame(summary, BAR_KEYS + ["teacher"])
    summary["mean"], summary["se"], summary["n"] = _num(summary, "mean"), _num(summary, "se"), _num(summary, "n")
    sessions = _frame(sessions, BAR_KEYS + ["teacher"])
    sessions["score"] = _num(sessions, "score")
    scores = {k: g.to_numpy(float) for k, g in sessions[sessions["score"].notna()]
              .groupby(BAR_KEYS + ["teacher"])["score"]}
    pairs = _frame(pairs, BAR_KEYS + ["teacher_a", "teacher_b"])
    panels = [(keys, _panel_rows(rows)) for keys, rows in summary.groupby(BAR_KEYS, sort=False)
              if rows["mean"].notna().any()]
    if not panels:
        return None
    show_body = summary.groupby(PANEL_KEYS)["body"].nunique().max() > 1
    colors = teacher_colors(summary["teacher"])
    widest = max(len(rows) for _, rows in panels)
    fig, axes = _grid(len(panels), BAR_COLS, (max(3.5, 0.8 * widest + 1.5), 4.2))
    for ax, (keys, rows) in zip(axes, panels):
        seeds = [scores.get((*keys, t), np.empty(0)) for t in rows["teacher"]]
        brackets = significant_pairs(_select(pairs, pair_keys, [keys[BAR_KEYS.index(k)] for k in pair_keys]))
        _draw_bars(ax, rows, seeds, brackets, colors)
        ax.set_title(_label([*keys[:len(PANEL_KEYS)], f"body {keys[-1]}" if show_body else ""]), fontsize=9)
    fig.suptitle(f"{title}: final % mastered, mean +- SE, dots = seeds, brackets = Welch p < {ALPHA}")
    return save_figure(fig, out)


def _draw_bars(ax, rows: pd.DataFrame, seeds: list[np.ndarray], brackets: list[tuple[str, str, str]],
               colors: dict[str, str]) -> None:
    teachers = rows["teacher"].tolist()
    x = np.arange(len(teachers))
    mean, se = rows["mean"].to_numpy(float), rows["se"].to_numpy(float)
    err = np.where(np.isfinite(mean) & np.isfinite(se), se, 0.0)
    ax.bar(x, np.nan_to_num(mean), yerr=err, capsize=4, alpha=0.75, color=[colors[t] for t in teachers])
    for xk, s in zip(x, seeds):
        ax.scatter(xk + np.linspace(-0.2, 0.2, len(s)) if len(s) > 1 else np.full(len(s), xk), s, s=12,
                   color="black", zorder=3)
    n = np.nan_to_num(rows["n"].to_numpy(float)).astype(int)
    ax.set_xticks(x, [f"{t}\nn={k}" for t, k in zip(teachers, n)], fontsize=8)
    top = max([1.0, *np.nan_to_num(mean + err), *(float(s.max()) for s in seeds if len(s))])
    _draw_brackets(ax, [b for b in brackets if b[0] in teachers and b[1] in teachers], teachers, top)
    ax.set_ylabel("final % mastered")
    ax.grid(axis="y", alpha=0.3)


def _draw_brackets(ax, brackets: list[tuple[str, str, str]], teachers: list[str], top: float) -> None:
    spans = [(teachers.index(a), teachers.index(b)) for a, b, _ in brackets]
    levels = bracket_levels(spans)
    step, tick = 0.09 * top, 0.02 * top
    for (xa, xb), level, (_, _, mark) in zip(spans, levels, brackets):
        y = top * 1.04 + level * step
        ax.plot([xa, xa, xb, xb], [y - tick, y, y, y - tick], color="black", lw=1)
        ax.text((xa + xb) / 2, y, mark, ha="center", va="bottom", fontsize=9)
    ax.set_ylim(0, top * 1.08 + (max(levels) + 1 if levels else 0) * step)


# ------------------------------------------------------------------------------- interval estimates, profiles

def _group_colors(groups: Sequence[str]) -> dict[str, str]:
    """Random's groups ("Random | ...") in grey, the others in turn."""
    others = [g for g in groups if g.split(" | ")[0] != BASELINE]
    colors = {g: PALETTE[i % len(PALETTE)] for i, g in enumerate(others)}
    return {g: colors.get(g, BASELINE_COLOR) for g in groups}


def interval_plot(intervals: pd.DataFrame, out: Path, title: str) -> Path | None:
    """rliable's interval estimates: one panel per metric (median, IQM, mean), one bar per group from the low to
    the high end of its 95 % bootstrap interval, with a tick at the point estimate. None when no estimate."""
    intervals = _frame(intervals, ["group", "metric"])
    for column in ("estimate", "low", "high"):
        intervals[column] = _num(intervals, column)
    intervals = intervals[intervals["metric"].isin(METRICS) & intervals["estimate"].notna()]
    if not len(intervals):
        return None
    metrics = [m for m in METRICS if m in set(intervals["metric"])]
    groups = list(dict.fromkeys(intervals["group"]))
    colors = _group_colors(groups)
    fig, axes = _grid(len(metrics), len(metrics), (3.3, 0.45 * len(groups) + 1.4), sharey=True)
    y = {g: -k for k, g in enumerate(groups)}
    for ax, metric in zip(axes, metrics):
        for row in intervals[intervals["metric"] == metric].itertuples():
            yk, color = y[row.group], colors[row.group]
            if np.isfinite(row.low) and np.isfinite(row.high):
                ax.barh(yk, row.high - row.low, left=row.low, height=0.6, color=color, alpha=0.6)
            ax.vlines(row.estimate, yk - 0.3, yk + 0.3, color="black", lw=2)
        ax.set(title=metric, xlabel="% mastered")
        ax.grid(axis="x", alpha=0.3)
    axes[0].set_yticks(list(y.values()), groups, fontsize=8)
    fig.suptitle(f"{title}: point estimates and 95 % bootstrap intervals")
    return save_figure(fig, out)


def performance_profiles(profiles: pd.DataFrame, out: Path, title: str) -> Path | None:
    """rliable's performance profiles: the fraction of runs scoring above tau against tau, one line per group with
    its 95 % band. None when no fraction."""
    profiles = _frame(profiles, ["group"])
    for column in ("tau", "fraction", "low", "high"):
        profiles[column] = _num(profiles, column)
    profiles = profiles[profiles["tau"].notna() & profiles["fraction"].notna()]
    if not len(profiles):
        return None
    colors = _group_colors(list(dict.fromkeys(profiles["group"])))
    fig, ax = pyplot().subplots(figsize=(7, 4.5))
    for group, rows in profiles.groupby("group", sort=False):
        rows = rows.sort_values("tau")
        ax.plot(rows["tau"], rows["fraction"], color=colors[group], lw=2, label=group)
        ax.fill_between(rows["tau"], rows["low"], rows["high"], color=colors[group], alpha=0.2)
    ax.set(xlabel="score threshold tau (% mastered)", ylabel="fraction of runs with score > tau", ylim=(-0.02, 1.02),
           title=f"{title}: performance profiles, 95 % bands")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return save_figure(fig, out)


# ------------------------------------------------------------------------------------------------ task heatmaps

def _task_points(task_map: TaskMap) -> tuple[np.ndarray, np.ndarray, int]:
    """(x, y) of each task with a finite position (y = 0 for a 1-D space), their `mastered`, and the space's d."""
    mastered = np.asarray(task_map.mastered, float).reshape(-1)
    tasks = np.asarray(task_map.tasks, float)
    if not tasks.size or not mastered.size:
        return np.empty((0, 2)), np.empty(0), max(len(task_map.columns), 1)
    tasks = tasks.reshape(len(mastered), -1)
    xy = tasks[:, :2] if tasks.shape[1] > 1 else np.column_stack([tasks[:, 0], np.zeros(len(tasks))])
    keep = np.isfinite(xy).all(axis=1)
    return xy[keep], mastered[keep], tasks.shape[1]


def grid_steps(xy: np.ndarray) -> tuple[float, float] | None:
    """The (dx, dy) spacing when the points are exactly a full regular grid (each node once), else None. An axis
    with a single value gets a spacing of 1."""
    uniques = [np.unique(xy[:, k]) for k in range(2)]
    if len(xy) < 2 or len(xy) != len(uniques[0]) * len(uniques[1]) or len(np.unique(xy, axis=0)) != len(xy):
        return None
    steps = []
    for u in uniques:
        diffs = np.diff(u)
        if len(diffs) and not np.allclose(diffs, diffs[0], rtol=1e-6, atol=0):
            return None
        steps.append(float(diffs[0]) if len(diffs) else 1.0)
    return steps[0], steps[1]


def _draw_map(ax, task_map: TaskMap, xy: np.ndarray, mastered: np.ndarray, d: int, cmap, norm):
    """Draw one map; returns the artist that carries the colours."""
    from matplotlib.collections import PatchCollection
    from matplotlib.patches import Rectangle

    steps = grid_steps(xy) if d <= 2 else None
    if steps is None:
        size = float(np.clip(4000 / len(xy), 12, 250))
        art = ax.scatter(xy[:, 0], xy[:, 1], c=mastered, cmap=cmap, norm=norm, marker="s", s=size,
                         alpha=0.6 if d > 2 else 0.9, edgecolors="none", plotnonfinite=True)
    else:
        dx, dy = steps
        cells = [Rectangle((x - dx / 2, y - dy / 2), dx, dy) for x, y in xy]
        art = ax.add_collection(PatchCollection(cells, cmap=cmap, norm=norm, edgecolor="white", linewidth=0.3))
        art.set_array(mastered)
        ax.set_xlim(xy[:, 0].min() - dx / 2, xy[:, 0].max() + dx / 2)
        ax.set_ylim(xy[:, 1].min() - dy / 2, xy[:, 1].max() + dy / 2)
    names = list(task_map.columns) + [f"dim {k}" for k in range(len(task_map.columns), 2)]
    ax.set_xlabel(names[0])
    if d > 1:
        ax.set_ylabel(names[1])
    else:
        ax.set_yticks([])
    ax.set_title(task_map.title + (f"\n(first two of {d} dims)" if d > 2 else ""), fontsize=9)
    return art


def task_heatmaps(maps: Sequence[TaskMap], out: Path, title: str) -> Path | None:
    """One panel per map: its test tasks on the first two task-space axes, each a square coloured by the fraction
    of seeds that master it (a regular grid tiles). Maps without tasks are skipped; None when none is left."""
    import matplotlib
    from matplotlib.colors import Normalize

    drawn = [(m, *_task_points(m)) for m in maps or []]
    drawn = [entry for entry in drawn if len(entry[1])]
    if not drawn:
        return None
    cmap, norm = matplotlib.colormaps[CMAP].with_extremes(bad="lightgrey"), Normalize(0, 1)
    fig, axes = _grid(len(drawn), MAP_COLS, (3.6, 3.3), layout="constrained")
    art = [_draw_map(ax, *entry, cmap, norm) for ax, entry in zip(axes, drawn)]
    fig.colorbar(art[0], ax=axes, label="fraction of seeds mastering the task", shrink=0.9)
    fig.suptitle(f"{title}:\ntest tasks mastered at the final evaluation", fontsize=10 if len(drawn) > 1 else 9)
    return save_figure(fig, out, tight=False)


def published_bars(comparison: pd.DataFrame, out: Path) -> Path | None:
    """The lab's % mastered beside a published table's, per teacher and body: solid bars are the lab's (mean +- std
    over its seeds, at its frames), hatched bars the published ones (mean +- std at the published frames)."""
    if comparison is None or comparison.empty:
        return None
    plt = pyplot()
    bodies = list(dict.fromkeys(comparison["embodiment"]))
    fig, axes = plt.subplots(1, len(bodies), figsize=(max(4.5, 1.2 * comparison["teacher"].nunique()) * len(bodies) / 1.5,
                                                      3.8), squeeze=False)
    for ax, body in zip(axes.flat, bodies):
        rows = comparison[comparison["embodiment"] == body].reset_index(drop=True)
        x = np.arange(len(rows))
        lab_frames = int(rows["lab_frames"].max())
        ax.bar(x - 0.2, rows["lab_mean"], 0.4, yerr=rows["lab_std"].fillna(0.0), capsize=3,
               label=f"slm_acl ({lab_frames / 1e6:.1f}M frames)", color="tab:blue")
        ax.bar(x + 0.2, rows["published_mean"], 0.4, yerr=rows["published_std"], capsize=3, hatch="//",
               color="white", edgecolor="tab:gray",
               label=f"published ({int(rows['published_frames'].iloc[0]) / 1e6:.0f}M frames)")
        ax.set_xticks(x, [f"{t}\nn={n}" for t, n in zip(rows["teacher"], rows["lab_n"])], fontsize=7)
        ax.set_title(body, fontsize=9)
        ax.set_ylabel("% mastered")
        ax.legend(fontsize=7)
        ax.grid(axis="y", alpha=0.3)
    fig.suptitle(f"{comparison['source'].iloc[0]}: the lab beside the published table")
    return save_figure(fig, out)
