"""A body: one incarnation of an agent in an env, with its embodiment, teacher, clock and metrics.

The body owns `num_envs` copies of its env. Its data stays as plain (num_envs, ...) arrays. When a
sub-env's episode ends, the body reports exactly that episode to its curriculum controller, asks
for the next task and resets that sub-env with it, in the same step.
"""
from __future__ import annotations

import collections
from typing import Any

import gymnasium as gym
import numpy as np

from slm_acl.agent.algorithm.base import BodyInterface, Transition
from slm_acl.curriculum.controller import CurriculumController
from slm_acl.env.vector import VecEnv
from slm_acl.lib.clock import Clock
from slm_acl.lib.seeding import SeedTree
from slm_acl.spec.validate import BodyPlan

RETURN_WINDOW = 100  # episodes in the moving averages (SLM Lab's and TeachMyAgent's convention)


class Body:
    def __init__(self, plan: BodyPlan, vec: VecEnv, controller: CurriculumController,
                 max_frame: int, seeds: SeedTree):
        self.plan = plan
        self.index, self.label = plan.index, plan.label
        self.vec, self.controller = vec, controller
        self.num_envs = vec.num_envs
        self.max_frame = max_frame
        self.seeds = seeds
        self.clock = Clock()
        self.obs: np.ndarray | None = None
        self.ep_return = np.zeros(self.num_envs)
        self.ep_length = np.zeros(self.num_envs, dtype=np.int64)
        self.recent_returns: collections.deque = collections.deque(maxlen=RETURN_WINDOW)
        self.recent_successes: collections.deque = collections.deque(maxlen=RETURN_WINDOW)
        self.finished: list[dict[str, Any]] = []  # episode rows not yet written to session_df
        self.reset_round = 0  # bumps on every full reset (start, resume) so env seeds never repeat
        space = vec.action_space
        self._clip = (space.low, space.high) if isinstance(space, gym.spaces.Box) else None
        # table columns of the task dims; prefixed so a dim named e.g. "length" never hides a metric
        self.task_columns = [f"task_{n}" for n in controller.task_space.names] if controller.active else []

    @property
    def interface(self) -> BodyInterface:
        return BodyInterface(self.label, self.vec.observation_space, self.vec.action_space, self.num_envs,
                             self.max_frame)

    @property
    def done(self) -> bool:
        return self.clock.frame >= self.max_frame

    def reset(self) -> None:
        """Reset every sub-env with a fresh seed and its (pending or new) task."""
        indices = list(range(self.num_envs))
        seeds = [self.seeds.integer(f"env{i}/round{self.reset_round}") for i in indices]
        tasks = [self.controller.next_task(i) for i in indices]
        self.obs = np.stack(self.vec.reset_at(indices, seeds, tasks))
        for i in indices:
            self.controller.record_initial_state(i, self.obs[i])
        self.ep_return[:] = 0.0
        self.ep_length[:] = 0
        self.reset_round += 1

    def step(self, action: np.ndarray) -> Transition:
        if self._clip is not None:
            action = np.clip(action, *self._clip)
        obs, reward, terminated, truncated, env_success = self.vec.step(action)
        self.ep_return += reward
        self.ep_length += 1
        self.clock.frame += self.num_envs
        prev_obs = self.obs
        done = terminated | truncated
        if done.any():
            state = obs.copy()
            self._end_episodes(np.flatnonzero(done), terminated, truncated, env_success, state)
            self.obs = state
        else:
            self.obs = obs
        return Transition(prev_obs, action, reward, obs, terminated, truncated)

    def _end_episodes(self, indices: np.ndarray, terminated: np.ndarray, truncated: np.ndarray,
                      env_success: list[bool | None], state: np.ndarray) -> None:
        """Record the episodes that ended (success as `slm_acl.curriculum.controller.episode_success` judges
        it, from the env's `is_success`) and reset their sub-envs with their next tasks."""
        for i in indices:
            outcome = self.controller.end_episode(int(i), float(self.ep_return[i]), int(self.ep_length[i]),
                                                  truncated=bool(truncated[i] and not terminated[i]),
                                                  env_success=env_success[i])
            self.recent_returns.append(outcome.episodic_return)
            self.recent_successes.append(outcome.success)
            row = {"frame": self.clock.frame, "episode": self.clock.episode, "sub_env": int(i),
                   "length": outcome.length, "return": outcome.episodic_return,
                   "success": outcome.success, "truncated": outcome.truncated}
            if outcome.task is not None:
                row.update(zip(self.task_columns, outcome.task.tolist()))
            self.finished.append(row)
            self.clock.episode += 1
            self.ep_return[i] = 0.0
            self.ep_length[i] = 0
        tasks = [self.controller.next_task(int(i)) for i in indices]
        new_obs = self.vec.reset_at(indices.tolist(), [None] * len(indices), tasks)
        for i, o in zip(indices, new_obs):
            state[i] = o
            self.controller.record_initial_state(int(i), o)

    def return_ma(self) -> float:
        return float(np.mean(self.recent_returns)) if self.recent_returns else float("nan")

    def success_ma(self) -> float:
        return float(np.mean(self.recent_successes)) if self.recent_successes else float("nan")

    def state_dict(self) -> dict[str, Any]:
        return {"clock": self.clock.state_dict(), "controller": self.controller.state_dict(),
                "recent_returns": list(self.recent_returns), "recent_successes": list(self.recent_successes),
                "reset_round": self.reset_round}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.clock.load_state_dict(state["clock"])
        self.controller.load_state_dict(state["controller"])
        self.recent_returns.extend(state["recent_returns"])
        self.recent_successes.extend(state["recent_successes"])
        self.reset_round = int(state["reset_round"])

    def close(self) -> None:
        self.vec.close()
