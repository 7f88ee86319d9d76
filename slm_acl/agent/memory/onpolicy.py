"""OnPolicyBatch: the rollout of one body for an on-policy student (PPO).

Holds `horizon` vectorised steps of (num_envs, ...) data in preallocated arrays, plus the value
bootstraps of sub-envs whose episode was truncated by a time limit (their episode ends, but the
return continues past the cut, so GAE must bootstrap from the value of the real last observation).
"""
from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from slm_acl.agent.registry import MEMORIES

ARRAYS = ("obs", "action", "logprob", "value", "reward", "terminated", "done", "bootstrap")


@dataclasses.dataclass(frozen=True)
class OnPolicyBatchConfig:
    """The rollout length is the algorithm's `time_horizon`; this memory takes no settings."""


class Rollout:
    def __init__(self, horizon: int, num_envs: int, obs_dim: int, act_dim: int):
        self.horizon, self.num_envs = horizon, num_envs
        t, n = horizon, num_envs
        self.obs = np.zeros((t, n, obs_dim), np.float32)
        self.action = np.zeros((t, n, act_dim), np.float32)
        self.logprob = np.zeros((t, n), np.float32)
        self.value = np.zeros((t, n), np.float32)
        self.reward = np.zeros((t, n), np.float32)
        self.terminated = np.zeros((t, n), np.float32)
        self.done = np.zeros((t, n), np.float32)
        self.bootstrap = np.zeros((t, n), np.float32)  # V(real last obs) where truncated, else 0
        self.t = 0

    @property
    def full(self) -> bool:
        return self.t >= self.horizon

    def add(self, obs: np.ndarray, action: np.ndarray, logprob: np.ndarray, value: np.ndarray,
            reward: np.ndarray, terminated: np.ndarray, done: np.ndarray) -> None:
        t = self.t
        self.obs[t], self.action[t], self.logprob[t], self.value[t] = obs, action, logprob, value
        self.reward[t], self.terminated[t], self.done[t] = reward, terminated, done
        self.bootstrap[t] = 0.0
        self.t += 1

    def set_bootstrap(self, indices: np.ndarray, values: np.ndarray) -> None:
        """Values of the real last observations of sub-envs truncated at the latest step."""
        self.bootstrap[self.t - 1, indices] = values

    def clear(self) -> None:
        self.t = 0

    def state_dict(self) -> dict[str, Any]:
        return {"t": self.t, **{k: getattr(self, k)[:self.t].copy() for k in ARRAYS}}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.t = int(state["t"])
        for k in ARRAYS:
            getattr(self, k)[:self.t] = state[k]


@MEMORIES.register("OnPolicyBatch")
class OnPolicyBatch:
    """Factory of one Rollout per body."""

    Config = OnPolicyBatchConfig

    def __init__(self, config: OnPolicyBatchConfig):
        self.config = config

    def build(self, horizon: int, num_envs: int, obs_dim: int, act_dim: int) -> Rollout:
        return Rollout(horizon, num_envs, obs_dim, act_dim)
