"""Evaluating a body's deterministic policy on its fixed test set, for "% mastered".

Every evaluation of a body plays the same tasks with the same env seeds, so evaluations compare
across time, runs and teachers. A body with a curriculum plays its test set (a shipped one, or a
uniform set drawn with a fixed seed); a body without plays `meta.eval_episodes` default episodes.
A task is mastered when its episode succeeds: the env's `info["is_success"]` when it reports one, else its
return exceeds the curriculum's `success_return` (`slm_acl.curriculum.controller.episode_success`, the rule
training's episodes are judged by).
"""
from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from slm_acl.aeb.body import Body
from slm_acl.aeb.space import Agent, env_maker
from slm_acl.curriculum.controller import episode_success
from slm_acl.curriculum.task_space import TaskSpace
from slm_acl.curriculum.test_sets import TestSet, test_set_for_curriculum
from slm_acl.env.vector import SyncVecEnv
from slm_acl.spec.validate import BodyPlan, RunSpec

EVAL_SEED = 10_000  # env seeds of evaluation episodes: EVAL_SEED + task index, fixed for every run


def test_set_for(plan: BodyPlan) -> TestSet | None:
    curriculum = plan.curriculum
    if curriculum is None:
        return None
    return test_set_for_curriculum(TaskSpace.from_spec(curriculum.task_space), curriculum.test_set,
                                   curriculum.test_set_size, curriculum.test_set_seed)


@dataclasses.dataclass
class EvalResult:
    returns: np.ndarray
    lengths: np.ndarray
    successes: np.ndarray | None  # None: no success_return, and the env reported no is_success
    frames: dict[int, list[np.ndarray]] = dataclasses.field(default_factory=dict)  # task -> rendered frames

    @property
    def mastered(self) -> float:
        """Percent of test tasks that succeeded (NaN when nothing judges success: no success_return, and no
        is_success from the env)."""
        return float("nan") if self.successes is None else 100.0 * float(np.mean(self.successes))

    def summary(self) -> dict[str, float]:
        return {"mean_return": float(np.mean(self.returns)), "std_return": float(np.std(self.returns)),
                "mastered": self.mastered, "n_tasks": len(self.returns)}


class Evaluator:
    """Plays a body's test set with the agent's deterministic policy on a private vector env.

    Eval mode may hand it another test set (`test_set`) and ask for the stochastic policy
    (`deterministic=False`); a session's own evaluations use neither.
    """

    def __init__(self, run: RunSpec, body: Body, agent: Agent, render_mode: str | None = None,
                 num_envs: int | None = None, test_set: TestSet | None = None, deterministic: bool = True):
        self.body, self.agent = body, agent
        self.plan = body.plan
        self.deterministic = deterministic
        self.test_set = test_set if test_set is not None else test_set_for(self.plan)
        n_tasks = len(self.test_set) if self.test_set is not None else run.spec.meta.eval_episodes
        self.tasks: list[dict[str, Any] | None] = (
            [self.test_set.env_task(i) for i in range(n_tasks)] if self.test_set is not None else [None] * n_tasks)
        self.success_return = None if self.plan.curriculum is None else self.plan.curriculum.success_return
        self.maker = env_maker(run, self.plan, render_mode)
        self.num_envs = min(num_envs or body.num_envs, len(self.tasks))
        self.vec: SyncVecEnv | None = None
        self.body_slot = agent.bodies.index(body)

    def _act(self, obs: np.ndarray) -> np.ndarray:
        batch: list[np.ndarray | None] = [None] * len(self.agent.bodies)
        batch[self.body_slot] = obs
        action = self.agent.algorithm.act(batch, deterministic=self.deterministic)[self.body_slot]
        space = self.body.vec.action_space
        return np.clip(action, space.low, space.high) if hasattr(space, "low") else action

    def run(self, tasks: list[dict[str, Any] | None] | None = None, record_tasks: int = 0) -> EvalResult:
        """Play every task once (or the given tasks); render the first `record_tasks` of them."""
        tasks = self.tasks if tasks is None else tasks
        if self.vec is None:
            self.vec = SyncVecEnv(self.maker, self.num_envs)
        n = len(tasks)
        returns, lengths = np.zeros(n), np.zeros(n, dtype=np.int64)
        env_successes: list[bool | None] = [None] * n  # the env's is_success at each task's end
        playing = [-1] * self.num_envs  # task index each sub-env plays, -1 = idle
        next_task = 0
        obs = np.zeros((self.num_envs, *self.vec.observation_space.shape), dtype=np.float32)
        for i in range(self.num_envs):
            if next_task < n:
                obs[i] = self.vec.reset_at([i], [EVAL_SEED + next_task], [tasks[next_task]])[0]
                playing[i] = next_task
                next_task += 1
        frames: dict[int, list[np.ndarray]] = {}
        while any(k >= 0 for k in playing):
            for i, k in enumerate(playing):
                if 0 <= k < record_tasks:
                    frames.setdefault(k, []).append(self.vec.render(i))
            nxt, reward, terminated, truncated, env_success = self.vec.step(self._act(obs))
            for i, k in enumerate(playing):
                if k < 0:
                    continue
                returns[k] += reward[i]
                lengths[k] += 1
                if terminated[i] or truncated[i]:
                    env_successes[k] = env_success[i]
                    if next_task < n:
                        nxt[i] = self.vec.reset_at([i], [EVAL_SEED + next_task], [tasks[next_task]])[0]
                        playing[i] = next_task
                        next_task += 1
                    else:
                        playing[i] = -1
            obs = nxt
        return EvalResult(returns, lengths, self._successes(returns, env_successes), frames)

    def _successes(self, returns: np.ndarray, env_successes: list[bool | None]) -> np.ndarray | None:
        """Each task's success by the lab's rule; None when nothing judges it (no success_return, no is_success)."""
        if self.success_return is None and all(s is None for s in env_successes):
            return None
        return np.array([episode_success(float(r), self.success_return, s) for r, s in zip(returns, env_successes)],
                        dtype=bool)

    def close(self) -> None:
        if self.vec is not None:
            self.vec.close()
            self.vec = None
