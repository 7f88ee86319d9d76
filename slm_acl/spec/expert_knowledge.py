"""Expert-knowledge levels: `curriculum.expert_knowledge: "no" | "low" | "high"` resolved into explicit keys.

TeachMyAgent compares teachers at three amounts of expert knowledge (`--allow_expert_knowledge`, REFERENCE.md 1.3).
Here a level is one spec value; when the spec is validated (before any run folder), it is resolved for each body,
from that body's teacher, its env and its task space, into the curriculum keys a spec could have written by hand.
With no level (null or absent) nothing is resolved and every key is explicit, as before.

What each level gives each teacher (declared on the teacher class, `Teacher.expert_knowledge`):

| teacher            | "no"                          | "low"                           | "high"                        |
|--------------------|-------------------------------|---------------------------------|-------------------------------|
| Random, RIAC       | -                             | -                               | -                             |
| ALP-GMM, Covar-GMM | -                             | -                               | initial_dist (bootstrap)      |
| ADR                | refused                       | teacher.max_reward_thr 180,     | the thresholds + initial_dist |
|                    |                               | min_reward_thr 0 (random start) | (the box starts at its mean)  |
| Self-Paced         | target_dist (whole space) +   | as "no"                         | initial_dist + target_dist    |
|                    | teacher.initial_dist_fallback |                                 | (whole space)                 |
|                    | "random_subspace"             |                                 |                               |
| GoalGAN            | refused                       | teacher.use_pretrained_samples  | pretraining on initial_dist   |
|                    |                               | true (random sub-space)         |                               |
| Setter-Solver      | refused                       | -                               | -                             |
| Oracle             | refused                       | refused                         | - (its keys stay explicit)    |

Every level that a teacher runs at also sets `success_return` (230 on both envs): it is the evaluation's
definition of a mastered test task, which TeachMyAgent applies at every level; the teachers that use it as their
success signal (GoalGAN, Setter-Solver, ADR with `signal: "success"`) are the ones refused at "no", as
TeachMyAgent raises for them there.

The env's data (`ENV_KNOWLEDGE`, keyed by the lab's env names; a Gymnasium id of a lab env finds its entry too):

- StumpTracks: success 230; ADR thresholds 180 (max) / 0 (min) in raw returns (the benchmark's CLI defaults);
  the easy Gaussian: `stump_height` mean 0, `obstacle_spacing` mean = the space's upper bound, std 10% of each
  dim's range. On the standard space (height [0, 3], spacing [0, 6]) that is mean [0, 6], std [0.3, 0.6].
  TeachMyAgent writes mean 0 for the height whatever the bounds, and the lab does the same: on height [0, 9]
  ("mostly unfeasible") the mean is 0 with std 0.9; on [-3, 3] ("mostly trivial") it is 0 with std 0.6, the
  middle of the space, where stumps start to matter (every height <= 0 is the same 0.05-high track); on a range
  that excludes 0 the mean is the bound nearest to 0 (e.g. 1 on [1, 3]). `obstacle_spacing` always starts at
  its upper bound (the widest gaps, the easiest). Its other task parameters follow TeachMyAgent's handler:
  `stump_width` and `stump_rot` mean 0 with std 10% of range, `poly_shape` and `stump_seq` mean 0 with std 0.1
  raw (its variance 0.01). `roughness` has no easy value there: a level that needs initial_dist on a space with
  roughness is refused, naming the parameter.
- Parkour: success 230, ADR thresholds 180 / 0 (the Parkour runs used the same CLI defaults). TeachMyAgent
  defines no initial distribution for Parkour, so no level gives one there: at "high", ALP-GMM / Covar-GMM
  bootstrap uniformly, ADR starts at a random point, GoalGAN pretrains on a random sub-space Gaussian and SPDL
  starts from one, exactly as at "low" (the record's notes say so).
- Any other env has no data: a level that needs one of its values (success_return, ADR's thresholds,
  initial_dist) and finds no explicit key fails validation naming the env and the level.

Reward bounds. TeachMyAgent knows every env's reward range (Stump Tracks -150/350, Parkour -150/360) but its
benchmark ran with `scale_reward` off, so its teachers saw raw returns; in the lab `reward_bounds` is what turns
that scaling on, so no level sets it. When a spec sets `reward_bounds` itself, the ADR thresholds a level gives
are mapped onto [0, 1] through those bounds (180 -> 0.66, 0 -> 0.3 with -150/350), as TeachMyAgent's ADR
rescaled its own thresholds when scaling was on.

SPDL. TeachMyAgent's table leaves Self-Paced at "-" everywhere: its handler looked for "maximal" instead of
"high", so its SPDL always ran with its own defaults, a random sub-space start and the whole-space target
(mean the centre, std a quarter of each range). The lab's SPDL needs both distributions explicit, so "no" and
"low" give it exactly those defaults (`target_dist` written out, `initial_dist_fallback: "random_subspace"`),
and "high" gives the intended reading: the env's easy `initial_dist`, with the same whole-space target
(TeachMyAgent never builds a target_dist). The published SPDL numbers at "high" were therefore obtained with
what the lab calls "low".

Precedence. A key the spec (or the body's own curriculum) writes is never replaced, even as null: the level
fills only the keys left out, each key on its own (an explicit `initial_dist` with "high" keeps the explicit
one; an explicit `max_reward_thr` keeps it and takes `min_reward_thr` from the level). A teacher that cannot
run at a level is refused whatever keys are explicit: the level says how much the teacher may be told, and a
level of "no" with hand-written thresholds is a contradiction; drop the level to write every key by hand.

Where the result shows. The spec tree a run saves keeps the level, not its expansion: a search or a benchmark
that changes the task space, the env or the level re-resolves from it, and a cell's saved spec re-run alone
resolves to the same keys. `resolve` returns a record of what it set (the level, where it is written, the env,
the teacher, the keys set with their values relative to the body's curriculum, the keys kept because they were
explicit, notes such as "no initial distribution on Parkour", and the source of the env's numbers), and
`slm_acl.spec.validate.expert_knowledge_record(run)` collects these by body label for the `info` of the run's
resolved spec (`info.expert_knowledge`). Writing a record's `set` keys into the curriculum by hand and dropping
the level gives the same typed curriculum (tested).
"""
from __future__ import annotations

