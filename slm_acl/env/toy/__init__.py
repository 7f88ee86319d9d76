"""teachDeepRL's toy bench: a simulated student for testing teachers in seconds, without RL."""
from slm_acl.env.toy.bench import ToyRun, ToyStudent, origin_dist, play_teacher, run_teacher, whole_space_dist

__all__ = ["ToyRun", "ToyStudent", "origin_dist", "play_teacher", "run_teacher", "whole_space_dist"]
