"""The statistics of a comparison report, each one a call into scipy with the field's definition.

- Welch's t-test (TeachMyAgent compares every teacher with Random this way): `scipy.stats.ttest_ind`
  with `equal_var=False`, two-sided.
- Interquartile mean (IQM, Agarwal et al. 2021): `scipy.stats.trim_mean(x, 0.25)`, the mean of the middle
  50 % of runs; less noisy than the mean, less wasteful than the median with few seeds.
- Confidence intervals: `scipy.stats.bootstrap`, percentile method, 95 %. Given one sample per task
  (criterion), scipy resamples each sample on its own, which is rliable's stratified bootstrap.
- Probability of improvement P(X > Y): the Mann-Whitney U statistic of X against Y over n * m (ties count
  half), with a stratified bootstrap interval over both samples.
- Performance profile: the fraction of runs scoring above tau, averaged over tasks, at each tau.
- SLM Lab's trial metrics (strength, efficiency, stability, consistency) on the % mastered curves.

Every function returns NaN (or NaN intervals) when its statistic is undefined (one seed, a constant
sample): a report of a small campaign must never crash on it. The rliable package itself is not used:
its pinned `arch<8` fails to import with pandas 3 (see the README).
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
from scipy import stats

CONFIDENCE = 0.95
N_RESAMPLES = 2000
NAN_INTERVAL = (float("nan"), float("nan"))


def _clean(x: Sequence[float] | np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=float).ravel()
    return x[np.isfinite(x)]


def mean_se(x: Sequence[float]) -> tuple[float, float]:
    """Mean and standard error (ddof 1) of the finite values; SE is NaN for fewer than two."""
    x = _clean(x)
    if not len(x):
        return NAN_INTERVAL
    return float(np.mean(x)), float(stats.sem(x)) if len(x) > 1 else float("nan")


def iqm(x: Sequence[float]) -> float:
    """Interquartile mean: the mean after trimming 25 % of the values at each end."""
    x = _clean(x)
    return float(stats.trim_mean(x, 0.25)) if len(x) else float("nan")


def _iqm_of_all(*samples: np.ndarray, axis: int = -1) -> np.ndarray:
    return stats.trim_mean(np.concatenate(samples, axis=axis), 0.25, axis=axis)


def _median_of_all(*samples: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.median(np.concatenate(samples, axis=axis), axis=axis)


def _mean_of_all(*samples: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.mean(np.concatenate(samples, axis=axis), axis=axis)


AGGREGATES: dict[str, Callable[..., np.ndarray]] = {"median": _median_of_all, "IQM": _iqm_of_all,
                                                    "mean": _mean_of_all}


def bootstrap_interval(samples: Sequence[Sequence[float]], statistic: Callable[..., np.ndarray],
                       seed: int = 0, n_resamples: int = N_RESAMPLES) -> tuple[float, float]:
    """The 95 % percentile-bootstrap interval of `statistic(*samples, axis=-1)`, each sample resampled on its
    own (stratified); NaN when a sample has fewer than two values or every value is the same."""
    cleaned = [_clean(s) for s in samples]
    if not cleaned or any(len(s) < 2 for s in cleaned):
        return NAN_INTERVAL
    if np.ptp(np.concatenate(cleaned)) == 0:
        value = float(statistic(*[s[None, :] for s in cleaned], axis=-1)[0])
        return value, value
    result = stats.bootstrap(tuple(cleaned), statistic, confidence_level=CONFIDENCE, n_resamples=n_resamples,
                             method="percentile", vectorized=True, rng=np.random.default_rng(seed))
    return float(result.confidence_interval.low), float(result.confidence_interval.high)


def aggregate(samples: Sequence[Sequence[float]], metric: str, seed: int = 0) -> tuple[float, float, float]:
    """(estimate, low, high) of an aggregate metric ("median", "IQM", "mean") over runs pooled from every
    task, with a stratified bootstrap interval (one sample per task)."""
    statistic = AGGREGATES[metric]
    pooled = [_clean(s) for s in samples if len(_clean(s))]
    if not pooled:
        return float("nan"), *NAN_INTERVAL
    estimate = float(statistic(*[s[None, :] for s in pooled], axis=-1)[0])
    return (estimate, *bootstrap_interval(pooled, statistic, seed))


def welch_p(x: Sequence[float], y: Sequence[float]) -> float:
    """Two-sided p-value of Welch's t-test of x against y; NaN with fewer than two values in either."""
    x, y = _clean(x), _clean(y)
    if len(x) < 2 or len(y) < 2:
        return float("nan")
    return float(stats.ttest_ind(x, y, equal_var=False).pvalue)


