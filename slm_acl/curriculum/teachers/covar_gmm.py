"""Covar-GMM: sample where return grows with time (IGMM, Moulin-Frier et al. 2014; REFERENCE 1.6).

Each episode appends [task, t, return], t being the episode's position inside the current batch
of `fit_rate` episodes (0, 1/fit_rate, ...). Every `fit_rate` episodes a fresh Gaussian mixture is
fitted to that batch; a component's learning progress is the covariance between t and the return
inside it, and components are chosen in proportion to max(0, that covariance) (or its absolute
value with `absolute_lp`). Tasks live in [0,1]^dim; returns are used raw (see `normalise_return`).
"""
from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import numpy as np

from slm_acl.curriculum.expert_knowledge import Gift, gives, levels
from slm_acl.curriculum.teachers.base import TeacherContext
from slm_acl.curriculum.teachers.gmm import FitSettings, GMMTeacher, MixtureParams, Schedule, check_ks
from slm_acl.curriculum.teachers.registry import TEACHERS
from slm_acl.lib.config import param


@dataclasses.dataclass(frozen=True)
class CovarGMMConfig:
    """Covar-GMM settings; defaults are TeachMyAgent's benchmark values (the class defaults were
    fit_rate 250, potential_ks 2..10 and random_task_ratio 0.2)."""

    fit_rate: int = param(150, ge=2, doc="episodes between two GMM fits; each fit uses the last fit_rate episodes")
    nb_bootstrap: int | None = param(None, ge=0, doc="episodes of uniform (or initial_dist) tasks before the "
                                     "first fit; null = fit_rate")
    potential_ks: tuple[int, ...] = param(tuple(range(2, 15)), check=check_ks,
                                          doc="numbers of Gaussians tried at each fit, best by AIC "
                                          "(benchmark: 2..14)")
    random_task_ratio: float = param(0.1, ge=0.0, le=1.0, doc="share of uniformly random tasks after bootstrap")
    absolute_lp: bool = param(False, doc="choose components by |cov(t, return)| instead of its positive part")
    normalise_return: bool = param(True, doc="rescale the return column to [0,1] over the fit batch before "
                                   "fitting, so the mixture does not depend on return units; false fits raw "
                                   "returns like the original code")


@TEACHERS.register("Covar-GMM")
class CovarGMM(GMMTeacher):
    """Time-return covariance Gaussian mixture teacher.

    Follows the original code (TeachMyAgent `covar_gmm.py`) except where noted:
    - every fit is fresh (no warm start) and chosen by AIC, as in the original; each fit's sklearn
      seed is drawn from the teacher's generator (the original reused one seed);
    - a component's interest is read from its covariance (not weighted by the mixture weight),
      uniform choice when none is positive — as in the original;
    - `normalise_return` (default on) maps the batch's returns to [0,1] before the fit. Every
      component's cov(t, return) is then divided by the same positive number, so the selection
      proportions are unchanged, but sklearn's k-means initialisation and `reg_covar` no longer
      depend on return units (raw Stump Tracks returns span 500, t spans 1), and a fit with
      returns of 1e12 stays well conditioned.
    """

    Config: ClassVar[type] = CovarGMMConfig
    # TeachMyAgent: at "high" the bootstrap draws from initial_dist instead of uniformly; nothing otherwise
    expert_knowledge = levels(no=gives(), low=gives(), high=gives(Gift.INITIAL_DIST))
    extra_dims = 2

    def __init__(self, config: CovarGMMConfig, context: TeacherContext):
        nb_bootstrap = config.fit_rate if config.nb_bootstrap is None else config.nb_bootstrap
        super().__init__(config, context,
                         Schedule(config.fit_rate, nb_bootstrap, config.random_task_ratio),
                         FitSettings(tuple(config.potential_ks), "aic"))

    def _extra(self, task: np.ndarray, episodic_return: float) -> np.ndarray:
        t = (self.n_episodes % self.schedule.fit_rate) / self.schedule.fit_rate
        return np.array([t, episodic_return])

    def _extra_affine(self, extra: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if not self.config.normalise_return:
            return np.zeros(2), np.ones(2)
        low, high = float(extra[:, 1].min()), float(extra[:, 1].max())
        span = high - low  # 0 for constant returns: the column is then all zeros
        scale = span if np.isfinite(span) and span > 0.0 else 1.0
        return np.array([0.0, low]), np.array([1.0, scale])

    def _lp(self, params: MixtureParams) -> np.ndarray:
        return params.covariances[:, self.dim, self.dim + 1]

    def _interest(self, params: MixtureParams) -> np.ndarray:
        lp = self._lp(params)
        return np.abs(lp) if self.config.absolute_lp else np.maximum(lp, 0.0)

    def _interest_info(self) -> dict[str, Any]:
        assert self.gmm is not None
        return {"lp": (self._lp(self.gmm) * self.extra_scale[0] * self.extra_scale[1]).tolist()}
