"""Shared machinery of the GMM teachers (ALP-GMM and Covar-GMM, REFERENCE 1.5 / 1.6).

Both teachers append a few "interest" columns to each episode's task (ALP for ALP-GMM; time and
return for Covar-GMM), fit a full-covariance Gaussian mixture to the last `fit_rate` rows every
`fit_rate` episodes (choosing the number of components by AIC/BIC), and sample a component in
proportion to how interesting it looks, then a task from that component's task marginal. They
differ only in the columns and the interest, which the subclasses supply.

The fitted mixture is kept as plain arrays (`MixtureParams`), never as a pickled sklearn object,
so a teacher's `state_dict` is portable and a resumed teacher samples exactly what the
uninterrupted one would have sampled.
"""
from __future__ import annotations

import abc
import dataclasses
import functools
import warnings
from typing import Any, ClassVar, Literal

import numpy as np

from slm_acl.curriculum.teachers.base import Proposal, Teacher, TeacherContext
from slm_acl.lib.seeding import rng_state, set_rng_state

Criterion = Literal["aic", "bic", "aicc"]


def check_ks(ks: tuple[int, ...]) -> str | None:
    """Config check for `potential_ks`: a non-empty list of component counts >= 1."""
    if not ks:
        return "needs at least one number of components, e.g. [2, 3, 4]"
    if any(k < 1 for k in ks):
        return f"every number of components must be >= 1, got {list(ks)}"
    return None


@dataclasses.dataclass(frozen=True)
class FitSettings:
    """How one refit chooses its mixture."""

    ks: tuple[int, ...]
    criterion: Criterion = "aic"
    n_init: int = 1
    warm_start: bool = False


@dataclasses.dataclass
class MixtureParams:
    """A fitted full-covariance Gaussian mixture over [task, interest columns], as plain arrays."""

    weights: np.ndarray  # (k,)
    means: np.ndarray  # (k, D)
    covariances: np.ndarray  # (k, D, D)
    precisions_cholesky: np.ndarray  # (k, D, D), sklearn's parametrisation (for warm starts)

    @classmethod
    def from_sklearn(cls, gmm: Any) -> "MixtureParams":
        return cls(*(np.array(getattr(gmm, a), dtype=np.float64) for a in
                     ("weights_", "means_", "covariances_", "precisions_cholesky_")))

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> "MixtureParams":
        return cls(**{f.name: np.array(state[f.name], dtype=np.float64) for f in dataclasses.fields(cls)})

    def to_state(self) -> dict[str, np.ndarray]:
        return {f.name: getattr(self, f.name).copy() for f in dataclasses.fields(self)}

    @property
    def n_components(self) -> int:
        return len(self.weights)

    def is_finite(self) -> bool:
        return all(np.isfinite(getattr(self, f.name)).all() for f in dataclasses.fields(self))

    def sklearn_init(self) -> dict[str, np.ndarray]:
        """Keyword arguments that start a new sklearn fit from these parameters (warm start)."""
        precisions = np.einsum("kij,klj->kil", self.precisions_cholesky, self.precisions_cholesky)
        return {"weights_init": self.weights / self.weights.sum(), "means_init": self.means,
                "precisions_init": precisions}


def task_sampling_factors(params: MixtureParams, dim: int) -> np.ndarray:
    """Per component, a matrix L with L L^T = the covariance of the first `dim` (task) coordinates.

    The original code samples the full [task, interest] Gaussian and drops the interest columns;
    sampling the task marginal directly has the same distribution and stays well conditioned when
    the return column is huge (returns of 1e12 next to tasks in [0,1]). Cholesky is used where it
    succeeds, a clipped eigen-decomposition where the marginal is numerically singular.
    """
    factors = np.empty((params.n_components, dim, dim))
    for i, cov in enumerate(params.covariances[:, :dim, :dim]):
        cov = 0.5 * (cov + cov.T)
        try:
            factors[i] = np.linalg.cholesky(cov)
        except np.linalg.LinAlgError:
            values, vectors = np.linalg.eigh(cov)
            factors[i] = vectors * np.sqrt(np.clip(values, 0.0, None))
    return factors


def proportional_choice(values: np.ndarray, rng: np.random.Generator) -> int:
    """An index drawn with probability proportional to `values` (clipped at 0); uniform if all are 0.

    Same rule as the original `proportional_choice`, which also falls back to a uniform choice.
    """
    v = np.clip(np.nan_to_num(np.asarray(values, dtype=np.float64), nan=0.0, posinf=0.0), 0.0, None)
    total = v.sum()
    if not np.isfinite(total) or total <= 0.0:
        return int(rng.integers(len(v)))
    return int(rng.choice(len(v), p=v / total))


