"""A trial: `meta.max_session` sessions (seeds) of one spec, run by the session runner on this machine.

The sessions run in `spawn`ed worker processes (`runner.ProcessExecutor`, `meta.max_parallel` at
once, each pinned to `meta.num_threads` threads); with one worker they run in this process. A session
that fails is recorded by the runner (its error file, an ERROR log line); the others run to the end,
the trial table is written from the sessions that finished, then the trial raises `TrialError`.
"""
from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

import pandas as pd

from slm_acl.analysis import graphs
from slm_acl.experiment.paths import RunPaths
from slm_acl.experiment.resolved import write_resolved_spec
from slm_acl.experiment.runner import ProcessExecutor, SessionFailure, SessionJob, run_to_end
from slm_acl.experiment.session import SessionResult
from slm_acl.lib import logger as logging_lib
from slm_acl.lib.io import atomic_write, write_json
from slm_acl.spec.validate import RunSpec

log = logging_lib.get_logger("trial")


class TrialError(RuntimeError):
    """One or more sessions of a trial failed; `results` holds the sessions that finished."""

    def __init__(self, message: str, results: list[SessionResult], failures: list[SessionFailure]):
        super().__init__(message)
        self.results, self.failures = results, failures

    def __reduce__(self) -> tuple[Any, ...]:
        # the default reduce would call TrialError(message) and fail on the missing arguments when unpickled
        return type(self), (self.args[0], self.results, self.failures)


@dataclasses.dataclass
class TrialResult:
    trial: int
    sessions: list[SessionResult]
    metrics: dict[str, float]


def trial_jobs(run: RunSpec, paths: RunPaths, trial: int, mode: str, sessions: list[int] | None = None,
               seed_trial: int | None = None) -> list[SessionJob]:
    """The trial's sessions as runner jobs (all `meta.max_session` of them unless `sessions` is given)."""
    indices = list(range(run.spec.meta.max_session)) if sessions is None else sessions
    return [SessionJob(run, paths, trial, s, trial if seed_trial is None else seed_trial, mode) for s in indices]


def local_parallel(run: RunSpec, n_sessions: int) -> int:
    """Sessions at once on this machine: `meta.max_parallel`, else one per core, never more than sessions."""
    return max(1, min(n_sessions, run.spec.meta.max_parallel or os.cpu_count() or 1))


def run_trial(run: RunSpec, paths: RunPaths, trial: int = 0, mode: str = "train",
              sessions: list[int] | None = None) -> TrialResult:
    write_resolved_spec(run, paths, trial)
    jobs = trial_jobs(run, paths, trial, mode, sessions)
    executor = ProcessExecutor(local_parallel(run, len(jobs)), run.spec.meta.num_threads)
    outcomes = run_to_end(jobs, executor)
    results = [o for o in outcomes if isinstance(o, SessionResult)]
    failures = [o for o in outcomes if isinstance(o, SessionFailure)]
    metrics = analyse_trial(run, paths, trial, [r.session for r in results])
    if failures:
        raise TrialError(f"{len(failures)} of {len(jobs)} sessions failed: "
                         + "; ".join(f"s{f.session}: {f.line()}" for f in failures), results, failures)
    return TrialResult(trial, results, metrics)


def analyse_trial(run: RunSpec, paths: RunPaths, trial: int, sessions: list[int]) -> dict[str, float]:
    """The trial graph and the trial table (final metrics per session and body).

    Each session draws its own graphs when it ends (`session_graphs`), in its worker, so that this
    serial step stays short.
    """
    trial_graphs(run, paths, trial, sessions)
    return trial_table(run, paths, trial, sessions)


def trial_graphs(run: RunSpec, paths: RunPaths, trial: int, sessions: list[int]) -> list[Path]:
    """Per body, the mean +- std over `sessions` of its curves; returns the graphs written."""
    written = []
    for plan in run.bodies:
        label = plan.label
        drawn = graphs.trial_graph([paths.table(trial, s, label, "session_df") for s in sessions],
                                   [paths.table(trial, s, label, "eval_df") for s in sessions],
                                   paths.graph(f"{paths.prename(trial)}_{label}_trial_graph.png"),
                                   f"{paths.prename(trial)} {label}")
        written += [drawn] if drawn is not None else []
    return written


def trial_table(run: RunSpec, paths: RunPaths, trial: int, sessions: list[int]) -> dict[str, float]:
    """`{spec}_t{k}_trial_df.csv` (one row per session and body: frames, return_ma, final evaluation) and
    `_trial_metrics.json` (their means); returns the metrics."""
    rows: list[dict[str, Any]] = []
    for plan in run.bodies:
        label = plan.label
        for s in sessions:
            row: dict[str, Any] = {"session": s, "body": label}
            df = _read(paths.table(trial, s, label, "session_df"))
            if df is not None:
                row["frames"] = int(df["frame"].iloc[-1]) if len(df) else 0
                row["return_ma"] = float(df["return"].tail(100).mean()) if len(df) else float("nan")
            df = _read(paths.table(trial, s, label, "eval_df"))
            if df is not None and len(df):
                row["eval_mean_return"] = float(df["mean_return"].iloc[-1])
                row["mastered"] = float(df["mastered"].iloc[-1])
            rows.append(row)
    table = pd.DataFrame(rows)
    path = paths.info(f"{paths.prename(trial)}_trial_df.csv")
    atomic_write(path, lambda f: table.to_csv(f, index=False))
    metrics = {}
    for column in ("return_ma", "eval_mean_return", "mastered"):
        if column in table:
            metrics[column] = float(table[column].mean())
    write_json(paths.info(f"{paths.prename(trial)}_trial_metrics.json"), metrics)
    return metrics


def _read(path: Path) -> pd.DataFrame | None:
    """A table, None when its file is missing or empty (a session killed before its first flush); a file
    with only its header is an empty frame."""
    if not path.exists() or path.stat().st_size == 0:
        return None
    return pd.read_csv(path)
