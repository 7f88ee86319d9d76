"""Replay: a numpy circular buffer per body, float32, for off-policy students (SAC).

Transitions arrive as (num_envs, ...) batches and are written in place; `sample` gathers into
preallocated arrays, so the hot path allocates nothing. Memory is the raw float32 size of the
stored transitions (obs, action, reward, next_obs, terminated) plus a few small output arrays;
pages are only touched as the buffer fills. The buffer survives checkpoint/resume unless
`save_in_checkpoint` is off (a 2M-transition buffer of 36-dim observations is ~0.6 GB).
"""
from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from slm_acl.agent.registry import MEMORIES
from slm_acl.lib.config import param
from slm_acl.lib.seeding import rng_state, set_rng_state

FIELDS = ("obs", "action", "reward", "next_obs", "terminated")


@dataclasses.dataclass(frozen=True)
class ReplayConfig:
    capacity: int = param(1_000_000, ge=1, doc="transitions kept per body (oldest overwritten first)")
    save_in_checkpoint: bool = param(True, doc="store the buffer in checkpoints so a resume continues exactly")


class ReplayBuffer:
    def __init__(self, capacity: int, obs_dim: int, act_dim: int, batch_size: int, rng: np.random.Generator):
        self.capacity = capacity
        self.rng = rng
        shapes = {"obs": (obs_dim,), "action": (act_dim,), "reward": (), "next_obs": (obs_dim,), "terminated": ()}
        # np.zeros maps pages lazily: memory is used as the buffer fills, not up front
        self.data = {k: np.zeros((capacity, *s), np.float32) for k, s in shapes.items()}
        self.batch = {k: np.empty((batch_size, *s), np.float32) for k, s in shapes.items()}
        self.pos = 0
        self.size = 0

    def __len__(self) -> int:
        return self.size

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in self.data.values()) + sum(a.nbytes for a in self.batch.values())

    def add(self, obs: np.ndarray, action: np.ndarray, reward: np.ndarray, next_obs: np.ndarray,
            terminated: np.ndarray) -> None:
        """Append a batch of n transitions, wrapping around at capacity."""
        n = len(reward)
        idx = (self.pos + np.arange(n)) % self.capacity if self.pos + n > self.capacity else slice(self.pos, self.pos + n)
        for key, value in zip(FIELDS, (obs, action, reward, next_obs, terminated)):
            self.data[key][idx] = value
        self.pos = (self.pos + n) % self.capacity
        self.size = min(self.size + n, self.capacity)

    def sample(self) -> dict[str, np.ndarray]:
        """A uniform batch (with replacement) written into the preallocated batch arrays.

        The arrays are reused by the next call: consume them (e.g. copy to torch) before sampling again.
        """
        idx = self.rng.integers(0, self.size, size=len(self.batch["reward"]))
        for key, out in self.batch.items():
            np.take(self.data[key], idx, axis=0, out=out)
        return self.batch

    def clear(self) -> None:
        """Empty the buffer (a student reset). The stored arrays are not zeroed, which would touch every page:
        nothing reads past `size`, and new transitions overwrite from the start. Its sampling stream continues."""
        self.pos = self.size = 0

    def state_dict(self, include_data: bool = True) -> dict[str, Any]:
        state: dict[str, Any] = {"pos": self.pos, "size": self.size, "rng": rng_state(self.rng),
                                 "capacity": self.capacity, "has_data": include_data}
        if include_data:
            import torch  # torch.save stores tensors without pickling copies of the arrays

            state["data"] = {k: torch.from_numpy(a[:self.size]) for k, a in self.data.items()}
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if state["capacity"] != self.capacity:
            raise ValueError(f"replay capacity changed ({state['capacity']} -> {self.capacity})")
        set_rng_state(self.rng, state["rng"])
        if not state["has_data"]:  # saved without data: start empty, keep counting from here
            self.pos = self.size = 0
            return
        self.pos, self.size = int(state["pos"]), int(state["size"])
        for key, tensor in state["data"].items():
            self.data[key][:self.size] = tensor.numpy()


@MEMORIES.register("Replay")
class Replay:
    """Factory of one ReplayBuffer per body."""

    Config = ReplayConfig

    def __init__(self, config: ReplayConfig):
        self.config = config

    def build(self, obs_dim: int, act_dim: int, batch_size: int, rng: np.random.Generator) -> ReplayBuffer:
        return ReplayBuffer(self.config.capacity, obs_dim, act_dim, batch_size, rng)
