"""Nets. Importing this package registers every built-in net."""
from slm_acl.agent.net import hydra, mlp  # noqa: F401
