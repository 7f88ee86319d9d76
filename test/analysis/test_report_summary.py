"""The report's tables on synthetic campaigns with known effects, checked against direct computations."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from slm_acl.analysis.report.collect import CURVE_COLUMNS, SESSION_COLUMNS, Runs
from slm_acl.analysis.report.summary import tables

FRAMES = [500, 1000, 1500, 2000]


def synthetic(finals: dict[tuple[str, str], list[float]], statuses: dict[tuple[str, str, int], str] | None = None,
              embodiment: str = "classic_bipedal", env: str = "StumpTracks") -> Runs:
    """Sessions whose % mastered rises linearly to the given final score; cells keyed by (teacher, criterion)."""
    rows, points = [], []
    for (teacher, criterion), finals_ in finals.items():
        base = {"run": "r", "cell": f"{teacher}__{criterion}", "teacher": teacher, "criterion": criterion,
                "expert_knowledge": "spec", "student": "spec", "body": "a0_e0_b0", "embodiment": embodiment}
        for seed, final in enumerate(finals_):
            status = (statuses or {}).get((teacher, criterion, seed), "FINISHED")
            rows.append({**base, "env": env, "seed": seed, "status": status, "frames": FRAMES[-1], "score": final,
                         "eval_tasks": "", "test_set": "", "error": ""})
            points += [{**base, "seed": seed, "frame": f, "score": final * (k + 1) / len(FRAMES)}
                       for k, f in enumerate(FRAMES)]
    return Runs(pd.DataFrame(rows, columns=SESSION_COLUMNS), pd.DataFrame(points, columns=CURVE_COLUMNS),
                [{"path": "r", "spec": "synthetic", "kind": "benchmark"}])


def row(summary: pd.DataFrame, teacher: str, criterion: str) -> pd.Series:
    return summary[(summary["teacher"] == teacher) & (summary["criterion"] == criterion)].iloc[0]


def test_summary_against_direct_computation_with_a_known_effect():
    alp, random = [30.0, 34.0, 28.0, 40.0], [10.0, 12.0, 8.0, 15.0]
    runs = synthetic({("ALP-GMM", "standard"): alp, ("Random", "standard"): random})
    summary = tables(runs).summary
    r = row(summary, "ALP-GMM", "standard")
    assert r["n"] == 4
    assert r["mean"] == pytest.approx(np.mean(alp))
    assert r["se"] == pytest.approx(np.std(alp, ddof=1) / 2)
    assert r["median"] == pytest.approx(np.median(alp))
    assert r["iqm"] == pytest.approx(sps.trim_mean(alp, 0.25))
    assert r["iqm_ci_low"] <= r["iqm"] <= r["iqm_ci_high"]
    assert r["ratio_to_random"] == pytest.approx(np.mean(alp) / np.mean(random))
    assert r["p_welch_vs_random"] == pytest.approx(sps.ttest_ind(alp, random, equal_var=False).pvalue)
    assert r["p_welch_vs_random"] < 0.01
    assert r["prob_improvement_vs_random"] == 1.0
    assert row(summary, "Random", "standard")["ratio_to_random"] == 1.0


def test_the_baseline_is_random_of_the_same_criterion():
    runs = synthetic({("ALP-GMM", "a"): [5.0, 6.0], ("Random", "a"): [1.0, 2.0],
                      ("ALP-GMM", "b"): [5.0, 6.0], ("Random", "b"): [10.0, 12.0]})
    summary = tables(runs).summary
    assert row(summary, "ALP-GMM", "a")["ratio_to_random"] == pytest.approx(5.5 / 1.5)
    assert row(summary, "ALP-GMM", "b")["ratio_to_random"] == pytest.approx(5.5 / 11.0)


def test_a_missing_random_baseline_and_a_single_seed_give_notes_not_crashes():
    runs = synthetic({("ALP-GMM", "standard"): [20.0], ("RIAC", "standard"): [5.0, 7.0]})
    t = tables(runs)
    alp = row(t.summary, "ALP-GMM", "standard")
    assert alp["n"] == 1 and math.isnan(alp["se"]) and math.isnan(alp["iqm_ci_low"])
    assert "one seed" in alp["note"] and "no Random baseline" in alp["note"]
    assert math.isnan(alp["p_welch_vs_random"]) and math.isnan(alp["ratio_to_random"])
    assert math.isnan(t.pairs.iloc[0]["p_welch"])  # one seed on a side: no test
    assert len(t.intervals) == 2 * 3 and len(t.profiles) == 2 * 51


def test_unfinished_sessions_are_left_out_and_noted():
    runs = synthetic({("ALP-GMM", "standard"): [30.0, 31.0, 90.0], ("Random", "standard"): [10.0, 11.0]},
                     statuses={("ALP-GMM", "standard", 2): "PENDING"})
    r = row(tables(runs).summary, "ALP-GMM", "standard")
    assert r["n"] == 2 and r["mean"] == pytest.approx(30.5)
    assert "1 of 3 sessions not finished (1 PENDING)" in r["note"]


def test_at_frame_reads_the_last_evaluation_at_or_before_it():
    runs = synthetic({("ALP-GMM", "standard"): [40.0, 80.0], ("Random", "standard"): [20.0, 20.0]})
    at = tables(runs, at_frame=1200)  # evaluations at 500, 1000, ...: frame 1000 is read (half the final)
    r = row(at.summary, "ALP-GMM", "standard")
    assert r["mean"] == pytest.approx(np.mean([20.0, 40.0]))
    assert r["ratio_to_random"] == pytest.approx(30.0 / 10.0)
    beyond = tables(runs, at_frame=5000)
    assert row(beyond.summary, "ALP-GMM", "standard")["n"] == 0
    assert "without an evaluation at or after frame 5000" in row(beyond.summary, "ALP-GMM", "standard")["note"]


def test_slm_metrics_of_a_cell_and_pairwise_tests():
    runs = synthetic({("ALP-GMM", "standard"): [40.0, 80.0], ("Random", "standard"): [20.0, 22.0],
                      ("RIAC", "standard"): [21.0, 25.0]})
    t = tables(runs)
    r = row(t.summary, "ALP-GMM", "standard")
    curves = np.array([[40 * (k + 1) / 4 for k in range(4)], [80 * (k + 1) / 4 for k in range(4)]])
    assert r["strength"] == pytest.approx(curves.mean())
    assert r["stability"] == 1.0  # rising curves never drop
    assert r["consistency"] == pytest.approx(1 - np.sum(2 * curves.std(axis=0)) / np.sum(curves.mean(axis=0)))
    assert len(t.pairs) == 3
    pair = t.pairs[(t.pairs["teacher_a"] == "Random") & (t.pairs["teacher_b"] == "RIAC")].iloc[0]
    assert pair["p_welch"] == pytest.approx(sps.ttest_ind([20.0, 22.0], [21.0, 25.0], equal_var=False).pvalue)
