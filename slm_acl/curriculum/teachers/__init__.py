"""Teachers. Importing this package registers every built-in teacher."""
from slm_acl.curriculum.teachers import adr  # noqa: F401
from slm_acl.curriculum.teachers import alp_gmm  # noqa: F401
from slm_acl.curriculum.teachers import covar_gmm  # noqa: F401
from slm_acl.curriculum.teachers import goal_gan  # noqa: F401
from slm_acl.curriculum.teachers import oracle  # noqa: F401
from slm_acl.curriculum.teachers import random  # noqa: F401
from slm_acl.curriculum.teachers import riac  # noqa: F401
from slm_acl.curriculum.teachers import setter_solver  # noqa: F401
from slm_acl.curriculum.teachers import spdl  # noqa: F401
from slm_acl.curriculum.teachers.base import Gaussian, Proposal, Teacher, TeacherContext
from slm_acl.curriculum.teachers.registry import TEACHERS

__all__ = ["TEACHERS", "Gaussian", "Proposal", "Teacher", "TeacherContext"]
