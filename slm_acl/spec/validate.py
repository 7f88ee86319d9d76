"""Validating a spec tree: every section, the rules across sections, the bodies, the fit with the envs.

`validate(raw)` is the core every mode goes through (via `slm_acl.spec.loader.load_spec` for a spec file,
or directly for a saved resolved spec): it builds the typed sections, checks the cross-section rules,
resolves the bodies and checks them against their envs. Everything a spec gets wrong surfaces here,
before any run folder, net or process is created.

A curriculum is built per body: the spec's (or the body's own, merged into it) with its expert-knowledge
level (`curriculum.expert_knowledge`) resolved for the body's env into explicit keys
(`slm_acl.spec.expert_knowledge`). The tree `raw` keeps the level, not its expansion, so a search, a benchmark
cell or a resumed run that changes the env, the task space or the level resolves again from it; the typed
curricula of the bodies hold the resolved keys, and `expert_knowledge_record(run)` says what each level set.
"""
from __future__ import annotations

import copy
import dataclasses
import math
from typing import Any

import pydash

from slm_acl.lib import plugins
from slm_acl.lib.config import Choice

from slm_acl.curriculum import test_sets
from slm_acl.curriculum.task_space import TaskError, TaskSpace
from slm_acl.spec import benchmark, expert_knowledge, search_space
from slm_acl.spec.env_fit import check_env_fit
from slm_acl.spec.errors import SpecError
from slm_acl.spec.model import CurriculumSpec, Spec
from slm_acl.spec.run_spec import BodyPlan, RunSpec
from slm_acl.spec.schema import build, convert

__all__ = ["BodyPlan", "RunSpec", "curriculum_spec", "expert_knowledge_record", "validate"]

# what a teacher that lacks a curriculum key is told, by key (the teacher says which keys it needs: needed_keys)
_NEEDS = {
    "success_return": "needs a success definition: set success_return",
    "initial_dist": "needs expert knowledge of where to start: set initial_dist {'mean': [...], 'std': [...]} (raw "
                    "units, one entry per task dim)",
    "target_dist": "needs the distribution to reach: set target_dist {'mean': [...], 'std': [...]} (raw units, one "
                   "entry per task dim)",
}


def teacher_choice(name: str, settings: dict[str, Any]) -> Choice:
    """The teacher `{"name": name, **settings}` validated exactly as a spec's `curriculum.teacher` is, for
    code that runs teachers outside a spec (the toy bench)."""
    if "name" in settings:
        raise SpecError("curriculum.teacher", f"settings of teacher {name!r} must not contain 'name'; pass the "
                        "name as the first argument")
    field = next(f for f in dataclasses.fields(CurriculumSpec) if f.name == "teacher")
    return convert(Any, {"name": name, **settings}, "curriculum.teacher", field.metadata)


def curriculum_spec(raw: dict[str, Any], path: str = "curriculum") -> CurriculumSpec:
    """The curriculum block `raw` (expert-knowledge level already resolved) typed and checked exactly as a spec's
    is: its keys, the teacher's name and settings, the task space, expert knowledge in raw units, and what the
    teacher needs. For curricula outside a spec too (slm_acl.teaching's Gymnasium wrappers)."""
    curriculum = build(CurriculumSpec, raw, path)
    _check_curriculum(curriculum, path)
    return curriculum


def activate_plugins(raw: dict[str, Any]) -> None:
    """Import the spec's `meta.plugins` (from its `meta.plugin_paths` too) before any name is looked up."""
    meta = raw.get("meta") if isinstance(raw, dict) else None
    meta = meta if isinstance(meta, dict) else {}
    for key in ("plugins", "plugin_paths"):
        given = meta.get(key, [])
        if not isinstance(given, list) or not all(isinstance(v, str) and v for v in given):
            raise SpecError(f"meta.{key}", f"expected a list of {'module names' if key == 'plugins' else 'folders'}"
                            f"; got {given!r}")
    plugins.add_paths(meta.get("plugin_paths", []))  # a "module:Name" reference is imported from them too
    for i, module in enumerate(meta.get("plugins", [])):
        try:
            plugins.activate([module], meta.get("plugin_paths", []))
        except plugins.PluginError as err:
            raise SpecError(f"meta.plugins[{i}]", str(err)) from None


