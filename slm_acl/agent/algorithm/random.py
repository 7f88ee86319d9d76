"""The Random agent: uniform actions, no learning. Baseline and test double for the lab core."""
from __future__ import annotations

import dataclasses
from typing import Any, Sequence

import gymnasium as gym
import numpy as np

from slm_acl.agent.algorithm.base import Algorithm, Transition
from slm_acl.agent.registry import ALGORITHMS
from slm_acl.lib.seeding import rng_state, set_rng_state


@dataclasses.dataclass(frozen=True)
class RandomConfig:
    """The Random agent takes no settings."""


@ALGORITHMS.register("Random")
class Random(Algorithm):
    """Samples each action uniformly from the body's action space with its own generator."""

    Config = RandomConfig
    uses_net = False
    uses_memory = False
    resets_student = True  # a no-op: nothing learnt to forget, so a Random baseline runs the forgetting criterion

    @classmethod
    def spaces_problem(cls, observation_space: gym.Space, action_space: gym.Space) -> str | None:
        """Any observations; actions from a bounded Box or a Discrete space."""
        if isinstance(action_space, gym.spaces.Discrete):
            return None
        if isinstance(action_space, gym.spaces.Box) and np.isfinite(action_space.low).all() \
                and np.isfinite(action_space.high).all():
            return None
        return f"the Random agent samples bounded Box or Discrete actions, not {action_space}"

    def __init__(self, config: RandomConfig, bodies, seeds, net=None, memory=None, device="cpu"):
        super().__init__(config, bodies, seeds, net, memory, device)
        self.rng = seeds.generator("random_actions")
        self._samplers = [self._make_sampler(b.action_space) for b in self.bodies]

    def _make_sampler(self, space):
        if hasattr(space, "low") and hasattr(space, "high"):
            low, high = space.low.astype(np.float64), space.high.astype(np.float64)
            span, dtype = high - low, space.dtype
            # numpy's own uniform formula, without rng.uniform's per-call broadcasting of array bounds
            return lambda n: (low + span * self.rng.random((n, *low.shape))).astype(dtype)
        if hasattr(space, "n"):
            return lambda n: self.rng.integers(0, space.n, size=n)
        raise TypeError(f"Random agent cannot sample from {space}")

    def act(self, obs: Sequence[np.ndarray | None], deterministic: bool = False) -> list[np.ndarray | None]:
        return [None if o is None else sample(len(o)) for o, sample in zip(obs, self._samplers)]

    def update(self, transitions: Sequence[Transition | None]) -> dict[str, float]:
        return {}

    def reset_student(self, reset_index: int) -> None:
        """Nothing to forget: uniform actions learn nothing. The action stream continues, as it would have."""

    def state_dict(self) -> dict[str, Any]:
        return {"rng": rng_state(self.rng)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        set_rng_state(self.rng, state["rng"])
