"""Registries of the agent's components: algorithms, nets and memories."""
from slm_acl.lib.registry import Registry

ALGORITHMS: Registry = Registry("algorithm", base="slm_acl.agent.algorithm.base:Algorithm")
NETS: Registry = Registry("net")
MEMORIES: Registry = Registry("memory")
