"""A user's teacher, used from a spec without touching the lab: epsilon-greedy learning progress over bins.

The task space [0, 1]^d is cut into `bins` equal intervals per dimension. Each cell keeps the returns of
its last `window` episodes; its learning progress is the absolute difference between the mean of the newer
half and of the older half of that window (the idea of RIAC and ALP-GMM, without their regions or GMMs).
With probability `epsilon`, or while some cell has fewer than two episodes, a task is drawn uniformly;
otherwise a cell is drawn in proportion to its learning progress and a task uniformly inside it.

How a spec names it (see examples/README or the lab's README, "Extending the lab"):

    "curriculum": {"teacher": {"name": "my_teachers:EpsGreedyLP", "epsilon": 0.2}, ...}

`my_teachers` is found beside the spec file; nothing else is needed. The class registers under a plain
name too, so a spec with `"meta": {"plugins": ["my_teachers"]}` may write `"name": "EpsGreedyLP"`.
"""
from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from slm_acl.curriculum.teachers.base import Proposal, Teacher, TeacherContext
from slm_acl.curriculum.teachers.registry import TEACHERS
from slm_acl.lib.config import param


@dataclasses.dataclass(frozen=True)
class EpsGreedyLPConfig:
    """The teacher's spec keys, checked by the lab like its own teachers' (types, bounds, unknown keys)."""

    epsilon: float = param(0.2, ge=0.0, le=1.0, doc="probability of a uniform task")
    bins: int = param(4, ge=1, le=20, doc="intervals per task dimension")
    window: int = param(20, ge=2, doc="returns kept per cell (its learning progress compares their halves)")


@TEACHERS.register("EpsGreedyLP")
class EpsGreedyLP(Teacher):
    Config = EpsGreedyLPConfig

    def __init__(self, config: EpsGreedyLPConfig, context: TeacherContext):
        super().__init__(config, context)
        self.cells = config.bins ** self.dim
        self.history: list[list[float]] = [[] for _ in range(self.cells)]

    def _cell_of(self, task: np.ndarray) -> int:
        index = np.minimum((task * self.config.bins).astype(int), self.config.bins - 1)
        return int(np.ravel_multi_index(tuple(index), (self.config.bins,) * self.dim))

    def progress(self) -> np.ndarray:
        """Each cell's learning progress: |mean(newer half) - mean(older half)| of its recent returns."""
        lp = np.zeros(self.cells)
        for cell, returns in enumerate(self.history):
            if len(returns) >= 2:
                half = len(returns) // 2
                lp[cell] = abs(np.mean(returns[half:]) - np.mean(returns[:half]))
        return lp

    def sample_task(self) -> Proposal:
        lp = self.progress()
        explore = self.rng.random() < self.config.epsilon or min(len(h) for h in self.history) < 2
        if explore or lp.sum() <= 0:
            return Proposal(self.rng.uniform(0.0, 1.0, self.dim))
        cell = int(self.rng.choice(self.cells, p=lp / lp.sum()))
        corner = np.array(np.unravel_index(cell, (self.config.bins,) * self.dim), dtype=np.float64)
        return Proposal((corner + self.rng.uniform(0.0, 1.0, self.dim)) / self.config.bins)

    def update(self, proposal: Proposal, episodic_return: float, success: bool) -> None:
        returns = self.history[self._cell_of(proposal.task)]
        returns.append(float(episodic_return))
        del returns[:-self.config.window]

    def info(self) -> dict[str, Any]:
        """Logged by the lab, and written to TensorBoard as the teacher's scalars."""
        return {"mean_lp": float(self.progress().mean()),
                "cells_seen": int(sum(len(h) > 0 for h in self.history))}

    def state_dict(self) -> dict[str, Any]:
        """Everything a resumed run needs to continue the same sample sequence (plain lists and numbers)."""
        return {**super().state_dict(), "history": [list(h) for h in self.history]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self.history = [list(h) for h in state["history"]]
