"""Registries of the agent's components: algorithms, nets and memories."""
from slm_acl.lib.registry import Registry

ALGORITHMS: Registry = Registry("algorithm")
NETS: Registry = Registry("net")
MEMORIES: Registry = Registry("memory")
