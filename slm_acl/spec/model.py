"""The spec's sections as typed dataclasses (defaults are the lab's published choices).

Components declare their own configs next to their code; this module only assembles the sections
that belong to the lab (agent, env, body, curriculum, meta) and points sub-component fields at the
registries that validate them.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Literal

from slm_acl.agent.registry import ALGORITHMS, MEMORIES, NETS
from slm_acl.curriculum.teachers.registry import TEACHERS
from slm_acl.env.bodies import is_body_path
from slm_acl.env.registry import check_env_name, embodiment_names, is_body_file
from slm_acl.lib.config import param
from slm_acl.spec.benchmark import BenchmarkSpec
from slm_acl.lib.registry import did_you_mean


def _check_embodiment(name: str) -> str | None:
    names = embodiment_names()
    if name in names or is_body_file(name):
        return None
    if is_body_path(name):
        return (f"body file {name!r} does not exist (a relative path in a spec file is relative to the spec "
                "file's folder)")
    return (f"unknown embodiment {name!r}.{did_you_mean(name, names)} Registered embodiments: {', '.join(names)}; "
            "or a path to a body .json file")


def check_test_set(name: str) -> str | None:
    """A shipped or generated test set's name (also checks eval mode's `-s test_set`)."""
    from slm_acl.curriculum.test_sets import GENERATORS, shipped_names

    names = shipped_names()
    if name in names or name in GENERATORS:
        return None
    return (f"unknown test set {name!r}.{did_you_mean(name, names + list(GENERATORS))} "
            f"Shipped test sets: {', '.join(names)}; "
            f"generated: {', '.join(GENERATORS)}")


@dataclasses.dataclass(frozen=True)
class AgentSpec:
    algorithm: Any = param(doc="the algorithm: {'name': ..., its settings}", registry=ALGORITHMS)
    name: str = param("agent", doc="a label for logs and file names")
    net: Any = param(None, doc="the net: {'type': ..., its settings}", registry=NETS, dispatch_key="type")
    memory: Any = param(None, doc="the memory: {'name': ..., its settings}", registry=MEMORIES)
    reset_frequency: int | None = param(
        None, ge=1, doc="a student that forgets: re-initialise the agent's nets, optimisers, normalisers and memory "
                        "(not its teachers) at every multiple of this many frames, counted over all the agent's "
                        "bodies (TeachMyAgent: 7e6 of 2e7); null: never")


@dataclasses.dataclass(frozen=True)
class EnvSpec:
    name: str = param(doc="a lab env or any registered Gymnasium id", check=check_env_name)
    max_frame: int = param(doc="frames (env steps summed over sub-envs) per body per session", ge=1)
    num_envs: int = param(1, doc="vectorised copies of the env per body", ge=1)
    max_t: int | None = param(None, doc="episode step cap (null: the env's own)", ge=1)
    vector: Literal["sync", "subprocess"] = param("sync", doc="sub-envs in this process or one process each")
    kwargs: dict[str, Any] = param(factory=dict, doc="extra keyword arguments for gymnasium.make")


@dataclasses.dataclass(frozen=True)
class CurriculumSpec:
    teacher: Any = param(doc="the teacher: {'name': ..., its settings}", registry=TEACHERS)
    task_space: dict[str, Any] = param(
        doc="{param: [low, high] | [low, high, n] | [[low, high], ...] | a fixed number}")
    test_set: str | None = param(None, doc="a shipped test set, or a generated one: 'uniform' (test_set_size "
                                 "tasks, seed test_set_seed) or 'grid' (test_set_size = k^dims points, k per dim, "
                                 "bounds included); null: 'uniform'", check=check_test_set)
    success_return: float | None = param(None, doc="an episode is a success when its return exceeds this")
    test_set_size: int = param(100, ge=1, doc="tasks in a generated test set")
    test_set_seed: int = param(31, ge=0, doc="seed of a generated 'uniform' test set (TeachMyAgent: 31)")
    initial_dist: dict[str, list[float]] | None = param(
        None, doc="expert knowledge: an easy start, {'mean': [...], 'std': [...]} in raw units, one entry per "
                  "task dim (ALP-GMM / Covar-GMM bootstrap, ADR start, SPDL, GoalGAN pretraining)")
    target_dist: dict[str, list[float]] | None = param(
        None, doc="expert knowledge: the distribution to reach, {'mean': [...], 'std': [...]} (SPDL)")
    reward_bounds: list[float] | None = param(
        None, doc="[low, high]: teachers see returns mapped from these onto [0, 1] (TeachMyAgent: Stump "
                  "Tracks -150/350, Parkour -150/360); success is judged on the raw return")
    shuffle_dimensions: bool = param(False, doc="rugged difficulty: cut each task dim into `shuffle_cuttings` "
                                                "intervals and permute them (TeachMyAgent's experiment)")
    shuffle_cuttings: int = param(4, ge=1, doc="intervals per dim when shuffle_dimensions is on")
    expert_knowledge: Literal["no", "low", "high"] | None = param(
        None, doc="TeachMyAgent's expert-knowledge level, resolved per body from its teacher and env into the keys "
                  "above (initial/target_dist, success_return, ADR's thresholds, GoalGAN's pretraining); keys "
                  "written explicitly win; null: every key explicit (slm_acl.spec.expert_knowledge)")


@dataclasses.dataclass(frozen=True)
class CustomBodySpec:
    agent: int = param(doc="index into the agent list", ge=0)
    env: int = param(doc="index into the env list", ge=0)
    embodiment: str | None = param(None, doc="the body's embodiment (lab envs)", check=_check_embodiment)
    curriculum: dict[str, Any] | None = param(
        None, doc="overrides merged into the spec's curriculum for this body ({} keeps it; see `disabled`)")
    no_curriculum: bool = param(False, doc="this body trains on the env as is")


@dataclasses.dataclass(frozen=True)
class BodySpec:
    product: Literal["outer", "inner", "custom"] = param("outer", doc="how agents and envs pair into bodies")
    num: int = param(1, ge=1, doc="bodies per (agent, env) pair for outer / inner")
    embodiment: str | None = param(None, doc="embodiment of every body (lab envs)", check=_check_embodiment)
    bodies: list[CustomBodySpec] | None = param(None, doc="the explicit body list for product 'custom'")


@dataclasses.dataclass(frozen=True)
class ResourcesSpec:
    cpu: float | None = param(None, gt=0, doc="CPUs a session reserves in Ray (null: meta.num_threads)")
    gpu: float = param(0.0, ge=0, doc="GPUs a session reserves in Ray (a fraction below 1 shares one GPU; "
                       "above 1, whole GPUs)", check=lambda g: None if g <= 1 or float(g).is_integer() else
                       f"Ray takes a fraction below 1 or a whole number of GPUs, not {g}")


@dataclasses.dataclass(frozen=True)
class SchedulerSpec:
    name: Literal["ASHA"] = param(doc="the Tune trial scheduler (ASHA: asynchronous successive halving)")
    grace_period: int | None = param(None, ge=1, doc="frames a trial runs before it may be stopped "
                                     "(null: meta.eval_frequency)")
    reduction_factor: float = param(3.0, gt=1, doc="ASHA keeps 1/reduction_factor of the trials at each rung")
    brackets: int = param(1, ge=1, doc="ASHA brackets")


@dataclasses.dataclass(frozen=True)
class MetaSpec:
    seed: int = param(42, ge=0, doc="root seed; each session's seed derives from (seed, trial, session)")
    max_session: int = param(1, ge=1, doc="sessions (seeds) per trial, run in parallel")
    max_trial: int = param(1, ge=1, doc="trials sampled by a search")
    log_frequency: int = param(10_000, ge=1, doc="frames between log lines")
    eval_frequency: int = param(100_000, ge=1, doc="frames between evaluations on the test set")
    checkpoint_frequency: int | None = param(None, ge=1, doc="frames between checkpoints (null: log_frequency)")
    snapshot_frequency: int | None = param(
        None, ge=1, doc="frames between kept snapshots, model/..._ckpt_f{frame}.pt, beside the last checkpoint and "
                        "the best one (null: none)")
    eval_episodes: int = param(10, ge=1, doc="evaluation episodes for bodies without a test set")
    tensorboard: bool = param(True, doc="write TensorBoard logs per session and body to RUN_DIR/tb/ (returns, "
                              "% mastered, losses, fps, teacher info, curriculum images, enjoy videos)")
    num_threads: int = param(1, ge=1, doc="BLAS / torch threads per session process")
    max_parallel: int | None = param(None, ge=1, doc="sessions run at once (null: the machine's cores)")
    resources: ResourcesSpec = param(factory=ResourcesSpec, doc="per-session resources in Ray (search mode)")
    search_algorithm: Literal["random", "optuna"] = param(
        "random", doc="how a search samples its trials: random (and grid) sampling, or Optuna's TPE")
    search_scheduler: SchedulerSpec | None = param(
        None, doc="stop bad trials early from the scores reported at each evaluation (null: run every trial)")
    plugins: list[str] = param(
        factory=list, doc="modules imported in every process before the spec is read: they register teachers, "
                          "algorithms, nets or memories under plain names (a 'module:Name' reference needs none; "
                          "--import MODULE adds one)")
    plugin_paths: list[str] = param(
        factory=list, doc="folders searched for plugin modules, relative to the spec file's folder (which is "
                          "searched too, with the directory the lab started in); a run records them absolute")


@dataclasses.dataclass(frozen=True)
class Spec:
    name: str = param(doc="the spec's name (its key in the spec file)")
    agent: list[AgentSpec] = param(doc="the agents")
    env: list[EnvSpec] = param(doc="the envs")
    body: BodySpec = param(factory=BodySpec, doc="how agents and envs pair into bodies")
    curriculum: CurriculumSpec | None = param(None, doc="the default curriculum of every body")
    meta: MetaSpec = param(factory=MetaSpec, doc="seeds, sessions, cadences")
    search: dict[str, Any] | None = param(None, doc="search space, mirroring the spec tree")
    benchmark: "BenchmarkSpec | None" = param(None, doc="a campaign over this spec: teachers, criteria, expert "
                                              "knowledge levels, students and seeds (benchmark mode)")
    info: dict[str, Any] = param(factory=dict, doc="written by the lab: seed, git sha, versions, run paths")
