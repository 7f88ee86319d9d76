"""teachDeepRL's toy bench: a simulated student for testing teachers in seconds, without RL.

It lives next to the teachers it tests (it drives them through the curriculum package's own
proposal path); it is not an environment, and nothing under slm_acl.env imports the curriculum.
"""
from slm_acl.curriculum.toy.bench import ToyRun, ToyStudent, origin_dist, play_teacher, run_teacher, whole_space_dist
from slm_acl.curriculum.toy.presets import NB_CUBES, TDRL_TOY_SETTINGS, expert_knowledge, toy_preset

__all__ = ["NB_CUBES", "TDRL_TOY_SETTINGS", "ToyRun", "ToyStudent", "expert_knowledge", "origin_dist",
           "play_teacher", "run_teacher", "toy_preset", "whole_space_dist"]
