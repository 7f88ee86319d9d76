"""MLPNet: one multilayer perceptron shared by every body of an agent (bodies must have equal sizes)."""
from __future__ import annotations

import dataclasses
from typing import Sequence

import torch

from slm_acl.agent.net.base import BodyNet, NetConfig, Stage
from slm_acl.agent.net.layers import HIDDEN_GAIN, EnsembleMLP
from slm_acl.agent.registry import NETS


@dataclasses.dataclass(frozen=True)
class MLPConfig(NetConfig):
    """A plain MLP: hid_layers, activation, init, optimiser."""


class SharedMLP(BodyNet):
    """All bodies' batches go through one MLP in a single call."""

    def __init__(self, config: NetConfig, in_dim: int, out_dim: int, copies: int, last_gain: float):
        super().__init__()
        self.copies = copies
        self.mlp = EnsembleMLP([in_dim, *config.hid_layers, out_dim], config.hid_layers_activation, copies)
        self.mlp.reset(config.init_fn, HIDDEN_GAIN, last_gain)

    def output_layers(self) -> list:
        return [self.mlp.layers[-1]]

    def forward(self, xs: Sequence[torch.Tensor | None], detached: bool = False) -> list[torch.Tensor | None]:
        active = [x for x in xs if x is not None]
        if len(active) == 1:  # the common single-body case: no concatenation
            out = self.mlp(active[0], detached)
            return [out if x is not None else None for x in xs]
        out = self.mlp(torch.cat(active, dim=0), detached)
        parts = iter(torch.split(out, [len(x) for x in active], dim=1))
        return [next(parts) if x is not None else None for x in xs]

    def stages(self) -> list[Stage]:
        return [Stage((self.mlp,), shared=True)]


@NETS.register("MLPNet")
class MLPNet:
    """Builds SharedMLP modules from an `MLPConfig`; the algorithms own the modules it makes."""

    Config = MLPConfig

    def __init__(self, config: MLPConfig):
        self.config = config

    @staticmethod
    def dims_problem(obs_dims: Sequence[int], act_dims: Sequence[int]) -> str | None:
        """Why one MLP cannot serve bodies of these observation and action sizes (None: it can)."""
        return _sizes_problem(obs_dims, "observation") or _sizes_problem(act_dims, "action")

    def build(self, in_dims: Sequence[int], out_dims: Sequence[int], copies: int = 1,
              last_gain: float = 1.0) -> BodyNet:
        problem = _sizes_problem(in_dims, "input") or _sizes_problem(out_dims, "output")
        if problem:
            raise ValueError(problem)
        return SharedMLP(self.config, in_dims[0], out_dims[0], copies, last_gain)


def _sizes_problem(dims: Sequence[int], what: str) -> str | None:
    if len(set(dims)) > 1:
        return (f"MLPNet needs every body of an agent to have the same {what} size, got {list(dims)}; "
                "use HydraMLPNet for bodies of different sizes")
    return None
