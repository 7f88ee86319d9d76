"""Forward and backward passes of the lab's body nets written out by hand, without autograd.

Why: for the students' small, fixed shapes, autograd's graph building and engine cost as much as
the arithmetic, or more (measured with torch.profiler: half of a PPO minibatch step). Written out,
a pass
- builds no graph: each layer's input is kept, and the activation's derivative is read back from
  its output (tanh' = 1 - y^2, relu' = [y > 0], sigmoid' = y (1 - y), elu' = y + 1 below 0,
  leaky_relu' = slope below 0);
- forms each weight gradient in the parameter's own (copies, out, in) layout;
- skips the input gradient of the net's first layer unless it is asked for (SAC's dQ/da).
Any body net works (`BodyNet.stages()`: a plain MLP, a Hydra net's heads, trunk and tails). SAC's
loss derivatives are in fast/sac.py; its parity tests compare every gradient with autograd's on
`SAC.loss`.
"""
from __future__ import annotations

import dataclasses
import itertools
from typing import Any, Callable, Sequence

import torch

from slm_acl.agent.fast.stages import concat_rows, split_rows, walk_forward
from slm_acl.agent.net.base import BodyNet, Stage
from slm_acl.agent.net.layers import ACTIVATIONS, EnsembleMLP

_aten = torch.ops.aten
# d act / d z from the incoming gradient and the activation's output y (the defaults of ACTIVATIONS)
ACTIVATION_GRADS: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    "relu": lambda grad, y: _aten.threshold_backward(grad, y, 0.0),
    "tanh": _aten.tanh_backward,
    "sigmoid": _aten.sigmoid_backward,
    "elu": lambda grad, y: _aten.elu_backward(grad, 1.0, 1.0, 1.0, True, y),
    "leaky_relu": lambda grad, y: _aten.leaky_relu_backward(grad, y, 0.01, True),
}


@dataclasses.dataclass
class MLPTape:
    """What the backward pass of one MLP needs from its forward pass."""

    inputs: list[torch.Tensor]  # each layer's input
    output: torch.Tensor | None  # the activated output, when the MLP activates its last layer


@dataclasses.dataclass
class NetTape:
    """The forward pass of a whole body net: per stage its MLP tapes, and which bodies ran."""

    stages: list[Stage]
    kept: list[Any]  # per stage: an MLPTape (shared stage) or {body: MLPTape}
    active: list[int]
    rows: list[int]  # rows per active body


def _expand(x: torch.Tensor, copies: int) -> torch.Tensor:
    return x.unsqueeze(0).expand(copies, *x.shape) if x.dim() == 2 else x


def mlp_forward(mlp: EnsembleMLP, x: torch.Tensor) -> tuple[torch.Tensor, MLPTape]:
    """(copies, B, out) output of `mlp` for x (B, in) shared by every copy, or (copies, B, in)."""
    act = ACTIVATIONS[mlp.activation]
    inputs = []
    last = len(mlp.layers) - 1
    h = x
    for k, layer in enumerate(mlp.layers):
        inputs.append(h)
        h = torch.baddbmm(layer.bias, _expand(h, layer.copies), layer.weight.transpose(1, 2))
        if k < last or mlp.activate_last:
            h = act(h)
    return h, MLPTape(inputs, h if mlp.activate_last else None)


def _accumulate(param: torch.nn.Parameter, grad: torch.Tensor) -> None:
    if param.grad is None:
        param.grad = grad
    else:
        param.grad.add_(grad)


def mlp_backward(mlp: EnsembleMLP, tape: MLPTape, grad: torch.Tensor, weights: bool,
                 need_input: bool) -> torch.Tensor | None:
    """Send the output gradient `grad` (copies, B, out) back through `mlp`.

    `weights`: add each layer's weight and bias gradient to its `.grad`. Returns the gradient of
    the MLP's input when `need_input` (summed over copies where the input was shared by them).
    """
    act_grad = ACTIVATION_GRADS[mlp.activation]
    if mlp.activate_last:
        grad = act_grad(grad, tape.output)
    for k in range(len(mlp.layers) - 1, -1, -1):
        layer, x = mlp.layers[k], tape.inputs[k]
        if weights:
            _accumulate(layer.weight, torch.bmm(grad.transpose(1, 2), _expand(x, layer.copies)))
            _accumulate(layer.bias, grad.sum(1, keepdim=True))
        if k > 0:
            grad = act_grad(torch.bmm(grad, layer.weight), x)  # x: the activated output of layer k - 1
        elif need_input:
            grad = torch.bmm(grad, layer.weight)
            return grad.sum(0) if x.dim() == 2 else grad
    return None


def forward(net: BodyNet, xs: Sequence[torch.Tensor | None]) -> tuple[list[torch.Tensor | None], NetTape]:
    """`net(xs)` without autograd, and the tape its backward pass reads."""
    stages = net.stages()
    outs, kept = walk_forward(stages, xs, mlp_forward)
    active = [b for b, x in enumerate(xs) if x is not None]
    return outs, NetTape(stages, kept, active, [xs[b].shape[-2] for b in active])


