"""The algorithm interface every student implements.

An algorithm owns the nets and memories of one agent and acts for all the agent's bodies in one
batched call. Data comes and goes per body as arrays of shape (num_envs, ...): there is no padded
dense AEB tensor. The session loop calls `act` then `update` once per step.
"""
from __future__ import annotations

import abc
import dataclasses
from typing import Any, ClassVar, Iterable, Sequence

import gymnasium as gym
import numpy as np

from slm_acl.lib.config import Choice
from slm_acl.lib.seeding import SeedTree


@dataclasses.dataclass(frozen=True)
class BodyInterface:
    """What an algorithm may know about one of its bodies."""

    label: str
    observation_space: gym.spaces.Box
    action_space: gym.spaces.Space
    num_envs: int
    max_frame: int  # the body's frame budget (learning-rate schedules anneal over it)


@dataclasses.dataclass
class Transition:
    """One vectorised step of one body.

    `next_obs` holds the real last observation for sub-envs whose episode just ended (so values
    can bootstrap through truncation); the observation the agent acts on next is the reset one.
    """

    obs: np.ndarray
    action: np.ndarray
    reward: np.ndarray
    next_obs: np.ndarray
    terminated: np.ndarray
    truncated: np.ndarray


class Algorithm(abc.ABC):
    """Base class. Subclasses declare a `Config` dataclass and register with `ALGORITHMS`."""

    Config: ClassVar[type]
    uses_net: ClassVar[bool] = True
    uses_memory: ClassVar[bool] = True
    memories: ClassVar[tuple[str, ...]] = ()  # memory names this algorithm works with (empty: any)
    metric_names: ClassVar[tuple[str, ...]] = ()  # the training metrics `update` may return (metrics_df columns)
    provides_value_estimate: ClassVar[bool] = False  # `value_estimate` works (teachers such as SPDL need it)
    resets_student: ClassVar[bool] = False  # `reset_student` works (agent[].reset_frequency needs it)

    @classmethod
    def spaces_problem(cls, observation_space: gym.Space, action_space: gym.Space) -> str | None:
        """Why this algorithm cannot act in these spaces, or None when it can (checked by the spec
        validator before a run starts, and again when the algorithm is built)."""
        return None

    def __init__(self, config: Any, bodies: Sequence[BodyInterface], seeds: SeedTree,
                 net: Choice | None = None, memory: Choice | None = None, device: str = "cpu"):
        self.config = config
        self.bodies = list(bodies)
        self.seeds = seeds
        self.net_choice, self.memory_choice = net, memory
        self.device = device
        self.trained_last_update = False  # set by update(); the dev-mode check reads it
        self.opt_steps = 0  # gradient steps taken; the session copies it into the bodies' clocks

    @abc.abstractmethod
    def act(self, obs: Sequence[np.ndarray | None], deterministic: bool = False) -> list[np.ndarray | None]:
        """Actions for every body whose observation batch is given (None = body not acting)."""

    @abc.abstractmethod
    def update(self, transitions: Sequence[Transition | None]) -> dict[str, float]:
        """Store one step per body and train when due; returns metrics of a training step, if any."""

    def fast_path_info(self) -> dict[str, str]:
        """Which implementation runs each part of this algorithm (e.g. {"gradients": "reference"}), as
        chosen once when it was built; the session logs it and records it in its resolved spec."""
        return {}

    def parameters(self) -> Iterable[Any]:
        """Trainable tensors (empty for algorithms without nets)."""
        return []

    def named_parameters(self) -> Iterable[tuple[str, Any]]:
        return []

    def value_estimate(self, body_index: int, obs: np.ndarray) -> np.ndarray:
        """V(s) for teachers that need it (SPDL); only for algorithms with `provides_value_estimate`."""
        raise NotImplementedError(f"{type(self).__name__} has no value estimate")

    def reset_student(self, reset_index: int) -> None:
        """Forget everything learnt: a student as if just built, for TeachMyAgent's "student that forgets" test.

        Re-initialises the nets (fresh initial weights drawn from the agent's seed stream under the name of
        `reset_index`, so a run stays reproducible and each reset draws new weights), the optimisers, the
        observation and reward normalisers, the memories and any counter a warm-up reads; the random streams
        that sample actions and minibatches continue. Only the student: the teachers, curriculum controllers
        and the bodies' clocks belong to the bodies and are never touched. The AEB space calls this (one
        place, aeb/student_reset.py) and records it; an algorithm that supports it sets `resets_student`.

        Args:
            reset_index: which multiple of the agent's reset_frequency this reset falls on (1 for the first).
        """
        raise NotImplementedError(f"{type(self).__name__} cannot reset its student (agent[].reset_frequency); "
                                  "it needs reset_student() and resets_student = True")

    @abc.abstractmethod
    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue training exactly: nets, optimisers, RNG, memories."""

    @abc.abstractmethod
    def load_state_dict(self, state: dict[str, Any]) -> None:
        ...

    def policy_state_dict(self) -> dict[str, Any]:
        """What a kept policy (a session's best checkpoint) stores: everything `load_policy_state` reads.

        The whole `state_dict` by default; an algorithm whose memories are large (SAC's replay buffer, about
        0.6 GB for 2M transitions) leaves their contents out, since a kept policy is replayed and evaluated,
        never resumed."""
        return self.state_dict()

    def load_policy_state(self, state: dict[str, Any]) -> None:
        """Only what acting needs, from a full `state_dict` (enjoy mode): replay may run a different
        number of sub-envs than training, so memories and optimiser state are not restored."""
        self.load_state_dict(state)
