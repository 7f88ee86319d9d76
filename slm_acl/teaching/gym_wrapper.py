"""Gymnasium wrappers that let a lab teacher choose every episode's task, for any trainer.

The env protocol is the lab's (`slm_acl/env/tasks.py`): an env takes its episode's task as
`reset(options={"task": {param: value}})` (raw units; a vector parameter is a list), and may declare
`task_params = {param: (low, high)}` (or `(low, high, size)`) on its unwrapped class so a task space is
checked against it when the wrapper is built.
An env that reports `info["is_success"]` on an episode's last step has that success counted, in place of
the return's comparison with `success_return` (`slm_acl.curriculum.controller.episode_success`).

Two forms, one rule (each episode plays a task drawn after the teacher heard its env's previous episode, and
reports exactly that episode):

- `CurriculumWrapper` wraps one env: `reset` draws the task, `step` reports the episode when it ends. Envs
  that share one `Curriculum` (`curriculum=`) share its teacher, each with its own task. This is the form for
  Stable-Baselines3, whose DummyVecEnv resets a finished sub-env itself, inside the step that ended it, so
  the wrapper's `step` reports before its `reset` draws. It also serves Gymnasium's SyncVectorEnv in every
  autoreset mode, since the sub-envs live in this process.
- `CurriculumVectorEnv` builds a Gymnasium vector env (sync or async) and keeps the teacher in this process,
  so sub-envs may live in worker processes. It relies on Gymnasium 1.x's default next-step autoreset: a
  sub-env that ends its episode at step t is reset by the vector env at step t+1 (that step ignores its
  action and returns its first observation with reward 0, terminated and truncated False). Between the two,
  the wrapper reports the episode and sends the sub-env its next task (`set_attr`), which the sub-env's
  `TaskSlot` plays at that reset; `CurriculumVectorEnv` therefore builds its own vector env, in next-step mode.
  Gymnasium's vector infos hold `info["task"]` as a dict of per-sub-env arrays, masked by `info["_task"]`.

In both, `info["task"]` is the episode's task, in the info of its reset and of its last step.
"""
from __future__ import annotations

import functools
from typing import Any, Callable, Literal, Mapping, SupportsFloat

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode
from gymnasium.vector.utils import iterate

from slm_acl.env.factory import task_params_of
from slm_acl.env.tasks import reported_success
from slm_acl.teaching.curriculum import Curriculum

# how CurriculumVectorEnv runs its sub-envs: in this process, or one worker process each
VECTORIZATIONS: dict[str, Callable[..., gym.vector.VectorEnv]] = {
    "sync": gym.vector.SyncVectorEnv,
    "async": gym.vector.AsyncVectorEnv,
}


def _curriculum(curriculum: Curriculum | None, teacher: str | Mapping[str, Any] | None,
                task_space: Mapping[str, Any] | None, seed: int, success_return: float | None,
                teacher_settings: dict[str, Any]) -> Curriculum:
    """The given shared Curriculum, or one of the wrapper's own from the teacher settings (not both)."""
    if curriculum is None:
        return Curriculum("ALP-GMM" if teacher is None else teacher, task_space, seed=seed,
                          success_return=success_return, **teacher_settings)
    given = [name for name, value in (("teacher", teacher), ("task_space", task_space),
                                      ("success_return", success_return)) if value is not None]
    if given or teacher_settings:
        raise TypeError(f"curriculum= brings its own teacher and task space; remove {given + sorted(teacher_settings)} "
                        "(or drop curriculum= to give the wrapper a teacher of its own)")
    return curriculum


def _refuse_caller_task(options: dict[str, Any] | None) -> None:
    if options and "task" in options:
        raise ValueError("reset(options={'task': ...}) under a curriculum wrapper: the teacher chooses every "
                         "episode's task; to play a task of your own, reset the env without the wrapper")


def _task_options(options: dict[str, Any] | None, task: dict[str, Any]) -> dict[str, Any]:
    """The reset options that hand the env its task; the caller's other options pass through."""
    _refuse_caller_task(options)
    return {**(options or {}), "task": task}


