"""The teacher interface: propose the next task in [0,1]^d, learn from its outcome.

Teachers know nothing about nets or envs. The task space converts to raw units; the controller
calls `sample_task` right before a sub-env's reset, keeps the `Proposal` it returns for that
sub-env, and hands that same object back to `record_initial_state` and `update` with exactly that
episode's initial observation and outcome. A teacher's per-episode bookkeeping (SPDL's raw draw
and initial state, Setter-Solver's feasibility, GoalGAN's goal id) therefore rides on the
proposal: no teacher searches its pending tasks by value, which would mix up two episodes that
play equal task vectors and finish in another order. Each teacher owns its generator (given by the
lab, derived from the run seed) and saves everything it needs in `state_dict` so a resumed run
continues the same sample sequence; the proposals in flight are saved by the controller.
"""
from __future__ import annotations

import abc
import dataclasses
from typing import Any, Callable, ClassVar, Mapping, TypeVar

import numpy as np

from slm_acl.curriculum.expert_knowledge import Grant
from slm_acl.lib.seeding import rng_state, set_rng_state

ValueEstimator = Callable[[np.ndarray], np.ndarray]
P = TypeVar("P", bound="Proposal")


@dataclasses.dataclass(frozen=True)
class Gaussian:
    """A diagonal Gaussian over the unit cube [0,1]^dim (expert knowledge, converted from raw units)."""

    mean: np.ndarray
    std: np.ndarray


def _plain_copy(value: Any) -> Any:
    """A deep copy of a proposal field made of numpy arrays, numbers, None, lists and dicts."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, (list, tuple)):
        return [_plain_copy(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain_copy(v) for k, v in value.items()}
    return value


@dataclasses.dataclass(eq=False)
class Proposal:
    """One task a teacher hands out for one episode, with whatever it needs back with the outcome.

    `task` is the teacher's own point in [0,1]^dim (before any dimension shuffling: the controller
    maps it to the task the env plays). A teacher that needs more per episode subclasses this with
    its own fields and names the subclass in `Teacher.proposal_type`, so a checkpoint can rebuild
    it. Fields hold only numpy arrays, numbers, None, lists and dicts, so `state_dict` is a plain
    checkpoint entry. Proposals compare by identity (eq=False): two proposals with equal tasks are
    two episodes, never one.
    """

    task: np.ndarray

    def __post_init__(self) -> None:
        self.task = np.asarray(self.task, dtype=np.float64)

    def state_dict(self) -> dict[str, Any]:
        return {f.name: _plain_copy(getattr(self, f.name)) for f in dataclasses.fields(self)}

    @classmethod
    def from_state(cls: type[P], state: dict[str, Any]) -> P:
        """The proposal `state_dict` saved; a state of another proposal type is refused by name."""
        names = [f.name for f in dataclasses.fields(cls)]
        if set(state) != set(names):
            raise ValueError(f"cannot load a {cls.__name__} from a proposal state with fields {sorted(state)}; "
                             f"a {cls.__name__} has {sorted(names)} (was the checkpoint written with another "
                             "teacher?)")
        return cls(**{n: _plain_copy(state[n]) for n in names})


@dataclasses.dataclass
class TeacherContext:
    """What the lab hands a teacher besides its config."""

    dim: int
    rng: np.random.Generator
    success_return: float | None = None
    value_estimator: ValueEstimator | None = None  # set for teachers with `needs_value_estimate`
    initial_dist: Gaussian | None = None  # the spec's curriculum.initial_dist, in unit-cube coordinates
    target_dist: Gaussian | None = None  # the spec's curriculum.target_dist, in unit-cube coordinates


class Teacher(abc.ABC):
    Config: ClassVar[type]
    proposal_type: ClassVar[type[Proposal]] = Proposal  # what `sample_task` returns (checkpoints rebuild it)
    needs_value_estimate: ClassVar[bool] = False
    needs_success_return: ClassVar[bool] = False
    needs_initial_dist: ClassVar[bool] = False
    needs_target_dist: ClassVar[bool] = False
    # what each expert-knowledge level ("no", "low", "high") gives this teacher, or why it cannot run at it
    # (slm_acl.curriculum.expert_knowledge); None: the teacher declares no levels and a spec that sets
    # curriculum.expert_knowledge for it is refused
    expert_knowledge: ClassVar[Mapping[str, Grant] | None] = None

    @classmethod
    def needed_keys(cls, config: Any) -> tuple[str, ...]:
        """The curriculum keys this teacher needs with `config` (among success_return, initial_dist,
        target_dist), checked by the spec validator before a run. Default: from the class flags; a teacher
        whose needs depend on its settings (ADR's `signal`, SPDL's `initial_dist_fallback`) overrides this, so
        that the check happens in the spec and not when the teacher is built inside a running session."""
        flags = (("success_return", cls.needs_success_return), ("initial_dist", cls.needs_initial_dist),
                 ("target_dist", cls.needs_target_dist))
        return tuple(key for key, needed in flags if needed)

    def __init__(self, config: Any, context: TeacherContext):
        self.config = config
        self.dim = context.dim
        self.rng = context.rng
        self.context = context

    @abc.abstractmethod
    def sample_task(self) -> Proposal:
        """The proposal for the next episode: a task in [0,1]^dim and the teacher's own bookkeeping."""

    def update(self, proposal: Proposal, episodic_return: float, success: bool) -> None:
        """Learn from the outcome of the episode played on `proposal` (the object `sample_task` returned)."""

    def record_initial_state(self, proposal: Proposal, obs: np.ndarray) -> None:
        """The first observation of the episode about to be played on `proposal`, right after its
        reset: SPDL values it with the student's V(s). A resumed run records it again (its sub-envs
        reset afresh), so keep the latest."""

    def own_proposal(self, proposal: Proposal) -> Any:
        """`proposal` itself, after checking it is of this teacher's `proposal_type`.

        For teachers whose proposals carry bookkeeping: a foreign proposal (a bare Proposal, another
        teacher's) would otherwise fail deep inside `update` with an AttributeError.
        """
        if not isinstance(proposal, self.proposal_type):
            raise TypeError(f"{type(self).__name__} got a {type(proposal).__name__}; it takes back only the "
                            f"{self.proposal_type.__name__} its own sample_task returned")
        return proposal

    def non_exploratory_sample(self, rng: np.random.Generator) -> np.ndarray:
        """A sample of the teacher's current distribution without its exploration, for plots.

        Uses the caller's generator so plotting never shifts the teacher's own sample sequence.
        """
        return rng.uniform(0.0, 1.0, self.dim)

    def info(self) -> dict[str, Any]:
        """Small dict of the teacher's current state for logs and curriculum plots."""
        return {}

    def state_dict(self) -> dict[str, Any]:
        return {"rng": rng_state(self.rng)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        set_rng_state(self.rng, state["rng"])
