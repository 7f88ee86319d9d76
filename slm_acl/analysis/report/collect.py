"""Runs into two tables a report computes on: one row per session body, one row per evaluation.

A report compares cells. In a benchmark campaign the cells are the campaign's (its axes: teacher,
criterion, expert knowledge, student), read from `info/{spec}_benchmark_df.csv`. Any other run (a train
run, a search) makes each trial a cell: the spec name (and trial for a search), described with the same
axes taken from its saved resolved spec (the body's teacher; the env and task-space dims as criterion;
the expert-knowledge level; the algorithm), so that Random in another run of the same env is its baseline.

Scores are % mastered on the test set, read from each session's `eval_df` (the curves) and final row.
Only files are read (a run folder copied from a cluster works), never checkpoints.
"""
from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any

import pandas as pd

from slm_acl.analysis.graphs import read_table
from slm_acl.env.bodies import embodiment_label
from slm_acl.spec.errors import SpecError

AXES = ["teacher", "criterion", "expert_knowledge", "student"]
KEYS = ["cell", *AXES, "body", "embodiment"]  # one row of the summary
SESSION_COLUMNS = ["run", *KEYS, "env", "seed", "status", "frames", "score", "eval_tasks", "test_set", "error"]
CURVE_COLUMNS = ["run", *KEYS, "seed", "frame", "score"]
FINISHED, FAILED, PENDING, INVALID = "FINISHED", "FAILED", "PENDING", "INVALID"


@dataclasses.dataclass
class Runs:
    """What the report reads: session bodies, their evaluation curves, and where they came from."""

    sessions: pd.DataFrame
    curves: pd.DataFrame
    sources: list[dict[str, str]]  # one per run folder: path, spec, kind (benchmark / search / train)


def run_spec_name(predir: Path) -> str:
    """The spec a run folder holds: the one `{spec}_spec.json` at its top (not a trial's, a session's or a
    search's best spec), so that analysis modes take a folder alone, as one copied from a cluster."""
    names = [p.name[: -len("_spec.json")] for p in Path(predir).glob("*_spec.json")
             if not re.search(r"_t\d+(_s\d+)?_spec\.json$", p.name) and not p.name.endswith("_best_spec.json")]
    if len(names) != 1:
        raise SpecError("", f"{predir} is not a run folder: expected one SPEC_spec.json at its top, found "
                        f"{sorted(names) or 'none'}")
    return names[0]


def _session_files(predir: Path, spec: str, trial: int, seed: int, body: str) -> dict[str, Path]:
    stem = predir / "info" / f"{spec}_t{trial}_s{seed}_{body}"
    return {"eval_df": Path(f"{stem}_eval_df.csv"), "eval_tasks": Path(f"{stem}_eval_tasks_df.csv"),
            "test_set": Path(f"{stem}_test_set.json")}


def _curve(files: dict[str, Path]) -> pd.DataFrame | None:
    evals = read_table(files["eval_df"])
    if evals is None or "mastered" not in evals or not evals["mastered"].notna().any():
        return None
    return evals[["frame", "mastered"]].rename(columns={"mastered": "score"})


