"""One lab teacher for envs that run outside the lab's sessions (SB3, CleanRL, a training loop of your own).

A `Curriculum` is what a body of a lab run has, without the run: a task space, a teacher and the lab's
`CurriculumController`, built from the same settings and through the same code as a spec's `curriculum`
block (`slm_acl.spec.validate.curriculum_spec`, then `slm_acl.curriculum.controller.build_controller`). A
typo in a teacher's name or settings, a bad task-space bound, or a teacher that lacks what it needs therefore
fails as it does in a spec, naming the key and the valid choices.

Any number of envs share one Curriculum: each takes a slot (`add_env`), asks for its next task right before
its reset (`next_task`) and reports that episode's outcome (`end_episode`), so every task the teacher hands
out gets exactly the outcome of the episode that played it, in whatever order the envs finish. The
Gymnasium wrappers of `slm_acl.teaching.gym_wrapper` do these calls; a training loop can also do them itself.

The teacher lives in one process. A Curriculum refuses to be pickled, because a copy sent to a worker
process (SB3's SubprocVecEnv, Gymnasium's AsyncVectorEnv building wrapped envs) would teach on its own,
unseen by the others: use in-process sub-envs, or `CurriculumVectorEnv`, which keeps the teacher in the
main process and sends the tasks to the workers.
"""
from __future__ import annotations

import os
from typing import Any, Mapping, Sequence

from slm_acl.curriculum.controller import EpisodeOutcome, build_controller
from slm_acl.curriculum.task_space import TaskSpace
from slm_acl.curriculum.teachers.base import Teacher, ValueEstimator
from slm_acl.lib.config import as_dict
from slm_acl.lib.io import load_torch, save_torch
from slm_acl.lib.seeding import SeedTree
from slm_acl.spec.env_fit import check_task_space
from slm_acl.spec.validate import curriculum_spec

FORMAT = "slm_acl.teaching.Curriculum/1"  # what `save` writes and `load` reads


def _teacher_block(teacher: str | Mapping[str, Any], settings: Mapping[str, Any]) -> dict[str, Any]:
    """The spec's `curriculum.teacher` block from a name plus settings, or from a `{"name": ..., ...}` dict."""
    if isinstance(teacher, str):
        return {"name": teacher, **settings}
    if isinstance(teacher, Mapping):
        if settings:
            raise TypeError(f"teacher settings {sorted(settings)} given twice: put them in the teacher dict "
                            f"{dict(teacher)!r} or pass the teacher by name, not both")
        return dict(teacher)
    raise TypeError(f"teacher must be a registered name such as 'ALP-GMM' or a dict {{'name': ..., settings}}, "
                    f"got {teacher!r}")


