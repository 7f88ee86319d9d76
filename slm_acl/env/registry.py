"""Which envs the lab knows: its own parametric worlds (with embodiments) and any Gymnasium id.

A lab env registers a `LabEnv` entry: its Gymnasium id, its declared task parameters and the
embodiments it accepts, so that a spec's task space is checked against the env without building
one. Any other name that Gymnasium knows (LunarLanderContinuous-v3, BipedalWalker-v3, an id
registered by a user's package, or `module:Id`, which imports `module` first) also works as an env;
its task parameters, if any, are read from an instance (the spec validator makes one).
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Mapping

import gymnasium as gym

from slm_acl.env.bodies import body_names, is_body_path
from slm_acl.lib import plugins
from slm_acl.lib.registry import Registry, did_you_mean


@dataclasses.dataclass(frozen=True)
class LabEnv:
    """A lab env: where Gymnasium makes it, the task parameters it accepts and its embodiments.

    `task_params` is the env class's own `task_params` (name -> (low, high) for a scalar, (low, high, size)
    for a vector parameter), read from the class at registration rather than written out again here.
    """

    gym_id: str
    task_params: Mapping[str, tuple]
    embodiments: tuple[str, ...] = ()
    default_embodiment: str | None = None


LAB_ENVS: Registry = Registry("lab env")


def embodiment_names() -> list[str]:
    """The embodiments of the body catalogue shipped with the package (TeachMyAgent's 13 bodies)."""
    return body_names()


def is_body_file(name: str) -> bool:
    """A user's own body: a path to an existing JSON file in the lab's body format."""
    return is_body_path(name) and Path(name).is_file()


def gym_id_of(name: str) -> str:
    """The Gymnasium id of an env name; imports the module of a `module:Id` name."""
    if name in LAB_ENVS:
        return LAB_ENVS.get(name).gym_id
    if ":" in name:
        module, _, env_id = name.partition(":")
        plugins.import_module(module)  # found beside the spec too, in every process (lib/plugins.py)
        return env_id
    return name


def check_env_name(name: str) -> str | None:
    """None when `name` is a lab env or a Gymnasium id, else an error message listing the options."""
    if name in LAB_ENVS:
        return None
    try:
        env_id = gym_id_of(name)
    except ImportError as err:
        return f"cannot import the module of env {name!r}: {err}"
    if env_id in gym.registry:
        return None
    options = LAB_ENVS.names() + sorted(gym.registry)
    return (f"unknown env {name!r}.{did_you_mean(name, options)} "
            f"Lab envs: {', '.join(LAB_ENVS.names()) or '(none yet)'}; "
            f"or any registered Gymnasium id, e.g. LunarLanderContinuous-v3, BipedalWalker-v3, Pendulum-v1, "
            f"slm_acl/ParamPendulum-v0")
