"""Environments: the lab's parametric worlds, their embodiments, and Gymnasium registration."""
import gymnasium as gym

from slm_acl.env.bodies import body_names
from slm_acl.env.factory import EnvMaker, task_params_of
from slm_acl.env.parkour import Parkour
from slm_acl.env.registry import LAB_ENVS, LabEnv, check_env_name, embodiment_names
from slm_acl.env.stump_tracks import StumpTracks

# id -> (entry point, default episode cap). The worlds' cap is TeachMyAgent's training protocol's 2000
# steps (their gym ids have none); a spec's `max_t` replaces it.
_GYM_IDS = {
    "slm_acl/ParamPendulum-v0": ("slm_acl.env.param_pendulum:ParamPendulum", 200),
    "slm_acl/StumpTracks-v0": ("slm_acl.env.stump_tracks:StumpTracks", 2000),
    "slm_acl/Parkour-v0": ("slm_acl.env.parkour:Parkour", 2000),
}
for _id, (_entry, _steps) in _GYM_IDS.items():
    if _id not in gym.registry:
        gym.register(id=_id, entry_point=_entry, max_episode_steps=_steps)

# the lab's worlds: their task parameters are read from the env classes themselves
for _cls in (StumpTracks, Parkour):
    if _cls.__name__ not in LAB_ENVS:
        LAB_ENVS.register(_cls.__name__)(LabEnv(f"slm_acl/{_cls.__name__}-v0", dict(_cls.task_params),
                                                tuple(body_names()), "classic_bipedal"))

__all__ = ["EnvMaker", "LAB_ENVS", "check_env_name", "embodiment_names", "task_params_of"]
