"""Lab modes: what `python run_lab.py SPEC_FILE SPEC_NAME MODE` does, one handler per mode.

Modes are looked up in a registry (no if/elif chain): `train`, `dev`, `train@RUN_DIR` (resume),
`enjoy@RUN_DIR/SPEC_tT_sS`, `eval@RUN_DIR/SPEC_tT_sS[_ckpt_best | _ckpt_fN]` (a saved policy on any test
set), `search`, `search@RUN_DIR` (resume a killed search), `benchmark`, `benchmark@RUN_DIR`. The analyses
take run folders and no spec (`python run_lab.py report@RUN_DIR ...`):
`retro@RUN_DIR` rebuilds a run's graphs and derived tables from its info/ folder, `report@RUN_DIR [RUN_DIR ...]`
compares the runs' cells with statistics, figures and report.md.
"""
from __future__ import annotations

import copy
import dataclasses
import logging
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from slm_acl.experiment.paths import RunPaths
from slm_acl.experiment.resolved import write_resolved_spec
from slm_acl.experiment.trial import TrialResult, run_trial
from slm_acl.experiment.verdict import total_failure
from slm_acl.lib import logger as logging_lib
from slm_acl.lib.io import read_json
from slm_acl.spec.body_files import inline_bodies
from slm_acl.spec.loader import load_resolved, load_spec, placeholders
from slm_acl.spec.errors import SpecError
from slm_acl.spec.validate import RunSpec

log = logging_lib.get_logger("control")


@dataclasses.dataclass(frozen=True)
class Request:
    spec_file: str
    spec_name: str
    mode: str
    target: str | None  # the part after '@'
    sets: Mapping[str, str]
    data_dir: str
    ray_address: str | None = None  # search: attach to this Ray cluster (else RAY_ADDRESS, else local)
    storage_path: str | None = None  # search: where Tune keeps its state (default: the run folder)
    imports: tuple[str, ...] = ()  # --import MODULE: plugin modules added to the spec's meta.plugins


Handler = Callable[[Request], Any]
MODES: dict[str, Handler] = {}


def mode(name: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        MODES[name] = fn
        return fn

    return register


def parse_mode(text: str) -> tuple[str, str | None]:
    name, sep, target = text.partition("@")
    if name not in MODES:
        from slm_acl.lib.registry import did_you_mean

        raise SpecError("", f"unknown mode {text!r}.{did_you_mean(name, MODES)} "
                        f"Modes: {', '.join(sorted(MODES))}, train@data/RUN_DIR, search@data/RUN_DIR, "
                        "benchmark@data/RUN_DIR, enjoy@data/RUN_DIR/SPEC_t0_s0, eval@data/RUN_DIR/SPEC_t0_s0 "
                        "(or ..._ckpt_best, ..._ckpt_fN), retro@data/RUN_DIR, "
                        "report@data/RUN_DIR [data/RUN_DIR ...]")
    if sep and not target:
        raise SpecError("", f"mode {text!r} needs a path after '@'")
    return name, (target or None)


def run(spec_file: str, spec_name: str, mode_text: str, sets: Mapping[str, str] | None = None,
        data_dir: str = "data", ray_address: str | None = None, storage_path: str | None = None,
        imports: Sequence[str] = ()) -> Any:
    name, target = parse_mode(mode_text)
    return MODES[name](Request(spec_file, spec_name, name, target, dict(sets or {}), data_dir,
                               ray_address, storage_path, tuple(imports)))


def _start(run_spec: RunSpec, data_dir: str) -> RunPaths:
    paths = RunPaths.new(data_dir, run_spec.name)
    write_resolved_spec(run_spec, paths)
    log.info(f"{run_spec.name}: writing to {paths.predir}")
    return paths


@mode("train")
def train(req: Request) -> TrialResult:
    if req.target is not None:
        return resume(req)
    run_spec = _load(req)
    paths = _start(run_spec, req.data_dir)
    result = run_trial(run_spec, paths, trial=0, mode="train")
    log.info(f"{run_spec.name}: done; trial metrics {result.metrics}; data in {paths.predir}")
    return result


def _load(req: Request) -> RunSpec:
    return load_spec(req.spec_file, req.spec_name, req.sets, dev=req.mode == "dev", imports=req.imports)


def _diff(a: Any, b: Any, path: str = "") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        return [d for k in sorted(set(a) | set(b)) for d in _diff(a.get(k), b.get(k), f"{path}.{k}" if path else k)]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in _diff(x, y, f"{path}[{i}]")]
    return [] if a == b else [path]


