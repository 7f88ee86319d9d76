"""Search mode: Ray Tune samples the spec's `search` block; each sample is a trial of `meta.max_session` seeds.

How it is wired, and why:
- A trial is a Tune function trainable that holds no resources itself; its sessions are Ray tasks, one
  placement-group bundle each (`meta.resources`: CPUs, GPUs), so Ray never puts more sessions on a node
  than it has cores for, trials queue until their bundles are free, and on a cluster sessions go to any
  node. Each session pins its BLAS / torch threads to `meta.num_threads`.
- Sessions stream every evaluation back (a Ray generator task); once every session of the trial has
  reported its k-th evaluation the trial reports their mean score to Tune, so a scheduler (ASHA) can stop
  a bad trial early. The score is the % mastered on the test set, or the return moving average for specs
  without a curriculum.
- Trials are numbered 0, 1, 2 ... as they start (`TrialIndex`); a trial's files in the run folder are
  `{spec}_t{index}_...`, as in train mode.
- Results come from Tune's result objects in memory (config, last report, error), never from files read
  back by position. `experiment_df.csv`, the experiment graph and `{spec}_best_spec.json` are written
  from them.
- A trial that raises is recorded with its error and the others go on. A killed search resumes with
  `search@RUN_DIR` (Tune's restore); the sessions of an interrupted trial continue from their checkpoints.
"""
from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
import queue
import threading
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import pandas as pd
import ray
from ray import tune

from slm_acl.analysis.experiment_graph import experiment_graph
from slm_acl.experiment.paths import RunPaths
from slm_acl.experiment.session import SessionResult, resolved_raw, run_session
from slm_acl.experiment.trial import analyse_trial
from slm_acl.lib import logger as logging_lib
from slm_acl.lib.io import atomic_write, read_json, write_json
from slm_acl.lib.threads import pin_threads
from slm_acl.spec import search_space
from slm_acl.spec.errors import SpecError
from slm_acl.spec.model import MetaSpec
from slm_acl.spec.validate import RunSpec, validate

log = logging_lib.get_logger("search")

SEED_TRIAL = 0  # every trial's sessions take trial 0's seeds: trials differ by their searched values only,
# and `{spec}_best_spec.json` rerun in train mode (trial 0) replays the best trial's seeds
SCORE = "score"
TIME_ATTR = "frame"
RESULT_COLUMNS = ["mastered", "eval_mean_return", "return_ma"]


# ---- trial index ------------------------------------------------------------------------------

class TrialIndex:
    """Numbers the trials 0, 1, 2 ... in the order they start: `{predir}/info/trials/t{k}.json` = (trial id, values).

    Tune's trial ids are opaque (counters for random search, uuids for Optuna) and, after a kill, an id
    can come back with other values when Tune had not saved that trial yet. A trial keeps its index only
    when both its id and its values match a claim, so sessions never resume from another config's
    checkpoints; an index is claimed by creating its file exclusively (a hard link), safe between
    concurrent trials and on shared file systems.
    """

    def __init__(self, predir: Path):
        self.folder = predir / "info" / "trials"

    def claims(self) -> dict[int, dict[str, Any]]:
        out = {}
        for f in self.folder.glob("t*.json"):
            if f.stem[1:].isdigit():
                try:
                    out[int(f.stem[1:])] = read_json(f)
                except (OSError, ValueError):
                    continue
        return out

    def find(self, trial_id: str, values: dict[str, Any]) -> int | None:
        wanted = {"trial_id": trial_id, "values": _jsonable(values)}
        return next((k for k, c in sorted(self.claims().items()) if c == wanted), None)

    def claim(self, trial_id: str, values: dict[str, Any]) -> int:
        found = self.find(trial_id, values)
        if found is not None:
            return found
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = self.folder / f".claim_{os.getpid()}_{threading.get_ident()}.json"
        write_json(tmp, {"trial_id": trial_id, "values": _jsonable(values)})
        try:
            k = 0
            while True:
                try:
                    os.link(tmp, self.folder / f"t{k}.json")
                    return k
                except FileExistsError:
                    k += 1
        finally:
            tmp.unlink(missing_ok=True)


def trial_dirname(trial: Any) -> str:
    return f"trial_{trial.trial_id}"


def _jsonable(config: dict[str, Any]) -> Any:
    return json.loads(json.dumps(config, default=lambda o: o.item() if hasattr(o, "item") else str(o)))


# ---- sessions as Ray tasks ----------------------------------------------------------------------

