"""Algorithms. Importing this package registers every built-in algorithm."""
from slm_acl.agent.algorithm import ppo, random, sac  # noqa: F401  (registers PPO, Random, SAC)
from slm_acl.agent.algorithm.base import Algorithm, BodyInterface, Transition

__all__ = ["Algorithm", "BodyInterface", "Transition"]
