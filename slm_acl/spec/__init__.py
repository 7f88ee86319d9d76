"""Specs: load a spec file, fill `${var}` placeholders, validate strictly, resolve the bodies."""
from slm_acl import agent, curriculum, env  # noqa: F401  (fill the registries the validator asks)
from slm_acl.spec.errors import SpecError
from slm_acl.spec.loader import load_resolved, load_spec
from slm_acl.spec.run_spec import BodyPlan, RunSpec
from slm_acl.spec.validate import teacher_choice, validate

__all__ = ["BodyPlan", "RunSpec", "SpecError", "load_resolved", "load_spec", "teacher_choice", "validate"]
