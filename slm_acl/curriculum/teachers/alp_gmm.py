"""ALP-GMM: sample where absolute learning progress is high (Portelas et al. 2019, REFERENCE 1.5).

Each episode's ALP is |r - r_nn|, where r_nn is the return of the nearest previously played task.
Every `fit_rate` episodes a Gaussian mixture is fitted to the last `fit_rate` [task, ALP] rows;
tasks come from components chosen in proportion to their mean ALP, with a share of uniform tasks.

Units. Tasks live in [0,1]^dim, so the nearest neighbour is found in the unit cube: every task
dimension counts by its position inside its range. The original searched in raw task units, where
a wide dimension (Stump Tracks spacing [0,6] against height [0,3]) dominates the distance;
the unit cube is the same as raw units rescaled per dimension. Returns are used raw (any units:
ALP is a difference of returns); see `normalise_alp` for how the ALP column is scaled for the fit.
"""
from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import numpy as np
from scipy.spatial import cKDTree

from slm_acl.curriculum.expert_knowledge import Gift, gives, levels
from slm_acl.curriculum.teachers.base import TeacherContext
from slm_acl.curriculum.teachers.gmm import Criterion, FitSettings, GMMTeacher, MixtureParams, Schedule, check_ks
from slm_acl.curriculum.teachers.registry import TEACHERS
from slm_acl.lib.config import param

MIN_NEIGHBOURS = 6  # the original returns ALP 0 until more than 5 episodes are stored


class NearestNeighbourALP:
    """ALP of each new episode against the nearest earlier task, with a buffered KD-tree.

    As in the original (`EmpiricalALPComputer` over explauto's `BufferedDataset`), the KD-tree is
    rebuilt only when a side buffer of `buffer_size` recent episodes is full; the buffer is
    searched by brute force, and the nearer of the two answers wins (the older, tree one on a
    tie). With `max_size`, the oldest episodes are dropped when the buffer is flushed, so between
    `max_size` and `max_size + buffer_size` episodes are searched, as in the original.

    Known property, as in the original: with the whole history kept (`max_size` None), where the
    return does not vary with the task inside a region, the nearest earlier task is a random
    earlier episode of that region, however old. A region learnt long ago keeps a high ALP
    (return now minus a return from its learning phase) until enough fresh episodes crowd out the
    old ones. On teachDeepRL's toy, cells at full competence carry ~70 % of the ALP mass (see
    bench/toy_teachers.py); `max_size` bounds how stale a neighbour can be.
    """

    def __init__(self, dim: int, buffer_size: int = 500, max_size: int | None = None):
        self.dim, self.buffer_size, self.max_size = dim, buffer_size, max_size
        self.tasks = np.empty((64, dim))
        self.returns = np.empty(64)
        self.size = 0  # episodes stored
        self.in_tree = 0  # the first `in_tree` stored episodes are in the KD-tree, the rest in the buffer
        self.tree: cKDTree | None = None

    def __call__(self, task: np.ndarray, episodic_return: float) -> float:
        """The ALP of (task, return) against the stored episodes; then stores this episode."""
        alp = 0.0
        if self.size >= MIN_NEIGHBOURS:
            alp = abs(episodic_return - self.returns[self._nearest(task)])
        self._add(task, episodic_return)
        return float(alp) if np.isfinite(alp) else float(np.finfo(np.float64).max)

    def _nearest(self, task: np.ndarray) -> int:
        best, best_dist = -1, np.inf
        if self.in_tree:
            if self.tree is None:
                self.tree = cKDTree(self.tasks[:self.in_tree])
            best_dist, best = self.tree.query(task)
        if self.size > self.in_tree:
            dists = np.sqrt(((self.tasks[self.in_tree:self.size] - task) ** 2).sum(axis=1))
            j = int(np.argmin(dists))
            if dists[j] < best_dist:
                best = self.in_tree + j
        return int(best)

    def _add(self, task: np.ndarray, episodic_return: float) -> None:
        if self.size - self.in_tree >= self.buffer_size:
            self._flush()
        if self.size == len(self.returns):
            self.tasks = np.concatenate([self.tasks, np.empty_like(self.tasks)])
            self.returns = np.concatenate([self.returns, np.empty_like(self.returns)])
        self.tasks[self.size], self.returns[self.size] = task, episodic_return
        self.size += 1

    def _flush(self) -> None:
        if self.max_size is not None and self.size > self.max_size:
            drop = self.size - self.max_size
            self.tasks[:self.max_size] = self.tasks[drop:self.size]
            self.returns[:self.max_size] = self.returns[drop:self.size]
            self.size = self.max_size
        self.in_tree, self.tree = self.size, None

    def state_dict(self) -> dict[str, Any]:
        return {"tasks": self.tasks[:self.size].copy(), "returns": self.returns[:self.size].copy(),
                "in_tree": self.in_tree}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        tasks = np.array(state["tasks"], dtype=np.float64).reshape(-1, self.dim)
        self.size, self.in_tree, self.tree = len(tasks), int(state["in_tree"]), None
        capacity = max(64, 2 * self.size)
        self.tasks, self.returns = np.empty((capacity, self.dim)), np.empty(capacity)
        self.tasks[:self.size] = tasks
        self.returns[:self.size] = np.array(state["returns"], dtype=np.float64)