def backward(tape: NetTape, grad_outs: Sequence[torch.Tensor | None], weights: bool = True,
             input_grads: bool = False) -> list[torch.Tensor | None]:
    """Send each active body's output gradient back through the net of `tape`.

    `weights`: accumulate the weight gradients into `.grad`; `input_grads`: return each body's input
    gradient (otherwise the first layer's input gradient is never formed).
    """
    grads = {b: grad_outs[b] for b in tape.active}
    for i in range(len(tape.stages) - 1, -1, -1):
        stage, kept = tape.stages[i], tape.kept[i]
        need_input = i > 0 or input_grads
        if stage.shared:
            g = mlp_backward(stage.mlps[0], kept, concat_rows([grads[b] for b in tape.active]), weights, need_input)
            if need_input:
                grads = dict(zip(tape.active, split_rows(g, tape.rows)))
        else:
            for b in tape.active:
                grads[b] = mlp_backward(stage.mlps[b], kept[b], grads[b], weights, need_input)
    n = max(tape.active, default=-1) + 1
    return [grads.get(b) for b in range(n)] if input_grads else []


def _mlp_rows_backward(mlp: EnsembleMLP, tape: MLPTape, grad: torch.Tensor, copy: int, rows: torch.Tensor,
                       columns: slice | None) -> torch.Tensor:
    """The input gradient of copy `copy` of `mlp` for some of its rows only (no weight gradients)."""
    act_grad = ACTIVATION_GRADS[mlp.activation]
    if mlp.activate_last:
        grad = act_grad(grad, tape.output[copy].index_select(0, rows))
    for k in range(len(mlp.layers) - 1, -1, -1):
        weight = mlp.layers[k].weight[copy]
        if k > 0:
            grad = act_grad(grad @ weight, tape.inputs[k][copy].index_select(0, rows))
        else:
            grad = grad @ (weight if columns is None else weight[:, columns])
    return grad


def min_copy_input_grads(tape: NetTape, chosen: Sequence[torch.Tensor | None], scales: Sequence[float | None],
                         columns: Sequence[slice | None], select_rows: bool | None = None) -> list[torch.Tensor | None]:
    """Per body b: d(scale_b * sum over its rows of min_e out_e(x))/dx[:, columns_b], for a net with
    one output per copy, through the copy that is the minimum for each row.

    `chosen[b]` (B_b,) holds that copy's index per row (torch.min's indices, which is where autograd
    routes the gradient); the other copies' rows get none, so only those rows are sent back through
    each copy (`select_rows`, the default on the CPU: half the products of a twin). On a GPU finding
    those rows would wait for the device, so there every row goes through every copy, masked.
    """
    if not (select_rows if select_rows is not None else not any(c is not None and c.is_cuda for c in chosen)):
        masked = [None if c is None else _one_hot(c, _copies(tape)) * s for c, s in zip(chosen, scales)]
        grads = backward(tape, masked, weights=False, input_grads=True)
        return [None if g is None else g[:, cols] for g, cols in zip(grads, columns)]
    if tape.stages[0].shared and len({(columns[b].start, columns[b].stop) for b in tape.active}) > 1:
        raise ValueError("bodies sharing the net's first layer must ask for the same input columns")
    out = {b: chosen[b].new_zeros(tape.rows[i], columns[b].stop - columns[b].start, dtype=torch.float32)
           for i, b in enumerate(tape.active)}
    for copy in range(_copies(tape)):
        rows = {b: torch.nonzero(chosen[b] == copy).squeeze(1) for b in tape.active}
        grads = {b: torch.full((len(rows[b]), 1), float(scales[b]), device=chosen[b].device) for b in tape.active}
        for i in range(len(tape.stages) - 1, -1, -1):
            stage, kept = tape.stages[i], tape.kept[i]
            if stage.shared:
                offsets = itertools.accumulate([0, *tape.rows[:-1]])
                joined_rows = torch.cat([rows[b] + off for b, off in zip(tape.active, offsets)])
                g = _mlp_rows_backward(stage.mlps[0], kept, concat_rows([grads[b] for b in tape.active]), copy,
                                       joined_rows, columns[tape.active[0]] if i == 0 else None)
                grads = dict(zip(tape.active, split_rows(g, [len(rows[b]) for b in tape.active])))
            else:
                for b in tape.active:
                    grads[b] = _mlp_rows_backward(stage.mlps[b], kept[b], grads[b], copy, rows[b],
                                                  columns[b] if i == 0 else None)
        for b in tape.active:
            out[b].index_copy_(0, rows[b], grads[b])
    n = max(tape.active, default=-1) + 1
    return [out.get(b) for b in range(n)]


def _copies(tape: NetTape) -> int:
    first = tape.stages[0].mlps[0]
    return first.layers[0].copies


def _one_hot(chosen: torch.Tensor, copies: int) -> torch.Tensor:
    """(copies, B, 1): 1 where the copy is the row's chosen one."""
    index = torch.arange(copies, device=chosen.device).unsqueeze(1)
    return (chosen.unsqueeze(0) == index).to(torch.float32).unsqueeze(-1)
