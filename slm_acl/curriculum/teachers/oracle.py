"""Oracle: teachDeepRL's hand-made sliding window, an upper-bound baseline on task spaces of known difficulty.

The Oracle is told how difficulty grows in the task space (its `window_step`, one signed step per
dim pointing from easy to hard) and walks a small box of tasks from the easy corner towards the
hard one, one step each time the student masters the box. It cannot be used on a space whose
difficulty structure is unknown; it exists to show how well a teacher with perfect knowledge of
that structure does, as an upper reference for the teachers that must discover it (Portelas et
al. CoRL 2019, teachDeepRL; REFERENCE.md 1.12, source `teachDRL/teachers/algos/oracle_teacher.py`).

Algorithm, in the normalised task space [0,1]^dim:

- The window spans `window_size` (1/6) of every dim. It starts at the easy corner: at 0 on a dim
  whose step is positive, at 1 - window_size on a dim whose step is negative or zero (as the
  original does for a zero step).
- sample_task: uniform in the window.
- update: every `step_rate` (50) episodes, if the mean return of those episodes exceeds
  `reward_thr`, the window moves by `window_step`, clipped so it stays inside [0,1]^dim; the
  returns are then forgotten whether it moved or not.

Units: `window_step` is a fraction of each dim's range. teachDeepRL used [0.1, -0.2] raw on Stump
Tracks (height [0, 3], spacing [0, 6]), i.e. [0.1/3, -0.2/6] = [0.033, -0.033] here (higher stumps,
shorter gaps), and [0.1] * 12 raw on Hexagon Tracks ([0, 4] per dim), i.e. [0.025] * 12.
`reward_thr` is required: it is expert knowledge of the env, in the returns the teacher sees (raw
returns, or returns mapped onto [0, 1] when the curriculum sets `reward_bounds`). teachDeepRL used
230 raw on Stump Tracks, its mastery threshold (unlike its other teachers the Oracle saw unscaled
returns); with TeachMyAgent's Stump Tracks bounds -150/350 that is (230 + 150) / 500 = 0.76.

Cost (2-12 dims, 1 thread on a busy 2-core box): 11-17 us per sample, 2-4 us per update.
"""
from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from slm_acl.curriculum.expert_knowledge import gives, levels, refuses
from slm_acl.curriculum.teachers.base import Proposal, Teacher, TeacherContext
from slm_acl.curriculum.teachers.registry import TEACHERS
from slm_acl.lib.config import param
from slm_acl.lib.seeding import rng_state, set_rng_state


def _check_steps(steps: list[float]) -> str | None:
    if not steps:
        return "expected one step per task dim, got an empty list"
    if any(abs(s) > 1 for s in steps):
        return f"steps are fractions of each dim's range and must lie in [-1, 1], got {steps}"
    return None


@dataclasses.dataclass(frozen=True)
class OracleConfig:
    window_step: list[float] = param(doc="required: the window's move per mastery, one signed fraction of the "
                                         "range per task dim, pointing from easy to hard (Stump Tracks: "
                                         "[0.0333, -0.0333])", check=_check_steps)
    reward_thr: float = param(doc="required: the mean return over step_rate episodes above which the window "
                                  "moves, in the returns the teacher sees (teachDeepRL: 230 raw on Stump Tracks)")
    window_size: float = param(1 / 6, gt=0, le=1, doc="the window's width, as a fraction of each dim's range")
    step_rate: int = param(50, ge=1, doc="episodes between mastery checks")


@TEACHERS.register("Oracle")
class Oracle(Teacher):
    Config = OracleConfig
    # outside TeachMyAgent's levels (a teachDeepRL baseline): it is hand-made knowledge of the difficulty order,
    # so it runs only at "high", and no level gives its window_step and reward_thr (set them explicitly)
    expert_knowledge = levels(
        no=refuses("the Oracle is hand-made knowledge of the difficulty order (teachDeepRL's upper baseline)"),
        low=refuses("the Oracle is hand-made knowledge of the difficulty order, more than level 'low' gives"),
        high=gives())

    def __init__(self, config: OracleConfig, context: TeacherContext):
        super().__init__(config, context)
        self.step = np.asarray(config.window_step, dtype=np.float64)
        if self.step.shape != (self.dim,):
            raise ValueError(f"Oracle: window_step has {len(self.step)} entries for a {self.dim}-dim task space; "
                             "give one signed step per task dim")
        self.threshold = float(config.reward_thr)
        self.size = float(config.window_size)
        self.position = np.where(self.step > 0, 0.0, 1.0 - self.size)  # the window's lower corner
        self.returns: list[float] = []
        self.masteries = 0

    def sample_task(self) -> Proposal:
        return Proposal(np.clip(self.rng.uniform(self.position, self.position + self.size), 0.0, 1.0))

    def non_exploratory_sample(self, rng: np.random.Generator) -> np.ndarray:
        return np.clip(rng.uniform(self.position, self.position + self.size), 0.0, 1.0)

    def update(self, proposal: Proposal, episodic_return: float, success: bool) -> None:
        self.returns.append(float(episodic_return))
        if len(self.returns) < self.config.step_rate:
            return
        if float(np.mean(self.returns)) > self.threshold:
            self.position = np.clip(self.position + self.step, 0.0, 1.0 - self.size)
            self.masteries += 1
        self.returns = []

    def info(self) -> dict[str, Any]:
        return {"low": self.position.tolist(), "high": (self.position + self.size).tolist(),
                "masteries": self.masteries}

    def state_dict(self) -> dict[str, Any]:
        return {"rng": rng_state(self.rng), "position": self.position.copy(), "returns": list(self.returns),
                "masteries": self.masteries}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        set_rng_state(self.rng, state["rng"])
        self.position = np.array(state["position"], dtype=np.float64)
        self.returns = [float(r) for r in state["returns"]]
        self.masteries = int(state["masteries"])