@dataclasses.dataclass
class _Failed:
    error: BaseException


def session_events(raw: dict, predir: str, trial: int, session: int, num_threads: int) -> Iterator[Any]:
    """Run one session, yielding each evaluation (a dict) as it happens and the SessionResult last.

    The session runs in a thread of the task so that its evaluations can be yielded while it trains.
    """
    pin_threads(num_threads)
    logging.getLogger("slm_acl").setLevel(logging.INFO)  # INFO to the session's log file
    logging_lib.add_warning_console()  # warnings and errors to the worker's stderr, which Ray shows the driver
    events: queue.Queue = queue.Queue()

    def target() -> None:
        try:
            events.put(run_session(raw, predir, trial, session, "train", progress=False, on_eval=events.put,
                                   seed_trial=SEED_TRIAL))
        except BaseException as err:  # handed to the caller, which records it
            events.put(_Failed(err))

    threading.Thread(target=target, name=f"session-{session}", daemon=True).start()
    while True:
        item = events.get()
        if isinstance(item, _Failed):
            raise item.error
        yield item
        if isinstance(item, SessionResult):
            return


_remote_session = ray.remote(session_events)


class EvalBoard:
    """Collects the sessions' evaluations and yields the trial's report at each evaluation frame.

    Frame F is reported once every started (session, body) still training has evaluated at F or later;
    a body that reached its max_frame, or a session that ended, no longer holds a frame back, and a
    session not started yet (meta.max_parallel) is not waited for. Each report averages, per
    (session, body), the latest evaluation at or before F. Frames, not counts, line evaluations up, so
    a session resumed from a checkpoint (which repeats no evaluation) still lines up with the others.
    """

    def __init__(self, max_frames: dict[str, int]):
        self.max_frames = max_frames
        self.evals: dict[tuple[int, str], list[dict]] = {}
        self.finished: set[int] = set()
        self.last_frame = -1

    def start(self, session: int) -> None:
        for label in self.max_frames:
            self.evals.setdefault((session, label), [])

    def add(self, event: dict) -> None:
        self.evals.setdefault((event["session"], event["body"]), []).append(event)

    def finish(self, session: int) -> None:
        self.finished.add(session)

    def _holds_back(self, key: tuple[int, str], frame: int) -> bool:
        session, label = key
        events = self.evals[key]
        done = session in self.finished or (events and events[-1]["frame"] >= self.max_frames[label])
        return not done and (not events or events[-1]["frame"] < frame)

    def ready_rounds(self) -> Iterator[dict[str, float]]:
        frames = sorted({e["frame"] for v in self.evals.values() for e in v if e["frame"] > self.last_frame})
        for frame in frames:
            if any(self._holds_back(key, frame) for key in self.evals):
                return
            rows = [next(e for e in reversed(v) if e["frame"] <= frame) for v in self.evals.values()
                    if v and v[0]["frame"] <= frame]
            self.last_frame = frame
            yield round_report(rows, frame)


def round_report(rows: list[dict], frame: int) -> dict[str, float]:
    mastered = [r["mastered"] for r in rows if math.isfinite(r["mastered"])]
    report = {TIME_ATTR: int(frame),
              "mastered": float(np.mean(mastered)) if mastered else float("nan"),
              "eval_mean_return": float(np.mean([r["mean_return"] for r in rows])),
              "return_ma": float(np.nanmean([r["return_ma"] for r in rows]))}
    report[SCORE] = trial_score(report)
    return report


def trial_score(metrics: dict[str, float]) -> float:
    """% mastered on the test set when the trial has one, else the return moving average."""
    mastered = metrics.get("mastered", float("nan"))
    return float(mastered) if math.isfinite(mastered) else float(metrics.get("return_ma", float("nan")))


# ---- the trial (a Tune function trainable) ----------------------------------------------------------

