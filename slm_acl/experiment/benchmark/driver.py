"""Running a campaign: every session of every cell as a Ray task, tables kept current, resumable.

`run_benchmark` expands the spec's benchmark block into cells (cells.py), records the cells that
cannot run, writes every runnable cell's spec, and hands all sessions to the session runner's Ray
executor: on this machine's cores, or a cluster's (`--ray-address`, with a data folder every node
reaches). As each session ends its rows of `benchmark_df` are rewritten (atomically), so a killed
campaign leaves a table that says which sessions finished. `benchmark@RUN_DIR` resumes: finished
sessions are kept, the others run again and continue from their checkpoints. A failed session is
recorded with its own error (in benchmark_df, and the runner's `info/..._error.json`) and the others go
on; the campaign then ends with an error that counts them and gives the first one. A campaign none of
whose sessions ran (every cell invalid) returns its tables and says so (`total_failure`): the command
line exits non-zero either way.
"""
from __future__ import annotations

import dataclasses
import math
import time
from pathlib import Path

import pandas as pd
import ray

from slm_acl.analysis.benchmark_graph import benchmark_graph
from slm_acl.experiment.benchmark import tables
from slm_acl.experiment.benchmark.cells import SEED_TRIAL, CellRun, cell_runs, describe, write_cell_specs
from slm_acl.experiment.benchmark.progress import Progress
from slm_acl.experiment.paths import RunPaths
from slm_acl.experiment.resolved import write_resolved_spec
from slm_acl.experiment.runner import Ended, Evaluated, SessionJob, Started, run_sessions
from slm_acl.experiment.runner.ray_tasks import RayExecutor, connect, session_cpus
from slm_acl.experiment.verdict import all_failed
from slm_acl.lib import logger as logging_lib
from slm_acl.lib.io import write_json
from slm_acl.spec.validate import RunSpec

log = logging_lib.get_logger("benchmark")


class BenchmarkError(RuntimeError):
    """Some sessions of a campaign failed; every other session ran and the tables hold all of them."""


@dataclasses.dataclass
class BenchmarkResult:
    benchmark_df: pd.DataFrame
    curves_df: pd.DataFrame
    graph: Path | None = None  # the campaign graph, when there was something to draw

    def total_failure(self) -> str | None:
        """One line when no session finished (each failed or its cell cannot run): how many, the first error."""
        sessions = self.benchmark_df.drop_duplicates(["cell", "seed"]).sort_values(["cell", "seed"])
        ended = (tables.FAILED, tables.INVALID)
        return all_failed("sessions", [(e or s) if s in ended else ""
                                       for s, e in zip(sessions["status"], sessions["error"].fillna(""))])


def parallel_sessions(cells: list[CellRun]) -> int:
    """Sessions at once: as many as Ray's CPUs hold (each takes `meta.resources`), capped by `meta.max_parallel`."""
    runs = [c.run for c in cells if c.run is not None]
    cpus = ray.cluster_resources().get("CPU", 1.0)
    fit = max(1, math.floor(cpus / min(session_cpus(r.spec.meta) for r in runs) + 1e-9))
    caps = [r.spec.meta.max_parallel for r in runs if r.spec.meta.max_parallel]
    return min([fit, *caps])


