"""The clock of one body: the single source of time (frames, episodes, optimiser steps)."""
from __future__ import annotations

import dataclasses
import time


@dataclasses.dataclass
class Clock:
    """Counts what a body has done. `frame` counts env steps summed over its sub-envs."""

    frame: int = 0
    episode: int = 0
    opt_step: int = 0
    wall_time: float = 0.0  # seconds of session time accumulated before the current start

    def __post_init__(self) -> None:
        self._start = time.perf_counter()

    def elapsed(self) -> float:
        return self.wall_time + time.perf_counter() - self._start

    def state_dict(self) -> dict:
        return {"frame": self.frame, "episode": self.episode, "opt_step": self.opt_step,
                "wall_time": self.elapsed()}

    def load_state_dict(self, state: dict) -> None:
        self.frame, self.episode = int(state["frame"]), int(state["episode"])
        self.opt_step, self.wall_time = int(state["opt_step"]), float(state["wall_time"])
        self._start = time.perf_counter()