def run_search_trial(config: dict[str, Any], base_raw: dict, predir: str) -> None:
    run = validate(search_space.apply(base_raw, config))
    paths = RunPaths(Path(predir), run.name)
    trial = TrialIndex(paths.predir).claim(tune.get_context().get_trial_id(), config)
    write_json(paths.spec_file(trial), resolved_raw(run, paths, trial))
    meta = run.spec.meta
    sessions = list(range(meta.max_session))
    for s in sessions:
        write_json(paths.spec_file(trial, s), resolved_raw(run, paths, trial, s, seed_trial=SEED_TRIAL))
    # no retries: a session that dies is the trial's error, not a silent restart with repeated evaluations
    task = _remote_session.options(num_cpus=session_cpus(meta), num_gpus=meta.resources.gpu, max_retries=0)
    waiting = list(sessions)  # started as bundles free up (meta.max_parallel)
    streams: dict[Any, int] = {}
    board = EvalBoard({p.label: run.spec.env[p.e].max_frame for p in run.bodies})
    last_frame = max(b.max_frame for b in run.spec.env)
    try:
        while streams or waiting:
            while waiting and len(streams) < parallel_sessions(meta):
                s = waiting.pop(0)
                board.start(s)
                raw = resolved_raw(run, paths, trial, s, seed_trial=SEED_TRIAL)
                streams[task.remote(raw, predir, trial, s, meta.num_threads)] = s
            ready, _ = ray.wait(list(streams), num_returns=1)
            for stream in ready:
                s = streams[stream]
                try:
                    item = ray.get(next(stream))
                except StopIteration:
                    del streams[stream]
                    continue
                except ray.exceptions.RayTaskError as err:
                    raise RuntimeError(f"{paths.prename(trial, s)} failed: {_cause(err)}") from None
                if isinstance(item, SessionResult):
                    board.finish(s)
                else:
                    board.add(item)
                for report in board.ready_rounds():
                    if report[TIME_ATTR] < last_frame:  # the last evaluation is reported with the trial's metrics
                        tune.report({"trial": trial, **report})
    finally:
        for stream in streams:
            ray.cancel(stream, force=True)
    metrics = analyse_trial(run, paths, trial, sessions)
    final = {"trial": trial, TIME_ATTR: last_frame,
             **{c: metrics.get(c, float("nan")) for c in RESULT_COLUMNS}, "complete": True}
    final[SCORE] = trial_score(final)
    tune.report(final)


def _cause(err: ray.exceptions.RayTaskError) -> str:
    cause = err.cause if getattr(err, "cause", None) is not None else err
    return f"{type(cause).__name__}: {cause}"


def session_cpus(meta: MetaSpec) -> float:
    return meta.resources.cpu if meta.resources.cpu is not None else float(meta.num_threads)


def parallel_sessions(meta: MetaSpec) -> int:
    return min(meta.max_session, meta.max_parallel or meta.max_session)


def trial_resources(meta: MetaSpec) -> tune.PlacementGroupFactory:
    """An empty bundle for the trainable (it only waits) and one bundle per session run at once.

    With `meta.max_parallel` below `max_session`, the trial holds that many bundles and its other
    sessions queue for them.
    """
    bundle = {"CPU": session_cpus(meta)}
    if meta.resources.gpu:
        bundle["GPU"] = meta.resources.gpu
    return tune.PlacementGroupFactory([{}] + [dict(bundle) for _ in range(parallel_sessions(meta))])


def check_fits(meta: MetaSpec, available: dict[str, float], local: bool) -> None:
    """A trial that needs more than a local Ray has would wait forever: say so, with the keys to change."""
    if session_cpus(meta) < meta.num_threads:
        log.warning(f"meta.resources.cpu {session_cpus(meta):g} < meta.num_threads {meta.num_threads}: sessions "
                    "will share cores (oversubscribed)")
    needs = {"CPU": session_cpus(meta) * parallel_sessions(meta), "GPU": meta.resources.gpu * parallel_sessions(meta)}
    short = {k: v for k, v in needs.items() if v > available.get(k, 0.0) + 1e-9}
    if not short:
        return
    message = (f"a trial needs {', '.join(f'{v:g} {k}' for k, v in short.items())} at once "
               f"({parallel_sessions(meta)} sessions x meta.resources), but Ray has "
               f"{', '.join(f'{available.get(k, 0.0):g} {k}' for k in short)}; lower meta.max_parallel "
               "(sessions at once) or meta.resources")
    if local:
        raise SpecError("meta.resources", message)
    log.warning(message + " (waiting for the cluster to grow)")


# ---- search algorithms and schedulers (registries) -------------------------------------------------------

def _random(meta: MetaSpec) -> Any:
    return None  # Tune's default: random and grid sampling


def _optuna(meta: MetaSpec) -> Any:
    try:
        from ray.tune.search.optuna import OptunaSearch
        return OptunaSearch(seed=meta.seed)
    except ImportError as err:
        raise SpecError("meta.search_algorithm", f"'optuna' needs the optuna package ({err}); "
                        "install it with `.venv/bin/pip install optuna`") from None


SEARCH_ALGORITHMS: dict[str, Callable[[MetaSpec], Any]] = {"random": _random, "optuna": _optuna}


