"""Teachers. Importing this package registers every built-in teacher."""
from slm_acl.curriculum.teachers import random  # noqa: F401
from slm_acl.curriculum.teachers.base import Gaussian, Teacher, TeacherContext
from slm_acl.curriculum.teachers.registry import TEACHERS

__all__ = ["TEACHERS", "Gaussian", "Teacher", "TeacherContext"]
