"""Validating a spec tree: every section, the rules across sections, the bodies, the fit with the envs.

`validate(raw)` is the core every mode goes through (via `slm_acl.spec.loader.load_spec` for a spec file,
or directly for a saved resolved spec): it builds the typed sections, checks the cross-section rules,
resolves the bodies and checks them against their envs. Everything a spec gets wrong surfaces here,
before any run folder, net or process is created.
"""
from __future__ import annotations

import copy
import dataclasses
import math
from typing import Any

import pydash

from slm_acl.lib.config import Choice

from slm_acl.curriculum import test_sets
from slm_acl.curriculum.task_space import TaskError, TaskSpace
from slm_acl.spec import search_space
from slm_acl.spec.env_fit import check_env_fit
from slm_acl.spec.errors import SpecError
from slm_acl.spec.model import CurriculumSpec, Spec
from slm_acl.spec.run_spec import BodyPlan, RunSpec
from slm_acl.spec.schema import build, convert

__all__ = ["BodyPlan", "RunSpec", "validate"]


def teacher_choice(name: str, settings: dict[str, Any]) -> Choice:
    """The teacher `{"name": name, **settings}` validated exactly as a spec's `curriculum.teacher` is, for
    code that runs teachers outside a spec (the toy bench)."""
    if "name" in settings:
        raise SpecError("curriculum.teacher", f"settings of teacher {name!r} must not contain 'name'; pass the "
                        "name as the first argument")
    field = next(f for f in dataclasses.fields(CurriculumSpec) if f.name == "teacher")
    return convert(Any, {"name": name, **settings}, "curriculum.teacher", field.metadata)


def validate(raw: dict[str, Any]) -> RunSpec:
    """The spec tree `raw` (placeholders filled) as a `RunSpec`, or the first SpecError it has.

    `raw` is kept as given (it is what a run saves as its resolved spec); the typed view adds the defaults.
    """
    spec = build(Spec, raw)
    if not spec.agent:
        raise SpecError("agent", "at least one agent is needed")
    if not spec.env:
        raise SpecError("env", "at least one env is needed")
    for i, agent in enumerate(spec.agent):
        for part in ("net", "memory"):
            given = getattr(agent, part) is not None
            uses = getattr(agent.algorithm.cls, f"uses_{part}")
            if given and not uses:
                raise SpecError(f"agent[{i}].{part}", f"algorithm {agent.algorithm.name} takes no {part}; "
                                "remove the key")
            if uses and not given:
                raise SpecError(f"agent[{i}].{part}", f"algorithm {agent.algorithm.name} needs a {part}")
        accepted = agent.algorithm.cls.memories
        if agent.memory is not None and accepted and agent.memory.name not in accepted:
            raise SpecError(f"agent[{i}].memory.name", f"algorithm {agent.algorithm.name} works with memory "
                            f"{' or '.join(accepted)}, not {agent.memory.name!r}")
    if spec.curriculum is not None:
        _check_curriculum(spec.curriculum, "curriculum")
    bodies = tuple(_resolve_bodies(spec, raw))
    check_env_fit(spec, bodies)
    if spec.search is not None:
        _check_search(raw, spec)
    return RunSpec(raw=raw, spec=spec, bodies=bodies)


def _check_search(raw: dict[str, Any], spec: Spec) -> None:
    """The search block parses, and the spec stays valid at every grid value and both ends of every range."""
    keys = search_space.parse(spec.search, search_space.without_search(raw))
    if spec.meta.search_algorithm == "optuna":
        refused = [f"{k.name}__{k.kind}" for k in keys if not k.distribution.optuna]
        if refused:
            raise SpecError("search", f"{', '.join(refused)} cannot be sampled by meta.search_algorithm 'optuna' "
                            "(it takes __choice, __uniform, __loguniform, __randint); use __choice for a grid")
    if spec.meta.search_scheduler is not None:
        horizon = [k.name for k in keys if k.path[0] == "env" and k.path[-1] == "max_frame"]
        if horizon:
            raise SpecError("search", f"{', '.join(horizon)}: ASHA's horizon is the spec's max_frame, the same for "
                            "every trial; do not search it with meta.search_scheduler")
    for values in search_space.example_values(keys):
        try:
            validate(search_space.apply(raw, values))
        except SpecError as err:
            tried = ", ".join(f"{k}={v!r}" for k, v in values.items())
            raise SpecError(err.path, f"{err.message} (with the searched values {tried})") from None