def validate(raw: dict[str, Any]) -> RunSpec:
    """The spec tree `raw` (placeholders filled) as a `RunSpec`, or the first SpecError it has.

    `raw` is kept as given (it is what a run saves as its resolved spec); the typed view adds the defaults and
    the keys each body's expert-knowledge level resolves to.
    """
    activate_plugins(raw)
    # the curriculum is built per body (its level resolves per env), once the envs and bodies are known
    spec = build(Spec, {key: value for key, value in raw.items() if key != "curriculum"})
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
        if agent.reset_frequency is not None and not agent.algorithm.cls.resets_student:
            raise SpecError(f"agent[{i}].reset_frequency", f"algorithm {agent.algorithm.name} cannot re-initialise "
                            "its student (it does not declare resets_student); remove reset_frequency")
        accepted = agent.algorithm.cls.memories
        if agent.memory is not None and accepted and agent.memory.name not in accepted:
            raise SpecError(f"agent[{i}].memory.name", f"algorithm {agent.algorithm.name} works with memory "
                            f"{' or '.join(accepted)}, not {agent.memory.name!r}")
    curricula = _Curricula(spec, raw)
    bodies = tuple(_resolve_bodies(spec, curricula))
    spec = dataclasses.replace(spec, curriculum=curricula.spec_default(bodies))
    check_env_fit(spec, bodies)
    if spec.search is not None:
        _check_search(raw, spec)
    if spec.benchmark is not None:
        if spec.search is not None:
            raise SpecError("benchmark", "a spec is a search or a campaign, not both: remove the search block or "
                            "the benchmark block")
        benchmark.check(raw, spec.benchmark, validate, teacher_choice)
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
    name = curriculum.teacher.name
    for key in curriculum.teacher.cls.needed_keys(curriculum.teacher.config):
        if getattr(curriculum, key) is None:
            raise SpecError(f"{path}.{key}", f"teacher {name} {_NEEDS[key]}")


class _Curricula:
    """Each body's typed curriculum: the spec's curriculum (or the body's own, merged into it) with its
    expert-knowledge level resolved for the body's env, built and checked once per (curriculum, env), and the
    record of what each level set, by body label."""

    def __init__(self, spec: Spec, raw: dict[str, Any]):
        self.spec, self.raw = spec, raw
        self._default: dict[str, tuple[CurriculumSpec, dict[str, Any] | None]] = {}
        self.records: dict[str, dict[str, Any]] = {}

    def default(self, e: int) -> tuple[CurriculumSpec | None, dict[str, Any] | None]:
        """The spec's curriculum for a body in env `e` (None without one); a level resolves per env name."""
        given = self.raw.get("curriculum")
        if given is None:
            return None, None
        has_level = isinstance(given, dict) and given.get(expert_knowledge.KEY) is not None
        key = self.spec.env[e].name if has_level else ""
        if key not in self._default:
            self._default[key] = self._build(given, e, "curriculum", f"curriculum.{expert_knowledge.KEY}")
        return self._default[key]

    def body(self, i: int, cb: Any, path: str) -> tuple[CurriculumSpec | None, dict[str, Any] | None]:
        """The curriculum of custom body `i` (`cb`, at `path`): none, the spec's, or its own merged into it."""
        if cb.no_curriculum:
            if cb.curriculum:
                raise SpecError(f"{path}.curriculum", "no_curriculum is true: remove the curriculum override")
            return None, None
        if cb.curriculum is None:
            return self.default(cb.env)
        merged = pydash.merge(copy.deepcopy(self.raw.get("curriculum") or {}), copy.deepcopy(cb.curriculum))
        if "teacher" in cb.curriculum and "name" in cb.curriculum["teacher"] and self.raw.get("curriculum"):
            # a different teacher replaces the default teacher's settings instead of merging with them
            default_teacher = self.raw["curriculum"].get("teacher", {})
            if cb.curriculum["teacher"]["name"] != default_teacher.get("name"):
                merged["teacher"] = copy.deepcopy(cb.curriculum["teacher"])
        if "task_space" in cb.curriculum:
            merged["task_space"] = copy.deepcopy(cb.curriculum["task_space"])
        own_level = expert_knowledge.KEY in cb.curriculum
        level_path = f"{path}.curriculum.{expert_knowledge.KEY}" if own_level else f"curriculum.{expert_knowledge.KEY}"
        return self._build(merged, cb.env, f"{path}.curriculum", level_path, where=f"body.bodies[{i}], ")

    def _build(self, given: Any, e: int, path: str, level_path: str,
               where: str = "") -> tuple[CurriculumSpec, dict[str, Any] | None]:
        env = self.spec.env[e]
        resolved = expert_knowledge.resolve(given, env.name, path, level_path, where=f"{where}env[{e}] {env.name}")
        return curriculum_spec(resolved.curriculum, path), resolved.record

    def plan(self, plan: BodyPlan, record: dict[str, Any] | None) -> BodyPlan:
        """`plan`, with what its level resolved to filed under its label."""
        if record is not None:
            self.records[plan.label] = record
        return plan

    def spec_default(self, bodies: tuple[BodyPlan, ...]) -> CurriculumSpec | None:
        """The typed `spec.curriculum`: the spec's curriculum as it resolves for the env of the first body with
        a curriculum (env[0] when none has one; it is still checked)."""
        return self.default(next((p.e for p in bodies if p.curriculum is not None), 0))[0]


