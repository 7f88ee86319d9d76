"""Retro mode: every graph and derived table of a run, rebuilt from its `info/` tables and saved specs alone.

A run folder copied from a cluster node or another machine holds its tables and resolved specs, but often no
checkpoints and no graphs (or graphs drawn by older code). `retro@data/RUN_DIR` redraws them with the same
functions a run calls when it ends, so a rebuilt graph is the graph the run would have drawn:

- per session body, the session graph and, for a body with a curriculum, its curriculum PNG and GIF
  (`session_graphs`, as each session draws them);
- per trial, the trial graph and the trial table and metrics (`trial.trial_graphs`, `trial.trial_table`);
- for a search (`info/{spec}_experiment_df.csv`), the experiment graph of that table;
- for a benchmark campaign (`info/{spec}_benchmark_cells.json`), benchmark_df, benchmark_curves_df and the
  campaign graph (`benchmark.driver.finish`, as a campaign ends).

Which sessions exist is read from the files in `info/` (`{spec}_t{k}_s{s}_{label}_session_df.csv`), not from
`meta.max_session`: a killed run has fewer. The bodies (labels, curricula, task spaces) come from each trial's
saved resolved spec (`{spec}_t{k}_spec.json`; a campaign's cells are its trials), so a retro needs no spec file of
its own. A missing or empty table is skipped with a warning line; a folder that is not a run is a SpecError that
names the file it lacks.
"""
from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from slm_acl.analysis.files import BodyFiles
from slm_acl.analysis.graphs import read_table
from slm_acl.analysis.session_graphs import session_graphs
from slm_acl.experiment.paths import RunPaths
from slm_acl.experiment.trial import trial_graphs, trial_table
from slm_acl.lib import logger as logging_lib
from slm_acl.spec.errors import SpecError
from slm_acl.spec.loader import load_resolved
from slm_acl.spec.validate import BodyPlan, RunSpec

if TYPE_CHECKING:
    from slm_acl.experiment.benchmark.cells import CellRun

log = logging_lib.get_logger("retro")

SESSION_TABLE = "session_df"  # its files say which sessions and bodies exist


@dataclasses.dataclass
class RetroResult:
    """What a retro rebuilt: counts, and every file it wrote."""

    predir: Path
    session_bodies: int = 0  # session bodies whose graphs were drawn
    trials: int = 0  # trials whose graph and table were rebuilt
    graphs: list[Path] = dataclasses.field(default_factory=list)
    tables: list[Path] = dataclasses.field(default_factory=list)
    skipped: list[str] = dataclasses.field(default_factory=list)  # the warning lines

    def skip(self, line: str) -> None:
        log.warning(line)
        self.skipped.append(line)


class _Run:
    """The run folder being rebuilt: its layout, what has been written, each trial's saved spec (read once)."""

    def __init__(self, paths: RunPaths):
        self.paths = paths
        self.result = RetroResult(paths.predir)
        self._specs: dict[int, RunSpec | None] = {}

    def trial_spec(self, trial: int) -> RunSpec | None:
        """Trial `trial`'s saved resolved spec; None (with a warning) when it is missing."""
        if trial not in self._specs:
            path = self.paths.spec_file(trial)
            self._specs[trial] = load_resolved(path) if path.exists() else None
            if self._specs[trial] is None:
                self.result.skip(f"{path.name} not found: trial {trial}'s bodies are unknown; its graphs and "
                                 "tables are not rebuilt")
        return self._specs[trial]

    def top_spec(self) -> RunSpec:
        return load_resolved(self.paths.spec_file())


