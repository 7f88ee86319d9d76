"""HydraMLPNet: a per-body input head and output tail around one shared trunk.

Bodies of one agent may differ in observation and action sizes (a biped on Stump Tracks and a fish
in Parkour). Each body gets its own head (obs -> head width) and tail (trunk width -> its outputs);
the trunk in between is shared and runs once over all bodies' batches, so every body's experience
trains it.
"""
from __future__ import annotations

import dataclasses
from typing import Sequence

import torch
import torch.nn as nn

from slm_acl.agent.net.base import BodyNet, NetConfig, Stage
from slm_acl.agent.net.layers import HIDDEN_GAIN, EnsembleMLP
from slm_acl.agent.registry import NETS
from slm_acl.lib.config import param


@dataclasses.dataclass(frozen=True)
class HydraMLPConfig(NetConfig):
    head_layers: list[int] = param(factory=lambda: [64], doc="widths of each body's input head (at least one)")
    tail_layers: list[int] = param(factory=list, doc="hidden widths of each body's output tail (may be empty)")


class HydraMLP(BodyNet):
    def __init__(self, config: HydraMLPConfig, in_dims: Sequence[int], out_dims: Sequence[int],
                 copies: int, last_gain: float):
        super().__init__()
        if not config.head_layers:
            raise ValueError("HydraMLPNet needs at least one head layer (head_layers)")
        self.copies = copies
        act = config.hid_layers_activation
        head_out = config.head_layers[-1]
        trunk_out = config.hid_layers[-1] if config.hid_layers else head_out
        self.heads = nn.ModuleList(EnsembleMLP([d, *config.head_layers], act, copies, activate_last=True)
                                   for d in in_dims)
        self.trunk = EnsembleMLP([head_out, *config.hid_layers], act, copies, activate_last=True)
        self.tails = nn.ModuleList(EnsembleMLP([trunk_out, *config.tail_layers, d], act, copies) for d in out_dims)
        for head in self.heads:
            head.reset(config.init_fn, HIDDEN_GAIN)
        self.trunk.reset(config.init_fn, HIDDEN_GAIN)
        for tail in self.tails:
            tail.reset(config.init_fn, HIDDEN_GAIN, last_gain)

    def output_layers(self) -> list:
        return [tail.layers[-1] for tail in self.tails]

    def forward(self, xs: Sequence[torch.Tensor | None], detached: bool = False) -> list[torch.Tensor | None]:
        active = [b for b, x in enumerate(xs) if x is not None]
        hidden = [self.heads[b](xs[b], detached) for b in active]
        if len(self.trunk.layers):
            joined = self.trunk(torch.cat(hidden, dim=1) if len(hidden) > 1 else hidden[0], detached)
            hidden = list(torch.split(joined, [h.shape[1] for h in hidden], dim=1))
        out: list[torch.Tensor | None] = [None] * len(xs)
        for b, h in zip(active, hidden):
            out[b] = self.tails[b](h, detached)
        return out

    def stages(self) -> list[Stage]:
        trunk = [Stage((self.trunk,), shared=True)] if len(self.trunk.layers) else []
        return [Stage(tuple(self.heads), shared=False), *trunk, Stage(tuple(self.tails), shared=False)]


@NETS.register("HydraMLPNet")
class HydraMLPNet:
    """Builds HydraMLP modules: one head and tail per body, a shared trunk."""

    Config = HydraMLPConfig

    def __init__(self, config: HydraMLPConfig):
        self.config = config

    @staticmethod
    def dims_problem(obs_dims: Sequence[int], act_dims: Sequence[int]) -> str | None:
        """Every body has its own head and tail: any sizes fit."""
        return None

    def build(self, in_dims: Sequence[int], out_dims: Sequence[int], copies: int = 1,
              last_gain: float = 1.0) -> BodyNet:
        return HydraMLP(self.config, in_dims, out_dims, copies, last_gain)
