"""Building students directly on synthetic bodies, and feeding them synthetic steps."""
from __future__ import annotations

import numpy as np
from gymnasium.spaces import Box

from slm_acl.agent.algorithm.base import BodyInterface, Transition
from slm_acl.agent.memory.onpolicy import OnPolicyBatch, OnPolicyBatchConfig
from slm_acl.agent.memory.replay import Replay, ReplayConfig
from slm_acl.agent.net.hydra import HydraMLPConfig, HydraMLPNet
from slm_acl.agent.net.mlp import MLPConfig, MLPNet
from slm_acl.agent.registry import ALGORITHMS
from slm_acl.lib.config import Choice
from slm_acl.lib.seeding import SeedTree

SIZES = [(8, 2), (24, 4)]  # LunarLanderContinuous-like and BipedalWalker-like bodies


def bodies(sizes=SIZES, num_envs: int | list[int] = 2) -> list[BodyInterface]:
    """One body per (obs, act) size; `num_envs` for all of them or one per body."""
    envs = num_envs if isinstance(num_envs, list) else [num_envs] * len(sizes)
    return [BodyInterface(f"b{k}", Box(-np.inf, np.inf, (o,), np.float32), Box(-1.0, 1.0, (a,), np.float32),
                          n, 10_000) for k, ((o, a), n) in enumerate(zip(sizes, envs))]


def net(hydra: bool, **kw) -> Choice:
    if hydra:
        cfg = HydraMLPConfig(**{"head_layers": [16], "hid_layers": [32], "tail_layers": [16], "gpu": False, **kw})
        return Choice("HydraMLPNet", HydraMLPNet, cfg, key="type")
    return Choice("MLPNet", MLPNet, MLPConfig(**{"hid_layers": [32, 32], "gpu": False, **kw}), key="type")


def build(algorithm: str, config_kw: dict, sizes=SIZES, hydra: bool = True, seed: int = 0,
          num_envs: int | list[int] = 2, **net_kw):
    cls = ALGORITHMS.get(algorithm)
    memory = (Choice("OnPolicyBatch", OnPolicyBatch, OnPolicyBatchConfig()) if algorithm == "PPO"
              else Choice("Replay", Replay, ReplayConfig(capacity=500)))
    return cls(cls.Config(**config_kw), bodies(sizes, num_envs), SeedTree(seed), net=net(hydra, **net_kw), memory=memory)


class SyntheticSteps:
    """A stream of per-body observations, rewards and episode ends from a fixed generator."""

    def __init__(self, sizes=SIZES, num_envs: int = 2, seed: int = 0):
        self.rng = np.random.default_rng(seed)
        self.sizes, self.num_envs = sizes, num_envs
        self.obs = [self.rng.normal(size=(num_envs, o)).astype(np.float32) for o, _ in sizes]

    def step(self, algo, t: int) -> list[np.ndarray]:
        actions = algo.act(self.obs)
        transitions = []
        for b, ((o, _), action) in enumerate(zip(self.sizes, actions)):
            nxt = self.rng.normal(size=(self.num_envs, o)).astype(np.float32)
            terminated = np.array([t % 7 == 6] + [False] * (self.num_envs - 1))
            truncated = np.array([False] * (self.num_envs - 1) + [t % 5 == 4])
            reward = (action.sum(1) + self.rng.normal(size=self.num_envs)).astype(np.float32)
            transitions.append(Transition(self.obs[b], np.clip(action, -1, 1), reward, nxt, terminated, truncated))
            self.obs[b] = nxt
        algo.update(transitions)
        return actions
