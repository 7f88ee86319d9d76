"""A plain multilayer perceptron: the net of a single-body agent."""
from __future__ import annotations

import dataclasses
from typing import Literal

from slm_acl.agent.registry import NETS
from slm_acl.lib.config import param

ACTIVATIONS = ("relu", "tanh", "elu", "leaky_relu", "sigmoid")


@dataclasses.dataclass(frozen=True)
class OptimConfig:
    """A torch.optim optimiser by name with its learning rate."""

    name: Literal["Adam", "AdamW", "SGD", "RMSprop"] = param("Adam", doc="torch.optim class")
    lr: float = param(3e-4, gt=0, doc="learning rate")
    eps: float = param(1e-8, gt=0, doc="Adam/RMSprop epsilon")


@dataclasses.dataclass(frozen=True)
class MLPConfig:
    hid_layers: list[int] = param(factory=lambda: [64, 64], doc="hidden layer widths")
    hid_layers_activation: Literal["relu", "tanh", "elu", "leaky_relu", "sigmoid"] = param(
        "tanh", doc="activation after each hidden layer")
    init_fn: Literal["orthogonal_", "xavier_uniform_", "default"] = param(
        "orthogonal_", doc="weight initialisation")
    clip_grad_val: float | None = param(0.5, gt=0, doc="max gradient norm (null: no clipping)")
    shared: bool = param(False, doc="actor and critic share the hidden layers")
    optim: OptimConfig = param(factory=OptimConfig, doc="optimiser of the actor (and shared) net")
    critic_optim: OptimConfig | None = param(None, doc="optimiser of a separate critic (null: as optim)")
    gpu: bool | Literal["auto"] = param("auto", doc="true: require CUDA; 'auto': CUDA when present")


def build_mlp(in_dim: int, out_dim: int, hid_layers: list[int], activation: str,
              out_activation: str | None = None):
    """An nn.Sequential MLP."""
    import torch.nn as nn

    acts = {"relu": nn.ReLU, "tanh": nn.Tanh, "elu": nn.ELU, "leaky_relu": nn.LeakyReLU,
            "sigmoid": nn.Sigmoid}
    layers, width = [], in_dim
    for h in hid_layers:
        layers += [nn.Linear(width, h), acts[activation]()]
        width = h
    layers.append(nn.Linear(width, out_dim))
    if out_activation:
        layers.append(acts[out_activation]())
    return nn.Sequential(*layers)


@NETS.register("MLPNet")
class MLPNet:
    """Builds MLPs from an `MLPConfig`; the algorithms own the modules it makes."""

    Config = MLPConfig

    def __init__(self, config: MLPConfig):
        self.config = config

    def build(self, in_dim: int, out_dim: int, out_activation: str | None = None):
        return build_mlp(in_dim, out_dim, list(self.config.hid_layers),
                         self.config.hid_layers_activation, out_activation)
