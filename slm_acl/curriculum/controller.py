"""The per-body curriculum controller: one teacher, one task per sub-env per episode.

Right before a sub-env resets, `next_task(i)` asks the teacher for a `Proposal` and keeps it as
that sub-env's proposal; `record_initial_state(i, obs)` hands the teacher that proposal with the
episode's first observation, and when the episode ends, `end_episode(i, ...)` hands the same
proposal back with the episode's return and success (the env's `info["is_success"]` when it gave one, else
return > success_return: `episode_success`), and clears it. Every proposal thus gets
exactly one outcome, from the episode that really ran it, whatever the vector env does and in
whatever order sub-envs finish; teachers never have to find an episode's bookkeeping by its task.

Two optional transformations sit between teacher and env. With `reward_bounds` the teacher sees
returns mapped linearly from those bounds onto [0, 1] (clipped; success is still judged on the raw
return); TeachMyAgent's bounds are -150/350 for Stump Tracks and -150/360 for Parkour. With a
`DimensionShuffler` the teacher proposes in a shuffled cube and the env plays the mapped task
("rugged difficulty"); the proposal keeps the teacher's own point and the controller maps it.

A checkpoint (`state_dict`) holds the proposals in flight as plain arrays and numbers, and
`load_state_dict` rebuilds them (`Teacher.proposal_type`), so a resumed run gives every in-flight
episode its own proposal back.

`build_controller` makes a controller from a validated curriculum: the one way the lab's bodies and the
Gymnasium wrappers for other trainers (slm_acl.teaching) get their teacher.
"""
from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from slm_acl.curriculum.shuffle import DimensionShuffler
from slm_acl.curriculum.task_space import TaskSpace
from slm_acl.curriculum.teachers.base import Gaussian, Proposal, Teacher, TeacherContext
from slm_acl.lib.seeding import SeedTree


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


def episode_success(episodic_return: float, success_return: float | None, env_success: bool | None) -> bool:
    """Whether an episode succeeded: the env's `info["is_success"]` at its end when it reported one
    (`env_success`), else whether its return exceeds `success_return` (never without one).

    The lab's one rule (the env task protocol, `slm_acl/env/tasks.py`), for what teachers are told, the
    session tables, evaluations' "mastered" and the wrappers of slm_acl.teaching alike.
    """
    if env_success is not None:
        return bool(env_success)
    return success_return is not None and episodic_return > success_return