def prob_improvement(x: Sequence[float], y: Sequence[float]) -> float:
    """P(X > Y) + P(X = Y) / 2 for a run X of x and a run Y of y: Mann-Whitney's U over n * m."""
    x, y = _clean(x), _clean(y)
    if not len(x) or not len(y):
        return float("nan")
    return float(stats.mannwhitneyu(x, y).statistic) / (len(x) * len(y))


def _prob_improvement_statistic(x: np.ndarray, y: np.ndarray, axis: int = -1) -> np.ndarray:
    return stats.mannwhitneyu(x, y, axis=axis).statistic / (x.shape[axis] * y.shape[axis])


def prob_improvement_interval(x: Sequence[float], y: Sequence[float], seed: int = 0) -> tuple[float, float]:
    """Bootstrap interval of the probability of improvement, x and y resampled on their own."""
    return bootstrap_interval([x, y], _prob_improvement_statistic, seed)


def profile(samples: Sequence[Sequence[float]], taus: np.ndarray, seed: int = 0,
            n_resamples: int = 500) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Performance profile: at each tau, the fraction of runs scoring above tau (averaged over tasks, each
    task one sample), with a stratified bootstrap band; returns (fraction, low, high), one value per tau."""
    pooled = [_clean(s) for s in samples if len(_clean(s))]
    fraction, low, high = (np.full(len(taus), np.nan) for _ in range(3))
    if not pooled:
        return fraction, low, high
    for k, tau in enumerate(taus):
        def above(*xs: np.ndarray, axis: int = -1, tau: float = float(tau)) -> np.ndarray:
            return np.mean([np.mean(x > tau, axis=axis) for x in xs], axis=0)

        fraction[k] = float(above(*[s[None, :] for s in pooled])[0])
        low[k], high[k] = bootstrap_interval(pooled, above, seed, n_resamples)
    return fraction, low, high


# SLM Lab's trial metrics, on % mastered: a random policy masters no task, so the local strength at
# evaluation i is the score itself (SLM Lab subtracts a random policy's return).

def strength(scores: Sequence[float]) -> float:
    """Mean score over the evaluations (SLM Lab: mean local strength)."""
    scores = _clean(scores)
    return float(np.mean(scores)) if len(scores) else float("nan")


def efficiency(frames: Sequence[float], scores: Sequence[float]) -> float:
    """Sum(str_i / t_i) / Sum(1 / t_i) with t_i the frames at evaluation i: strength weighted towards early
    evaluations. This is SLM Lab's documented formula; its code divides by Sum(str_i) instead (a unit error,
    REFERENCE_SLM_LAB 3.4), which is not reproduced. Evaluations at frame 0 are left out."""
    t, s = np.asarray(frames, dtype=float), np.asarray(scores, dtype=float)
    keep = (t > 0) & np.isfinite(s)
    if not keep.any():
        return float("nan")
    return float(np.sum(s[keep] / t[keep]) / np.sum(1.0 / t[keep]))


def stability(scores: Sequence[float]) -> float:
    """1 - |Sum of the drops between consecutive evaluations| / Sum(str_i): 1 for a curve that never drops;
    NaN when the curve is zero throughout (nothing to be stable about)."""
    s = _clean(scores)
    total = float(np.sum(s))
    if len(s) == 0 or total == 0:
        return float("nan")
    drops = float(np.sum(np.minimum(np.diff(s), 0.0)))
    return 1.0 - abs(drops / total)


def consistency(curves: np.ndarray) -> float:
    """1 - Sum_i 2 * std_j(str_ij) / Sum_i mean_j(str_ij) over sessions j and shared evaluations i (SLM Lab,
    std with ddof 0); NaN with fewer than two sessions or an all-zero mean curve."""
    curves = np.asarray(curves, dtype=float)
    if curves.ndim != 2 or curves.shape[0] < 2 or curves.shape[1] == 0:
        return float("nan")
    total = float(np.sum(np.mean(curves, axis=0)))
    if total == 0 or not np.isfinite(total):
        return float("nan")
    return 1.0 - float(np.sum(2.0 * np.std(curves, axis=0))) / total