import copy
import dataclasses
import math
import typing
from typing import Any, Callable, Literal, Mapping

import numpy as np

from slm_acl.curriculum.expert_knowledge import LEVELS, Gift
from slm_acl.curriculum.task_space import TaskError, TaskSpace
from slm_acl.curriculum.teachers.registry import TEACHERS
from slm_acl.env.registry import LAB_ENVS
from slm_acl.lib.plugins import PluginError
from slm_acl.lib.registry import Registry, UnknownNameError
from slm_acl.spec.errors import SpecError
from slm_acl.spec.model import CurriculumSpec
from slm_acl.spec.schema import convert

KEY = "expert_knowledge"
WHOLE_SPACE_STD = 0.25  # the whole-space Gaussian's std, as a fraction of each range (TeachMyAgent: range / 4)


@dataclasses.dataclass(frozen=True)
class EasyDim:
    """Where a task parameter is easy: `at` a raw value (clipped into the dim's bounds) or at its "low" / "high"
    bound, with a std of `std` times the dim's range (`std_of_range`) or of `std` raw units."""

    at: float | Literal["low", "high"]
    std: float = 0.1
    std_of_range: bool = True

    def gaussian(self, low: float, high: float) -> tuple[float, float]:
        mean = {"low": low, "high": high}.get(self.at) if isinstance(self.at, str) else min(max(self.at, low), high)
        return float(mean), float(self.std * (high - low) if self.std_of_range else self.std)


@dataclasses.dataclass(frozen=True)
class EnvKnowledge:
    """What TeachMyAgent knows about one env, in the env's raw units."""

    success_return: float  # an episode is a success above this return (the evaluation's "mastered")
    reward_thresholds: tuple[float, float]  # ADR's (min_reward_thr, max_reward_thr), raw returns
    easy: Mapping[str, EasyDim] | None  # the initial Gaussian per task parameter; None: TeachMyAgent defines none
    source: str  # where the numbers come from


ENV_KNOWLEDGE: Registry[EnvKnowledge] = Registry("expert-knowledge env")
ENV_KNOWLEDGE.register("StumpTracks")(EnvKnowledge(
    success_return=230.0, reward_thresholds=(0.0, 180.0),
    easy={"stump_height": EasyDim(0.0), "obstacle_spacing": EasyDim("high"), "stump_width": EasyDim(0.0),
          "stump_rot": EasyDim(0.0), "poly_shape": EasyDim(0.0, 0.1, std_of_range=False),
          "stump_seq": EasyDim(0.0, 0.1, std_of_range=False)},
    source="TeachMyAgent run_utils/environment_args_handler.py and teacher_args_handler.py (REFERENCE.md 1.3, 2.2)"))
ENV_KNOWLEDGE.register("Parkour")(EnvKnowledge(
    success_return=230.0, reward_thresholds=(0.0, 180.0), easy=None,
    source="TeachMyAgent run_utils (REFERENCE.md 1.3: Parkour has no initial distribution)"))


def knowledge_of(env_name: str) -> EnvKnowledge | None:
    """The env's data, by lab env name or by the Gymnasium id of a lab env; None when it has none."""
    if env_name in ENV_KNOWLEDGE:
        return ENV_KNOWLEDGE.get(env_name)
    for lab_name, entry in LAB_ENVS.items():
        if entry.gym_id == env_name and lab_name in ENV_KNOWLEDGE:
            return ENV_KNOWLEDGE.get(lab_name)
    return None