@dataclasses.dataclass(frozen=True)
class ALPGMMConfig:
    """ALP-GMM settings; defaults are TeachMyAgent's benchmark values (the TDRL paper used fit_rate
    250, potential_ks 2..10 and random_task_ratio 0.2)."""

    fit_rate: int = param(150, ge=2, doc="episodes between two GMM fits; each fit uses the last fit_rate episodes")
    nb_bootstrap: int | None = param(None, ge=0, doc="episodes of uniform (or initial_dist) tasks before the "
                                     "first fit; null = fit_rate")
    potential_ks: tuple[int, ...] = param(tuple(range(2, 10)), check=check_ks,
                                          doc="numbers of Gaussians tried at each fit (benchmark: 2..9)")
    random_task_ratio: float = param(0.05, ge=0.0, le=1.0, doc="share of uniformly random tasks after bootstrap")
    gmm_fitness_func: Criterion = param("aic", doc="criterion choosing the number of Gaussians: aic, bic or aicc")
    nb_em_init: int = param(1, ge=1, doc="EM restarts per fit (sklearn n_init)")
    warm_start: bool = param(False, doc="start each fit from the previous fit's parameters (per number of "
                             "Gaussians)")
    alp_buffer_size: int = param(500, ge=1, doc="episodes searched by brute force before the KD-tree is rebuilt")
    alp_max_size: int | None = param(None, ge=1, doc="episodes kept for the nearest-neighbour ALP (null = all); "
                                     "counted in episodes, not the original CLI's millions of steps")
    normalise_alp: bool = param(True, doc="divide the ALP column by its maximum over the fit batch before "
                                "fitting, so the mixture does not depend on return units; false fits raw "
                                "ALP like the original code")


@TEACHERS.register("ALP-GMM")
class ALPGMM(GMMTeacher):
    """Absolute-learning-progress Gaussian mixture teacher.

    Follows the original code (TeachMyAgent `alp_gmm.py`) except where noted:
    - a component is chosen in proportion to the ALP coordinate of its mean (not weighted by the
      mixture weight), uniformly when all are 0 — as in the original;
    - each fit's sklearn seed is drawn from the teacher's generator (the original reused one seed);
    - `normalise_alp` (default on) scales the ALP column to [0,1] per fit. A full-covariance GMM's
      likelihood and AIC/BIC differences do not change under that scaling, and neither do the
      selection proportions, but sklearn's k-means initialisation and `reg_covar` do: with raw
      returns the ALP axis dominates them in Stump Tracks units (returns in [-150, 350]) and not
      at all in TDRL's [0,1]-scaled returns. Scaling makes the curriculum independent of units;
    - AICc counts the parameters of the fitted space (the original used the task dims only);
    - `alp_max_size` is in episodes (the original CLI multiplied it by 1e6 as "env steps").
    """

    Config: ClassVar[type] = ALPGMMConfig
    # TeachMyAgent: at "high" the bootstrap draws from initial_dist instead of uniformly; nothing otherwise
    expert_knowledge = levels(no=gives(), low=gives(), high=gives(Gift.INITIAL_DIST))
    extra_dims = 1

    def __init__(self, config: ALPGMMConfig, context: TeacherContext):
        nb_bootstrap = config.fit_rate if config.nb_bootstrap is None else config.nb_bootstrap
        super().__init__(config, context,
                         Schedule(config.fit_rate, nb_bootstrap, config.random_task_ratio),
                         FitSettings(tuple(config.potential_ks), config.gmm_fitness_func, config.nb_em_init,
                                     config.warm_start))
        self.alp = NearestNeighbourALP(context.dim, config.alp_buffer_size, config.alp_max_size)

    def _extra(self, task: np.ndarray, episodic_return: float) -> np.ndarray:
        return np.array([self.alp(task, episodic_return)])

    def _extra_affine(self, extra: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        top = float(extra.max())
        scale = top if self.config.normalise_alp and np.isfinite(top) and top > 0.0 else 1.0
        return np.zeros(1), np.array([scale])

    def _interest(self, params: MixtureParams) -> np.ndarray:
        return params.means[:, self.dim]

    def _interest_info(self) -> dict[str, Any]:
        assert self.gmm is not None
        return {"alp": (self.gmm.means[:, self.dim] * self.extra_scale[0]).tolist()}

    def state_dict(self) -> dict[str, Any]:
        return {**super().state_dict(), "alp": self.alp.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self.alp.load_state_dict(state["alp"])