def _asha(run: RunSpec) -> Any:
    from ray.tune.schedulers import AsyncHyperBandScheduler

    s = run.spec.meta.search_scheduler
    return AsyncHyperBandScheduler(time_attr=TIME_ATTR, max_t=max(e.max_frame for e in run.spec.env),
                                   grace_period=s.grace_period or run.spec.meta.eval_frequency,
                                   reduction_factor=s.reduction_factor, brackets=s.brackets)


SCHEDULERS: dict[str, Callable[[RunSpec], Any]] = {"ASHA": _asha}


# ---- the driver ------------------------------------------------------------------------------------------

@dataclasses.dataclass
class SearchResult:
    predir: Path
    experiment_df: pd.DataFrame
    best_spec_file: Path | None


def storage_uri(path: str | Path) -> str:
    """Tune's storage: a cloud URI (`s3://...`) as given, a local path made absolute."""
    text = str(path)
    return text if "://" in text else str(Path(text).resolve())


def connect(ray_address: str | None) -> bool:
    """Attach to `ray_address` (or RAY_ADDRESS), else start Ray on this machine's cores.

    Returns whether Ray is a single machine (then a trial bigger than it can never start).
    """
    if ray.is_initialized():
        if ray_address:
            log.warning(f"Ray is already running in this process; --ray-address {ray_address} is not used")
    else:
        ray.init(address=ray_address, log_to_driver=True, include_dashboard=False)
    alive = [n for n in ray.nodes() if n.get("Alive")]
    return len(alive) <= 1 and not (ray_address or os.environ.get("RAY_ADDRESS"))


def prepare(run: RunSpec, ray_address: str | None) -> None:
    """Everything that can refuse a search before its run folder exists: Ray reachable, a trial fits."""
    local = connect(ray_address)
    check_fits(run.spec.meta, ray.cluster_resources(), local)


def _trainable(run: RunSpec, predir: Path) -> Any:
    fn = tune.with_parameters(run_search_trial, base_raw=run.raw, predir=str(predir.resolve()))
    return tune.with_resources(fn, trial_resources(run.spec.meta))


def run_search(run: RunSpec, paths: RunPaths, ray_address: str | None = None,
               storage_path: str | None = None, verbose: int = 1) -> SearchResult:
    keys = search_space.parse(run.spec.search, search_space.without_search(run.raw))
    meta = run.spec.meta
    storage = storage_uri(storage_path or paths.predir)
    # inside the run folder Tune's state is `tune/`; a storage shared by many searches gets one folder per run
    tune_name = "tune" if storage_path is None else paths.predir.name
    write_json(paths.info(f"{paths.prename()}_search.json"),
               {"storage_path": storage, "tune_name": tune_name, "searched": [k.name for k in keys]})
    prepare(run, ray_address)
    trials = meta.max_trial * search_space.grid_size(keys)
    log.info(f"{run.name}: searching {', '.join(k.name for k in keys)} over {trials} trial(s) of "
             f"{meta.max_session} session(s); Ray resources {ray.cluster_resources()}")
    scheduler = SCHEDULERS[meta.search_scheduler.name](run) if meta.search_scheduler else None
    tuner = tune.Tuner(
        _trainable(run, paths.predir),
        param_space=search_space.tune_space(keys),
        tune_config=tune.TuneConfig(metric=SCORE, mode="max", num_samples=meta.max_trial,
                                    search_alg=SEARCH_ALGORITHMS[meta.search_algorithm](meta), scheduler=scheduler,
                                    trial_dirname_creator=trial_dirname),
        run_config=tune.RunConfig(name=tune_name, storage_path=storage, verbose=verbose),
    )
    return _finish(run, paths, keys, tuner.fit())


def resume_search(run: RunSpec, paths: RunPaths, ray_address: str | None = None) -> SearchResult:
    """Restore a killed search from Tune's saved state; unfinished trials rerun and their sessions resume."""
    saved = read_json(paths.info(f"{paths.prename()}_search.json"))
    keys = search_space.parse(run.spec.search, search_space.without_search(run.raw))
    experiment = f"{saved['storage_path'].rstrip('/')}/{saved['tune_name']}"
    if not tune.Tuner.can_restore(experiment):
        raise SpecError("", f"cannot resume the search: no Tune state in {experiment}")
    connect(ray_address)
    log.info(f"{run.name}: resuming the search in {experiment}")
    tuner = tune.Tuner.restore(experiment, trainable=_trainable(run, paths.predir),
                               resume_unfinished=True, resume_errored=False, restart_errored=False)
    return _finish(run, paths, keys, tuner.fit())


