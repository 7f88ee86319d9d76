"""The campaign's two tables, built from what each session wrote in `info/` (so they rebuild after a resume).

- `info/{spec}_benchmark_df.csv`: one row per session and body: the cell's axes (teacher, criterion,
  expert_knowledge, student), the body (label and embodiment), the seed, the status (FINISHED,
  FAILED, INVALID: the cell cannot run, PENDING: not run yet or interrupted), frames trained, the
  final % mastered, and the error of a failed or invalid cell;
- `info/{spec}_benchmark_curves_df.csv`: one row per evaluation: the same axes, body and seed, the
  frame and the % mastered then.
"""
from __future__ import annotations

from typing import Any

import pandas as pd

from slm_acl.env.bodies import embodiment_label
from slm_acl.experiment.benchmark.cells import CellRun
from slm_acl.experiment.paths import RunPaths
from slm_acl.lib.io import atomic_write
from slm_acl.spec.benchmark import AXES

FINISHED, FAILED, INVALID, PENDING = "FINISHED", "FAILED", "INVALID", "PENDING"
TIMING_COLUMNS = ("task_s", "session_s")  # measured by the driver as sessions end; no session table holds them
SESSION_COLUMNS = ["cell", *AXES, "body", "embodiment", "seed", "status", "frames", "mastered", "error"]
CURVE_COLUMNS = ["cell", *AXES, "body", "embodiment", "seed", "frame", "mastered"]


def _read(path) -> pd.DataFrame | None:
    if not path.exists():
        return None
    try:
        df = pd.read_csv(path)
    except (pd.errors.EmptyDataError, OSError):
        return None
    return df if len(df) else None


def session_rows(paths: RunPaths, cell: CellRun, seed: int, status: str, error: str = "") -> list[dict[str, Any]]:
    """One row per body of session `seed` of `cell`, from its tables."""
    base = {"cell": cell.index, **cell.axes, "seed": seed}
    if cell.run is None:
        return [{**base, "body": "", "embodiment": "", "status": INVALID, "frames": 0,
                 "mastered": float("nan"), "error": cell.error}]
    rows = []
    for plan in cell.run.bodies:
        episodes = _read(paths.table(cell.index, seed, plan.label, "session_df"))
        evals = _read(paths.table(cell.index, seed, plan.label, "eval_df"))
        rows.append({**base, "body": plan.label, "embodiment": embodiment_label(plan.embodiment), "status": status,
                     "frames": int(episodes["frame"].iloc[-1]) if episodes is not None else 0,
                     "mastered": float(evals["mastered"].iloc[-1]) if evals is not None else float("nan"),
                     "error": error})
    return rows


def curve_rows(paths: RunPaths, cell: CellRun, seed: int) -> list[dict[str, Any]]:
    if cell.run is None:
        return []
    rows = []
    for plan in cell.run.bodies:
        evals = _read(paths.table(cell.index, seed, plan.label, "eval_df"))
        if evals is None:
            continue
        base = {"cell": cell.index, **cell.axes, "body": plan.label, "embodiment": embodiment_label(plan.embodiment),
                "seed": seed}
        rows += [{**base, "frame": int(f), "mastered": float(m)} for f, m in zip(evals["frame"], evals["mastered"])]
    return rows


def benchmark_df_path(paths: RunPaths):
    return paths.info(f"{paths.prename()}_benchmark_df.csv")


def curves_df_path(paths: RunPaths):
    return paths.info(f"{paths.prename()}_benchmark_curves_df.csv")


def write(df: pd.DataFrame, path) -> None:
    atomic_write(path, lambda f: df.to_csv(f, index=False))


def read_statuses(paths: RunPaths) -> dict[tuple[int, int], str]:
    """(cell, seed) -> status from a benchmark_df written earlier (a resumed campaign), else empty."""
    df = _read(benchmark_df_path(paths))
    if df is None:
        return {}
    return {(int(c), int(s)): str(st) for c, s, st in zip(df["cell"], df["seed"], df["status"])}


def rebuilt_rows(paths: RunPaths, cells: list[CellRun], seeds: int) -> dict[tuple[int, int], list[dict[str, Any]]]:
    """Every session's rows rebuilt from its tables (retro mode), keyed (cell, seed).

    What only an earlier benchmark_df knows is taken from it: the status (PENDING where it is not known, even
    for a session whose tables exist), a failed session's error and the timing columns.
    """
    before = _read(benchmark_df_path(paths))
    known = {} if before is None else {(int(r["cell"]), int(r["seed"]), _text(r["body"])): r
                                       for r in before.to_dict("records")}
    statuses = read_statuses(paths)
    rows = {}
    for cell in cells:
        for seed in range(seeds):
            rows[(cell.index, seed)] = session_rows(paths, cell, seed, statuses.get((cell.index, seed), PENDING))
            for row in rows[(cell.index, seed)]:
                old = known.get((cell.index, seed, row["body"]))
                if old is None:
                    continue
                row.update({c: old[c] for c in TIMING_COLUMNS if c in old})
                if row["status"] == FAILED:
                    row["error"] = _text(old.get("error"))
    return rows


def _text(value: Any) -> str:
    """A text cell read back from CSV: an empty cell comes back as NaN."""
    return "" if value is None or pd.isna(value) else str(value)