def check_proposal(proposal: Any, teacher: Teacher, dim: int) -> Proposal:
    """`proposal` (what `teacher.sample_task()` returned), checked for type, shape and finiteness, with
    its task clipped into [0,1]^dim.

    Shared by the controller and the toy bench, so both play what a teacher proposes the same way.
    """
    if not isinstance(proposal, Proposal):
        raise TypeError(f"teacher {type(teacher).__name__}.sample_task returned a {type(proposal).__name__}; "
                        "it must return a Proposal (slm_acl.curriculum.teachers.base)")
    task = np.asarray(proposal.task, dtype=np.float64)
    if task.shape != (dim,) or not np.all(np.isfinite(task)):
        raise NonFiniteError(f"teacher {type(teacher).__name__} sampled {task!r}; expected {dim} finite values")
    proposal.task = np.clip(task, 0.0, 1.0)
    return proposal


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
        self.proposals: list[Proposal | None] = [None] * num_envs  # what the teacher handed each sub-env
        self.raw_tasks: list[np.ndarray | None] = [None] * num_envs  # the raw task each sub-env plays (from it)
        self.samples = 0

    @property
    def active(self) -> bool:
        return self.teacher is not None

    def next_task(self, sub_env: int) -> dict[str, Any] | None:
        """The env task for sub-env `sub_env`'s next episode (None: the env's own default)."""
        if self.teacher is None:
            return None
        if self.proposals[sub_env] is None:
            proposal = check_proposal(self.teacher.sample_task(), self.teacher, self.task_space.dim)
            self.proposals[sub_env] = proposal
            self.raw_tasks[sub_env] = self._raw_task(proposal)
            self.samples += 1
        return self.task_space.to_env_task(self.raw_tasks[sub_env])

    def _raw_task(self, proposal: Proposal) -> np.ndarray:
        """The raw task the env plays for a proposal (through the shuffler, when there is one)."""
        return self.task_space.denormalise(self._to_real(proposal.task))

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
        """Hand the teacher the first observation of the episode sub-env `sub_env` starts, with its proposal."""
        if self.teacher is not None and self.proposals[sub_env] is not None:
            self.teacher.record_initial_state(self.proposals[sub_env], obs)

    def add_sub_env(self) -> int:
        """One more sub-env slot (its index), for envs that join after the controller is built: the Gymnasium
        wrappers of slm_acl.teaching let any number of envs share one teacher."""
        self.proposals.append(None)
        self.raw_tasks.append(None)
        return len(self.proposals) - 1

    def end_episode(self, sub_env: int, episodic_return: float, length: int, truncated: bool,
                    env_success: bool | None = None) -> EpisodeOutcome:
        """Hand the teacher the outcome of sub-env `sub_env`'s episode. `env_success`: the env's
        `info["is_success"]` at the episode's end, which decides its success; None (none given): its return
        against success_return."""
        if not math.isfinite(episodic_return):
            raise NonFiniteError(f"episode return {episodic_return} in sub-env {sub_env} is not finite; "
                                 "the env or the reward scaling produced NaN or inf")
        task = self.raw_tasks[sub_env]
        success = episode_success(float(episodic_return), self.success_return, env_success)
        if self.teacher is not None:
            self.teacher.update(self.proposals[sub_env], self.teacher_return(float(episodic_return)), success)
            self.raw_tasks[sub_env] = self.proposals[sub_env] = None
        return EpisodeOutcome(sub_env, task, float(episodic_return), int(length), success, bool(truncated))

    def state_dict(self) -> dict[str, Any]:
        return {"proposals": [None if p is None else p.state_dict() for p in self.proposals],
                "samples": self.samples,
                "shuffler": None if self.shuffler is None else self.shuffler.state_dict(),
                "teacher": None if self.teacher is None else self.teacher.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if len(state["proposals"]) != len(self.proposals):
            raise ValueError(f"checkpoint has proposals for {len(state['proposals'])} sub-envs, this body has "
                             f"{len(self.proposals)}: resume with the same num_envs")
        self.samples = int(state["samples"])
        if self.shuffler is not None:
            self.shuffler.load_state_dict(state["shuffler"])
        if self.teacher is not None:
            self.teacher.load_state_dict(state["teacher"])
            self.proposals = [None if p is None else type(self.teacher).proposal_type.from_state(p)
                              for p in state["proposals"]]
        self.raw_tasks = [None if p is None else self._raw_task(p) for p in self.proposals]


def build_controller(curriculum: Any, num_envs: int, seeds: SeedTree) -> CurriculumController:
    """The controller of a validated curriculum (a spec's `CurriculumSpec`, whose task space, teacher and
    expert knowledge the spec validator has checked), its teacher and shuffler drawing from `seeds`.

    Args:
        curriculum: the validated curriculum: `task_space`, `teacher` (a validated Choice), `success_return`,
            `reward_bounds`, `initial_dist`, `target_dist`, `shuffle_dimensions`, `shuffle_cuttings`.
        num_envs: sub-env slots to start with (`add_sub_env` adds more).
        seeds: the owner's seed tree; the teacher draws from "teacher", the shuffler from "shuffle".
    """
    task_space = TaskSpace.from_spec(curriculum.task_space)
    shuffler = (DimensionShuffler(task_space.dim, seeds.generator("shuffle"), curriculum.shuffle_cuttings)
                if curriculum.shuffle_dimensions else None)
    dists = {}
    for key in ("initial_dist", "target_dist"):
        dist = getattr(curriculum, key)
        if dist is not None:
            mean, std = task_space.unit_gaussian(dist, key)
            # the teacher proposes in the shuffled cube: move the mean to where it is proposed
            dists[key] = Gaussian(mean if shuffler is None else shuffler.to_proposal(mean), std)
    context = TeacherContext(dim=task_space.dim, rng=seeds.generator("teacher"),
                             success_return=curriculum.success_return, **dists)
    teacher = curriculum.teacher.build(context)
    bounds = None if curriculum.reward_bounds is None else tuple(curriculum.reward_bounds)
    return CurriculumController(num_envs, task_space, teacher, curriculum.success_return, bounds, shuffler)
