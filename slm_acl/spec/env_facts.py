"""What the validator must know about an env before a run: its spaces and the task parameters it accepts.

A spec is checked against its envs before any folder is written (task-space names and bounds, whether the
algorithm can act in the spaces, whether the net fits the bodies' sizes). Those checks need facts that only
the env knows, so the validator makes ONE instance per (env name, embodiment, kwargs), exactly as a run makes
its envs (`EnvMaker`), reads its spaces and `task_params`, closes it, and caches the facts for the process:
a spec with many bodies, or a search checked at every grid value, builds each env once.

A lab env's task parameters come from its registry entry (`LabEnv.task_params`, declared by the env class),
so a typo in a task space is reported without building anything. Any other env (a Gymnasium id, a user's
env) declares them, if at all, as a `task_params` attribute of the instance.
"""
from __future__ import annotations

import dataclasses
import json
from typing import Mapping

import gymnasium as gym

from slm_acl.env.factory import EnvMaker, task_params_of
from slm_acl.env.registry import LAB_ENVS
from slm_acl.spec.errors import SpecError
from slm_acl.spec.model import EnvSpec


@dataclasses.dataclass(frozen=True)
class EnvFacts:
    """One env's spaces and task parameters (None: the env takes no task)."""

    observation_space: gym.Space
    action_space: gym.Space
    task_params: Mapping[str, tuple] | None


def task_params(env: EnvSpec, embodiment: str | None, path: str) -> Mapping[str, tuple] | None:
    """The task parameters `env` accepts: a lab env's declared ones, else those of an instance."""
    if env.name in LAB_ENVS:
        return LAB_ENVS.get(env.name).task_params
    return facts(env, embodiment, path).task_params


_CACHE: dict[tuple[str, str | None, str], EnvFacts] = {}


def facts(env: EnvSpec, embodiment: str | None, path: str) -> EnvFacts:
    """The facts of `env` with `embodiment`, from one cached instance; a failure to make it is a SpecError
    at `path` (e.g. `env[0]`), since nothing of the run has started yet."""
    key = (env.name, embodiment, json.dumps(env.kwargs, sort_keys=True, default=repr))
    if key not in _CACHE:
        try:
            _CACHE[key] = _read_facts(EnvMaker(env.name, embodiment, kwargs=tuple(sorted(env.kwargs.items()))))
        except Exception as err:  # noqa: BLE001 - any failure to build the env is this spec's problem, said once
            given = []
            if embodiment is not None:
                given.append(f"embodiment {embodiment!r}")
            if env.kwargs:
                given.append(f"kwargs {env.kwargs}")
            with_given = f" with {' and '.join(given)}" if given else ""
            raise SpecError(path, f"cannot make env {env.name!r}{with_given}: {type(err).__name__}: {err}") from None
    return _CACHE[key]


def _read_facts(maker: EnvMaker) -> EnvFacts:
    instance = maker()
    try:
        params = task_params_of(instance)
        return EnvFacts(instance.observation_space, instance.action_space,
                        None if params is None else dict(params))
    finally:
        instance.close()
