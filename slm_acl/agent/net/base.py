"""What every net of the lab shares: its config, the multi-body forward interface, optimisers, devices.

A net is built per role (actor, critic, Q ensemble) for all bodies of one agent at once. Its forward
takes one input batch per body (None for a body that is not acting) and returns one output per
body, each of shape (copies, batch, out). Nets that can, run all bodies through shared layers in one
batched call.
"""
from __future__ import annotations

import abc
import dataclasses
from typing import Iterable, Literal, Sequence

import torch
import torch.nn as nn

from slm_acl.agent.net.layers import EnsembleMLP
from slm_acl.lib.config import param

OPTIMIZERS = {"Adam": torch.optim.Adam, "AdamW": torch.optim.AdamW, "SGD": torch.optim.SGD,
              "RMSprop": torch.optim.RMSprop}


@dataclasses.dataclass(frozen=True)
class OptimConfig:
    """A torch.optim optimiser by name, its learning rate and schedule."""

    name: Literal["Adam", "AdamW", "SGD", "RMSprop"] = param("Adam", doc="torch.optim class")
    lr: float = param(3e-4, gt=0, doc="learning rate")
    eps: float = param(1e-8, gt=0, doc="Adam/RMSprop epsilon")
    schedule: Literal["constant", "linear"] = param(
        "constant", doc="'linear' anneals the rate to 0 over the body's max_frame")


@dataclasses.dataclass(frozen=True)
class NetConfig:
    """Settings every net type has."""

    hid_layers: list[int] = param(factory=lambda: [64, 64], doc="hidden layer widths (Hydra: the shared trunk)")
    hid_layers_activation: Literal["relu", "tanh", "elu", "leaky_relu", "sigmoid"] = param(
        "tanh", doc="activation after each hidden layer")
    init_fn: Literal["orthogonal_", "xavier_uniform_", "default"] = param(
        "orthogonal_", doc="weight initialisation")
    clip_grad_val: float | None = param(None, gt=0, doc="max gradient norm per net (null: no clipping)")
    shared: bool = param(False, doc="actor and critic share the hidden layers (PPO)")
    optim: OptimConfig = param(factory=OptimConfig, doc="optimiser of the actor (and shared) net")
    critic_optim: OptimConfig | None = param(None, doc="optimiser of the critic / Q nets (null: as optim)")
    gpu: bool | Literal["auto"] = param("auto", doc="true: require CUDA; 'auto': CUDA when present; false: CPU")
    fast_path: Literal["auto", "off"] = param(
        "auto", doc="'auto': the algorithm's speed-ups (agent/fast/) where they handle the settings; 'off': the "
                    "reference implementation only")


@dataclasses.dataclass(frozen=True)
class Stage:
    """One step of a body net's structure, for code that walks nets without autograd (agent/fast/).

    `shared`: one MLP (`mlps[0]`) runs over the rows of every body at once, concatenated in body order;
    otherwise `mlps[b]` runs over body b's rows only.
    """

    mlps: tuple[EnsembleMLP, ...]
    shared: bool


class BodyNet(nn.Module, abc.ABC):
    """One role's net over all bodies of an agent."""

    copies: int

    @abc.abstractmethod
    def forward(self, xs: Sequence[torch.Tensor | None], detached: bool = False) -> list[torch.Tensor | None]:
        """xs[b]: (B_b, in_b) or None -> outputs[b]: (copies, B_b, out_b) or None."""

    @abc.abstractmethod
    def stages(self) -> list[Stage]:
        """The net as a sequence of stages; `forward` must equal running them in order."""

    @abc.abstractmethod
    def output_layers(self) -> list:
        """The last linear layer of each distinct output (one if all bodies share it)."""


def resolve_device(gpu: bool | str) -> torch.device:
    """CUDA when asked for (an error if absent) or when present under 'auto'; otherwise CPU."""
    available = torch.cuda.is_available()
    if gpu is True and not available:
        raise RuntimeError("net.gpu is true but CUDA is not available; use 'auto' or false")
    return torch.device("cuda" if (gpu is True or (gpu == "auto" and available)) else "cpu")


def make_optimizer(groups: Sequence[tuple[Iterable[nn.Parameter], OptimConfig]]) -> torch.optim.Optimizer:
    """One optimiser over several parameter groups (one update call per step instead of one per net).

    All groups must name the same optimiser class; each keeps its own learning rate and eps.
    """
    names = {cfg.name for _, cfg in groups}
    if len(names) != 1:
        raise ValueError(f"optimisers of one agent must be of one class, got {sorted(names)}")
    cls = OPTIMIZERS[names.pop()]
    param_groups = []
    for params, cfg in groups:
        group = {"params": list(params), "lr": cfg.lr, "initial_lr": cfg.lr}
        if cls is not torch.optim.SGD:
            group["eps"] = cfg.eps
        param_groups.append(group)
    kwargs = {"foreach": True}
    if cls in (torch.optim.Adam, torch.optim.AdamW):
        kwargs = {"fused": True}  # one kernel over every tensor: the fastest CPU and GPU path
    return cls(param_groups, **kwargs)


def apply_lr_schedule(optimizer: torch.optim.Optimizer, schedules: Sequence[str], progress: float) -> None:
    """Set each group's rate for the fraction `progress` in [0, 1] of the training budget done."""
    for group, schedule in zip(optimizer.param_groups, schedules):
        if schedule == "linear":
            group["lr"] = group["initial_lr"] * max(0.0, 1.0 - progress)
