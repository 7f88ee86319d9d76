"""Agents: algorithms with their nets and memories. Importing this package registers them all."""
from slm_acl.agent import algorithm, memory, net  # noqa: F401
from slm_acl.agent.registry import ALGORITHMS, MEMORIES, NETS

__all__ = ["ALGORITHMS", "MEMORIES", "NETS"]
