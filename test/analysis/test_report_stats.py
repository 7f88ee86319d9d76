"""Every statistic of the report against a direct computation (the formula written out, or scipy)."""
from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import stats as sps

from slm_acl.analysis.report import stats


def welch_by_hand(x, y) -> float:
    x, y = np.asarray(x, float), np.asarray(y, float)
    vx, vy = x.var(ddof=1) / len(x), y.var(ddof=1) / len(y)
    t = (x.mean() - y.mean()) / math.sqrt(vx + vy)
    df = (vx + vy) ** 2 / (vx ** 2 / (len(x) - 1) + vy ** 2 / (len(y) - 1))
    return float(2 * sps.t.sf(abs(t), df))


def test_iqm_is_the_mean_of_the_middle_half():
    x = [9.0, 1.0, 50.0, 3.0, 4.0, 7.0, 0.0, 100.0]  # sorted: 0 1 3 4 7 9 50 100 -> middle 3 4 7 9
    assert stats.iqm(x) == pytest.approx((3 + 4 + 7 + 9) / 4)
    assert math.isnan(stats.iqm([]))
    assert stats.iqm([5.0]) == 5.0


def test_welch_matches_the_formula_and_detects_a_known_effect():
    rng = np.random.default_rng(0)
    better, random = rng.normal(30, 3, 8), rng.normal(10, 6, 8)
    p = stats.welch_p(better, random)
    assert p == pytest.approx(welch_by_hand(better, random), rel=1e-9)
    assert p < 1e-4
    same_a, same_b = rng.normal(10, 5, 4), rng.normal(10, 5, 4)
    assert stats.welch_p(same_a, same_b) == pytest.approx(welch_by_hand(same_a, same_b), rel=1e-9)


def test_welch_is_nan_with_one_seed():
    assert math.isnan(stats.welch_p([3.0], [1.0, 2.0]))
    assert math.isnan(stats.welch_p([1.0, 2.0], []))


def test_probability_of_improvement_counts_pairs_with_half_ties():
    x, y = [1.0, 2.0, 3.0, 3.0], [0.0, 3.0, 1.0]
    by_hand = np.mean([1.0 if a > b else 0.5 if a == b else 0.0 for a, b in itertools.product(x, y)])
    assert stats.prob_improvement(x, y) == pytest.approx(by_hand)
    assert stats.prob_improvement([5.0], [1.0]) == 1.0  # defined for one seed
    assert stats.prob_improvement([1.0, 1.0], [1.0, 1.0]) == 0.5


def manual_stratified_bootstrap(samples, statistic, n=4000, seed=1):
    rng = np.random.default_rng(seed)
    values = [statistic(np.concatenate([rng.choice(s, len(s)) for s in samples])) for _ in range(n)]
    return np.percentile(values, [2.5, 97.5])


def test_iqm_interval_is_a_stratified_percentile_bootstrap():
    rng = np.random.default_rng(2)
    tasks = [rng.normal(20, 5, 6), rng.normal(60, 10, 4), rng.normal(5, 1, 8)]  # unequal sizes per task
    estimate, low, high = stats.aggregate(tasks, "IQM")
    assert estimate == pytest.approx(sps.trim_mean(np.concatenate(tasks), 0.25))
    manual_low, manual_high = manual_stratified_bootstrap(tasks, lambda x: sps.trim_mean(x, 0.25))
    assert low == pytest.approx(manual_low, abs=1.5)
    assert high == pytest.approx(manual_high, abs=1.5)
    assert low <= estimate <= high


def test_stratified_resampling_keeps_each_task_apart():
    # two tasks far apart: a pooled (unstratified) bootstrap would sometimes draw all runs from one task and
    # swing the mean by tens of points; the stratified one keeps 4 runs of each, so the mean moves little.
    tasks = [np.array([0.0, 0.0, 1.0, 1.0]), np.array([99.0, 99.0, 100.0, 100.0])]
    _, low, high = stats.aggregate(tasks, "mean")
    assert 49.0 <= low <= high <= 51.0


def test_intervals_are_nan_for_one_seed_and_a_point_for_a_constant_sample():
    assert all(math.isnan(v) for v in stats.bootstrap_interval([[4.0]], stats.AGGREGATES["IQM"]))
    assert stats.bootstrap_interval([[4.0, 4.0, 4.0]], stats.AGGREGATES["mean"]) == (4.0, 4.0)
    assert all(math.isnan(v) for v in stats.prob_improvement_interval([1.0], [0.0, 2.0]))


def test_probability_of_improvement_interval_brackets_a_clear_win():
    low, high = stats.prob_improvement_interval([30.0, 32.0, 35.0, 31.0], [10.0, 12.0, 9.0, 14.0])
    assert low == 1.0 and high == 1.0  # every resample of a complete separation is a complete separation
    low, high = stats.prob_improvement_interval([1.0, 5.0, 3.0, 8.0], [2.0, 4.0, 6.0, 7.0])
    assert 0.0 <= low < stats.prob_improvement([1.0, 5.0, 3.0, 8.0], [2.0, 4.0, 6.0, 7.0]) < high <= 1.0


def test_performance_profile_is_the_fraction_above_tau_averaged_over_tasks():
    tasks = [np.array([10.0, 20.0, 30.0, 40.0]), np.array([0.0, 50.0])]
    taus = np.array([0.0, 15.0, 45.0, 60.0])
    fraction, low, high = stats.profile(tasks, taus, n_resamples=200)
    by_hand = [np.mean([np.mean(t > tau) for t in tasks]) for tau in taus]
    np.testing.assert_allclose(fraction, by_hand)
    assert np.all(low <= fraction + 1e-12) and np.all(fraction <= high + 1e-12)


def test_slm_metrics_follow_their_definitions():
    frames, scores = [100, 200, 300, 400], [0.0, 10.0, 5.0, 20.0]
    assert stats.strength(scores) == pytest.approx(35 / 4)
    by_hand = (0 / 100 + 10 / 200 + 5 / 300 + 20 / 400) / (1 / 100 + 1 / 200 + 1 / 300 + 1 / 400)
    assert stats.efficiency(frames, scores) == pytest.approx(by_hand)
    assert stats.stability(scores) == pytest.approx(1 - 5 / 35)
    assert stats.stability([1.0, 2.0, 3.0]) == 1.0
    assert math.isnan(stats.stability([0.0, 0.0]))
    curves = np.array([[0.0, 10.0, 20.0], [0.0, 20.0, 20.0]])
    by_hand = 1 - (2 * np.std([0, 0]) + 2 * np.std([10, 20]) + 2 * np.std([20, 20])) / (0 + 15 + 20)
    assert stats.consistency(curves) == pytest.approx(by_hand)
    assert math.isnan(stats.consistency(curves[:1]))  # one session
    assert stats.efficiency([0, 100], [5.0, 10.0]) == pytest.approx(10.0)  # frame 0 left out
