"""A search's results: the experiment table, each trial's status, the graph and the best spec.

Results come from Tune's result objects in memory (config, last report, error), never from files
read back by position; `experiment_df.csv`, the experiment graph and `{spec}_best_spec.json` are
written from them. A failed trial's error is its own (`SpecError: spec error at ...`), taken from inside
Ray's wrapper; a search whose every trial failed says so (`total_failure`), and the command line exits 1.
"""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from slm_acl.analysis.experiment_graph import experiment_graph
from slm_acl.experiment.paths import RunPaths
from slm_acl.experiment.search.scoring import RESULT_COLUMNS, SCORE, TIME_ATTR
from slm_acl.experiment.search.trial_index import TrialIndex, jsonable
from slm_acl.experiment.verdict import all_failed
from slm_acl.lib import logger as logging_lib
from slm_acl.lib.error_text import error_line
from slm_acl.lib.io import atomic_write, write_json
from slm_acl.spec import search_space
from slm_acl.spec.validate import RunSpec

log = logging_lib.get_logger("search")
ERROR_CHARS = 500  # an error longer than this is cut in experiment_df (the whole one is in Tune's error.txt)


@dataclasses.dataclass
class SearchResult:
    predir: Path
    experiment_df: pd.DataFrame
    best_spec_file: Path | None

    def total_failure(self) -> str | None:
        """One line when every trial failed (the search learned nothing): how many, and the first one's error."""
        table = self.experiment_df.sort_values("trial")
        return all_failed("trials", [e if s == "ERROR" else "" for s, e in zip(table["status"], table["error"])])


def finish(run: RunSpec, paths: RunPaths, keys: list[search_space.SearchedKey], grid: Any) -> SearchResult:
    """Write the experiment table, its graph and the best spec from Tune's result grid."""
    results = list(grid)
    index = TrialIndex(paths.predir)
    numbers = [index.find(trial_id_of(r), r.config) for r in results]
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

    `numbers` are the trials' indices (None: no claim matches, e.g. a trial Tune never started).
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
        row["error"] = error_line(result.error)[:ERROR_CHARS] if result.error else ""
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


def trial_id_of(result: Any) -> str:
    """The Tune trial id of a result: in its metrics once it reported, else in its folder name."""
    trial_id = (result.metrics or {}).get("trial_id")
    if trial_id:
        return str(trial_id)
    return Path(result.path or "").name.removeprefix("trial_")


def _cell(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    return value if isinstance(value, (int, float, str, bool)) or value is None else json.dumps(value)


def write_best_spec(run: RunSpec, paths: RunPaths, table: pd.DataFrame,
                    configs: dict[int, dict[str, Any]]) -> Path | None:
    """`{spec}_best_spec.json`: the spec with the best trial's values, ready for `run_lab.py FILE NAME train`."""
    scored = table[table[SCORE].notna() & (table["status"] == "TERMINATED")]  # final scores beat early ones
    if scored.empty:
        scored = table[table[SCORE].notna() & (table["status"] != "ERROR")]
    if scored.empty:
        return None
    best = scored.iloc[0]
    raw = search_space.apply(run.raw, jsonable(configs[int(best["trial"])]))
    raw.pop("name", None)
    raw.setdefault("info", {})["search"] = {"from": str(paths.predir), "trial": int(best["trial"]),
                                            "score": float(best[SCORE])}
    path = paths.predir / f"{run.name}_best_spec.json"
    write_json(path, {run.name: raw})
    return path
