"""The report's tables: per cell statistics against Random, pairwise tests, aggregate intervals, profiles.

A cell's baseline is the Random cell with the same criterion, expert-knowledge level, student and
embodiment (TeachMyAgent's comparison). Scores are the final % mastered of each finished session, or the
% mastered at the last evaluation at or before `at_frame` (TeachMyAgent also reads its figures at 10M).
Sessions that did not finish, or did not reach `at_frame`, are left out and the cell's note says so.
"""
from __future__ import annotations

import dataclasses
import itertools
from typing import Any

import numpy as np
import pandas as pd

from slm_acl.analysis.report import stats
from slm_acl.analysis.report.collect import AXES, FINISHED, INVALID, KEYS, Runs

BASELINE = "Random"
PANEL = ["criterion", "expert_knowledge", "student", "embodiment"]  # what must match for a comparison
GROUP = ["teacher", "expert_knowledge", "student", "embodiment"]  # aggregated over criteria (the tasks)
TAUS = np.linspace(0.0, 100.0, 51)
SUMMARY_COLUMNS = [*KEYS, "n", "mean", "se", "median", "iqm", "iqm_ci_low", "iqm_ci_high", "ratio_to_random",
                   "p_welch_vs_random", "prob_improvement_vs_random", "prob_improvement_ci_low",
                   "prob_improvement_ci_high", "strength", "efficiency", "stability", "consistency", "note"]


@dataclasses.dataclass
class Tables:
    scores: pd.DataFrame  # one row per included session body: KEYS, seed, score
    summary: pd.DataFrame
    pairs: pd.DataFrame
    intervals: pd.DataFrame
    profiles: pd.DataFrame
    at_frame: int | None


def _score_at(curves: pd.DataFrame, frame: int) -> pd.DataFrame:
    """Per session body, the score of the last evaluation at or before `frame`, if the session got there."""
    keyed = curves.groupby([*KEYS, "run", "seed"], sort=False)
    reached = keyed["frame"].max() >= frame
    before = curves[curves["frame"] <= frame].sort_values("frame").groupby([*KEYS, "run", "seed"], sort=False).last()
    return before.loc[before.index.intersection(reached[reached].index), ["score"]].reset_index()


def session_scores(runs: Runs, at_frame: int | None = None) -> tuple[pd.DataFrame, dict[tuple, str]]:
    """The scores the statistics use, and a note per cell about the sessions left out."""
    sessions = runs.sessions
    finished = sessions[(sessions["status"] == FINISHED) & sessions["score"].notna()]
    if at_frame is None:
        scores = finished[[*KEYS, "run", "seed", "score"]]
    else:
        scores = _score_at(runs.curves, at_frame)
    notes: dict[tuple, str] = {}
    for key, cell in sessions.groupby(KEYS, sort=False):
        parts = []
        invalid = cell[cell["status"] == INVALID]
        if len(invalid):
            parts.append(f"cannot run: {invalid['error'].iloc[0]}")
        unfinished = cell[~cell["status"].isin([FINISHED, INVALID])]
        if len(unfinished):
            counts = ", ".join(f"{n} {s}" for s, n in unfinished["status"].value_counts().items())
            parts.append(f"{len(unfinished)} of {len(cell)} sessions not finished ({counts}), left out")
        if at_frame is not None:
            kept = scores.merge(cell[[*KEYS, "run", "seed"]], on=[*KEYS, "run", "seed"])
            short = len(cell) - len(invalid) - len(kept)
            if short > 0:
                parts.append(f"{short} session(s) without an evaluation at or after frame {at_frame}, left out")
        notes[key] = "; ".join(parts)
    return scores.reset_index(drop=True), notes


def _slm_metrics(curves: pd.DataFrame) -> dict[str, float]:
    """SLM Lab's metrics of one cell from its sessions' % mastered curves."""
    per_session = [(g["frame"].to_numpy(), g["score"].to_numpy()) for _, g in curves.groupby(["run", "seed"])]
    if not per_session:
        return {"strength": float("nan"), "efficiency": float("nan"), "stability": float("nan"),
                "consistency": float("nan")}
    shared = sorted(set.intersection(*(set(f.tolist()) for f, _ in per_session)))
    aligned = np.array([[dict(zip(f.tolist(), s))[t] for t in shared] for f, s in per_session]) if shared else []
    return {"strength": float(np.mean([stats.strength(s) for _, s in per_session])),
            "efficiency": float(np.mean([stats.efficiency(f, s) for f, s in per_session])),
            "stability": float(np.nanmean([stats.stability(s) for _, s in per_session]))
            if any(np.nansum(s) for _, s in per_session) else float("nan"),
            "consistency": stats.consistency(np.asarray(aligned))}


def _baseline(scores: pd.DataFrame, key: dict[str, Any]) -> np.ndarray | None:
    match = scores["teacher"] == BASELINE
    for column in PANEL:
        match &= scores[column] == key[column]
    return scores.loc[match, "score"].to_numpy() if match.any() else None


