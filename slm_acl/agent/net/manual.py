"""Forward and backward passes of a plain ensemble MLP written out by hand, without autograd.

Why: for the small, fixed shapes of the students' common cases (SAC's and PPO's single-body MLPs),
autograd's graph building and engine cost as much as the arithmetic, or more. Written out, a pass
- builds no graph: each layer's input is kept, and the activation's derivative is read back from
  it (tanh' = 1 - y^2, relu' = [y > 0], sigmoid' = y (1 - y): all functions of the output);
- forms each weight gradient in the parameter's own (copies, out, in) layout;
- skips the input gradient of the first layer, which nothing needs.
`sac_grad.py` and `ppo_grad.py` build their losses' gradients on these passes; their tests compare
every gradient with autograd's.
"""
from __future__ import annotations

from typing import Any, Callable

import torch

from slm_acl.agent.net.layers import ACTIVATIONS, EnsembleLinear

# d act / d z as a function of the incoming gradient and the activation's output y
ACTIVATION_GRADS: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    "relu": lambda grad, y: torch.ops.aten.threshold_backward(grad, y, 0.0),
    "tanh": torch.ops.aten.tanh_backward,
    "sigmoid": torch.ops.aten.sigmoid_backward,
}


def plain_layers(net: Any, activations: tuple[str, ...] = tuple(ACTIVATION_GRADS)) -> list[EnsembleLinear] | None:
    """The layers of a single MLP (one body: `MLPNet`) whose activation is one of `activations`
    and whose output is linear; None for any other net (Hydra nets keep autograd)."""
    mlp = getattr(net, "mlp", None)
    if mlp is None or mlp.activation not in activations or mlp.activate_last:
        return None
    return list(mlp.layers)


def forward(layers: list[EnsembleLinear], x: torch.Tensor, activation: str) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """(copies, B, out) output and each layer's input; x is (B, in), shared by every copy."""
    act = ACTIVATIONS[activation]
    inputs = []
    h = x
    last = len(layers) - 1
    for k, layer in enumerate(layers):
        inputs.append(h)
        xs = h.unsqueeze(0).expand(layer.copies, *h.shape) if h.dim() == 2 else h
        h = torch.baddbmm(layer.bias, xs, layer.weight.transpose(1, 2))
        if k < last:
            h = act(h)
    return h, inputs


def backward(layers: list[EnsembleLinear], inputs: list[torch.Tensor], grad: torch.Tensor,
             activation: str) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Weight and bias gradients of every layer for the output gradient `grad` (copies, B, out)."""
    act_grad = ACTIVATION_GRADS[activation]
    grads = []
    for k in range(len(layers) - 1, -1, -1):
        x = inputs[k]
        xs = x.unsqueeze(0).expand(layers[k].copies, *x.shape) if x.dim() == 2 else x
        grads.append((torch.bmm(grad.transpose(1, 2), xs), grad.sum(1, keepdim=True)))
        if k > 0:
            grad = act_grad(torch.bmm(grad, layers[k].weight), inputs[k])
    grads.reverse()
    return grads


def assign(layers: list[EnsembleLinear], grads: list[tuple[torch.Tensor, torch.Tensor]]) -> None:
    """Put each layer's (dW, db) into .grad of its parameters."""
    for layer, (dw, db) in zip(layers, grads):
        layer.weight.grad = dw
        layer.bias.grad = db
