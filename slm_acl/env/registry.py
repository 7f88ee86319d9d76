"""Which envs the lab knows: its own parametric worlds (with embodiments) and any Gymnasium id.

A lab env registers a `LabEnv` entry: its Gymnasium id and the embodiments it accepts. Any other
name that Gymnasium knows (LunarLanderContinuous-v3, BipedalWalker-v3, an id registered by a
user's package, or `module:Id`, which imports `module` first) also works as an env.
"""
from __future__ import annotations

import dataclasses
import importlib
from pathlib import Path

import gymnasium as gym

from slm_acl.env.bodies import body_names
from slm_acl.lib.registry import Registry, closest


@dataclasses.dataclass(frozen=True)
class LabEnv:
    gym_id: str
    embodiments: tuple[str, ...] = ()
    default_embodiment: str | None = None


LAB_ENVS: Registry = Registry("lab env")


def embodiment_names() -> list[str]:
    """The embodiments of the body catalogue shipped with the package (TeachMyAgent's 13 bodies)."""
    return body_names()


def is_body_file(name: str) -> bool:
    """A user's own body: a path to an existing JSON file in the lab's body format."""
    return isinstance(name, str) and name.endswith(".json") and Path(name).is_file()


def gym_id_of(name: str) -> str:
    """The Gymnasium id of an env name; imports the module of a `module:Id` name."""
    if name in LAB_ENVS:
        return LAB_ENVS.get(name).gym_id
    if ":" in name:
        module, _, env_id = name.partition(":")
        importlib.import_module(module)
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
    hint = closest(name, options)
    did_you_mean = f" Did you mean {hint!r}?" if hint else ""
    return (f"unknown env {name!r}.{did_you_mean} Lab envs: {', '.join(LAB_ENVS.names()) or '(none yet)'}; "
            f"or any registered Gymnasium id, e.g. LunarLanderContinuous-v3, BipedalWalker-v3, Pendulum-v1, "
            f"slm_acl/ParamPendulum-v0")
