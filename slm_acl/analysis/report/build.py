"""`report@data/RUN_DIR [data/RUN_DIR ...]`: read runs, compute the tables, draw the figures, write report.md.

Everything lands in one folder (`report/` in the first run folder unless `out` is given):
summary_df.csv (and summary_at_{F}_df.csv with `at_frame`), pairs_df.csv, intervals_df.csv,
profiles_df.csv, scores_df.csv, published_df.csv, the PNG figures and report.md. Each figure is drawn on
its own: one that fails is logged and left out, the tables and the other figures are still written.
"""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import pandas as pd

from slm_acl.analysis.benchmark_graph import benchmark_graph
from slm_acl.analysis.report import figures, published
from slm_acl.analysis.report.collect import KEYS, Runs, collect
from slm_acl.analysis.report.markdown import report_markdown
from slm_acl.analysis.report.summary import Tables, tables
from slm_acl.lib import logger as logging_lib
from slm_acl.lib.io import atomic_write

log = logging_lib.get_logger("report")


@dataclasses.dataclass
class Report:
    out: Path
    tables: Tables
    tables_at: Tables | None
    published: pd.DataFrame
    figures: dict[str, list[Path]]
    markdown: Path


def _write_csv(df: pd.DataFrame, path: Path) -> Path:
    atomic_write(path, lambda f: df.to_csv(f, index=False))
    return path


def task_maps(runs: Runs, scores: pd.DataFrame) -> list[figures.TaskMap]:
    """Per cell: each test task's fraction of seeds mastering it at their last evaluation (eval_tasks_df)."""
    maps = []
    sessions = runs.sessions.merge(scores[[*KEYS, "run", "seed"]], on=[*KEYS, "run", "seed"])
    for key, cell in sessions.groupby(KEYS, sort=False):
        cell = cell[(cell["eval_tasks"] != "") & (cell["test_set"] != "")]
        if cell.empty:
            continue
        test_set = json.loads(Path(cell["test_set"].iloc[0]).read_text())
        tasks = np.asarray(test_set["tasks"], dtype=float)
        wins = []
        for path in cell["eval_tasks"]:
            evals = pd.read_csv(path)
            last = evals[evals["frame"] == evals["frame"].max()].sort_values("task_index")
            if last["success"].isna().all() or len(last) != len(tasks):
                continue
            wins.append(last["success"].astype(float).to_numpy())
        if wins:
            title = f"{key[0]} (n={len(wins)})"
            maps.append(figures.TaskMap(title, list(test_set["columns"]), tasks, np.mean(wins, axis=0)))
    return maps


def _curves_graph(runs: Runs, out: Path, title: str) -> Path | None:
    curves = runs.curves.rename(columns={"score": "mastered"})
    return benchmark_graph(curves, out, title)


def _draw(name: str, draw: Callable[[], Path | list[Path] | None], drawn: dict[str, list[Path]]) -> None:
    try:
        result = draw()
    except Exception as err:  # noqa: BLE001 - one figure failing must not lose the report
        log.warning(f"report: figure {name!r} not drawn: {type(err).__name__}: {err}")
        result = None
    paths = result if isinstance(result, list) else ([result] if result is not None else [])
    drawn[name] = [Path(p) for p in paths]


def draw_figures(runs: Runs, t: Tables, comparison: pd.DataFrame, out: Path, title: str) -> dict[str, list[Path]]:
    drawn: dict[str, list[Path]] = {}
    _draw("radar", lambda: figures.radar_charts(t.summary, out, "teachers"), drawn)
    _draw("bars", lambda: figures.bar_plots(t.scores, t.summary, t.pairs, out / "bars.png", title), drawn)
    _draw("curves", lambda: _curves_graph(runs, out / "curves.png", title), drawn)
    _draw("intervals", lambda: figures.interval_plot(t.intervals, out / "intervals.png", title), drawn)
    _draw("profiles", lambda: figures.performance_profiles(t.profiles, out / "profiles.png", title), drawn)
    _draw("tasks", lambda: figures.task_heatmaps(task_maps(runs, t.scores), out / "tasks.png", title), drawn)
    _draw("published", lambda: figures.published_bars(comparison, out / "published.png"), drawn)
    return drawn


def build_report(run_dirs: Sequence[str | Path], out: str | Path | None = None, at_frame: int | None = None,
                 command: str = "") -> Report:
    runs = collect(list(run_dirs))
    out_dir = Path(out) if out is not None else Path(run_dirs[0]) / "report"
    out_dir.mkdir(parents=True, exist_ok=True)
    final = tables(runs)
    at = tables(runs, at_frame) if at_frame is not None else None
    comparison = published.compare(final.scores, runs.sessions)
    _write_csv(final.summary, out_dir / "summary_df.csv")
    _write_csv(final.pairs, out_dir / "pairs_df.csv")
    _write_csv(final.intervals, out_dir / "intervals_df.csv")
    _write_csv(final.profiles, out_dir / "profiles_df.csv")
    _write_csv(final.scores, out_dir / "scores_df.csv")
    _write_csv(comparison, out_dir / "published_df.csv")
    if at is not None:
        _write_csv(at.summary, out_dir / f"summary_at_{at_frame}_df.csv")
    title = ", ".join(s["spec"] for s in runs.sources)
    drawn = draw_figures(runs, final, comparison, out_dir, title)
    markdown = out_dir / "report.md"
    text = report_markdown(runs, final, at, comparison, drawn, out_dir, command)
    atomic_write(markdown, lambda f: f.write(text))
    log.info(f"report: {len(final.summary)} cells, {len(final.scores)} scored sessions, "
             f"{sum(len(v) for v in drawn.values())} figures; {markdown}")
    return Report(out_dir, final, at, comparison, drawn, markdown)
