"""Curricula: task spaces, teachers, the per-body controller and the fixed test sets."""
from slm_acl.curriculum import teachers  # noqa: F401  (registers the teachers)