def _finish(run: RunSpec, paths: RunPaths, keys: list[search_space.SearchedKey], grid: Any) -> SearchResult:
    results = list(grid)
    index = TrialIndex(paths.predir)
    numbers = [index.find(_trial_id_of(r), r.config) for r in results]
    table = experiment_table(results, numbers, [k.name for k in keys])
    configs = {k: r.config for k, r in zip(numbers, results) if k is not None}
    csv = paths.info(f"{paths.prename()}_experiment_df.csv")
    atomic_write(csv, lambda f: table.to_csv(f, index=False))
    experiment_graph(table, keys, paths.graph(f"{paths.prename()}_experiment_graph.png"), run.name)
    best_file = write_best_spec(run, paths, table, configs)
    failed = int((table["status"] == "ERROR").sum()) if len(table) else 0
    log.info(f"{run.name}: {len(table)} trial(s), {failed} failed; experiment_df in {csv}"
             + (f"; best spec {best_file}" if best_file else ""))
    if len(table):
        log.info("\n" + table.drop(columns=["error"]).to_string(index=False, max_colwidth=40))
    return SearchResult(paths.predir, table, best_file)


def experiment_table(results: list[Any], numbers: list[int | None], searched: list[str]) -> pd.DataFrame:
    """One row per trial from Tune's results in memory: searched values, score, metrics, status, error.

    `numbers` are the trials' indices (None: the trial failed before it took one, e.g. a bad value).
    """
    rows = []
    for result, number in zip(results, numbers):
        metrics = result.metrics or {}
        row: dict[str, Any] = {"trial": -1 if number is None else number}
        row["status"] = status_of(result.error, metrics)
        row[SCORE] = float(metrics.get(SCORE, float("nan")))
        row.update({name: _cell(result.config.get(name)) for name in searched})
        row[TIME_ATTR] = metrics.get(TIME_ATTR)
        row.update({c: float(metrics.get(c, float("nan"))) for c in RESULT_COLUMNS})
        row["error"] = _one_line(result.error) if result.error else ""
        rows.append(row)
    columns = ["trial", "status", SCORE, *searched, TIME_ATTR, *RESULT_COLUMNS, "error"]
    table = pd.DataFrame(rows, columns=columns)
    return table.sort_values([SCORE, "trial"], ascending=[False, True], na_position="last").reset_index(drop=True)


def status_of(error: BaseException | None, metrics: dict) -> str:
    """ERROR: raised; TERMINATED: ran to the end; STOPPED: cut by the scheduler; PENDING: never reported
    (the search was interrupted before the trial ran)."""
    if error:
        return "ERROR"
    if metrics.get("complete"):
        return "TERMINATED"
    return "STOPPED" if SCORE in metrics else "PENDING"


def _trial_id_of(result: Any) -> str:
    """The Tune trial id of a result: in its metrics once it reported, else in its folder name."""
    trial_id = (result.metrics or {}).get("trial_id")
    if trial_id:
        return str(trial_id)
    return Path(result.path or "").name.removeprefix("trial_")


def _cell(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    return value if isinstance(value, (int, float, str, bool)) or value is None else json.dumps(value)


def _one_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    lines = [t for t in text if t.strip()]
    for line in reversed(lines):  # Ray wraps the trial's error in a traceback; keep its last message
        if ":" in line and not line.startswith(" "):
            return line.strip()[:500]
    return (lines[-1] if lines else type(error).__name__)[:500]


def write_best_spec(run: RunSpec, paths: RunPaths, table: pd.DataFrame,
                    configs: dict[int, dict[str, Any]]) -> Path | None:
    """`{spec}_best_spec.json`: the spec with the best trial's values, ready for `run_lab.py FILE NAME train`."""
    scored = table[table[SCORE].notna() & (table["status"] == "TERMINATED")]  # final scores beat early ones
    if scored.empty:
        scored = table[table[SCORE].notna() & (table["status"] != "ERROR")]
    if scored.empty:
        return None
    best = scored.iloc[0]
    raw = search_space.apply(run.raw, _jsonable(configs[int(best["trial"])]))
    raw.pop("name", None)
    raw.setdefault("info", {})["search"] = {"from": str(paths.predir), "trial": int(best["trial"]),
                                            "score": float(best[SCORE])}
    path = paths.predir / f"{run.name}_best_spec.json"
    write_json(path, {run.name: raw})
    return path
