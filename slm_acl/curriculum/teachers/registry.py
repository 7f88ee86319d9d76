"""The teacher registry."""
from slm_acl.lib.registry import Registry

TEACHERS: Registry = Registry("teacher")
