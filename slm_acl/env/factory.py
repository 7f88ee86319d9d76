"""Making one env instance from an env name, an embodiment and an episode cap."""
from __future__ import annotations

import dataclasses
from typing import Any

import gymnasium as gym

from slm_acl.env.registry import LAB_ENVS, gym_id_of


@dataclasses.dataclass(frozen=True)
class EnvMaker:
    """A picklable recipe for one env, so subprocess workers can build their own copy."""

    name: str
    embodiment: str | None = None
    max_t: int | None = None
    render_mode: str | None = None
    kwargs: tuple[tuple[str, Any], ...] = ()

    def __call__(self) -> gym.Env:
        kwargs = dict(self.kwargs)
        if self.embodiment is not None:
            kwargs["body"] = self.embodiment
        if self.render_mode is not None:
            kwargs["render_mode"] = self.render_mode
        if self.max_t is not None:
            kwargs["max_episode_steps"] = self.max_t
        # the passive checker re-validates every step; the lab validates spaces once at build time
        return gym.make(gym_id_of(self.name), disable_env_checker=True, **kwargs)


def task_params_of(env: gym.Env) -> dict[str, Any] | None:
    """The task parameters an env accepts (`task_params` on the unwrapped env), or None."""
    return getattr(env.unwrapped, "task_params", None)


def is_lab_env(name: str) -> bool:
    return name in LAB_ENVS
