"""teachDeepRL's toy bench: a student whose competence spreads outward from one corner of the task space.

Facts from teachDeepRL (Portelas et al., CoRL 2019, `teachDRL/toy_env/toy_env.py`, REFERENCE.md §9);
the code is the lab's own. No RL runs here: an episode costs a few microseconds, so a teacher can be
compared with others over 20,000 episodes and several seeds in seconds.

Description:
    The task space [0,1]^(dim + extra_dims) is cut into `nb_cubes` cells along each of its first
    `dim` dimensions; the `extra_dims` trailing entries of a task are ignored (irrelevant dimensions,
    to test a teacher's robustness to them). Each cell holds an integer competence in
    [0, max_per_cube]. Playing a task adds 1 to its cell's competence (capped at max_per_cube), but
    only when the cell is *unlocked*: it is the origin cell (all indices 0), or one of its previous
    adjacent neighbours (every index equal or one lower, the cell itself excluded: 2^dim - 1 cells,
    diagonals included) has competence >= mastery. Competence thus spreads outward from the origin
    corner like a curriculum, and most of the space cannot be learnt until its neighbours are.
Thresholds:
    As in teachDeepRL, unlocking and scoring use different comparisons with the same number:
    a neighbour unlocks a cell at competence >= mastery (75), while a cell counts as *mastered* in
    the score only at competence > mastery (76 or more, competence being an integer). A cell at
    exactly 75 unlocks its successors without being counted.
Rewards:
    The cell's competence after the update divided by max_per_cube, in [0,1]. With
    `reward_noise` > 0, Gaussian noise of that std from the student's own generator is added and the
    result clipped to [0,1] (teachDeepRL's noise was commented out; its controller's `np.interp`
    clipped every reward to [0,1] as well).
Score:
    The percentage of cells with competence > mastery (`ToyStudent.score`), measured every
    `eval_every` episodes (teachDeepRL: every 1,000 of 20,000 episodes).
Teacher interface on the toy:
    `run_teacher` builds any registered teacher the way a spec does (the TEACHERS registry, its
    Config validated by the spec validator, a TeacherContext with a generator derived from the seed)
    and loops proposal = sample_task -> record_initial_state(proposal, obs) -> play ->
    update(proposal, reward, success=reward > success_return), as the lab's CurriculumController
    does: the proposal is checked and its task clipped into [0,1] by the controller's own
    `check_proposal`, and the same proposal object goes back to the teacher. The difference from a
    real run is that the toy has no observations: a teacher with `needs_value_estimate` (SPDL)
    gets `ToyStudent.expected_reward` as its value estimator, and the task itself stands for the
    episode's initial observation (obs = task): V(task) = the current competence of the task's
    cell / max_per_cube, i.e. the expected reward of an episode on that task (SPDL's V(s0) of a
    context). The estimator is attached after the teacher is built, as
    `slm_acl.aeb.space.connect_value_estimator` does.
"""
from __future__ import annotations

import dataclasses
import itertools
import time
from typing import Any

import numpy as np

from slm_acl.curriculum.controller import check_proposal
from slm_acl.curriculum.teachers.base import Gaussian, Teacher, TeacherContext
from slm_acl.lib.config import Choice, as_dict
from slm_acl.lib.seeding import SeedTree


