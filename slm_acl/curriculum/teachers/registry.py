"""The teacher registry."""
from slm_acl.lib.registry import Registry

TEACHERS: Registry = Registry("teacher", base="slm_acl.curriculum.teachers.base:Teacher")