def run_benchmark(campaign: RunSpec, paths: RunPaths, ray_address: str | None = None,
                  resume: bool = False) -> BenchmarkResult:
    seeds = campaign.spec.benchmark.seeds
    cells = lay_out(campaign, paths)
    invalid = [c for c in cells if c.run is None]
    runnable = [c for c in cells if c.run is not None]
    # a resumed campaign keeps what its benchmark_df knew (statuses, errors, timings); a new one has none yet
    rows = tables.rebuilt_rows(paths, cells, seeds)
    statuses = {key: body_rows[0]["status"] for key, body_rows in rows.items()} if resume else {}
    jobs = [SessionJob(c.run, paths, c.index, s, SEED_TRIAL) for c in runnable for s in range(seeds)
            if statuses.get((c.index, s)) != tables.FINISHED]
    by_name = {j.name: next(c for c in runnable if c.index == j.trial) for j in jobs}
    _write_sessions(paths, rows)
    log.info(f"{campaign.name}: {len(cells)} cells ({len(invalid)} cannot run) x {seeds} seeds; "
             f"{len(runnable) * seeds - len(jobs)} sessions already finished, {len(jobs)} to run; data in {paths.predir}")
    failures: list[str] = []  # the failed sessions' errors, in the order they ended
    if jobs:
        connect(ray_address)
        parallel = parallel_sessions(runnable)
        log.info(f"{campaign.name}: {parallel} sessions at once on Ray resources {ray.cluster_resources()}")
        progress = Progress(jobs, len(runnable) * seeds, len(runnable) * seeds - len(jobs))
        started: dict[str, float] = {}
        for event in run_sessions(jobs, RayExecutor(parallel), evaluations=True):
            if isinstance(event, Started):
                started[event.job.name] = time.perf_counter()
            elif isinstance(event, Evaluated):
                progress.evaluated(event.job, event.evaluation)
            elif isinstance(event, Ended):
                job, failure = event.job, event.outcome if event.failed else None
                status = tables.FAILED if failure else tables.FINISHED
                rows[(job.trial, job.session)] = tables.session_rows(
                    paths, by_name[job.name], job.session, status, failure.line() if failure else "")
                task_s = time.perf_counter() - started.get(job.name, time.perf_counter())
                for row in rows[(job.trial, job.session)]:  # Ray's cost per session = task_s - session_s
                    row["task_s"] = round(task_s, 2)
                    row["session_s"] = round(getattr(event.outcome, "wall_s", float("nan")), 2)
                _write_sessions(paths, rows)
                failures += [f"{job.name}: {failure.line()}"] if failure else []
                progress.ended(job, failure is not None)
    result = finish(campaign.name, paths, cells, rows, seeds)
    if failures:
        counted = (result.total_failure()
                   or f"{len(failures)} of {len(jobs)} sessions failed; first error: {failures[0]}")
        raise BenchmarkError(f"{counted} (every error is in benchmark_df and info/*_error.json); resume with "
                             f"benchmark@{paths.predir} after fixing the cause")
    return result


def lay_out(campaign: RunSpec, paths: RunPaths) -> list[CellRun]:
    """The campaign's cells, recorded before any session runs: `info/{spec}_benchmark_cells.json` (every
    cell's axes, and why a cell cannot run), `cells/NAME.json` and each runnable cell's resolved spec
    (`{spec}_t{k}_spec.json`, from which retro mode rebuilds the cell's graphs)."""
    cells = cell_runs(campaign)
    write_json(paths.info(f"{paths.prename()}_benchmark_cells.json"),
               [{"cell": c.index, "name": c.cell.name, **c.axes, "error": c.error} for c in cells])
    write_cell_specs(paths, cells, campaign.spec.benchmark.seeds)
    for c in cells:
        if c.run is not None:
            write_resolved_spec(c.run, paths, c.index, seed_trial=SEED_TRIAL)
        else:
            log.warning(f"cell {c.index} ({describe(c)}) cannot run: {c.error}")
    return cells


def _write_sessions(paths: RunPaths, rows: dict) -> pd.DataFrame:
    df = pd.DataFrame([r for key in sorted(rows) for r in rows[key]])
    columns = tables.SESSION_COLUMNS + [c for c in df.columns if c not in tables.SESSION_COLUMNS]
    df = df.reindex(columns=columns)
    tables.write(df, tables.benchmark_df_path(paths))
    return df


def finish(name: str, paths: RunPaths, cells: list[CellRun], rows: dict, seeds: int) -> BenchmarkResult:
    """Write benchmark_df from `rows` ({(cell, seed): that session's rows}), benchmark_curves_df from every session's
    eval_df, and the campaign graph; at the end of a campaign, and in retro mode from a copied run folder."""
    sessions = _write_sessions(paths, rows)
    curves = pd.DataFrame([r for c in cells for s in range(seeds) for r in tables.curve_rows(paths, c, s)],
                          columns=tables.CURVE_COLUMNS)
    tables.write(curves, tables.curves_df_path(paths))
    graph = None
    try:
        graph = benchmark_graph(curves, graph_path(paths), name)
    except Exception as err:  # noqa: BLE001 - the tables are written; a plotting error must not lose the campaign
        log.warning(f"{name}: benchmark graph not drawn: {type(err).__name__}: {err}")
    counts = sessions.drop_duplicates(["cell", "seed"])["status"].value_counts().to_dict()
    log.info(f"{name}: sessions by status {counts}; benchmark_df and curves in {paths.predir / 'info'}")
    return BenchmarkResult(sessions, curves, graph)


def graph_path(paths: RunPaths) -> Path:
    return paths.graph(f"{paths.prename()}_benchmark_graph.png")
