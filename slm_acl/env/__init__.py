"""Environments: the lab's parametric worlds, their embodiments, and Gymnasium registration."""
import gymnasium as gym

from slm_acl.env.factory import EnvMaker, task_params_of
from slm_acl.env.registry import LAB_ENVS, check_env_name, embodiment_names

if "slm_acl/ParamPendulum-v0" not in gym.registry:
    gym.register(id="slm_acl/ParamPendulum-v0", entry_point="slm_acl.env.param_pendulum:ParamPendulum",
                 max_episode_steps=200)

__all__ = ["EnvMaker", "LAB_ENVS", "check_env_name", "embodiment_names", "task_params_of"]
