"""Checks of a spec against the envs it names, made before a run starts.

Each body joins an agent and an env: its curriculum's task space must name parameters the env accepts,
within the env's ranges; its agent's algorithm must be able to act in the env's spaces; the agent's net
must fit all its bodies' sizes; and a teacher that needs the student's value estimate must be paired
with an algorithm that provides one. The env side comes from `env_facts` (declared task parameters of
lab envs, one cached instance otherwise); the component side from the classes' own declarations
(`Algorithm.spaces_problem`, `provides_value_estimate`, a net's `dims_problem`, a teacher's
`needs_value_estimate`). Every error names the key path to change and the valid choices.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

from slm_acl.agent.registry import ALGORITHMS
from slm_acl.curriculum.task_space import TaskSpace
from slm_acl.env.registry import LAB_ENVS, is_body_file
from slm_acl.lib.registry import did_you_mean
from slm_acl.spec import env_facts
from slm_acl.spec.errors import SpecError
from slm_acl.spec.model import Spec
from slm_acl.spec.run_spec import BodyPlan


def check_env_fit(spec: Spec, bodies: Sequence[BodyPlan]) -> None:
    """Every body against its env: embodiment and task space first (no env is built for a lab env's), then
    the agents' algorithms and nets against their bodies' spaces, and the teachers' needs."""
    for plan in bodies:
        _check_embodiment(spec, plan)
        if plan.curriculum is not None:
            env = spec.env[plan.e]
            path = _curriculum_path(spec, plan.index, "task_space")
            params = env_facts.task_params(env, plan.embodiment, f"env[{plan.e}]")
            check_task_space(TaskSpace.from_spec(plan.curriculum.task_space), params, env.name, path)
    for a, agent in enumerate(spec.agent):
        mine = [p for p in bodies if p.a == a]
        _check_spaces(spec, a, mine)
        for plan in mine:
            _check_value_estimate(spec, a, plan)


def check_task_space(task_space: TaskSpace, task_params: Mapping[str, tuple] | None, env_name: str,
                     path: str) -> None:
    """The env must accept every parameter the curriculum names, with its shape, within the env's ranges.

    `task_params` maps a scalar parameter to (low, high) and a vector one to (low, high, size).
    """
    if task_params is None:
        raise SpecError(path, f"env {env_name} takes no task parameters (it declares no `task_params`): remove "
                        "the curriculum for this body, use a parametric env, or make this one parametric: declare "
                        "a class attribute `task_params = {param: (low, high)}` (`(low, high, size)` for a vector) "
                        "and play the task that reset(options={'task': {param: value}}) hands the env, from that "
                        "reset on (the env task protocol: see the docstring of module slm_acl.env.tasks)")
    valid = sorted(task_params)
    for param in [*task_space.params, *task_space.fixed]:
        if param not in task_params:
            raise SpecError(f"{path}.{param}", f"env {env_name} has no task parameter {param!r}."
                            f"{did_you_mean(param, valid)} Valid: {', '.join(valid)}")
    for param in task_space.params:
        low, high, *size = task_params[param]
        dims = [d for d in task_space.dims if d.param == param]
        if size and (dims[0].index is None or len(dims) != size[0]):
            raise SpecError(f"{path}.{param}", f"{param} is a vector of {size[0]} values in env {env_name}; give "
                            f"[low, high, {size[0]}] or {size[0]} [low, high] pairs, not {len(dims)} dim(s)")
        if not size and dims[0].index is not None:
            raise SpecError(f"{path}.{param}", f"{param} is a single number in env {env_name}; give [low, high]")
        for d in dims:
            if d.low < low or d.high > high:
                raise SpecError(f"{path}.{param}", f"bounds [{d.low}, {d.high}] of {d.name} exceed env {env_name}'s "
                                f"range [{low}, {high}]")
    for param, value in task_space.fixed.items():
        low, high, *size = task_params[param]
        if size:
            raise SpecError(f"{path}.{param}", f"{param} is a vector of {size[0]} values in env {env_name}; give "
                            f"it bounds, e.g. [low, high, {size[0]}]")
        if not low <= value <= high:
            raise SpecError(f"{path}.{param}", f"fixed value {value} is outside env {env_name}'s range "
                            f"[{low}, {high}]")


def _check_embodiment(spec: Spec, plan: BodyPlan) -> None:
    """A lab env takes the embodiments of its entry or a body file; any other env takes none."""
    if plan.embodiment is None:
        return
    env_name = spec.env[plan.e].name
    own = spec.body.product == "custom" and spec.body.bodies[plan.index].embodiment is not None
    where = f"body.bodies[{plan.index}].embodiment" if own else "body.embodiment"
    if env_name not in LAB_ENVS:
        raise SpecError(where, f"env {env_name!r} has no embodiments (embodiment {plan.embodiment!r} "
                        f"given); lab envs with embodiments: {', '.join(LAB_ENVS.names()) or '(none yet)'}")
    allowed = LAB_ENVS.get(env_name).embodiments
    if plan.embodiment not in allowed and not is_body_file(plan.embodiment):
        raise SpecError(where, f"env {env_name} has no embodiment {plan.embodiment!r}; "
                        f"valid: {', '.join(allowed)}")


def _check_spaces(spec: Spec, a: int, plans: Sequence[BodyPlan]) -> None:
    """The algorithm acts in each body's spaces, and one net serves all of the agent's bodies."""
    agent = spec.agent[a]
    algorithm = agent.algorithm
    obs_dims, act_dims = [], []
    for plan in plans:
        env = spec.env[plan.e]
        facts = env_facts.facts(env, plan.embodiment, f"env[{plan.e}]")
        problem = algorithm.cls.spaces_problem(facts.observation_space, facts.action_space)
        if problem:
            raise SpecError(f"agent[{a}].algorithm.name", f"{algorithm.name} cannot act for body {plan.label} "
                            f"(env {env.name}{_with_body(plan)}): {problem}")
        obs_dims.append(int(np.prod(facts.observation_space.shape)))
        act_dims.append(int(np.prod(facts.action_space.shape)))
    if agent.net is not None and plans:
        problem = agent.net.cls.dims_problem(obs_dims, act_dims)
        if problem:
            labels = ", ".join(p.label for p in plans)
            raise SpecError(f"agent[{a}].net.{agent.net.key}", f"{problem} (bodies {labels})")


def _check_value_estimate(spec: Spec, a: int, plan: BodyPlan) -> None:
    """A teacher that needs V(s) (SPDL) gets it only from an algorithm that provides one."""
    if plan.curriculum is None:
        return
    teacher = plan.curriculum.teacher
    algorithm = spec.agent[a].algorithm
    if teacher.cls.needs_value_estimate and not algorithm.cls.provides_value_estimate:
        providers = [name for name, cls in ALGORITHMS.items() if cls.provides_value_estimate]
        raise SpecError(_curriculum_path(spec, plan.index, "teacher") + ".name",
                        f"teacher {teacher.name} of body {plan.label} needs the student's value estimate, which "
                        f"algorithm {algorithm.name} (agent[{a}]) does not provide; use an algorithm that does: "
                        f"{', '.join(providers) or '(none registered)'}")


def _curriculum_path(spec: Spec, index: int, key: str) -> str:
    """Where `key` of body `index`'s curriculum is written: its own override, else the spec's curriculum."""
    if spec.body.product == "custom" and spec.body.bodies:
        override = spec.body.bodies[index].curriculum
        if override and key in override:
            return f"body.bodies[{index}].curriculum.{key}"
    return f"curriculum.{key}"


def _with_body(plan: BodyPlan) -> str:
    return f", embodiment {plan.embodiment}" if plan.embodiment is not None else ""
