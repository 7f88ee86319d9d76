"""slm_acl: a spec-driven lab for automatic curriculum learning in deep RL."""

__version__ = "0.1.0"
