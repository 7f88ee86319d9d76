"""report.md: one page with the tables, every figure, a plain reading and the commands that produced it.

The reading is generated from the numbers and says only what they support: for each teacher against
Random, the means, the ratio, Welch's p and the probability of improvement, called significant only
below 0.05, with the number of tests made (so a reader can judge how many 'significant' results chance
alone would give) and a note for every cell whose statistics are missing or partial.
"""
from __future__ import annotations

import datetime
import math
from pathlib import Path

import pandas as pd

from slm_acl.analysis.report.collect import Runs
from slm_acl.analysis.report.summary import BASELINE, Tables
from slm_acl.lib.provenance import git_sha

ALPHA = 0.05
SUMMARY_SHOWN = ["teacher", "criterion", "expert_knowledge", "student", "embodiment", "n", "mean", "se", "iqm",
                 "iqm_ci_low", "iqm_ci_high", "ratio_to_random", "p_welch_vs_random", "prob_improvement_vs_random"]
FIGURE_TITLES = {"radar": "Teacher / Random per criterion (TeachMyAgent's radar; * marks Welch p < 0.05)",
                 "bars": "Final % mastered per cell, mean +- SE, seeds as dots, significant pairs bracketed",
                 "curves": "% mastered during training, mean +- SE over seeds",
                 "intervals": "Aggregate median, IQM and mean over criteria, 95 % stratified bootstrap intervals",
                 "profiles": "Performance profiles: fraction of runs above each % mastered",
                 "tasks": "Test tasks mastered at the end (fraction of seeds), on the task-space axes",
                 "published": "The lab beside TeachMyAgent's published table (marked published)"}


def _fmt(value: object, digits: int = 2) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "-"
        return f"{value:.3g}" if abs(value) < 0.01 and value != 0 else f"{value:.{digits}f}"
    return str(value)


def table_markdown(df: pd.DataFrame, columns: list[str] | None = None) -> str:
    """A pipe table (no tabulate dependency), NaN shown as '-'."""
    df = df[[c for c in (columns or list(df.columns)) if c in df.columns]]
    if df.empty:
        return "_(empty)_\n"
    lines = ["| " + " | ".join(df.columns) + " |", "|" + "---|" * len(df.columns)]
    lines += ["| " + " | ".join(_fmt(v).replace("|", "\\|") for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join(lines) + "\n"


def _where(row: pd.Series) -> str:
    parts = [row["criterion"], row["expert_knowledge"], row["student"], row["embodiment"]]
    return ", ".join(str(p) for p in parts if str(p) not in ("", "spec"))


def reading(summary: pd.DataFrame, label: str) -> list[str]:
    """One sentence per teacher against Random, then the count of significant results."""
    compared = summary[(summary["teacher"] != BASELINE) & summary["p_welch_vs_random"].notna()]
    lines = []
    for _, row in compared.iterrows():
        random_mean = row["mean"] / row["ratio_to_random"] if row["ratio_to_random"] else float("nan")
        verdict = ("**better than Random**" if row["mean"] > random_mean else "**worse than Random**") \
            if row["p_welch_vs_random"] < ALPHA else "not significantly different from Random"
        lines.append(f"- {row['teacher']} ({_where(row)}): {_fmt(row['mean'], 1)} % vs {_fmt(random_mean, 1)} % "
                     f"mastered (ratio {_fmt(row['ratio_to_random'])}, n = {row['n']}), Welch p = "
                     f"{_fmt(row['p_welch_vs_random'], 3)}, P(improvement) = "
                     f"{_fmt(row['prob_improvement_vs_random'])}: {verdict} at {label}.")
    significant = int((compared["p_welch_vs_random"] < ALPHA).sum())
    if len(compared):
        lines.append(f"- {significant} of {len(compared)} comparisons with Random are significant at p < {ALPHA}; "
                     f"with {len(compared)} tests, about {len(compared) * ALPHA:.1f} would be by chance alone "
                     "(no correction for multiple comparisons is applied).")
    else:
        lines.append("- No teacher could be compared with Random (no Random baseline in the same criterion, level, "
                     "student and body, or fewer than two seeds on a side).")
    return lines


def _notes(summary: pd.DataFrame) -> list[str]:
    noted = summary[summary["note"].fillna("") != ""]
    return [f"- {row['cell']} {row['body']}: {row['note']}" for _, row in noted.iterrows()]


def _figures(drawn: dict[str, list[Path]], out: Path) -> list[str]:
    lines = []
    for name, paths in drawn.items():
        if not paths:
            continue
        lines.append(f"### {FIGURE_TITLES.get(name, name)}\n")
        lines += [f"![{name}]({p.relative_to(out) if p.is_relative_to(out) else p})\n" for p in paths]
    return lines


def report_markdown(runs: Runs, final: Tables, at: Tables | None, comparison: pd.DataFrame,
                    drawn: dict[str, list[Path]], out: Path, command: str) -> str:
    frames = int(runs.sessions["frames"].max()) if len(runs.sessions) else 0
    lines = [f"# Report: {', '.join(s['spec'] for s in runs.sources)}\n",
             f"{len(final.summary)} cells, {len(final.scores)} finished session bodies scored by their final % of the "
             f"test set mastered (up to {frames:,} frames). Written "
             f"{datetime.datetime.now().strftime('%Y-%m-%d %H:%M')} by slm_acl {git_sha() or '(no git)'}.\n",
             "## Reading\n", *reading(final.summary, "the end of training")]
    if at is not None:
        lines += [f"\nAt frame {at.at_frame:,}:\n", *reading(at.summary, f"frame {at.at_frame:,}")]
    notes = _notes(final.summary)
    if notes:
        lines += ["\n## Notes\n", *notes]
    lines += ["\n## Summary (final % mastered)\n", table_markdown(final.summary, SUMMARY_SHOWN)]
    if at is not None:
        lines += [f"\n## Summary at frame {at.at_frame:,}\n", table_markdown(at.summary, SUMMARY_SHOWN)]
    lines += ["\n## SLM Lab's trial metrics (on the % mastered curves)\n",
              table_markdown(final.summary, ["cell", "embodiment", "strength", "efficiency", "stability",
                                             "consistency"]),
              "\n## Pairwise Welch tests\n", table_markdown(final.pairs, ["criterion", "expert_knowledge", "student",
                                                                           "embodiment", "teacher_a", "teacher_b",
                                                                           "mean_a", "mean_b", "p_welch"]),
              "\n## Aggregates over criteria (rliable's definitions)\n", table_markdown(final.intervals)]
    if len(comparison):
        lines += ["\n## Beside published results\n",
                  "The published columns are TeachMyAgent's (20M frames, 16 seeds); the lab's were read at "
                  "`lab_frames`.\n", table_markdown(comparison)]
    lines += ["\n## Figures\n", *_figures(drawn, out), "\n## How this was produced\n",
              f"- command: `{command or 'python run_lab.py ... report@' + ' '.join(s['path'] for s in runs.sources)}`"]
    lines += [f"- {s['kind']} `{s['spec']}`: `{s['path']}`" for s in runs.sources]
    lines += ["- statistics: scipy (Welch: `ttest_ind(equal_var=False)`, IQM: `trim_mean(x, 0.25)`, intervals: "
              "`bootstrap` percentile 95 %, one sample per criterion, P(improvement): `mannwhitneyu` U / (n m)); "
              "tables in this folder: summary_df.csv, pairs_df.csv, intervals_df.csv, profiles_df.csv, "
              "scores_df.csv, published_df.csv"]
    return "\n".join(lines) + "\n"
