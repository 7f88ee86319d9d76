"""ParamPendulum: Gymnasium's pendulum swing-up with its physics as task parameters.

A small, fast parametric env for the lab's own tests and examples (the Box2D worlds are the real
ones). It follows the lab's env protocol: `task_params` declares the task parameters and their
valid ranges; the task comes through `reset(options={"task": {...}})` or `set_task`.

Description:
    A rod swings about a fixed pivot; the agent applies a torque to hold it upright.
Action Space:
    Box(-2, 2, (1,)): torque.
Observation Space:
    Box((3,)): cos(theta), sin(theta), angular velocity (clipped to +-8).
Rewards:
    -(theta^2 + 0.1 thdot^2 + 0.001 torque^2) per step, as Gymnasium's Pendulum-v1.
Starting State:
    theta ~ U(-pi, pi), thdot ~ U(-1, 1) from the env's seeded generator.
Episode Termination:
    Never terminates; truncated at 200 steps by the registered TimeLimit.
Task parameters:
    mass [0.2, 3.0] kg, length [0.3, 2.0] m, gravity [1, 20] m/s^2.
Version History:
    v0: first version.
"""
from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.utils import EzPickle

from slm_acl.env.tasks import validate_task


class ParamPendulum(gym.Env, EzPickle):
    metadata = {"render_modes": ["rgb_array"], "render_fps": 30}
    task_params = {"mass": (0.2, 3.0), "length": (0.3, 2.0), "gravity": (1.0, 20.0)}
    default_task = {"mass": 1.0, "length": 1.0, "gravity": 10.0}
    max_speed, max_torque, dt = 8.0, 2.0, 0.05

    def __init__(self, render_mode: str | None = None):
        EzPickle.__init__(self, render_mode=render_mode)
        self.render_mode = render_mode
        high = np.array([1.0, 1.0, self.max_speed], dtype=np.float32)
        self.observation_space = gym.spaces.Box(-high, high, dtype=np.float32)
        self.action_space = gym.spaces.Box(-self.max_torque, self.max_torque, (1,), dtype=np.float32)
        self.task = dict(self.default_task)
        self.state = np.zeros(2)

    def set_task(self, task: dict[str, float]) -> None:
        """Set task parameters for the next episode (unset ones keep the default)."""
        self.task = {**self.default_task, **validate_task(task, self.task_params, "ParamPendulum")}

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        if options and "task" in options:
            self.set_task(options["task"])
        self.state = np.array([self.np_random.uniform(-np.pi, np.pi), self.np_random.uniform(-1, 1)])
        return self._obs(), {"task": dict(self.task)}

    def step(self, action):
        th, thdot = self.state
        g, m, length = self.task["gravity"], self.task["mass"], self.task["length"]
        u = float(np.clip(action[0], -self.max_torque, self.max_torque))
        angle = ((th + np.pi) % (2 * np.pi)) - np.pi
        cost = angle**2 + 0.1 * thdot**2 + 0.001 * u**2
        thdot = thdot + (3 * g / (2 * length) * np.sin(th) + 3.0 / (m * length**2) * u) * self.dt
        thdot = float(np.clip(thdot, -self.max_speed, self.max_speed))
        self.state = np.array([th + thdot * self.dt, thdot])
        return self._obs(), -float(cost), False, False, {}

    def _obs(self) -> np.ndarray:
        th, thdot = self.state
        return np.array([np.cos(th), np.sin(th), thdot], dtype=np.float32)

    def render(self) -> np.ndarray | None:
        if self.render_mode != "rgb_array":
            return None
        size = 128
        frame = np.full((size, size, 3), 255, dtype=np.uint8)
        centre = size / 2
        rod = 0.4 * size * self.task["length"] / 2.0
        th = self.state[0]
        for t in np.linspace(0.0, 1.0, 200):  # the rod as a thick line of dots
            x = centre + t * rod * np.sin(th)
            y = centre - t * rod * np.cos(th)
            xi, yi = int(round(x)), int(round(y))
            frame[max(yi - 2, 0):yi + 3, max(xi - 2, 0):xi + 3] = (204, 77, 77)
        frame[int(centre) - 3:int(centre) + 4, int(centre) - 3:int(centre) + 4] = 0
        return frame