def _n_parameters(k: int, d: int) -> int:
    """Free parameters of a k-component full-covariance mixture in d dimensions (as sklearn counts)."""
    return k * (d + d * (d + 1) // 2) + k - 1


@functools.lru_cache(maxsize=1)
def _thread_controller() -> Any:
    """One threadpoolctl controller per process: scanning the loaded libraries costs ~5 ms a time.

    Created on the first fit, after sklearn (and so its OpenMP runtime) has been imported.
    """
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def fit_mixture(data: np.ndarray, settings: FitSettings, seed: int,
                warm: dict[int, MixtureParams] | None = None
                ) -> tuple[MixtureParams | None, dict[int, MixtureParams]]:
    """Fit one mixture per k in `settings.ks` to `data` and keep the best by the criterion.

    Returns the best mixture (None when no k could be fitted: fewer rows than components, a
    degenerate covariance sklearn refuses, non-finite results) and, with `warm_start`, every
    fitted k's parameters so the next fit can start from them (the original keeps one sklearn
    object per k with `warm_start=True`). Runs single-threaded: sklearn's k-means initialisation
    otherwise starts an OpenMP pool, and on a busy 2-core box a 70 ms fit takes seconds
    (REFERENCE 1.13, "threading trap").

    AICc uses the parameter count of the fitted space (task + interest columns); the original
    counts only the task dims, undercounting. Where AICc is undefined (not more rows than
    parameters + 1) for every k, the choice falls back to AIC.
    """
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.mixture import GaussianMixture

    n, d = data.shape
    warm = warm or {}
    fitted: dict[int, MixtureParams] = {}
    scores: list[tuple[float, float, int]] = []  # (aicc or the criterion, aic, k)
    with _thread_controller().limit(limits=1), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        for k in settings.ks:
            if k > n:
                continue
            init = warm[k].sklearn_init() if settings.warm_start and k in warm else {}
            gmm = GaussianMixture(n_components=k, covariance_type="full", random_state=seed,
                                  n_init=1 if init else settings.n_init, **init)
            try:
                gmm.fit(data)
                params = MixtureParams.from_sklearn(gmm)
                aic = float(gmm.aic(data))
                score = float(gmm.bic(data)) if settings.criterion == "bic" else aic
            except (ValueError, np.linalg.LinAlgError, FloatingPointError):
                continue  # e.g. "ill-defined empirical covariance" on duplicate points
            if not params.is_finite() or not np.isfinite(aic):
                continue
            if settings.criterion == "aicc":
                p = _n_parameters(k, d)
                score = aic + 2.0 * p * (p + 1) / (n - p - 1) if n - p - 1 > 0 else np.inf
            fitted[k] = params
            scores.append((score, aic, k))
    if not scores:
        return None, fitted if settings.warm_start else {}
    if not any(np.isfinite(s) for s, _, _ in scores):
        scores = [(aic, aic, k) for _, aic, k in scores]
    best = min(scores, key=lambda s: s[0])[2]  # first k on ties, like np.argmin in the original
    return fitted[best], fitted if settings.warm_start else {}


@dataclasses.dataclass(frozen=True)
class Schedule:
    """When a GMM teacher explores and refits."""

    fit_rate: int
    nb_bootstrap: int
    random_task_ratio: float


class GMMTeacher(Teacher, abc.ABC):
    """Bootstrap, periodic refits and interest-proportional sampling; subclasses define the interest.

    A subclass says how many interest columns it appends (`extra_dims`), computes them for each
    episode (`_extra`), how they are scaled before a fit (`_extra_affine`), how interesting each
    fitted component is (`_interest`), and what `info` reports about it (`_interest_info`).

    Sampling follows the original: while bootstrapping (fewer than `nb_bootstrap` episodes
    reported), with probability `random_task_ratio`, or before the first successful fit, a task is
    uniform over [0,1]^dim, except that bootstrap tasks come from `context.initial_dist` (clipped)
    when the lab gives one (expert-knowledge level "high", REFERENCE 1.3). Otherwise a component
    is chosen in proportion to its interest, and a task drawn from its task marginal and clipped.
    """

    extra_dims: ClassVar[int] = 1

    def __init__(self, config: Any, context: TeacherContext, schedule: Schedule, fit: FitSettings):
        super().__init__(config, context)
        self.schedule, self.fit_settings = schedule, fit
        self.n_episodes = 0
        self.n_fits = 0
        self.batch = np.zeros((schedule.fit_rate, self.dim + self.extra_dims))
        self.gmm: MixtureParams | None = None
        self.extra_offset = np.zeros(self.extra_dims)  # fitted columns = (raw - offset) / scale
        self.extra_scale = np.ones(self.extra_dims)
        self.warm: dict[int, MixtureParams] = {}
        self._factors: np.ndarray | None = None

    # ---- hooks ------------------------------------------------------------------------------
    @abc.abstractmethod
    def _extra(self, task: np.ndarray, episodic_return: float) -> np.ndarray:
        """The interest columns of this episode (called before `n_episodes` counts it)."""

    @abc.abstractmethod
    def _extra_affine(self, extra: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(offset, scale) per interest column for this fit batch; scale > 0."""

    @abc.abstractmethod
    def _interest(self, params: MixtureParams) -> np.ndarray:
        """How interesting each component is (>= 0), in fitted (scaled) units."""

    @abc.abstractmethod
    def _interest_info(self) -> dict[str, Any]:
        """The interest of each component in raw return units, for `info`."""

    # ---- sampling ---------------------------------------------------------------------------
    @property
    def bootstrapping(self) -> bool:
        return self.n_episodes < self.schedule.nb_bootstrap

    def sample_task(self) -> Proposal:
        if self.bootstrapping or self.rng.random() < self.schedule.random_task_ratio or self.gmm is None:
            return Proposal(self._explore(self.rng))
        return Proposal(self._sample_gmm(self.rng))

    def non_exploratory_sample(self, rng: np.random.Generator) -> np.ndarray:
        """A GMM sample without the random branch; before the first fit, the bootstrap distribution."""
        if self.gmm is None:
            return self._explore(rng)
        return self._sample_gmm(rng)

    def _explore(self, rng: np.random.Generator) -> np.ndarray:
        dist = self.context.initial_dist
        if dist is not None and self.bootstrapping:
            return np.clip(rng.normal(dist.mean, dist.std), 0.0, 1.0)
        return rng.uniform(0.0, 1.0, self.dim)

    def _sample_gmm(self, rng: np.random.Generator) -> np.ndarray:
        assert self.gmm is not None
        if self._factors is None:
            self._factors = task_sampling_factors(self.gmm, self.dim)
        idx = proportional_choice(self._interest(self.gmm), rng)
        task = self.gmm.means[idx, :self.dim] + self._factors[idx] @ rng.standard_normal(self.dim)
        return np.clip(np.nan_to_num(task, nan=0.5), 0.0, 1.0)

    # ---- learning ---------------------------------------------------------------------------
    def update(self, proposal: Proposal, episodic_return: float, success: bool) -> None:
        task = np.asarray(proposal.task, dtype=np.float64).reshape(self.dim)
        row = self.n_episodes % self.schedule.fit_rate
        self.batch[row, :self.dim] = task
        self.batch[row, self.dim:] = self._extra(task, float(episodic_return))
        self.n_episodes += 1
        if not self.bootstrapping and self.n_episodes % self.schedule.fit_rate == 0:
            self._refit()

    def _refit(self) -> None:
        """Fit on the batch just completed (the last `fit_rate` episodes, in arrival order)."""
        data = self.batch.copy()
        offset, scale = self._extra_affine(data[:, self.dim:])
        data[:, self.dim:] = (data[:, self.dim:] - offset) / scale
        seed = int(self.rng.integers(2**31 - 1))
        best, self.warm = fit_mixture(data, self.fit_settings, seed, self.warm)
        if best is not None:  # a failed fit keeps the previous mixture (or none yet)
            self.gmm, self._factors = best, None
            self.extra_offset, self.extra_scale = offset, scale
            self.n_fits += 1

    # ---- logs and checkpoints ---------------------------------------------------------------
    def info(self) -> dict[str, Any]:
        out: dict[str, Any] = {"bootstrapping": self.bootstrapping, "episodes": self.n_episodes,
                               "fits": self.n_fits, "n_components": 0 if self.gmm is None else self.gmm.n_components}
        if self.gmm is not None:
            d = self.dim
            out.update(weights=self.gmm.weights.tolist(), means=self.gmm.means[:, :d].tolist(),
                       covariances=self.gmm.covariances[:, :d, :d].tolist(), **self._interest_info())
        return out

    def state_dict(self) -> dict[str, Any]:
        return {"rng": rng_state(self.rng), "n_episodes": self.n_episodes, "n_fits": self.n_fits,
                "batch": self.batch.copy(), "gmm": None if self.gmm is None else self.gmm.to_state(),
                "extra_offset": self.extra_offset.copy(), "extra_scale": self.extra_scale.copy(),
                "warm": {int(k): p.to_state() for k, p in self.warm.items()}}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        batch = np.array(state["batch"], dtype=np.float64)
        if batch.shape != self.batch.shape:
            raise ValueError(f"{type(self).__name__} state has a batch of shape {batch.shape}, this teacher "
                             f"expects {self.batch.shape}: load it with the same fit_rate and task space")
        set_rng_state(self.rng, state["rng"])
        self.n_episodes, self.n_fits, self.batch = int(state["n_episodes"]), int(state["n_fits"]), batch
        self.gmm = None if state["gmm"] is None else MixtureParams.from_state(state["gmm"])
        self.extra_offset = np.array(state["extra_offset"], dtype=np.float64)
        self.extra_scale = np.array(state["extra_scale"], dtype=np.float64)
        self.warm = {int(k): MixtureParams.from_state(p) for k, p in state["warm"].items()}
        self._factors = None