class ToyStudent:
    """The toy's simulated student: one integer competence per cell (see the module docstring)."""

    def __init__(self, dim: int = 2, nb_cubes: int = 10, max_per_cube: int = 100, mastery: float = 75,
                 extra_dims: int = 0, reward_noise: float = 0.0, rng: np.random.Generator | None = None):
        """
        Args:
            dim: relevant dimensions, each cut into `nb_cubes` cells (nb_cubes**dim cells in memory).
            nb_cubes: cells per relevant dimension.
            max_per_cube: competence cap of a cell (reward 1 at the cap).
            mastery: competence at which a cell unlocks its successors (>=) and counts as mastered (>).
            extra_dims: trailing task entries that are ignored (irrelevant dimensions).
            reward_noise: std of the Gaussian noise added to the reward (0: none).
            rng: the generator of the reward noise; required when reward_noise > 0.
        """
        for name, value, low in (("dim", dim, 1), ("nb_cubes", nb_cubes, 1), ("max_per_cube", max_per_cube, 1),
                                 ("extra_dims", extra_dims, 0)):
            if int(value) != value or value < low:
                raise ValueError(f"ToyStudent: {name} must be an integer >= {low}, got {value!r}")
        if not 0 < mastery <= max_per_cube:
            raise ValueError(f"ToyStudent: mastery must lie in (0, max_per_cube={max_per_cube}], got {mastery!r}")
        if reward_noise < 0:
            raise ValueError(f"ToyStudent: reward_noise is a std and must be >= 0, got {reward_noise!r}")
        if reward_noise > 0 and rng is None:
            raise ValueError("ToyStudent: reward_noise > 0 needs a generator: pass rng=np.random.default_rng(seed)")
        self.dim, self.nb_cubes, self.extra_dims = int(dim), int(nb_cubes), int(extra_dims)
        self.max_per_cube, self.mastery = int(max_per_cube), float(mastery)
        self.reward_noise, self.rng = float(reward_noise), rng
        shape = (self.nb_cubes,) * self.dim
        self._competence = np.zeros(shape, dtype=np.int32)
        # A cell's competence never decreases, so a cell stays unlocked once one of its previous
        # neighbours reaches mastery: the mask is kept up to date in `play` instead of recomputed.
        self._unlocked = np.zeros(shape, dtype=bool)
        self._unlocked[(0,) * self.dim] = True
        # the offsets from a cell to the cells it unlocks (each index equal or one higher, not itself)
        self._successor_offsets = np.array(list(itertools.product((0, 1), repeat=self.dim))[1:], dtype=np.intp)

    @property
    def task_dim(self) -> int:
        """Length of a task vector: the relevant dims followed by the ignored ones."""
        return self.dim + self.extra_dims

    @property
    def competence(self) -> np.ndarray:
        """The competence grid, shape (nb_cubes,) * dim (a read-only view)."""
        view = self._competence.view()
        view.flags.writeable = False
        return view

    def cells(self, tasks: np.ndarray) -> np.ndarray:
        """Cell indices of tasks of shape (..., task_dim) -> integer array (..., dim)."""
        tasks = np.asarray(tasks, dtype=np.float64)
        index = np.floor(tasks[..., :self.dim] * self.nb_cubes).astype(np.intp)
        return np.clip(index, 0, self.nb_cubes - 1)  # a task at exactly 1.0 lies in the last cell

    def play(self, task: np.ndarray) -> float:
        """One episode on `task` (shape (task_dim,), in [0,1]): learn if the cell is unlocked, return the reward."""
        task = np.asarray(task, dtype=np.float64)
        if task.shape != (self.task_dim,):
            raise ValueError(f"ToyStudent.play: expected a task of shape ({self.task_dim},) "
                             f"(dim {self.dim} + extra_dims {self.extra_dims}), got shape {task.shape}")
        if not (np.all(task >= 0.0) and np.all(task <= 1.0)):  # NaN fails both
            raise ValueError(f"ToyStudent.play: a task lies in [0,1]^{self.task_dim}, got {task!r}; "
                             "clip the teacher's sample first (run_teacher does)")
        cell = tuple(self.cells(task).tolist())
        level = int(self._competence[cell])
        if self._unlocked[cell] and level < self.max_per_cube:
            level += 1
            self._competence[cell] = level
            if level - 1 < self.mastery <= level:
                self._unlock_successors(cell)
        reward = level / self.max_per_cube
        if self.reward_noise > 0:
            reward = min(max(reward + self.rng.normal(0.0, self.reward_noise), 0.0), 1.0)
        return reward

    def _unlock_successors(self, cell: tuple[int, ...]) -> None:
        targets = np.asarray(cell, dtype=np.intp) + self._successor_offsets
        targets = targets[(targets < self.nb_cubes).all(axis=1)]
        self._unlocked[tuple(targets.T)] = True

    def expected_reward(self, tasks: np.ndarray) -> np.ndarray:
        """Competence / max_per_cube of each task's cell, for tasks of shape (n, task_dim) -> (n,).

        The toy's value estimator (SPDL's V(s0)): the toy has no observations, so a task stands for
        its episode's initial state.
        """
        cells = self.cells(np.atleast_2d(tasks))
        return self._competence[tuple(cells.T)] / self.max_per_cube

    def learnable_mask(self) -> np.ndarray:
        """Cells that can gain competence now: unlocked and below the cap. Shape (nb_cubes,) * dim."""
        return self._unlocked & (self._competence < self.max_per_cube)

    def mastered_fraction(self) -> float:
        """Share of cells, in [0,1], whose competence is strictly above `mastery`."""
        return float(np.count_nonzero(self._competence > self.mastery)) / self._competence.size

    def score(self) -> float:
        """teachDeepRL's score: the percentage of mastered cells."""
        return 100.0 * self.mastered_fraction()