def _body_rows(predir: Path, spec: str, trial: int, seed: int, base: dict[str, Any], status: str,
               frames: int | None = None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    files = _session_files(predir, spec, trial, seed, base["body"])
    curve = _curve(files)
    row = {"run": str(predir), **base, "seed": seed, "status": status,
           "frames": frames if frames is not None else (int(curve["frame"].iloc[-1]) if curve is not None else 0),
           "score": float(curve["score"].iloc[-1]) if curve is not None else float("nan"),
           "eval_tasks": str(files["eval_tasks"]) if files["eval_tasks"].exists() else "",
           "test_set": str(files["test_set"]) if files["test_set"].exists() else "", "error": ""}
    points = [] if curve is None else [{"run": str(predir), **base, "seed": seed, "frame": int(f), "score": float(s)}
                                       for f, s in zip(curve["frame"], curve["score"])]
    return row, points


def _env_of(predir: Path, spec: str, trial: int, body: str) -> str:
    """The env a body of a trial ran on, from the trial's saved spec (body labels are a{a}_e{e}_b{b})."""
    spec_file = predir / f"{spec}_t{trial}_spec.json"
    match = re.fullmatch(r"a\d+_e(\d+)_b\d+", body)
    if not spec_file.exists() or match is None:
        return ""
    envs = json.loads(spec_file.read_text()).get("env", [])
    e = int(match.group(1))
    return str(envs[e].get("name", "")) if e < len(envs) else ""


def _from_benchmark(predir: Path, spec: str) -> tuple[list[dict], list[dict]]:
    table = read_table(predir / "info" / f"{spec}_benchmark_df.csv")
    if table is None:
        raise SpecError("", f"{predir}: the campaign has no benchmark_df yet (info/{spec}_benchmark_df.csv)")
    cells = json.loads((predir / "info" / f"{spec}_benchmark_cells.json").read_text())
    names = {int(c["cell"]): c["name"] for c in cells}
    rows, points = [], []
    for r in table.fillna({"body": "", "embodiment": "", "error": ""}).to_dict("records"):
        base = {"cell": names.get(int(r["cell"]), str(r["cell"])), **{a: str(r[a]) for a in AXES},
                "body": str(r["body"]), "embodiment": str(r["embodiment"])}
        if r["status"] == INVALID:
            rows.append({"run": str(predir), **base, "env": "", "seed": int(r["seed"]), "status": INVALID, "frames": 0,
                         "score": float("nan"), "eval_tasks": "", "test_set": "", "error": str(r["error"])})
            continue
        row, curve = _body_rows(predir, spec, int(r["cell"]), int(r["seed"]), base, str(r["status"]))
        rows.append({**row, "env": _env_of(predir, spec, int(r["cell"]), base["body"]), "error": str(r["error"])})
        points += curve
    return rows, points


def _trial_axes(spec_file: Path) -> list[dict[str, str]]:
    """Each body's axes from a trial's saved resolved spec: its teacher, env and task dims, level, algorithm."""
    from slm_acl.spec.loader import load_resolved

    run = load_resolved(spec_file)
    out = []
    for plan in run.bodies:
        env = run.spec.env[plan.e].name
        curriculum = plan.curriculum
        dims = ", ".join(curriculum.task_space) if curriculum is not None else ""
        out.append({"env": env, "teacher": curriculum.teacher.name if curriculum is not None else "none",
                    "criterion": f"{env}({dims})" if dims else env,
                    "expert_knowledge": (curriculum.expert_knowledge or "spec") if curriculum is not None else "spec",
                    "student": run.spec.agent[plan.a].algorithm.name,
                    "body": plan.label, "embodiment": embodiment_label(plan.embodiment)})
    return out


def _session_status(predir: Path, spec: str, trial: int, seed: int, finished: set[int]) -> str:
    if (predir / "info" / f"{spec}_t{trial}_s{seed}_error.json").exists():
        return FAILED
    return FINISHED if seed in finished else PENDING


def _from_trials(predir: Path, spec: str) -> tuple[list[dict], list[dict]]:
    rows, points = [], []
    trials = sorted(int(m.group(1)) for p in predir.glob(f"{spec}_t*_spec.json")
                    if (m := re.fullmatch(rf"{re.escape(spec)}_t(\d+)_spec\.json", p.name)))
    for trial in trials:
        trial_df = read_table(predir / "info" / f"{spec}_t{trial}_trial_df.csv")
        finished = set() if trial_df is None else {int(s) for s in trial_df["session"]}
        seeds = sorted({int(m.group(1)) for p in (predir / "info").glob(f"{spec}_t{trial}_s*_session_df.csv")
                        if (m := re.match(rf"{re.escape(spec)}_t{trial}_s(\d+)_", p.name))})
        cell = spec if len(trials) == 1 else f"{spec}_t{trial}"
        for axes in _trial_axes(predir / f"{spec}_t{trial}_spec.json"):
            env = axes.pop("env")
            for seed in seeds:
                row, curve = _body_rows(predir, spec, trial, seed, {"cell": cell, **axes},
                                        _session_status(predir, spec, trial, seed, finished))
                rows.append({**row, "env": env})
                points += curve
    return rows, points


def collect(run_dirs: list[str | Path]) -> Runs:
    """Read every run folder into one table of session bodies and one of evaluation points."""
    rows, points, sources = [], [], []
    for run_dir in run_dirs:
        predir = Path(run_dir)
        if not predir.is_dir():
            raise SpecError("", f"{predir} is not a folder (report@data/RUN_DIR [data/RUN_DIR ...])")
        spec = run_spec_name(predir)
        kind = ("benchmark" if (predir / "info" / f"{spec}_benchmark_cells.json").exists() else
                "search" if (predir / "info" / f"{spec}_experiment_df.csv").exists() else "train")
        read = _from_benchmark if kind == "benchmark" else _from_trials
        r, p = read(predir, spec)
        rows += r
        points += p
        sources.append({"path": str(predir), "spec": spec, "kind": kind})
    return Runs(pd.DataFrame(rows, columns=SESSION_COLUMNS), pd.DataFrame(points, columns=CURVE_COLUMNS), sources)
