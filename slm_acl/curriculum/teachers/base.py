"""The teacher interface: choose the next task in [0,1]^d, learn from its outcome.

Teachers know nothing about nets or envs. The task space converts to raw units; the controller
calls `sample_task` right before a sub-env's reset and `update` with exactly that episode's
outcome. Each teacher owns its generator (given by the lab, derived from the run seed) and saves
everything it needs in `state_dict` so a resumed run continues the same sample sequence.
"""
from __future__ import annotations

import abc
import dataclasses
from typing import Any, Callable, ClassVar

import numpy as np

from slm_acl.lib.seeding import rng_state, set_rng_state

ValueEstimator = Callable[[np.ndarray], np.ndarray]


@dataclasses.dataclass(frozen=True)
class Gaussian:
    """A diagonal Gaussian over the unit cube [0,1]^dim (expert knowledge, converted from raw units)."""

    mean: np.ndarray
    std: np.ndarray


@dataclasses.dataclass
class TeacherContext:
    """What the lab hands a teacher besides its config."""

    dim: int
    rng: np.random.Generator
    success_return: float | None = None
    value_estimator: ValueEstimator | None = None  # set for teachers with `needs_value_estimate`
    initial_dist: Gaussian | None = None  # the spec's curriculum.initial_dist, in unit-cube coordinates
    target_dist: Gaussian | None = None  # the spec's curriculum.target_dist, in unit-cube coordinates


class Teacher(abc.ABC):
    Config: ClassVar[type]
    needs_step_updates: ClassVar[bool] = False
    needs_value_estimate: ClassVar[bool] = False
    needs_success_return: ClassVar[bool] = False
    needs_initial_dist: ClassVar[bool] = False
    needs_target_dist: ClassVar[bool] = False

    def __init__(self, config: Any, context: TeacherContext):
        self.config = config
        self.dim = context.dim
        self.rng = context.rng
        self.context = context

    @abc.abstractmethod
    def sample_task(self) -> np.ndarray:
        """A task in [0,1]^dim for the next episode."""

    def update(self, task: np.ndarray, episodic_return: float, success: bool) -> None:
        """Learn from the outcome of an episode played on `task` (in [0,1]^dim)."""

    def record_initial_state(self, task: np.ndarray, obs: np.ndarray) -> None:
        """The first observation of the episode about to be played on `task` (in [0,1]^dim), right
        after its reset: SPDL values it with the student's V(s). A resumed run records it again for
        the task its sub-env was playing (a fresh reset), so keep the latest per task."""

    def step_update(self, obs: np.ndarray, action: np.ndarray, reward: float,
                    next_obs: np.ndarray, done: bool) -> None:
        """Per-step feedback; only called for teachers with `needs_step_updates`."""

    def non_exploratory_sample(self, rng: np.random.Generator) -> np.ndarray:
        """A sample of the teacher's current distribution without its exploration, for plots.

        Uses the caller's generator so plotting never shifts the teacher's own sample sequence.
        """
        return rng.uniform(0.0, 1.0, self.dim)

    def info(self) -> dict[str, Any]:
        """Small dict of the teacher's current state for logs and curriculum plots."""
        return {}

    def state_dict(self) -> dict[str, Any]:
        return {"rng": rng_state(self.rng)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        set_rng_state(self.rng, state["rng"])


MATCH_TOL = 1e-6  # a reported task is the pending one it equals within this (the controller passes it back)


def match_pending(tasks: list[np.ndarray], task: np.ndarray) -> int | None:
    """Index of the first pending task equal to `task` up to MATCH_TOL, or None. Teachers that keep
    per-episode state (an initial state, a sampled goal) find it again when the episode's outcome
    comes back, whatever order several sub-envs finish in."""
    for i, t in enumerate(tasks):
        if np.max(np.abs(t - task)) <= MATCH_TOL:
            return i
    return None