@dataclasses.dataclass(frozen=True)
class Resolved:
    """A curriculum tree with its level resolved, and the record of what the level set (None without a level)."""

    curriculum: Any
    record: dict[str, Any] | None


@dataclasses.dataclass
class _Resolution:
    """One curriculum being resolved: the tree being filled and what has been set, kept or noted."""

    curriculum: dict[str, Any]  # a copy of the raw curriculum, filled in place
    space: TaskSpace
    level: str
    teacher: str
    env_name: str
    env: EnvKnowledge | None
    path: str  # where the curriculum's keys are written (curriculum, body.bodies[i].curriculum)
    level_path: str  # where the level is written
    set: dict[str, Any] = dataclasses.field(default_factory=dict)
    explicit: list[str] = dataclasses.field(default_factory=list)
    notes: list[str] = dataclasses.field(default_factory=list)

    def is_explicit(self, key: str) -> bool:
        """Whether `key` ("initial_dist", "teacher.max_reward_thr") is written in the curriculum (even as null)."""
        head, _, tail = key.partition(".")
        node = self.curriculum.get(head, {}) if tail else self.curriculum
        return isinstance(node, dict) and (tail or head) in node

    def kept(self, key: str) -> bool:
        """Whether the spec wrote `key`, which the level then leaves as it is (and the record lists as kept)."""
        if not self.is_explicit(key):
            return False
        if key not in self.explicit:
            self.explicit.append(key)
        return True

    def give(self, key: str, value: Any) -> None:
        """Set `key` unless the spec wrote it (explicit keys win)."""
        if self.kept(key):
            return
        head, _, tail = key.partition(".")
        (self.curriculum[head] if tail else self.curriculum)[tail or head] = value
        self.set[key] = value

    def env_data(self, key: str) -> EnvKnowledge:
        """The env's data, needed to set `key`; an env without data is refused here, naming env and level."""
        if self.env is None:
            raise SpecError(self.level_path, f"level {self.level!r} takes {key} (teacher {self.teacher}) from the "
                            f"env's expert-knowledge data, and env {self.env_name!r} has none (data for: "
                            f"{', '.join(ENV_KNOWLEDGE.names())}); set {self.path}.{key} explicitly, or remove "
                            f"{KEY} and write every key by hand")
        return self.env


def _initial_dist(r: _Resolution) -> None:
    """curriculum.initial_dist: the env's easy Gaussian over this task space (none where TeachMyAgent has none)."""
    if r.kept("initial_dist"):
        return
    env = r.env_data("initial_dist")
    if env.easy is None:
        r.notes.append(f"env {r.env_name} has no initial distribution in TeachMyAgent: {r.teacher} gets none at "
                       f"level {r.level!r}")
        return
    unknown = [d.name for d in r.space.dims if d.param not in env.easy]
    if unknown:
        raise SpecError(r.level_path, f"level {r.level!r} gives teacher {r.teacher} an initial_dist, and env "
                        f"{r.env_name}'s expert-knowledge data has no easy value for task dim(s) {unknown} (it has "
                        f"{', '.join(env.easy)}); set {r.path}.initial_dist explicitly")
    pairs = [env.easy[d.param].gaussian(d.low, d.high) for d in r.space.dims]
    r.give("initial_dist", {"mean": [_round(m) for m, _ in pairs], "std": [_round(s) for _, s in pairs]})


def _target_dist(r: _Resolution) -> None:
    """curriculum.target_dist: the whole task space (mean the centre, std a quarter of each range)."""
    r.give("target_dist", {"mean": [_round((d.low + d.high) / 2) for d in r.space.dims],
                           "std": [_round(WHOLE_SPACE_STD * (d.high - d.low)) for d in r.space.dims]})


def _reward_thresholds(r: _Resolution) -> None:
    """teacher.max_reward_thr / min_reward_thr: the env's, mapped onto [0, 1] through an explicit reward_bounds."""
    keys = ("teacher.min_reward_thr", "teacher.max_reward_thr")
    kept = [r.kept(k) for k in keys]  # each one on its own: every explicit threshold is recorded as kept
    if all(kept):
        return
    teacher = r.curriculum.get("teacher")
    if isinstance(teacher, dict) and teacher.get("signal") == "success":
        raise SpecError(r.level_path, f"level {r.level!r} gives ADR thresholds on returns, and teacher.signal "
                        "'success' compares success rates: set teacher.max_reward_thr and teacher.min_reward_thr "
                        "explicitly (rates in [0, 1])")
    thresholds = r.env_data("teacher.max_reward_thr").reward_thresholds
    bounds = r.curriculum.get("reward_bounds")
    if _valid_bounds(bounds):
        low, high = bounds
        thresholds = tuple((t - low) / (high - low) for t in thresholds)
        r.notes.append(f"ADR thresholds mapped onto [0, 1] through reward_bounds {list(bounds)}")
    for key, value in zip(keys, thresholds, strict=True):
        r.give(key, _round(value))