def _env_name(env: gym.Env) -> str:
    return env.spec.id if env.spec is not None else type(env.unwrapped).__name__


class CurriculumWrapper(gym.Wrapper):
    """One env whose every episode plays a task from a lab teacher, which hears back each episode's return.

    Example (SB3; every sub-env in this process, one teacher for all):

        curriculum = Curriculum("ALP-GMM", task_space={"mass": [0.5, 2.0]}, seed=0)
        vec = make_vec_env(lambda: CurriculumWrapper(gym.make("slm_acl/ParamPendulum-v0"), curriculum=curriculum), 4)
    """

    def __init__(self, env: gym.Env, teacher: str | Mapping[str, Any] | None = None,
                 task_space: Mapping[str, Any] | None = None, *, curriculum: Curriculum | None = None,
                 seed: int = 0, success_return: float | None = None, **teacher_settings: Any):
        """
        Args:
            env: an env that takes `reset(options={"task": {...}})`.
            teacher, task_space, seed, success_return, **teacher_settings: the wrapper's own `Curriculum`
                (teacher None: "ALP-GMM"); see `Curriculum`.
            curriculum: a Curriculum shared with other envs, instead of the settings above.
        """
        super().__init__(env)
        self.curriculum = _curriculum(curriculum, teacher, task_space, seed, success_return, teacher_settings)
        self.slot = self.curriculum.add_env(task_params_of(env), _env_name(env))
        self.task: dict[str, Any] | None = None  # the task of the episode being played
        self._return, self._length, self._playing = 0.0, 0, False

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
        self.task = self.curriculum.next_task(self.slot)
        obs, info = self.env.reset(seed=seed, options=_task_options(options, self.task))
        self.curriculum.record_initial_state(self.slot, obs)
        self._return, self._length, self._playing = 0.0, 0, True
        return obs, {**info, "task": self.task}

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        if not self._playing:
            raise RuntimeError("CurriculumWrapper.step without an episode under way: call reset() first, which "
                               "asks the teacher for the next task")
        obs, reward, terminated, truncated, info = self.env.step(action)
        self._return += float(reward)
        self._length += 1
        if terminated or truncated:
            self._playing = False
            self.curriculum.end_episode(self.slot, self._return, self._length, bool(truncated),
                                        reported_success(info))
            info = {**info, "task": self.task}
        return obs, reward, terminated, truncated, info


class TaskSlot(gym.Wrapper):
    """A sub-env of `CurriculumVectorEnv`: plays `next_task` (set from the main process) at every reset,
    the vector env's autoresets included, and reports `task_params` without failing when there are none."""

    def __init__(self, env: gym.Env):
        super().__init__(env)
        self.next_task: dict[str, Any] | None = None
        self.task: dict[str, Any] | None = None
        self.declared_task_params = task_params_of(env)
        self.env_name = _env_name(env)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
        if self.next_task is None:
            raise RuntimeError("TaskSlot reset before its task was set: build its vector env with CurriculumVectorEnv")
        self.task = self.next_task
        obs, info = self.env.reset(seed=seed, options=_task_options(options, self.task))
        return obs, {**info, "task": self.task}

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        if terminated or truncated:
            info = {**info, "task": self.task}
        return obs, reward, terminated, truncated, info


def _task_slot(make_env: Callable[[], gym.Env]) -> TaskSlot:
    """A sub-env factory for the vector env (module level, so worker processes can unpickle it)."""
    return TaskSlot(make_env())


def _successes(info: dict[str, Any], num_envs: int) -> list[bool | None]:
    """Each sub-env's `is_success` in a vector info (None where it gave none)."""
    if "is_success" not in info:
        return [None] * num_envs
    mask = info.get("_is_success", np.ones(num_envs, dtype=bool))
    return [bool(info["is_success"][i]) if mask[i] else None for i in range(num_envs)]