def _saved_run(req: Request) -> tuple[RunSpec, RunPaths]:
    """The spec a run in `req.target` started with, checked against the spec given now."""
    predir = Path(req.target)
    saved_file = predir / f"{req.spec_name}_spec.json"
    if not saved_file.exists():
        raise SpecError("", f"cannot resume: {saved_file} not found (is {predir} a run of spec {req.spec_name!r}?)")
    run_spec = load_resolved(saved_file)  # drops the saved info: commentary plus what the lab recorded
    given = copy.deepcopy(_load(req).raw)
    given.pop("info", None)
    # where plugins are looked for depends on the directory the lab starts in; the saved folders are used
    # body files are compared by the bodies they hold: the saved spec names the run folder's copies
    differences = [d for d in _diff(inline_bodies(run_spec.raw), inline_bodies(given))
                   if d.partition("[")[0] != "meta.plugin_paths"]
    if differences:
        raise SpecError("", f"cannot resume {predir}: the spec differs from the saved one at "
                        f"{', '.join(differences)}; resume with the spec the run started with")
    paths = RunPaths(predir, run_spec.name)
    paths.make_dirs()
    return run_spec, paths


def resume(req: Request) -> TrialResult:
    """train@RUN_DIR: continue every unfinished session of the run from its last checkpoint."""
    run_spec, paths = _saved_run(req)
    log.info(f"{run_spec.name}: resuming {paths.predir}")
    return run_trial(run_spec, paths, trial=0, mode="train")


@mode("search")
def search(req: Request) -> Any:
    """Ray Tune over the spec's search block; `search@RUN_DIR` resumes a killed search."""
    from slm_acl.experiment import search as search_lib

    if req.target is not None:
        run_spec, paths = _saved_run(req)
        return search_lib.resume_search(run_spec, paths, req.ray_address)
    run_spec = _load(req)
    if run_spec.spec.search is None:
        raise SpecError("search", f"spec {run_spec.name!r} has no search block; add one, e.g. "
                        '{"curriculum": {"teacher": {"fit_rate__choice": [50, 150, 250]}}}')
    search_lib.prepare(run_spec, req.ray_address)
    paths = _start(run_spec, req.data_dir)
    return search_lib.run_search(run_spec, paths, req.ray_address, req.storage_path)


@mode("benchmark")
def benchmark(req: Request) -> Any:
    """A campaign over the spec's benchmark block, every session a Ray task; `benchmark@RUN_DIR` resumes."""
    from slm_acl.experiment.benchmark import run_benchmark
    from slm_acl.experiment.runner.ray_tasks import connect

    if req.target is not None:
        run_spec, paths = _saved_run(req)
        log.info(f"{run_spec.name}: resuming the campaign in {paths.predir}")
        return run_benchmark(run_spec, paths, req.ray_address, resume=True)
    run_spec = _load(req)
    if run_spec.spec.benchmark is None:
        raise SpecError("benchmark", f"spec {run_spec.name!r} has no benchmark block; add one, e.g. "
                        '{"seeds": 4, "teacher": {"Random": {"name": "Random"}, "ALP-GMM": {"name": "ALP-GMM"}}}')
    connect(req.ray_address)  # Ray reachable before the run folder is made
    paths = _start(run_spec, req.data_dir)
    return run_benchmark(run_spec, paths, req.ray_address)


