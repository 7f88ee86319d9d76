"""Running observation and reward normalisation (the statistics live in checkpoints)."""
from __future__ import annotations

from typing import Any

import numpy as np


class RunningMeanStd:
    """Mean and variance of a stream of batches (Chan et al.'s parallel update), in float64."""

    def __init__(self, shape: tuple[int, ...] = ()):
        self.mean = np.zeros(shape, np.float64)
        self.var = np.ones(shape, np.float64)
        self.count = 1e-4  # Baselines' prior count: the first batch dominates, no division by zero

    def update(self, batch: np.ndarray) -> None:
        batch_mean, batch_var, n = batch.mean(axis=0), batch.var(axis=0), batch.shape[0]
        delta = batch_mean - self.mean
        total = self.count + n
        self.mean = self.mean + delta * n / total
        m2 = self.var * self.count + batch_var * n + delta ** 2 * self.count * n / total
        self.var = m2 / total
        self.count = total

    def state_dict(self) -> dict[str, Any]:
        return {"mean": self.mean.copy(), "var": self.var.copy(), "count": self.count}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.mean, self.var, self.count = state["mean"].copy(), state["var"].copy(), float(state["count"])


class ObsNormalizer:
    """(obs - mean) / std, clipped; statistics updated only from training observations."""

    def __init__(self, dim: int, clip: float, enabled: bool, eps: float = 1e-8):
        self.rms = RunningMeanStd((dim,))
        self.clip, self.enabled, self.eps = clip, enabled, eps

    def __call__(self, obs: np.ndarray, update: bool = False) -> np.ndarray:
        if not self.enabled:
            return np.asarray(obs, np.float32)
        if update:
            self.rms.update(obs)
        out = (obs - self.rms.mean) / np.sqrt(self.rms.var + self.eps)
        return np.clip(out, -self.clip, self.clip).astype(np.float32)

    def state_dict(self) -> dict[str, Any]:
        return self.rms.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.rms.load_state_dict(state)


class RewardScaler:
    """Rewards divided by the running std of the discounted return (Baselines' VecNormalize).

    The return accumulator is per sub-env and restarts at every episode end.
    """

    def __init__(self, num_envs: int, gamma: float, clip: float, enabled: bool, eps: float = 1e-8):
        self.rms = RunningMeanStd(())
        self.ret = np.zeros(num_envs, np.float64)
        self.gamma, self.clip, self.enabled, self.eps = gamma, clip, enabled, eps

    @property
    def scale(self) -> float:
        """The factor that turns a scaled value back into reward units."""
        return float(np.sqrt(self.rms.var + self.eps)) if self.enabled else 1.0

    def __call__(self, reward: np.ndarray, done: np.ndarray) -> np.ndarray:
        if not self.enabled:
            return reward
        self.ret = self.ret * self.gamma + reward
        self.rms.update(self.ret)
        out = np.clip(reward / np.sqrt(self.rms.var + self.eps), -self.clip, self.clip)
        self.ret[done] = 0.0
        return out

    def state_dict(self) -> dict[str, Any]:
        return {"rms": self.rms.state_dict(), "ret": self.ret.copy()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.rms.load_state_dict(state["rms"])
        self.ret = state["ret"].copy()