def retro(predir: Path, spec_name: str) -> RetroResult:
    """Rebuild every graph and derived table of the run in `predir` (a run of spec `spec_name`).

    Args:
        predir: the run folder, `data/{spec}_{stamp}`: `{spec}_spec.json`, the trial specs, `info/`.
        spec_name: the spec's name, the prefix of every file in the folder.

    Returns:
        Counts of what was rebuilt, the files written and the warnings of what was skipped.

    Raises:
        SpecError: `predir` is not a run folder of `spec_name`.
    """
    run = _Run(_run_paths(Path(predir), spec_name))
    run.paths.make_dirs()  # graph/ and the others, which a copied folder may lack
    for trial, sessions in sorted(discover_sessions(run.paths).items()):
        _rebuild_trial(run, trial, sessions)
    for marker, rebuild in RUN_KINDS.items():
        if run.paths.info(f"{run.paths.prename()}_{marker}").exists():
            rebuild(run)
    result = run.result
    log.info(f"{spec_name}: retro rebuilt the graphs of {result.session_bodies} session bodies and {result.trials} "
             f"trial(s): {len(result.graphs)} graphs, {len(result.tables)} tables in {result.predir}"
             + (f"; {len(result.skipped)} skipped (warnings above)" if result.skipped else ""))
    return result


def _run_paths(predir: Path, spec_name: str) -> RunPaths:
    """The run's layout, once the folder is known to hold a run of `spec_name`."""
    what = f"a run folder of spec {spec_name!r} holds {spec_name}_spec.json, its trial specs and info/"
    if not predir.is_dir():
        raise SpecError("", f"retro: run folder {predir} not found ({what})")
    paths = RunPaths(predir, spec_name)
    for needed in (paths.spec_file(), paths.predir / "info"):
        if not needed.exists():
            raise SpecError("", f"retro: {needed} not found: {predir} is not a run of spec {spec_name!r} ({what})")
    return paths


def discover_sessions(paths: RunPaths) -> dict[int, dict[int, set[str]]]:
    """{trial: {session: body labels}} of every `{spec}_t{k}_s{s}_{label}_session_df.csv` in `info/`."""
    pattern = re.compile(rf"{re.escape(paths.prename())}_t(\d+)_s(\d+)_(.+)_{SESSION_TABLE}\.csv")
    found: dict[int, dict[int, set[str]]] = {}
    for path in (paths.predir / "info").iterdir():
        match = pattern.fullmatch(path.name)
        if match:
            trial, session, label = int(match[1]), int(match[2]), match[3]
            found.setdefault(trial, {}).setdefault(session, set()).add(label)
    return found


def _rebuild_trial(run: _Run, trial: int, sessions: dict[int, set[str]]) -> None:
    """The session graphs of every session found, then the trial graph and table over those that had data."""
    spec = run.trial_spec(trial)
    if spec is None:
        return
    drawn = [s for s, labels in sorted(sessions.items()) if _rebuild_session(run, spec, trial, s, labels)]
    if not drawn:
        run.result.skip(f"{run.paths.prename(trial)}: no session has data; no trial graph or table")
        return
    paths = run.paths
    run.result.graphs += trial_graphs(spec, paths, trial, drawn)
    trial_table(spec, paths, trial, drawn)
    run.result.tables += [paths.info(f"{paths.prename(trial)}_trial_df.csv"),
                          paths.info(f"{paths.prename(trial)}_trial_metrics.json")]
    run.result.trials += 1


def _rebuild_session(run: _Run, spec: RunSpec, trial: int, session: int, labels: set[str]) -> bool:
    """Draw one session's graphs, as the session does when it ends; returns whether it had a body to draw."""
    prename = run.paths.prename(trial, session)
    for label in sorted(labels - {plan.label for plan in spec.bodies}):
        run.result.skip(f"{prename}: tables of body {label}, which {run.paths.spec_file(trial).name} does not have; "
                        "skipped")
    bodies = [(plan, run.paths.body_files(trial, session, plan.label)) for plan in spec.bodies]
    bodies = [(plan, files) for plan, files in bodies if _usable(run.result, plan, files)]
    if not bodies:
        return False
    try:
        run.result.graphs += session_graphs(bodies)
    except Exception as err:  # noqa: BLE001 - one unreadable table must not stop the rest of the run
        run.result.skip(f"{prename}: graphs not drawn: {type(err).__name__}: {err}")
        return False
    run.result.session_bodies += len(bodies)
    return True