@mode("dev")
def dev(req: Request) -> TrialResult:
    """One short verbose session with extra checks (a training step must change the weights)."""
    run_spec = _load(req)  # with dev mode's caps: one session, a short max_frame (spec.loader.dev_caps)
    logging.getLogger("slm_acl").setLevel(logging.DEBUG)
    paths = _start(run_spec, req.data_dir)
    return run_trial(run_spec, paths, trial=0, mode="dev")


@mode("enjoy")
def enjoy_mode(req: Request) -> Any:
    from slm_acl.experiment.enjoy import enjoy

    if req.target is None:
        raise SpecError("", "enjoy needs a session: enjoy@data/RUN_DIR/SPEC_t0_s0")
    return enjoy(req.target, req.sets, spec_file=req.spec_file, spec_name=req.spec_name)


@mode("eval")
def eval_mode(req: Request) -> Any:
    """eval@RUN_DIR/SPEC_tT_sS[_ckpt_best | _ckpt_fN]: a saved policy on its own or any test set (`-s test_set=...`),
    tables and a picture of the tasks in RUN_DIR/eval/."""
    from slm_acl.experiment.eval_mode import evaluate_saved

    if req.target is None:
        raise SpecError("", "eval needs a session or one of its kept checkpoints: eval@data/RUN_DIR/SPEC_t0_s0, "
                        "eval@data/RUN_DIR/SPEC_t0_s0_ckpt_best, eval@data/RUN_DIR/SPEC_t0_s0_ckpt_f500000")
    return evaluate_saved(req.target, req.sets, spec_file=req.spec_file, spec_name=req.spec_name)


@dataclasses.dataclass(frozen=True)
class Analysis:
    """An analysis of finished (or killed) runs: it reads their folders and needs no spec."""

    name: str
    targets: tuple[str, ...]  # run folders
    out: str | None = None  # report: where report/ goes (default: the first folder's report/)
    at_frame: int | None = None  # report: also read the statistics at this frame
    command: str = ""  # the command line, recorded in the report


ANALYSES: dict[str, Callable[[Analysis], Any]] = {}


def analysis(name: str) -> Callable[[Callable[[Analysis], Any]], Callable[[Analysis], Any]]:
    def register(fn: Callable[[Analysis], Any]) -> Callable[[Analysis], Any]:
        ANALYSES[name] = fn
        MODES[name] = lambda req: fn(Analysis(name, (req.target,) if req.target else ()))  # SPEC_FILE SPEC_NAME given
        return fn

    return register


def analyse(mode_text: str, more_targets: list[str] | tuple[str, ...] = (), out: str | None = None,
            at_frame: int | None = None, command: str = "") -> Any:
    """`report@RUN_DIR [RUN_DIR ...]`, `retro@RUN_DIR [RUN_DIR ...]`: the modes that take run folders, not a spec."""
    name, target = parse_mode(mode_text)
    if name not in ANALYSES:
        raise SpecError("", f"{name} takes SPEC_FILE SPEC_NAME {name}; the modes that take run folders alone are "
                        f"{', '.join(f'{a}@data/RUN_DIR' for a in sorted(ANALYSES))}")
    return ANALYSES[name](Analysis(name, tuple(t for t in (target, *more_targets) if t), out, at_frame, command))


def _folders(a: Analysis) -> list[Path]:
    if not a.targets:
        raise SpecError("", f"{a.name} needs a run folder: {a.name}@data/RUN_DIR")
    missing = [t for t in a.targets if not Path(t).is_dir()]
    if missing:
        raise SpecError("", f"{a.name}: no such run folder: {', '.join(missing)}")
    return [Path(t) for t in a.targets]


@analysis("retro")
def retro_mode(a: Analysis) -> Any:
    """retro@RUN_DIR: every graph and derived table of a run rebuilt from its info/ tables and saved specs."""
    from slm_acl.analysis.report.collect import run_spec_name
    from slm_acl.experiment.retro import retro

    results = [retro(folder, run_spec_name(folder)) for folder in _folders(a)]
    return results[0] if len(results) == 1 else results


