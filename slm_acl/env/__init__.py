"""Environments: the lab's parametric worlds, their embodiments, and the lab's registry of them.

Their Gymnasium ids are registered by `import slm_acl` (slm_acl/registration.py), lazily, before this
package loads.
"""
from slm_acl.env.bodies import body_names
from slm_acl.env.factory import EnvMaker, task_params_of
from slm_acl.env.parkour import Parkour
from slm_acl.env.registry import LAB_ENVS, LabEnv, check_env_name, embodiment_names
from slm_acl.env.stump_tracks import StumpTracks

# the lab's worlds: their task parameters are read from the env classes themselves
for _cls in (StumpTracks, Parkour):
    if _cls.__name__ not in LAB_ENVS:
        LAB_ENVS.register(_cls.__name__)(LabEnv(f"slm_acl/{_cls.__name__}-v0", dict(_cls.task_params),
                                                tuple(body_names()), "classic_bipedal"))

__all__ = ["EnvMaker", "LAB_ENVS", "check_env_name", "embodiment_names", "task_params_of"]