def summary_table(runs: Runs, scores: pd.DataFrame, notes: dict[tuple, str]) -> pd.DataFrame:
    rows = []
    cells = runs.sessions.drop_duplicates(KEYS)[KEYS]
    for key_values in cells.itertuples(index=False):
        key = dict(zip(KEYS, key_values))
        mine = scores
        for column in KEYS:
            mine = mine[mine[column] == key[column]]
        x = mine["score"].to_numpy()
        mean, se = stats.mean_se(x)
        note = [notes.get(tuple(key_values), "")]
        if len(x) == 1:
            note.append("one seed: no SE, interval or test")
        row = {**key, "n": len(x), "mean": mean, "se": se, "median": float(np.median(x)) if len(x) else np.nan,
               "iqm": stats.iqm(x), **dict(zip(["iqm_ci_low", "iqm_ci_high"], stats.bootstrap_interval([x], stats.AGGREGATES["IQM"])))}
        random = _baseline(scores, key)
        if key["teacher"] == BASELINE:
            row.update(ratio_to_random=1.0 if np.isfinite(mean) and mean > 0 else np.nan)
        elif random is None or not len(random):
            note.append(f"no {BASELINE} baseline with the same criterion, level, student and body")
        else:
            random_mean = float(np.mean(random))
            row.update(ratio_to_random=mean / random_mean if random_mean else np.nan,
                       p_welch_vs_random=stats.welch_p(x, random),
                       prob_improvement_vs_random=stats.prob_improvement(x, random),
                       **dict(zip(["prob_improvement_ci_low", "prob_improvement_ci_high"],
                                  stats.prob_improvement_interval(x, random))))
            if random_mean == 0:
                note.append(f"{BASELINE} masters nothing here: no ratio")
        curve_match = runs.curves.merge(mine[["run", "seed", *KEYS]], on=["run", "seed", *KEYS])
        row.update(_slm_metrics(curve_match))
        row["note"] = "; ".join(n for n in note if n)
        rows.append(row)
    return pd.DataFrame(rows).reindex(columns=SUMMARY_COLUMNS)


def pairs_table(scores: pd.DataFrame) -> pd.DataFrame:
    """Welch's test between every two cells of a panel (same criterion, level, student, body)."""
    rows = []
    for panel, group in scores.groupby(PANEL, sort=False):
        cells = list(group.groupby("cell", sort=False))
        for (cell_a, a), (cell_b, b) in itertools.combinations(cells, 2):
            rows.append({**dict(zip(PANEL, panel)), "cell_a": cell_a, "cell_b": cell_b,
                         "teacher_a": a["teacher"].iloc[0], "teacher_b": b["teacher"].iloc[0],
                         "mean_a": float(a["score"].mean()), "mean_b": float(b["score"].mean()),
                         "p_welch": stats.welch_p(a["score"], b["score"])})
    return pd.DataFrame(rows, columns=[*PANEL, "cell_a", "cell_b", "teacher_a", "teacher_b", "mean_a", "mean_b",
                                       "p_welch"])


def group_label(values: tuple) -> str:
    return " | ".join(str(v) for v in values if str(v) not in ("", "spec"))


def interval_table(scores: pd.DataFrame) -> pd.DataFrame:
    """Median, IQM and mean of each teacher (per level, student, body) over every criterion's runs, with
    stratified bootstrap intervals (one sample per criterion), as rliable's interval estimates."""
    rows = []
    for group, runs in scores.groupby(GROUP, sort=False):
        samples = [g["score"].to_numpy() for _, g in runs.groupby("criterion", sort=False)]
        for metric in stats.AGGREGATES:
            estimate, low, high = stats.aggregate(samples, metric)
            rows.append({"group": group_label(group), "metric": metric, "estimate": estimate, "low": low,
                         "high": high, "n_runs": len(runs), "n_criteria": len(samples)})
    return pd.DataFrame(rows, columns=["group", "metric", "estimate", "low", "high", "n_runs", "n_criteria"])


def profile_table(scores: pd.DataFrame) -> pd.DataFrame:
    """Performance profiles: fraction of runs above tau (averaged over criteria), per group, with bands."""
    frames = []
    for group, runs in scores.groupby(GROUP, sort=False):
        samples = [g["score"].to_numpy() for _, g in runs.groupby("criterion", sort=False)]
        fraction, low, high = stats.profile(samples, TAUS)
        frames.append(pd.DataFrame({"group": group_label(group), "tau": TAUS, "fraction": fraction, "low": low,
                                    "high": high}))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["group", "tau", "fraction", "low", "high"])


def tables(runs: Runs, at_frame: int | None = None) -> Tables:
    scores, notes = session_scores(runs, at_frame)
    return Tables(scores, summary_table(runs, scores, notes), pairs_table(scores), interval_table(scores),
                  profile_table(scores), at_frame)


__all__ = ["AXES", "BASELINE", "Tables", "tables", "summary_table", "pairs_table", "interval_table",
           "profile_table", "session_scores"]