@analysis("report")
def report_mode(a: Analysis) -> Any:
    """report@RUN_DIR [RUN_DIR ...]: statistics, figures and report.md comparing the cells of the runs."""
    from slm_acl.analysis.report.build import build_report

    return build_report(_folders(a), a.out, a.at_frame, a.command)


class ScheduleError(RuntimeError):
    """Some experiments of a schedule failed; the others ran."""


@dataclasses.dataclass(frozen=True)
class Scheduled:
    """One experiment of a schedule, as `run` takes it."""

    spec_file: str
    spec_name: str
    mode: str
    sets: Mapping[str, str]  # the -s values this spec has placeholders for


def read_schedule(path: str | Path, sets: Mapping[str, str] | None = None,
                  imports: Sequence[str] = ()) -> list[Scheduled]:
    """`config/experiments.json` as entries, every one checked (with its `-s` values) before any runs.

    `sets` (`-s VAR=VALUE`) go to every scheduled spec that has `${VAR}`, so one `-s frames=N` sizes a whole
    schedule; a value that no scheduled spec uses is an error, as it is for one spec.
    """
    sets = dict(sets or {})
    schedule = read_json(path)
    if not isinstance(schedule, dict) or not schedule:
        raise SpecError("", f"{path} must map spec files to {{spec_name: mode}}")
    entries = []
    for spec_file, names in schedule.items():
        if not isinstance(names, dict) or not names:
            raise SpecError(spec_file, f"in {path}: expected {{spec_name: mode}}, got {names!r}")
        for spec_name, mode_text in names.items():
            if not isinstance(mode_text, str):
                raise SpecError(f"{spec_file}.{spec_name}", f"in {path}: the mode must be a string, got {mode_text!r}")
            name, _ = parse_mode(mode_text)
            own = {k: v for k, v in sets.items() if k in placeholders(spec_file, spec_name)}
            run_spec = load_spec(spec_file, spec_name, own, dev=name == "dev", imports=imports)
            block = {"search": run_spec.spec.search, "benchmark": run_spec.spec.benchmark}
            if name in block and block[name] is None:
                raise SpecError(name, f"in {path}: {spec_file} {spec_name} is scheduled to {name} but has no "
                                f"{name} block")
            entries.append(Scheduled(spec_file, spec_name, mode_text, own))
    unused = sorted(set(sets) - {k for entry in entries for k in entry.sets})
    if unused:
        raise SpecError("", f"-s {', '.join(unused)} given, but no spec scheduled in {path} has such a placeholder")
    return entries


def run_schedule(path: str | Path, sets: Mapping[str, str] | None = None, data_dir: str = "data",
                 ray_address: str | None = None, imports: Sequence[str] = ()) -> list[Any]:
    """Run `config/experiments.json` ({spec_file: {spec_name: mode}}) in order, `sets` as `read_schedule` says.

    Every entry is checked first, so a typo in the last one does not surface hours later. An experiment
    that fails (raises, or every trial or session of it failed: `verdict.total_failure`) is logged and the
    next one runs; the failures are raised together at the end.
    """
    entries = read_schedule(path, sets, imports)
    results, failures = [], []
    for k, entry in enumerate(entries, 1):
        what = " ".join([entry.spec_file, entry.spec_name, entry.mode, *(f"-s {v}={x}" for v, x in entry.sets.items())])
        log.info(f"schedule {k}/{len(entries)}: {what}")
        try:
            results.append(run(entry.spec_file, entry.spec_name, entry.mode, entry.sets, data_dir=data_dir,
                               ray_address=ray_address, imports=imports))
        except Exception as err:  # noqa: BLE001 - one failed experiment must not cancel the rest
            failures.append(f"{what}: {type(err).__name__}: {err}")
            log.error(f"schedule {k}/{len(entries)} failed: {failures[-1]}")
            continue
        whole = total_failure(results[-1])
        if whole is not None:
            failures.append(f"{what}: {whole}")
            log.error(f"schedule {k}/{len(entries)} failed: {failures[-1]}")
    if failures:
        raise ScheduleError(f"{len(failures)} of {len(entries)} scheduled experiments failed: " + "; ".join(failures))
    return results