def _usable(result: RetroResult, plan: BodyPlan, files: BodyFiles) -> bool:
    """Whether a body's graphs can be drawn (its session_df has rows), with a warning for each missing or empty
    table the graphs read (they are drawn without it)."""
    read = {"session_df": files.session_df, "eval_df": files.eval_df}
    if plan.curriculum is not None:
        read.update(curriculum_df=files.curriculum_df, teacher_df=files.teacher_df)
    lacking = {kind: "missing" if not path.exists() else "empty" for kind, path in read.items()
               if not _has_rows(path)}
    if "session_df" in lacking:
        result.skip(f"{files.title}: session_df {lacking['session_df']}; no graphs for this body")
        return False
    if lacking:
        result.skip(f"{files.title}: " + ", ".join(f"{k} {v}" for k, v in lacking.items())
                    + f"; drawn without {'it' if len(lacking) == 1 else 'them'}")
    return True


def _has_rows(path: Path) -> bool:
    """A CSV with at least one row after its header (read two lines, not the whole table)."""
    if not path.exists():
        return False
    with open(path) as f:
        return bool(f.readline().strip()) and bool(f.readline().strip())


# ---- run kinds: what a search and a campaign add, each found by the info/ file that marks it ------------------

def _rebuild_search(run: _Run) -> None:
    """The experiment graph from `info/{spec}_experiment_df.csv`, over the keys of the spec's search block."""
    from slm_acl.analysis.experiment_graph import experiment_graph
    from slm_acl.spec import search_space

    paths = run.paths
    table_path = paths.info(f"{paths.prename()}_experiment_df.csv")
    table = read_table(table_path)
    top = run.top_spec()
    if table is None or top.spec.search is None:
        run.result.skip(f"{table_path.name} is empty; no experiment graph" if table is None else
                        f"{paths.spec_file().name} has no search block; no experiment graph")
        return
    keys = search_space.parse(top.spec.search, search_space.without_search(top.raw))
    missing = [k.name for k in keys if k.name not in table]
    if missing:
        run.result.skip(f"{table_path.name} has no column for searched key(s) {missing}; no experiment graph")
        return
    drawn = experiment_graph(table, keys, paths.graph(f"{paths.prename()}_experiment_graph.png"), top.name)
    run.result.graphs += [drawn] if drawn is not None else []


def _rebuild_campaign(run: _Run) -> None:
    """benchmark_df, benchmark_curves_df and the campaign graph, from the cells recorded when the campaign began."""
    from slm_acl.experiment.benchmark import driver, tables  # imports Ray: only for a campaign

    paths = run.paths
    top = run.top_spec()
    if top.spec.benchmark is None:
        run.result.skip(f"{paths.spec_file().name} has no benchmark block; no campaign tables")
        return
    cells = _saved_cells(run)
    seeds = top.spec.benchmark.seeds
    rows = tables.rebuilt_rows(paths, cells, seeds)
    done = driver.finish(top.name, paths, cells, rows, seeds)
    run.result.tables += [tables.benchmark_df_path(paths), tables.curves_df_path(paths)]
    run.result.graphs += [done.graph] if done.graph is not None else []


def _saved_cells(run: _Run) -> list[CellRun]:
    """The campaign's cells from `info/{spec}_benchmark_cells.json` and each runnable cell's saved trial spec."""
    from slm_acl.experiment.benchmark.cells import CellRun
    from slm_acl.lib.io import read_json
    from slm_acl.spec.benchmark import AXES, Cell

    cells = []
    for entry in read_json(run.paths.info(f"{run.paths.prename()}_benchmark_cells.json")):
        index, error = int(entry["cell"]), entry.get("error") or ""
        spec = None if error else run.trial_spec(index)
        if not error and spec is None:
            continue  # its trial spec is missing (warned): the cell's rows are left out
        cells.append(CellRun(Cell(index, {a: entry[a] for a in AXES}, spec.raw if spec else {}), spec, error))
    return cells


RUN_KINDS: dict[str, Callable[[_Run], None]] = {
    "experiment_df.csv": _rebuild_search,
    "benchmark_cells.json": _rebuild_campaign,
}
