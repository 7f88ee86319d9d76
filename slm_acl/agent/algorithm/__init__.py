"""Algorithms. Importing this package registers every built-in algorithm."""
from slm_acl.agent.algorithm import random  # noqa: F401  (registers Random)
from slm_acl.agent.algorithm.base import Algorithm, BodyInterface, Transition

__all__ = ["Algorithm", "BodyInterface", "Transition"]
