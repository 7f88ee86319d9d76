"""A trial: `meta.max_session` sessions (seeds) of one spec, in parallel worker processes.

Each worker is a fresh `spawn`ed process pinned to `meta.num_threads` BLAS / torch threads (set in
its environment before numpy or torch load), so parallel sessions never oversubscribe the cores.
A session that fails is recorded with its error; the others run to the end.
"""
from __future__ import annotations

import concurrent.futures as cf
import dataclasses
import multiprocessing as mp
import os
from typing import Any

import pandas as pd

from slm_acl.analysis import graphs
from slm_acl.experiment.paths import RunPaths
from slm_acl.experiment.session import SessionResult, resolved_raw, run_session
from slm_acl.lib import logger as logging_lib
from slm_acl.lib.io import atomic_write, write_json
from slm_acl.lib.threads import pin_threads, thread_env
from slm_acl.spec.validate import RunSpec

log = logging_lib.get_logger("trial")


class TrialError(RuntimeError):
    """One or more sessions of a trial failed; `results` holds the sessions that finished."""

    def __init__(self, message: str, results: list[SessionResult], errors: dict[int, str]):
        super().__init__(message)
        self.results, self.errors = results, errors


@dataclasses.dataclass
class TrialResult:
    trial: int
    sessions: list[SessionResult]
    errors: dict[int, str]
    metrics: dict[str, float]


def _worker(raw: dict, predir: str, trial: int, session: int, mode: str, num_threads: int) -> SessionResult:
    pin_threads(num_threads)
    logging_lib.setup_console()
    return run_session(raw, predir, trial, session, mode, progress=False)


def run_trial(run: RunSpec, paths: RunPaths, trial: int = 0, mode: str = "train",
              sessions: list[int] | None = None) -> TrialResult:
    meta = run.spec.meta
    write_json(paths.spec_file(trial), resolved_raw(run, paths, trial))
    indices = list(range(meta.max_session)) if sessions is None else sessions
    for s in indices:
        write_json(paths.spec_file(trial, s), resolved_raw(run, paths, trial, s))
    parallel = min(len(indices), meta.max_parallel or os.cpu_count() or 1)
    results: list[SessionResult] = []
    errors: dict[int, str] = {}
    if parallel <= 1:
        pin_threads(meta.num_threads)
        for s in indices:
            try:
                results.append(run_session(resolved_raw(run, paths, trial, s), str(paths.predir), trial, s, mode))
            except Exception as err:
                if len(indices) == 1:
                    raise
                errors[s] = f"{type(err).__name__}: {err}"
                log.error(f"{paths.prename(trial, s)} failed: {errors[s]}")
    else:
        with thread_env(meta.num_threads), cf.ProcessPoolExecutor(parallel, mp_context=mp.get_context("spawn")) as pool:
            futures = {pool.submit(_worker, resolved_raw(run, paths, trial, s), str(paths.predir), trial, s, mode,
                                   meta.num_threads): s for s in indices}
            for future in cf.as_completed(futures):
                s = futures[future]
                try:
                    results.append(future.result())
                except Exception as err:
                    errors[s] = f"{type(err).__name__}: {err}"
                    log.error(f"{paths.prename(trial, s)} failed: {errors[s]}")
    results.sort(key=lambda r: r.session)
    metrics = analyse_trial(run, paths, trial, [r.session for r in results])
    if errors:
        raise TrialError(f"{len(errors)} of {len(indices)} sessions failed: "
                         + "; ".join(f"s{s}: {e}" for s, e in sorted(errors.items())), results, errors)
    return TrialResult(trial, results, errors, metrics)


def analyse_trial(run: RunSpec, paths: RunPaths, trial: int, sessions: list[int]) -> dict[str, float]:
    """The trial graph and the trial table (final metrics per session and body).

    Each session draws its own graphs when it ends (`session_graphs`), in its worker, so that this
    serial step stays short.
    """
    rows: list[dict[str, Any]] = []
    for plan in run.bodies:
        label = plan.label
        for s in sessions:
            evals = paths.table(trial, s, label, "eval_df")
            episodes = paths.table(trial, s, label, "session_df")
            row: dict[str, Any] = {"session": s, "body": label}
            if episodes.exists():
                df = pd.read_csv(episodes)
                row["frames"] = int(df["frame"].iloc[-1]) if len(df) else 0
                row["return_ma"] = float(df["return"].tail(100).mean()) if len(df) else float("nan")
            if evals.exists():
                df = pd.read_csv(evals)
                if len(df):
                    row["eval_mean_return"] = float(df["mean_return"].iloc[-1])
                    row["mastered"] = float(df["mastered"].iloc[-1])
            rows.append(row)
        graphs.trial_graph([paths.table(trial, s, label, "session_df") for s in sessions],
                           [paths.table(trial, s, label, "eval_df") for s in sessions],
                           paths.graph(f"{paths.prename(trial)}_{label}_trial_graph.png"),
                           f"{paths.prename(trial)} {label}")
    table = pd.DataFrame(rows)
    path = paths.info(f"{paths.prename(trial)}_trial_df.csv")
    atomic_write(path, lambda f: table.to_csv(f, index=False))
    metrics = {}
    for column in ("return_ma", "eval_mean_return", "mastered"):
        if column in table:
            metrics[column] = float(table[column].mean())
    write_json(paths.info(f"{paths.prename(trial)}_trial_metrics.json"), metrics)
    return metrics
