"""Published results shipped with the lab, set beside the lab's own numbers where the same cells exist.

Today: TeachMyAgent's Parkour table at 20M frames (`published/tma_parkour_20M.json`, Romac et al. 2021),
one row per teacher and embodiment (plus 'overall', the three bodies' 48 seeds pooled). A lab cell
matches a published row when it ran on the same env, at the same expert-knowledge level, with the same
teacher and embodiment; the report marks the published numbers as published and says at how many frames
the lab's were read, since a reduced campaign is not the 20M protocol.
"""
from __future__ import annotations

import json
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd

PUBLISHED_FILES = ("tma_parkour_20M.json",)
OVERALL = "overall"
COLUMNS = ["source", "teacher", "embodiment", "lab_n", "lab_frames", "lab_mean", "lab_std", "published_frames",
           "published_seeds", "published_mean", "published_std"]


def published_tables() -> list[dict[str, Any]]:
    folder = resources.files("slm_acl.analysis.report") / "published"
    return [json.loads((folder / name).read_text()) for name in PUBLISHED_FILES]


def _lab_rows(scores: pd.DataFrame, sessions: pd.DataFrame, table: dict[str, Any]) -> pd.DataFrame:
    """The lab's scored session bodies that ran on the published table's env and expert-knowledge level."""
    envs = sessions[["run", "cell", "body", "seed", "env", "frames"]]
    merged = scores.merge(envs, on=["run", "cell", "body", "seed"], how="left")
    level = merged["expert_knowledge"].isin([table["expert_knowledge"]])
    return merged[(merged["env"] == table["env"]) & level]


def compare(scores: pd.DataFrame, sessions: pd.DataFrame) -> pd.DataFrame:
    """One row per published (teacher, embodiment) the lab also ran: the lab's mean and std beside it."""
    rows = []
    for table in published_tables():
        lab = _lab_rows(scores, sessions, table)
        if lab.empty:
            continue
        published = {(r["teacher"], r["embodiment"]): r for r in table["rows"]}
        bodies = {b for _, b in published if b != OVERALL}
        for teacher, runs in lab.groupby("teacher"):
            groups = [(b, g) for b, g in runs.groupby("embodiment")]
            ran = {b for b, _ in groups}
            if bodies <= ran:  # every published body ran: the pooled 'overall' row compares too
                groups.append((OVERALL, runs[runs["embodiment"].isin(bodies)]))
            for body, g in groups:
                ref = published.get((teacher, body))
                if ref is None:
                    continue
                x = g["score"].to_numpy(dtype=float)
                rows.append({"source": table["name"], "teacher": teacher, "embodiment": body, "lab_n": len(x),
                             "lab_frames": int(g["frames"].max()), "lab_mean": float(np.mean(x)),
                             "lab_std": float(np.std(x, ddof=1)) if len(x) > 1 else float("nan"),
                             "published_frames": table["frames"], "published_seeds": table["seeds"],
                             "published_mean": ref["mean"], "published_std": ref["std"]})
    return pd.DataFrame(rows, columns=COLUMNS)