def _check_curriculum(curriculum: CurriculumSpec, path: str) -> None:
    try:
        space = TaskSpace.from_spec(curriculum.task_space)
    except TaskError as err:
        raise SpecError(f"{path}.task_space", str(err)) from None
    if curriculum.test_set == "grid" and test_sets.grid_points(curriculum.test_set_size, space.dim) is None:
        raise SpecError(f"{path}.test_set_size", f"a grid test set over {space.dim} task dims needs test_set_size "
                        f"= k^{space.dim}; {curriculum.test_set_size} is not (e.g. "
                        f"{', '.join(str(k ** space.dim) for k in (3, 5, 10))})")
    for key in ("initial_dist", "target_dist"):
        dist = getattr(curriculum, key)
        if dist is not None:
            try:
                space.unit_gaussian(dist, key)
            except TaskError as err:
                raise SpecError(f"{path}.{key}", str(err)) from None
    bounds = curriculum.reward_bounds
    if bounds is not None and (len(bounds) != 2 or not all(math.isfinite(b) for b in bounds)
                               or bounds[0] >= bounds[1]):
        raise SpecError(f"{path}.reward_bounds", f"expected [low, high] with finite low < high, got {bounds!r}")
    teacher = curriculum.teacher.cls
    name = curriculum.teacher.name
    if teacher.needs_success_return and curriculum.success_return is None:
        raise SpecError(f"{path}.success_return", f"teacher {name} needs a success definition: set success_return")
    if teacher.needs_initial_dist and curriculum.initial_dist is None:
        raise SpecError(f"{path}.initial_dist", f"teacher {name} needs expert knowledge of where to start: set "
                        "initial_dist {'mean': [...], 'std': [...]} (raw units, one entry per task dim)")
    if teacher.needs_target_dist and curriculum.target_dist is None:
        raise SpecError(f"{path}.target_dist", f"teacher {name} needs the distribution to reach: set "
                        "target_dist {'mean': [...], 'std': [...]} (raw units, one entry per task dim)")


def _resolve_bodies(spec: Spec, raw: dict[str, Any]) -> list[BodyPlan]:
    body, n_agents, n_envs = spec.body, len(spec.agent), len(spec.env)
    if body.product != "custom" and body.bodies is not None:
        raise SpecError("body.bodies", f"an explicit body list needs product 'custom', not {body.product!r}")
    if body.product == "outer":
        triples = [(a, e, b) for a in range(n_agents) for e in range(n_envs) for b in range(body.num)]
        return [BodyPlan(i, a, e, b, body.embodiment, spec.curriculum) for i, (a, e, b) in enumerate(triples)]
    if body.product == "inner":
        if n_agents != n_envs:
            raise SpecError("body.product", f"'inner' pairs agent i with env i and needs as many agents as "
                            f"envs; got {n_agents} agents and {n_envs} envs")
        triples = [(i, i, b) for i in range(n_agents) for b in range(body.num)]
        return [BodyPlan(k, a, e, b, body.embodiment, spec.curriculum) for k, (a, e, b) in enumerate(triples)]
    if not body.bodies:
        raise SpecError("body.bodies", "product 'custom' needs the explicit list body.bodies")
    plans, counts = [], {}
    for i, cb in enumerate(body.bodies):
        path = f"body.bodies[{i}]"
        if cb.agent >= n_agents:
            raise SpecError(f"{path}.agent", f"agent index {cb.agent} out of range: {n_agents} agent(s)")
        if cb.env >= n_envs:
            raise SpecError(f"{path}.env", f"env index {cb.env} out of range: {n_envs} env(s)")
        curriculum = _body_curriculum(spec, raw, cb, path)
        b = counts.get((cb.agent, cb.env), 0)
        counts[(cb.agent, cb.env)] = b + 1
        embodiment = cb.embodiment if cb.embodiment is not None else body.embodiment
        plans.append(BodyPlan(i, cb.agent, cb.env, b, embodiment, curriculum))
    return plans


def _body_curriculum(spec: Spec, raw: dict[str, Any], cb: Any, path: str) -> CurriculumSpec | None:
    if cb.no_curriculum:
        if cb.curriculum:
            raise SpecError(f"{path}.curriculum", "no_curriculum is true: remove the curriculum override")
        return None
    if cb.curriculum is None:
        return spec.curriculum
    merged = pydash.merge(copy.deepcopy(raw.get("curriculum") or {}), copy.deepcopy(cb.curriculum))
    if "teacher" in cb.curriculum and "name" in cb.curriculum["teacher"] and raw.get("curriculum"):
        # a different teacher replaces the default teacher's settings instead of merging with them
        default_teacher = raw["curriculum"].get("teacher", {})
        if cb.curriculum["teacher"]["name"] != default_teacher.get("name"):
            merged["teacher"] = copy.deepcopy(cb.curriculum["teacher"])
    if "task_space" in cb.curriculum:
        merged["task_space"] = copy.deepcopy(cb.curriculum["task_space"])
    curriculum = build(CurriculumSpec, merged, f"{path}.curriculum")
    _check_curriculum(curriculum, f"{path}.curriculum")
    return curriculum
