"""A user's parametric env, taught by the lab's teachers: a point mass that must stop on a goal.

The env follows the lab's task protocol (slm_acl/env/tasks.py has it in full):
- `task_params`, a class attribute, maps each task parameter to its (low, high) range; the lab checks a
  spec's task space against it before any run;
- the task arrives with the reset: `reset(options={"task": {"goal": 2.5, "friction": 0.1}})`; a parameter the
  spec's task space leaves out keeps its default;
- the episode's success is `info["is_success"]` at its last step when the env reports it (the
  Gymnasium / Stable-Baselines3 convention), else its return against the curriculum's `success_return`;
- `render_mode="rgb_array"` lets enjoy mode write videos (without it, enjoy replays without one).

A spec names it `my_envs:PointGoal-v0`: the lab imports `my_envs` (found beside the spec file), whose
import registers the id with Gymnasium, as `gymnasium.make("module:Id")` does.
"""
from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

DT = 0.1
MAX_STEPS = 100
GOAL_RADIUS = 0.15
MAX_SPEED_AT_GOAL = 0.3


class PointGoal(gym.Env):
    """A point on a line starts at 0 and pushes itself (action in [-1, 1]) to a goal `goal` away, against
    `friction`. Reward: minus the distance to the goal each step (scaled), plus 10 for stopping on it."""

    metadata = {"render_modes": ["rgb_array"], "render_fps": 10}
    task_params = {"goal": (0.5, 5.0), "friction": (0.0, 0.5)}

    def __init__(self, render_mode: str | None = None):
        self.render_mode = render_mode
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, (3,), dtype=np.float32)
        self.action_space = gym.spaces.Box(-1.0, 1.0, (1,), dtype=np.float32)
        self.goal, self.friction = 2.0, 0.1
        self.x = self.v = 0.0
        self.t = 0

    def _obs(self) -> np.ndarray:
        return np.array([self.goal - self.x, self.v, self.friction], dtype=np.float32)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        task = (options or {}).get("task") or {}
        unknown = set(task) - set(self.task_params)
        if unknown:
            raise ValueError(f"PointGoal: unknown task parameter(s) {sorted(unknown)}; it has {sorted(self.task_params)}")
        self.goal = float(task.get("goal", 2.0))
        self.friction = float(task.get("friction", 0.1))
        self.x, self.v, self.t = 0.0, float(self.np_random.normal(0.0, 0.05)), 0
        return self._obs(), {}

    def step(self, action):
        force = float(np.clip(np.asarray(action, dtype=np.float64).reshape(-1)[0], -1.0, 1.0))
        self.v += DT * (force - self.friction * self.v * 10.0)
        self.x += DT * self.v
        self.t += 1
        distance = abs(self.goal - self.x)
        reached = distance < GOAL_RADIUS and abs(self.v) < MAX_SPEED_AT_GOAL
        reward = -0.1 * distance + (10.0 if reached else 0.0)
        truncated = self.t >= MAX_STEPS and not reached
        info = {"is_success": reached} if reached or truncated else {}
        return self._obs(), reward, reached, truncated, info

    def render(self) -> np.ndarray:
        """A 32 x 128 picture: the goal in green, the point in white."""
        image = np.zeros((32, 128, 3), dtype=np.uint8)
        scale = 120 / self.task_params["goal"][1]
        goal = int(np.clip(4 + self.goal * scale, 0, 127))
        point = int(np.clip(4 + self.x * scale, 0, 127))
        image[8:24, max(goal - 1, 0):goal + 2, 1] = 255
        image[12:20, max(point - 2, 0):point + 3, :] = 255
        return image


if "PointGoal-v0" not in gym.registry:
    gym.register("PointGoal-v0", entry_point=PointGoal)