@dataclasses.dataclass
class ToyRun:
    """The outcome of one teacher on the toy student."""

    teacher: str
    settings: dict[str, Any]
    seed: int
    episodes: int
    eval_episodes: np.ndarray  # (n_evals,) episodes after which the score was measured
    mastered: np.ndarray  # (n_evals,) % of mastered cells at those episodes
    final: float  # % of mastered cells after the last episode
    teacher_s: float  # wall time inside sample_task and update
    total_s: float  # wall time of the whole episode loop
    samples: np.ndarray | None = None  # (episodes, task_dim) tasks as played, with record_samples
    competence: np.ndarray | None = None  # (n_evals, *grid) competence at each evaluation, with record_samples

    @property
    def teacher_ms_per_episode(self) -> float:
        return 1e3 * self.teacher_s / max(self.episodes, 1)

    def score_at(self, episode: int) -> float:
        """% mastered at the last evaluation at or before `episode` (0 before the first one)."""
        if episode >= self.episodes:
            return self.final
        done = self.eval_episodes <= episode
        return float(self.mastered[done][-1]) if done.any() else 0.0


def origin_dist(task_dim: int, nb_cubes: int = 10) -> Gaussian:
    """Expert knowledge of an easy start: centred on the origin cell, std 10% of the range (TeachMyAgent's
    sub-space Gaussian), in every task dim (extra ones included, where any value is as good)."""
    return Gaussian(mean=np.full(task_dim, 0.5 / nb_cubes), std=np.full(task_dim, 0.1))


def whole_space_dist(task_dim: int) -> Gaussian:
    """The whole task space as a Gaussian: centre, std = range / 4 (TeachMyAgent's default target)."""
    return Gaussian(mean=np.full(task_dim, 0.5), std=np.full(task_dim, 0.25))


def _check_dist(dist: Gaussian | None, task_dim: int, key: str) -> None:
    if dist is None:
        return
    for part in ("mean", "std"):
        values = np.asarray(getattr(dist, part))
        if values.shape != (task_dim,) or not np.isfinite(values).all():
            raise ValueError(f"{key}.{part}: expected {task_dim} finite numbers (unit-cube coordinates), "
                             f"got {values!r}")
    if (np.asarray(dist.std) <= 0).any():
        raise ValueError(f"{key}.std: every std must be > 0, got {dist.std!r}")


