"""The Random teacher: every task uniform over the task space (the baseline every curriculum must beat)."""
from __future__ import annotations

import dataclasses

from slm_acl.curriculum.expert_knowledge import NOTHING
from slm_acl.curriculum.teachers.base import Proposal, Teacher
from slm_acl.curriculum.teachers.registry import TEACHERS


@dataclasses.dataclass(frozen=True)
class RandomTeacherConfig:
    """The Random teacher takes no settings."""


@TEACHERS.register("Random")
class RandomTeacher(Teacher):
    Config = RandomTeacherConfig
    expert_knowledge = NOTHING  # uniform over the task space at every level

    def sample_task(self) -> Proposal:
        return Proposal(self.rng.uniform(0.0, 1.0, self.dim))
