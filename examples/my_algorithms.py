"""A user's algorithm, used from a spec without touching the lab: REINFORCE with a linear Gaussian policy.

NumPy only, one policy per body: action = W @ [obs, 1] + sigma * noise, clipped to the action box. Each
sub-env's episode is kept until it ends; then W takes one gradient step on the episode's log-probabilities
weighted by the returns-to-go minus a running baseline (Williams, 1992). Small and slow to learn, but a
real learner: the point is the contract, which the lab's PPO and SAC follow too.

How a spec names it:

    "agent": [{"name": "student", "algorithm": {"name": "my_algorithms:LinearReinforce", "lr": 0.01}}]

The contract (slm_acl/agent/algorithm/base.py): a `Config` dataclass (the spec keys); `uses_net` /
`uses_memory` say whether the spec gives `net` / `memory` blocks; `act` gets one observation batch per body
(None for a body not acting) and returns one action batch per body; `update` gets one `Transition` per body
and step (arrays over the sub-envs) and returns the metrics of a training step, each declared in
`metric_names`; `state_dict` / `load_state_dict` hold everything a resumed run needs (arrays, numbers,
lists and dicts only: checkpoints load with torch's weights-only unpickler).
"""
from __future__ import annotations

import dataclasses
from typing import Any, Sequence

import gymnasium as gym
import numpy as np

from slm_acl.agent.algorithm.base import Algorithm, BodyInterface, Transition
from slm_acl.agent.registry import ALGORITHMS
from slm_acl.lib.config import param
from slm_acl.lib.seeding import SeedTree, rng_state, set_rng_state


@dataclasses.dataclass(frozen=True)
class LinearReinforceConfig:
    lr: float = param(0.01, gt=0.0, doc="step size of the policy gradient")
    sigma: float = param(0.3, gt=0.0, doc="standard deviation of the exploration noise")
    gamma: float = param(0.99, gt=0.0, le=1.0, doc="discount of the returns-to-go")
    baseline_rate: float = param(0.05, gt=0.0, le=1.0, doc="how fast the running return baseline follows")


@ALGORITHMS.register("LinearReinforce")
class LinearReinforce(Algorithm):
    Config = LinearReinforceConfig
    uses_net = False
    uses_memory = False
    metric_names = ("grad_norm", "episode_return")

    @classmethod
    def spaces_problem(cls, observation_space: gym.Space, action_space: gym.Space) -> str | None:
        """Checked by the lab's spec validator before any run starts."""
        if not (isinstance(observation_space, gym.spaces.Box) and len(observation_space.shape) == 1):
            return f"LinearReinforce needs flat Box observations, not {observation_space}"
        if not (isinstance(action_space, gym.spaces.Box) and np.isfinite(action_space.low).all()):
            return f"LinearReinforce needs bounded Box actions, not {action_space}"
        return None

    def __init__(self, config: LinearReinforceConfig, bodies: Sequence[BodyInterface], seeds: SeedTree,
                 net: Any = None, memory: Any = None, device: str = "cpu"):
        super().__init__(config, bodies, seeds, net, memory, device)
        self.rng = seeds.generator("linear_reinforce")  # derived from the run's seed: runs reproduce
        self.weights = [np.zeros((b.action_space.shape[0], b.observation_space.shape[0] + 1)) for b in bodies]
        self.baseline = [0.0 for _ in bodies]
        self.episodes: list[list[list[tuple[np.ndarray, np.ndarray, float]]]] = [
            [[] for _ in range(b.num_envs)] for b in bodies]
        self._last_actions: list[np.ndarray | None] = [None] * len(bodies)

    @staticmethod
    def _features(obs: np.ndarray) -> np.ndarray:
        return np.concatenate([np.asarray(obs, np.float64), np.ones((len(obs), 1))], axis=1)

    def act(self, obs: Sequence[np.ndarray | None], deterministic: bool = False) -> list[np.ndarray | None]:
        actions: list[np.ndarray | None] = []
        for i, o in enumerate(obs):
            if o is None:
                actions.append(None)
                continue
            mean = self._features(o) @ self.weights[i].T
            noise = 0.0 if deterministic else self.config.sigma * self.rng.standard_normal(mean.shape)
            space = self.bodies[i].action_space
            actions.append(np.clip(mean + noise, space.low, space.high).astype(space.dtype))
        return actions

    def update(self, transitions: Sequence[Transition | None]) -> dict[str, float]:
        metrics: dict[str, float] = {}
        self.trained_last_update = False
        for i, tr in enumerate(transitions):
            if tr is None:
                continue
            features = self._features(tr.obs)
            for env, steps in enumerate(self.episodes[i]):
                steps.append((features[env], np.asarray(tr.action[env], np.float64), float(tr.reward[env])))
                if tr.terminated[env] or tr.truncated[env]:
                    metrics = self._learn(i, steps)
                    self.episodes[i][env] = []
        return metrics

    def _learn(self, i: int, steps: list[tuple[np.ndarray, np.ndarray, float]]) -> dict[str, float]:
        returns, running = np.zeros(len(steps)), 0.0
        for t in range(len(steps) - 1, -1, -1):
            running = steps[t][2] + self.config.gamma * running
            returns[t] = running
        grad = np.zeros_like(self.weights[i])
        for (x, action, _), ret in zip(steps, returns):
            # d log N(a; Wx, sigma^2) / dW = (a - Wx) x^T / sigma^2
            grad += np.outer((action - self.weights[i] @ x) / self.config.sigma ** 2, x) * (ret - self.baseline[i])
        grad /= len(steps)
        norm = float(np.linalg.norm(grad))
        if norm > 10.0:  # keep one long, lucky episode from throwing the policy away
            grad *= 10.0 / norm
        self.weights[i] += self.config.lr * grad
        self.baseline[i] += self.config.baseline_rate * (returns[0] - self.baseline[i])
        self.opt_steps += 1
        self.trained_last_update = True
        return {"grad_norm": norm, "episode_return": float(sum(s[2] for s in steps))}

    def state_dict(self) -> dict[str, Any]:
        return {"weights": [w.copy() for w in self.weights], "baseline": list(self.baseline),
                "rng": rng_state(self.rng), "opt_steps": self.opt_steps,
                "episodes": [[[[x, a, r] for x, a, r in steps] for steps in body] for body in self.episodes]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.weights = [np.array(w, np.float64) for w in state["weights"]]
        self.baseline = [float(b) for b in state["baseline"]]
        set_rng_state(self.rng, state["rng"])
        self.opt_steps = int(state["opt_steps"])
        self.episodes = [[[(np.asarray(x), np.asarray(a), float(r)) for x, a, r in steps] for steps in body]
                         for body in state["episodes"]]

    def load_policy_state(self, state: dict[str, Any]) -> None:
        """Replay (enjoy, eval) may play with another number of sub-envs: only the weights matter."""
        self.weights = [np.array(w, np.float64) for w in state["weights"]]
