"""SAC's gradients written out by hand for its common shape: one body, ReLU MLPs, twin Q.

Why: on a CPU core a SAC gradient step is ~80 % matrix products; the rest is autograd's graph
building and engine, and work the graph cannot skip. Written out (on the passes of
`slm_acl/agent/net/manual.py`), the step
- builds no graph (each layer's input is kept, ReLU masks are read back from it);
- sends the actor loss's dQ/da through the Q net that is the minimum for each sample only (the
  other twin's rows get no gradient: autograd multiplies them by zero, here they are left out),
  which halves the input-gradient products of that pass;
- forms each weight gradient in the parameter's own (copies, out, in) layout.
The result equals autograd's up to float rounding (test/agent/test_sac_grad.py compares every
gradient). `SAC` uses this path when `relu_layers` finds such nets and the autograd path otherwise.
"""
from __future__ import annotations

from typing import Any

import torch

from slm_acl.agent.net import manual
from slm_acl.agent.net.layers import EnsembleLinear

RELU = "relu"  # the activation this path is written for (its input gradients read ReLU masks)
_threshold_backward = torch.ops.aten.threshold_backward


def relu_layers(net: Any) -> list[EnsembleLinear] | None:
    """The layers of a single MLP with ReLU between layers and a linear output, else None."""
    return manual.plain_layers(net, activations=(RELU,))


def min_q_input_grad(layers: list[EnsembleLinear], inputs: list[torch.Tensor], chosen: torch.Tensor,
                     grad_q: float, columns: slice, select_rows: bool | None = None) -> torch.Tensor:
    """d(sum of grad_q * min_e Q_e(x))/dx[:, columns] through the copy that is the minimum per row.

    `chosen` (B,) holds that copy's index for each row (torch.min's indices, as autograd routes it).
    `select_rows` (default: on CPU only): run each copy's backward on its own rows; on a GPU finding
    those rows would wait for the device, so there every row goes through both copies, masked.
    """
    if not (select_rows if select_rows is not None else not chosen.is_cuda):
        return _masked_min_q_input_grad(layers, inputs, chosen, grad_q, columns)
    batch = inputs[0].shape[0]
    out = inputs[0].new_zeros(batch, columns.stop - columns.start)
    for e in range(layers[0].copies):
        rows = torch.nonzero(chosen == e).squeeze(1)
        if rows.numel() == 0:
            continue
        grad = layers[-1].weight[e].mul(grad_q).expand(rows.numel(), -1)  # output dim 1: dQ/dh is W row
        for k in range(len(layers) - 1, 0, -1):
            grad = _threshold_backward(grad, inputs[k][e].index_select(0, rows), 0.0)
            grad = grad @ layers[k - 1].weight[e] if k > 1 else grad @ layers[0].weight[e][:, columns]
        out.index_copy_(0, rows, grad)
    return out


def _masked_min_q_input_grad(layers: list[EnsembleLinear], inputs: list[torch.Tensor], chosen: torch.Tensor,
                             grad_q: float, columns: slice) -> torch.Tensor:
    copies = layers[0].copies
    onehot = (chosen.unsqueeze(0) == torch.arange(copies, device=chosen.device).unsqueeze(1)).to(inputs[0].dtype)
    grad = (onehot * grad_q).unsqueeze(-1)  # (copies, B, 1)
    for k in range(len(layers) - 1, 0, -1):
        grad = _threshold_backward(torch.bmm(grad, layers[k].weight), inputs[k], 0.0)
    return torch.bmm(grad, layers[0].weight[:, :, columns]).sum(0)
