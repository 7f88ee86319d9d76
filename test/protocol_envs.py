"""Small user envs for the tests of the env task protocol (`slm_acl/env/tasks.py`), made as a user would make
them: no lab base class, the task read from `reset(options={"task": ...})`. Importable as `protocol_envs:<Id>`.

Every episode lasts EPISODE_STEPS steps, so a return tells which task ran:

- `FlagEcho-v0`: pays `level` per step (return 5 * level) and reports `info["is_success"] = level < 5` on its
  last step: the opposite of what a `success_return` of 25 says.
- `PlainEcho-v0`: pays `level * scale` per step. Offers no render mode, and its `__init__` takes none.
- `NoRenderEcho-v0`: as PlainEcho, but claims "rgb_array" without implementing `render()` (Gymnasium's
  `Env.render` raises NotImplementedError).
"""
from __future__ import annotations

import gymnasium as gym
import numpy as np

EPISODE_STEPS = 5


class _Echo(gym.Env):
    task_params = {"level": (0.0, 10.0), "scale": (0.0, 2.0)}
    default_task = {"level": 1.0, "scale": 1.0}

    def __init__(self):
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, (2,), dtype=np.float32)
        self.action_space = gym.spaces.Box(-1.0, 1.0, (1,), dtype=np.float32)
        self.task, self.t = dict(self.default_task), 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.task = {**self.default_task, **((options or {}).get("task") or {})}
        self.t = 0
        return self._obs(), {}

    def step(self, action):
        self.t += 1
        done = self.t >= EPISODE_STEPS
        return self._obs(), self.pay(), done, False, self.last_info() if done else {}

    def pay(self) -> float:
        return self.task["level"] * self.task["scale"]

    def last_info(self) -> dict:
        return {}

    def _obs(self) -> np.ndarray:
        return np.array([self.task["level"], self.t], dtype=np.float32)


class FlagEcho(_Echo):
    metadata = {"render_modes": []}

    def pay(self) -> float:
        return self.task["level"]

    def last_info(self) -> dict:
        return {"is_success": np.bool_(self.task["level"] < 5.0)}


class PlainEcho(_Echo):
    metadata = {"render_modes": []}


class NoRenderEcho(_Echo):
    metadata = {"render_modes": ["rgb_array"], "render_fps": 30}

    def __init__(self, render_mode=None):
        super().__init__()
        self.render_mode = render_mode


for _cls in (FlagEcho, PlainEcho, NoRenderEcho):
    if f"{_cls.__name__}-v0" not in gym.registry:
        gym.register(f"{_cls.__name__}-v0", entry_point=_cls)
