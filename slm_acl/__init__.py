"""slm_acl: a spec-driven lab for automatic curriculum learning in deep RL."""

from slm_acl.registration import register_envs

__version__ = "0.1.0"

# the lab's Gymnasium ids, with lazy entry points: no Box2D or torch is imported here (slm_acl/registration.py)
register_envs()