class Curriculum:
    """A lab teacher over a task space, shared by the envs that take a slot in it."""

    def __init__(self, teacher: str | Mapping[str, Any] = "ALP-GMM", task_space: Mapping[str, Any] | None = None,
                 *, seed: int = 0, success_return: float | None = None,
                 reward_bounds: Sequence[float] | None = None, initial_dist: Mapping[str, Any] | None = None,
                 target_dist: Mapping[str, Any] | None = None, value_estimator: ValueEstimator | None = None,
                 **teacher_settings: Any):
        """
        Args:
            teacher: a registered teacher's name ("ALP-GMM", "Random", "ADR", ...; `slm_acl.curriculum.teachers.
                TEACHERS`) with its settings as keyword arguments, or a spec's teacher dict
                `{"name": "ALP-GMM", "fit_rate": 100}`.
            task_space: the env parameters the teacher chooses, as in a spec: `{param: [low, high]}`,
                `[low, high, n]` for n dims, `[[low, high], ...]` per dim, a bare number to fix one.
            seed: the root of the teacher's generator: the same seed, settings and outcomes give the same tasks.
            success_return: an episode succeeds when its return exceeds this, unless the env reported
                `info["is_success"]`, which then decides (`slm_acl.curriculum.controller.episode_success`);
                GoalGAN and Setter-Solver need it.
            reward_bounds, initial_dist, target_dist: as the spec's curriculum keys of those names.
            value_estimator: the student's V(s) over a batch of first observations, for Self-Paced (without it,
                Self-Paced weighs tasks by their returns).
            **teacher_settings: the teacher's settings, checked against its config like a spec's.
        """
        if task_space is None:
            raise TypeError("a Curriculum needs a task_space: the env parameters the teacher chooses, "
                            "e.g. {'mass': [0.5, 2.0], 'length': [0.5, 1.5]}")
        raw: dict[str, Any] = {"teacher": _teacher_block(teacher, teacher_settings), "task_space": dict(task_space)}
        for key, value in (("success_return", success_return), ("reward_bounds", reward_bounds),
                           ("initial_dist", initial_dist), ("target_dist", target_dist)):
            if value is not None:
                raw[key] = list(value) if key == "reward_bounds" else value
        spec = curriculum_spec(raw)
        self.settings: dict[str, Any] = as_dict(spec)  # the validated settings, defaults included (`load` checks)
        self._controller = build_controller(spec, 0, SeedTree(seed))
        if value_estimator is not None:
            self.teacher.context.value_estimator = value_estimator
        self.episodes = 0  # outcomes the teacher has heard

    @property
    def teacher(self) -> Teacher:
        return self._controller.teacher

    @property
    def task_space(self) -> TaskSpace:
        return self._controller.task_space

    def add_env(self, task_params: Mapping[str, tuple] | None = None, env_name: str = "env") -> int:
        """A slot for one more env, checked against the task parameters it declares (its `task_params`, the
        lab's env protocol; an env that declares none is trusted to accept the task space's names)."""
        if task_params is not None:
            check_task_space(self.task_space, task_params, env_name, "curriculum.task_space")
        return self._controller.add_sub_env()

    def next_task(self, slot: int) -> dict[str, Any]:
        """The env task (`{param: value}`, raw units) of slot `slot`'s next episode. The teacher draws a task
        only when the slot's last one has its outcome: an episode abandoned by an early reset replays its task."""
        return self._controller.next_task(slot)

    def record_initial_state(self, slot: int, obs: Any) -> None:
        """The first observation of the episode slot `slot` starts (Self-Paced values it)."""
        self._controller.record_initial_state(slot, obs)

    def end_episode(self, slot: int, episodic_return: float, length: int, truncated: bool,
                    env_success: bool | None = None) -> EpisodeOutcome:
        """Hand the teacher the outcome of slot `slot`'s episode. Its success is the env's (`env_success`, from
        `info["is_success"]`) when it gave one, else whether its return exceeds `success_return`
        (`slm_acl.curriculum.controller.episode_success`)."""
        outcome = self._controller.end_episode(slot, float(episodic_return), int(length), bool(truncated),
                                               env_success)
        self.episodes += 1
        return outcome

    def state_dict(self) -> dict[str, Any]:
        """The teacher's state and the counters. Tasks in flight are not kept: envs built to resume reset
        afresh, and a teacher learns only from the outcomes it hears (the lab's teachers keep an episode's
        bookkeeping on its proposal, so a proposal never reported leaves nothing behind)."""
        return {"format": FORMAT, "settings": self.settings, "teacher": self.teacher.state_dict(),
                "samples": self._controller.samples, "episodes": self.episodes}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        if any(p is not None for p in self._controller.proposals):
            raise RuntimeError("load the Curriculum before its envs' first reset: their tasks in flight were drawn "
                               "by the teacher being replaced")
        if state.get("format") != FORMAT:
            raise ValueError(f"not a saved Curriculum (format {state.get('format')!r}, expected {FORMAT!r})")
        if state["settings"] != self.settings:
            differ = sorted(k for k in {*state["settings"], *self.settings}
                            if state["settings"].get(k) != self.settings.get(k))
            raise ValueError(f"the saved curriculum has other settings ({', '.join(differ)}): build the Curriculum "
                             f"with the saved ones, {state['settings']!r}")
        self.teacher.load_state_dict(state["teacher"])
        self._controller.samples = int(state["samples"])
        self.episodes = int(state["episodes"])

    def save(self, path: str | os.PathLike) -> None:
        """Write `state_dict` to `path` atomically (a complete file or none), e.g. next to an SB3 model."""
        save_torch(path, self.state_dict())

    def load(self, path: str | os.PathLike) -> None:
        """Continue from what `save` wrote, into a Curriculum built with the same settings (any seed)."""
        self.load_state_dict(load_torch(path))

    def __getstate__(self) -> Any:
        raise TypeError("a Curriculum cannot be copied into another process, where its copy would teach alone: "
                        "share it among in-process envs (SB3's DummyVecEnv, Gymnasium's SyncVectorEnv), or use "
                        "slm_acl.teaching.CurriculumVectorEnv(..., vectorization='async'), which keeps the teacher "
                        "in this process")

