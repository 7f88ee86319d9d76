"""Memories (replay and rollout buffers). Importing this package registers the built-in ones."""
from slm_acl.agent.memory import onpolicy, replay  # noqa: F401