class CurriculumVectorEnv(gym.vector.VectorWrapper):
    """A Gymnasium vector env whose sub-envs each play their own task from one shared lab teacher.

    Example (CleanRL-style loop, sub-envs in worker processes):

        envs = CurriculumVectorEnv("slm_acl/ParamPendulum-v0", 8, "ALP-GMM", {"mass": [0.5, 2.0]},
                                   vectorization="async")
        obs, info = envs.reset(seed=0)
    """

    def __init__(self, env: str | Callable[[], gym.Env], num_envs: int,
                 teacher: str | Mapping[str, Any] | None = None, task_space: Mapping[str, Any] | None = None, *,
                 curriculum: Curriculum | None = None, seed: int = 0, success_return: float | None = None,
                 vectorization: Literal["sync", "async"] = "sync", **teacher_settings: Any):
        """
        Args:
            env: a registered Gymnasium id, or a function that makes one env (picklable for "async").
            num_envs: sub-envs.
            teacher, task_space, seed, success_return, **teacher_settings: the vector env's own `Curriculum`
                (teacher None: "ALP-GMM"); see `Curriculum`.
            curriculum: a Curriculum shared with other envs, instead of the settings above.
            vectorization: "sync" (sub-envs in this process) or "async" (one worker process each).
        """
        if vectorization not in VECTORIZATIONS:
            raise ValueError(f"vectorization must be one of {sorted(VECTORIZATIONS)}, got {vectorization!r}")
        # the teacher first: a bad setting fails before any worker process starts
        shared = _curriculum(curriculum, teacher, task_space, seed, success_return, teacher_settings)
        make_env = functools.partial(gym.make, env) if isinstance(env, str) else env
        vec = VECTORIZATIONS[vectorization]([functools.partial(_task_slot, make_env) for _ in range(num_envs)],
                                            autoreset_mode=AutoresetMode.NEXT_STEP)
        super().__init__(vec)
        try:
            params, name = vec.get_attr("declared_task_params")[0], vec.get_attr("env_name")[0]
            self.curriculum = shared
            self.slots = [shared.add_env(params, name) for _ in range(num_envs)]
        except Exception:
            vec.close()
            raise
        self._returns = np.zeros(num_envs, dtype=np.float64)
        self._lengths = np.zeros(num_envs, dtype=np.int64)
        self._restarting = np.zeros(num_envs, dtype=bool)  # sub-envs the next step resets (next-step autoreset)

    def _send_tasks(self) -> None:
        """Every sub-env's task for its next reset: a fresh one where the last episode has its outcome, the
        task in play elsewhere (unchanged)."""
        self.env.set_attr("next_task", [self.curriculum.next_task(slot) for slot in self.slots])

    def _record_first(self, obs: Any, which: np.ndarray) -> None:
        firsts = list(iterate(self.single_observation_space, obs))
        for i in np.flatnonzero(which):
            self.curriculum.record_initial_state(self.slots[i], firsts[i])

    def reset(self, *, seed: int | list[int | None] | None = None,
              options: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
        _refuse_caller_task(options)  # here, not in a worker process, whose error would close its pipe
        self._send_tasks()
        obs, info = self.env.reset(seed=seed, options=options)
        self._record_first(obs, np.ones(self.num_envs, dtype=bool))
        self._returns[:], self._lengths[:], self._restarting[:] = 0.0, 0, False
        return obs, info

    def step(self, actions: Any) -> tuple[Any, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        obs, rewards, terminated, truncated, info = self.env.step(actions)
        restarted = self._restarting
        if restarted.any():  # reset by this step: a new episode starts at `obs`
            self._record_first(obs, restarted)
            self._returns[restarted], self._lengths[restarted] = 0.0, 0
        playing = ~restarted
        self._returns[playing] += np.asarray(rewards, dtype=np.float64)[playing]
        self._lengths[playing] += 1
        ended = np.logical_or(terminated, truncated)
        if ended.any():
            successes = _successes(info, self.num_envs)
            for i in np.flatnonzero(ended):
                self.curriculum.end_episode(self.slots[i], self._returns[i], self._lengths[i], bool(truncated[i]),
                                            successes[i])
            self._send_tasks()
        self._restarting = ended
        return obs, rewards, terminated, truncated, info