def run_teacher(teacher: Choice, episodes: int, seed: int, dim: int = 2,
                nb_cubes: int = 10, extra_dims: int = 0, eval_every: int = 1000,
                success_return: float | None = 0.75, initial_dist: Gaussian | None = None,
                target_dist: Gaussian | None = None, record_samples: bool = False,
                reward_noise: float = 0.0) -> ToyRun:
    """Build `teacher` and let it teach a fresh ToyStudent.

    Args:
        teacher: a validated teacher, as a spec's `curriculum.teacher` holds it
            (`slm_acl.spec.teacher_choice(name, settings)` validates one from a name and settings).
        episodes: episodes to play.
        seed: root of the teacher's and the student's generators (`SeedTree(seed)`, names
            "teacher" and "toy_student"): the same seed gives the same run.
        dim, nb_cubes, extra_dims, reward_noise: the ToyStudent.
        eval_every: episodes between two scores.
        success_return: an episode succeeds when its reward exceeds this (0.75: the cell is mastered);
            None: no success definition, as in a spec without success_return.
        initial_dist, target_dist: expert knowledge in unit-cube coordinates (see `origin_dist`,
            `whole_space_dist`); required for teachers with needs_initial_dist / needs_target_dist.
        record_samples: keep every task played and the competence grid at each evaluation (GIFs).

    Raises:
        ValueError: a teacher's need (success_return, initial_dist, target_dist) is not met.
    """
    seeds = SeedTree(seed)
    student = ToyStudent(dim, nb_cubes, extra_dims=extra_dims, reward_noise=reward_noise,
                         rng=seeds.generator("toy_student"))
    task_dim = student.task_dim
    _check_dist(initial_dist, task_dim, "initial_dist")
    _check_dist(target_dist, task_dim, "target_dist")
    context = TeacherContext(dim=task_dim, rng=seeds.generator("teacher"), success_return=success_return,
                             initial_dist=initial_dist, target_dist=target_dist)
    choice, name = teacher, teacher.name
    # the spec validator's checks of a teacher's needs (slm_acl.spec.validate._check_curriculum)
    for need, value, fix in (("needs_success_return", success_return, "a success definition: pass success_return"),
                             ("needs_initial_dist", initial_dist,
                              "expert knowledge of where to start: pass initial_dist=origin_dist(task_dim)"),
                             ("needs_target_dist", target_dist,
                              "the distribution to reach: pass target_dist=whole_space_dist(task_dim)")):
        if getattr(choice.cls, need) and value is None:
            raise ValueError(f"teacher {name} needs {fix}")
    return play_teacher(choice.build(context), student, episodes, seed=seed, eval_every=eval_every,
                        success_return=success_return, record_samples=record_samples, name=name,
                        settings=as_dict(choice.config))


def play_teacher(teacher: Teacher, student: ToyStudent, episodes: int, *, seed: int = 0, eval_every: int = 1000,
                 success_return: float | None = 0.75, record_samples: bool = False, name: str | None = None,
                 settings: dict[str, Any] | None = None) -> ToyRun:
    """The episode loop of `run_teacher`, for a teacher built by hand (scripted baselines in tests).

    A teacher with `needs_value_estimate` gets `student.expected_reward` as its value estimator
    (attached after construction, as `slm_acl.aeb.space.connect_value_estimator` does), and every
    teacher gets `record_initial_state(proposal, task)`: the task itself is each episode's initial
    observation. `seed` is only recorded in the ToyRun: the teacher and the student already own
    their generators.
    """
    if episodes < 1 or eval_every < 1:
        raise ValueError(f"episodes and eval_every must be >= 1, got {episodes} and {eval_every}")
    task_dim = student.task_dim
    n_evals = episodes // eval_every
    eval_episodes = eval_every * np.arange(1, n_evals + 1)
    mastered = np.zeros(n_evals)
    samples = np.zeros((episodes, task_dim)) if record_samples else None
    grids = np.zeros((n_evals, *student.competence.shape), np.int32) if record_samples else None
    label = name or type(teacher).__name__
    if type(teacher).needs_value_estimate:
        teacher.context.value_estimator = student.expected_reward
    clock = time.perf_counter
    teacher_s = 0.0
    start = clock()
    for episode in range(1, episodes + 1):
        t0 = clock()
        sampled = teacher.sample_task()
        t1 = clock()
        proposal = check_proposal(sampled, teacher, task_dim)  # as CurriculumController.next_task
        task = proposal.task
        t2 = clock()
        teacher.record_initial_state(proposal, task)  # the toy's initial observation is the task itself
        t3 = clock()
        reward = student.play(task)
        success = success_return is not None and reward > success_return
        t4 = clock()
        teacher.update(proposal, reward, success)
        teacher_s += (t1 - t0) + (t3 - t2) + (clock() - t4)
        if record_samples:
            samples[episode - 1] = task
        if episode % eval_every == 0:
            k = episode // eval_every - 1
            mastered[k] = student.score()
            if record_samples:
                grids[k] = student.competence
    total_s = clock() - start
    return ToyRun(teacher=label, settings=dict(settings or {}), seed=seed, episodes=episodes,
                  eval_episodes=eval_episodes, mastered=mastered, final=student.score(), teacher_s=teacher_s,
                  total_s=total_s, samples=samples, competence=grids)
