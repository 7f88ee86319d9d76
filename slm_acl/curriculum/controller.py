"""The per-body curriculum controller: one teacher, one task per sub-env per episode.

Right before a sub-env resets, `next_task(i)` asks the teacher for a task and remembers it as that
sub-env's pending task; when that sub-env's episode ends, `end_episode(i, ...)` reports the task,
the episode's return and its success back to the teacher, and clears it. Every sampled task thus
gets exactly one outcome, from the episode that really ran it, whatever the vector env does.

Two optional transformations sit between teacher and env. With `reward_bounds` the teacher sees
returns mapped linearly from those bounds onto [0, 1] (clipped; success is still judged on the raw
return); TeachMyAgent's bounds are -150/350 for Stump Tracks and -150/360 for Parkour. With a
`DimensionShuffler` the teacher proposes in a shuffled cube and the env plays the mapped task
("rugged difficulty"); the teacher is updated with its own proposal.
"""
from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from slm_acl.curriculum.shuffle import DimensionShuffler
from slm_acl.curriculum.task_space import TaskSpace
from slm_acl.curriculum.teachers.base import Teacher


class NonFiniteError(FloatingPointError):
    """A NaN or infinite number where the lab needs a finite one."""


@dataclasses.dataclass
class EpisodeOutcome:
    sub_env: int
    task: np.ndarray | None  # raw units, None for a body without curriculum
    episodic_return: float
    length: int
    success: bool
    truncated: bool


class CurriculumController:
    """Glue between a body's teacher and its sub-envs. Without a teacher it just counts episodes."""

    def __init__(self, num_envs: int, task_space: TaskSpace | None = None,
                 teacher: Teacher | None = None, success_return: float | None = None,
                 reward_bounds: tuple[float, float] | None = None, shuffler: DimensionShuffler | None = None):
        if (task_space is None) != (teacher is None):
            raise ValueError("a curriculum needs both a task space and a teacher")
        if reward_bounds is not None and not reward_bounds[0] < reward_bounds[1]:
            raise ValueError(f"reward_bounds must be [low, high] with low < high, got {reward_bounds}")
        self.task_space, self.teacher = task_space, teacher
        self.success_return = success_return
        self.reward_bounds = reward_bounds
        self.shuffler = shuffler
        self.pending: list[np.ndarray | None] = [None] * num_envs  # raw task each sub-env plays
        self.proposals: list[np.ndarray | None] = [None] * num_envs  # the teacher's own unit-cube proposal
        self.samples = 0

    @property
    def active(self) -> bool:
        return self.teacher is not None

    def next_task(self, sub_env: int) -> dict[str, Any] | None:
        """The env task for sub-env `sub_env`'s next episode (None: the env's own default)."""
        if self.teacher is None:
            return None
        if self.pending[sub_env] is None:
            unit = np.asarray(self.teacher.sample_task(), dtype=np.float64)
            if unit.shape != (self.task_space.dim,) or not np.all(np.isfinite(unit)):
                raise NonFiniteError(f"teacher {type(self.teacher).__name__} sampled {unit!r}; "
                                     f"expected {self.task_space.dim} finite values")
            unit = np.clip(unit, 0.0, 1.0)
            self.proposals[sub_env] = unit
            self.pending[sub_env] = self.task_space.denormalise(self._to_real(unit))
            self.samples += 1
        return self.task_space.to_env_task(self.pending[sub_env])

    def _to_real(self, unit: np.ndarray) -> np.ndarray:
        return unit if self.shuffler is None else self.shuffler.to_real(unit)

    def non_exploratory_task(self, rng: np.random.Generator) -> np.ndarray:
        """A raw task from the teacher's current distribution without exploration (curriculum plots)."""
        unit = np.clip(np.asarray(self.teacher.non_exploratory_sample(rng), dtype=np.float64), 0.0, 1.0)
        return self.task_space.denormalise(self._to_real(unit))

    def teacher_return(self, episodic_return: float) -> float:
        """The return as the teacher sees it: mapped from reward_bounds onto [0, 1] when set."""
        if self.reward_bounds is None:
            return episodic_return
        low, high = self.reward_bounds
        return float(np.clip((episodic_return - low) / (high - low), 0.0, 1.0))

    def record_initial_state(self, sub_env: int, obs: np.ndarray) -> None:
        """Hand the teacher the first observation of the episode sub-env `sub_env` starts."""
        if self.teacher is not None and self.proposals[sub_env] is not None:
            self.teacher.record_initial_state(self.proposals[sub_env], obs)

    def is_success(self, episodic_return: float) -> bool:
        return self.success_return is not None and episodic_return > self.success_return

    def end_episode(self, sub_env: int, episodic_return: float, length: int, truncated: bool) -> EpisodeOutcome:
        if not math.isfinite(episodic_return):
            raise NonFiniteError(f"episode return {episodic_return} in sub-env {sub_env} is not finite; "
                                 "the env or the reward scaling produced NaN or inf")
        task = self.pending[sub_env]
        success = self.is_success(episodic_return)
        if self.teacher is not None:
            self.teacher.update(self.proposals[sub_env], self.teacher_return(float(episodic_return)), success)
            self.pending[sub_env] = self.proposals[sub_env] = None
        return EpisodeOutcome(sub_env, task, float(episodic_return), int(length), success, bool(truncated))

    def state_dict(self) -> dict[str, Any]:
        return {"pending": [None if p is None else p.tolist() for p in self.pending],
                "proposals": [None if p is None else p.tolist() for p in self.proposals],
                "samples": self.samples,
                "shuffler": None if self.shuffler is None else self.shuffler.state_dict(),
                "teacher": None if self.teacher is None else self.teacher.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.pending = [None if p is None else np.asarray(p, dtype=np.float64) for p in state["pending"]]
        if "proposals" in state:
            self.proposals = [None if p is None else np.asarray(p, dtype=np.float64) for p in state["proposals"]]
        else:  # a checkpoint from before dimension shuffling existed: the proposal is the task in the unit cube
            self.proposals = [None if p is None else self.task_space.normalise(p) for p in self.pending]
        self.samples = int(state["samples"])
        if self.shuffler is not None:
            self.shuffler.load_state_dict(state["shuffler"])
        if self.teacher is not None:
            self.teacher.load_state_dict(state["teacher"])
