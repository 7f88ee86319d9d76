"""TaskEcho: a test env whose reward echoes its task, so a reported return proves which task ran.

Every step pays `level` (the task parameter); an episode lasts a random natural length drawn from
LENGTHS by the env's seeded generator, then terminates. The return of an episode is therefore
exactly level * length. Importable as `task_echo_env:TaskEcho-v0` (also in subprocess workers).
`fail_after_resets=N` makes the N-th reset raise, to test how runs record a failure.
"""
from __future__ import annotations

import gymnasium as gym
import numpy as np

LENGTHS = (5, 6, 7, 12, 13)


class TaskEcho(gym.Env):
    metadata = {"render_modes": ["rgb_array"], "render_fps": 30}
    task_params = {"level": (0.0, 10.0), "other": (0.0, 1.0)}

    def __init__(self, render_mode=None, fail_after_resets=None):
        self.render_mode = render_mode
        self.fail_after_resets, self.resets = fail_after_resets, 0
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, (2,), dtype=np.float32)
        self.action_space = gym.spaces.Box(-1.0, 1.0, (1,), dtype=np.float32)
        self.level, self.t, self.length = 0.0, 0, 5

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.resets += 1
        if self.fail_after_resets is not None and self.resets >= self.fail_after_resets:
            raise RuntimeError(f"TaskEcho: failing on reset {self.resets} as asked (fail_after_resets)")
        task = (options or {}).get("task") or {}
        unknown = set(task) - set(self.task_params)
        if unknown:
            raise ValueError(f"TaskEcho: unknown task parameter(s) {sorted(unknown)}")
        self.level = float(task.get("level", 0.0))
        self.t = 0
        self.length = int(self.np_random.choice(LENGTHS))
        return np.array([self.level, 0.0], dtype=np.float32), {}

    def step(self, action):
        self.t += 1
        return (np.array([self.level, self.t], dtype=np.float32), self.level, self.t >= self.length, False, {})

    def render(self):
        return np.full((16, 16, 3), int(self.level * 20), dtype=np.uint8)


if "TaskEcho-v0" not in gym.registry:
    gym.register("TaskEcho-v0", entry_point=TaskEcho)
