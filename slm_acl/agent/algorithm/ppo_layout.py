"""How PPO lays out its actor and critic in nets, so each forward is one call where possible.

- "twin": separate weights run as a 2-copy ensemble (copy 0 actor, copy 1 critic's column 0): one call;
- "shared": one net whose hidden layers are shared, the value as one more output;
- "split": two nets, needed only when the critic has its own optimiser settings.

A layout builds its nets and reads each body's (action mean, value) from their outputs (torch tensors
in training, NumPy arrays when acting in NumPy).
"""
from __future__ import annotations

import dataclasses
from typing import Any, Callable, Mapping

import torch

ACTOR_LAST_GAIN = 0.01  # a near-zero initial mean keeps early actions around the centre (Baselines)

Outputs = Mapping[str, Any]  # net name -> one body's output (copies, B, out): a tensor or an array


@dataclasses.dataclass(frozen=True)
class Layout:
    name: str
    nets: tuple[str, ...]
    critic_nets: tuple[str, ...]  # the nets that are only needed for the value
    build: Callable[[Any], dict[str, torch.nn.Module]]  # (PPO) -> nets
    policy_and_value: Callable[[Outputs, int], tuple[Any, Any]]  # (outputs, act_dim) -> (mean (B, a), value (B,))


def _build_actor_critic(algo: Any, twin: bool) -> dict[str, torch.nn.Module]:
    outs = algo.act_dims if twin else [a + 1 for a in algo.act_dims]
    net = algo.build_net(algo.obs_dims, outs, copies=2 if twin else 1)
    for layer, a in zip(net.output_layers(), algo.act_dims):
        with torch.no_grad():  # weights are (copies, out, in): scale the action-mean rows
            layer.weight[0, :a, :] *= ACTOR_LAST_GAIN
    return {"actor_critic": net}


def _build_split(algo: Any) -> dict[str, torch.nn.Module]:
    return {"actor": algo.build_net(algo.obs_dims, algo.act_dims, last_gain=ACTOR_LAST_GAIN),
            "critic": algo.build_net(algo.obs_dims, [1] * len(algo.bodies))}


def _split_values(outs: Outputs, a: int) -> tuple[Any, Any]:
    critic = outs.get("critic")
    return outs["actor"][0], None if critic is None else critic[0, :, 0]


LAYOUTS: dict[str, Layout] = {
    "twin": Layout("twin", ("actor_critic",), (), lambda algo: _build_actor_critic(algo, twin=True),
                   lambda outs, a: (outs["actor_critic"][0], outs["actor_critic"][1, :, 0])),
    "shared": Layout("shared", ("actor_critic",), (), lambda algo: _build_actor_critic(algo, twin=False),
                     lambda outs, a: (outs["actor_critic"][0, :, :a], outs["actor_critic"][0, :, a])),
    "split": Layout("split", ("actor", "critic"), ("critic",), _build_split, _split_values),
}


def layout_for(net_config: Any) -> Layout:
    """Shared hidden layers when asked for; else twin, unless the critic has its own optimiser."""
    if net_config.shared:
        return LAYOUTS["shared"]
    critic_optim = net_config.critic_optim or net_config.optim
    return LAYOUTS["twin" if critic_optim == net_config.optim else "split"]
