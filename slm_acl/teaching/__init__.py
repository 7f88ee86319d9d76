"""Curricula for any trainer: the lab's teachers choose the tasks of envs that SB3, CleanRL or any loop trains on.

`Curriculum` is one teacher over a task space, built as a spec's curriculum is; `CurriculumWrapper` (one env)
and `CurriculumVectorEnv` (a Gymnasium vector env) draw every episode's task from it and report every
episode's return back. See `slm_acl.teaching.gym_wrapper` for the env protocol and the autoreset rules.
"""
from slm_acl.teaching.curriculum import Curriculum
from slm_acl.teaching.gym_wrapper import CurriculumVectorEnv, CurriculumWrapper, TaskSlot

__all__ = ["Curriculum", "CurriculumVectorEnv", "CurriculumWrapper", "TaskSlot"]
