"""The AEB space: Agents x Envs x Bodies, and batched stepping."""
from slm_acl.aeb.body import Body
from slm_acl.aeb.space import AEBSpace, Agent

__all__ = ["AEBSpace", "Agent", "Body"]