def expert_knowledge_record(run: RunSpec) -> dict[str, dict[str, Any]]:
    """What each body's expert-knowledge level resolved to, by body label (empty when no curriculum sets a
    level): the level, where it is written, the env, the teacher, the keys set with their values (relative to
    the body's curriculum), the explicit keys kept, and notes. For the `info` of a run's resolved spec; the
    resolution is recomputed from `run.raw`, which is deterministic."""
    curricula = _Curricula(run.spec, run.raw)
    _resolve_bodies(run.spec, curricula)
    return curricula.records


def _resolve_bodies(spec: Spec, curricula: _Curricula) -> list[BodyPlan]:
    body, n_agents, n_envs = spec.body, len(spec.agent), len(spec.env)
    if body.product != "custom" and body.bodies is not None:
        raise SpecError("body.bodies", f"an explicit body list needs product 'custom', not {body.product!r}")
    if body.product in ("outer", "inner"):
        if body.product == "outer":
            triples = [(a, e, b) for a in range(n_agents) for e in range(n_envs) for b in range(body.num)]
        elif n_agents != n_envs:
            raise SpecError("body.product", f"'inner' pairs agent i with env i and needs as many agents as "
                            f"envs; got {n_agents} agents and {n_envs} envs")
        else:
            triples = [(i, i, b) for i in range(n_agents) for b in range(body.num)]
        plans = []
        for i, (a, e, b) in enumerate(triples):
            curriculum, record = curricula.default(e)
            plans.append(curricula.plan(BodyPlan(i, a, e, b, body.embodiment, curriculum), record))
        return plans
    if not body.bodies:
        raise SpecError("body.bodies", "product 'custom' needs the explicit list body.bodies")
    plans, counts = [], {}
    for i, cb in enumerate(body.bodies):
        path = f"body.bodies[{i}]"
        if cb.agent >= n_agents:
            raise SpecError(f"{path}.agent", f"agent index {cb.agent} out of range: {n_agents} agent(s)")
        if cb.env >= n_envs:
            raise SpecError(f"{path}.env", f"env index {cb.env} out of range: {n_envs} env(s)")
        curriculum, record = curricula.body(i, cb, path)
        b = counts.get((cb.agent, cb.env), 0)
        counts[(cb.agent, cb.env)] = b + 1
        embodiment = cb.embodiment if cb.embodiment is not None else body.embodiment
        plans.append(curricula.plan(BodyPlan(i, cb.agent, cb.env, b, embodiment, curriculum), record))
    return plans