def _pretraining(r: _Resolution) -> None:
    """teacher.use_pretrained_samples: true (TeachMyAgent's benchmark passes --use_pretrained_samples)."""
    r.give("teacher.use_pretrained_samples", True)


def _random_initial_dist(r: _Resolution) -> None:
    """teacher.initial_dist_fallback "random_subspace", when the curriculum ends up with no initial_dist."""
    if r.curriculum.get("initial_dist") is None:
        r.give("teacher.initial_dist_fallback", "random_subspace")


# each gift a teacher can be given -> what sets its keys (a registry: a new gift gets its entry here)
GIFTS: Mapping[Gift, Callable[[_Resolution], None]] = {
    Gift.INITIAL_DIST: _initial_dist,
    Gift.TARGET_DIST: _target_dist,
    Gift.REWARD_THRESHOLDS: _reward_thresholds,
    Gift.PRETRAINING: _pretraining,
    Gift.RANDOM_INITIAL_DIST: _random_initial_dist,
}


def resolve(curriculum: Any, env_name: str, path: str, level_path: str, where: str = "") -> Resolved:
    """`curriculum` (a raw curriculum tree) with its expert-knowledge level turned into explicit keys for
    `env_name`; the tree is copied, never changed.

    Args:
        curriculum: the body's raw curriculum (the spec's, or merged with the body's own).
        env_name: the body's env, as the spec names it.
        path: where the curriculum's keys are written, for messages (`curriculum`, `body.bodies[1].curriculum`).
        level_path: where the level is written (`curriculum.expert_knowledge` or the body's override).
        where: which body or env this is, for messages (e.g. "env[1] Parkour").

    Raises:
        SpecError: at `level_path` for an unknown level, a teacher that cannot run at the level (naming the
            teacher, the level and the levels it runs at), or data the env lacks (naming the env and the level).
    """
    if not isinstance(curriculum, dict) or curriculum.get(KEY) is None:
        return Resolved(curriculum, None)
    level_field = next(f for f in dataclasses.fields(CurriculumSpec) if f.name == KEY)
    level = convert(typing.get_type_hints(CurriculumSpec)[KEY], curriculum[KEY], level_path, level_field.metadata)
    teacher = curriculum.get("teacher")
    name = teacher.get("name") if isinstance(teacher, dict) else None
    try:
        grants = TEACHERS.get(name).expert_knowledge  # a plugin's teacher ("module:Name") is imported here
    except (UnknownNameError, PluginError):
        return Resolved(curriculum, None)  # building the curriculum reports the teacher
    at = f" ({where})" if where else ""
    if grants is None:
        declared = [n for n, cls in TEACHERS.items() if cls.expert_knowledge is not None]
        raise SpecError(level_path, f"teacher {name} declares no expert-knowledge levels{at}; remove {KEY} and set "
                        f"its keys explicitly (teachers with levels: {', '.join(declared)})")
    grant = grants[level]
    if grant.refused is not None:
        runs = [lv for lv in LEVELS if grants[lv].refused is None]
        works = f"use a level where it runs ({', '.join(repr(lv) for lv in runs)}), or" if runs else "no level " \
            "gives it what it needs:"
        raise SpecError(level_path, f"teacher {name} cannot run at expert-knowledge level {level!r}{at}: "
                        f"{grant.refused}; {works} remove {KEY} and write its keys by hand")
    try:
        space = TaskSpace.from_spec(curriculum.get("task_space") or {})
    except TaskError as err:
        raise SpecError(f"{path}.task_space", str(err)) from None
    r = _Resolution(copy.deepcopy(curriculum), space, level, name, env_name, knowledge_of(env_name), path,
                    level_path)
    if not r.kept("success_return"):
        r.give("success_return", r.env_data("success_return").success_return)
    for gift in grant.gifts:
        GIFTS[gift](r)
    record = {"level": level, "from": level_path, "env": env_name, "teacher": name, "set": r.set,
              "explicit": r.explicit, "notes": r.notes, "source": None if r.env is None else r.env.source}
    return Resolved(r.curriculum, record)


def _valid_bounds(bounds: Any) -> bool:
    return (isinstance(bounds, list) and len(bounds) == 2
            and all(isinstance(b, (int, float)) and not isinstance(b, bool) and math.isfinite(b) for b in bounds)
            and bounds[0] < bounds[1])


def _round(x: float) -> float:
    """Drop float noise (0.1 * 3 = 0.30000000000000004) so the record and the saved values read as written."""
    return float(np.round(x, 12))
