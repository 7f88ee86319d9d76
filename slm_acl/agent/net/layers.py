"""Layers shared by the lab's nets: an ensemble linear layer and named activations.

`EnsembleLinear` holds `copies` independent weight matrices in one (copies, out, in) tensor, so the
two Q functions of SAC (or any ensemble) run as one batched matmul per layer instead of two Python
calls. With copies=1 it is an ordinary linear layer that keeps a leading copy dimension.
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

# In-place on the fresh output of a linear layer: no second activation-sized buffer, half the
# memory traffic (the backward of each uses the saved output, which stays valid).
ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "relu": torch.relu_, "tanh": torch.tanh_, "elu": F.elu_, "leaky_relu": F.leaky_relu_, "sigmoid": torch.sigmoid_,
}
# The same activations on NumPy arrays, for `forward_numpy` (acting at batch 1 on the CPU, where one
# torch call per layer costs more than the arithmetic). Each may overwrite its argument.
NUMPY_ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "relu": lambda x: np.maximum(x, 0.0, out=x),
    "tanh": lambda x: np.tanh(x, out=x),
    "elu": lambda x: np.where(x > 0, x, np.expm1(np.minimum(x, 0.0))),
    "leaky_relu": lambda x: np.where(x > 0, x, np.float32(0.01) * x),  # torch's default slope
    "sigmoid": lambda x: np.float32(0.5) * (np.tanh(np.float32(0.5) * x) + np.float32(1.0)),
}
INIT_FNS = ("orthogonal_", "xavier_uniform_", "default")


# Below this many weights per copy (PPO's 64x64 layers) the Python-level backward of _EnsembleAffine
# costs more than the transposed copy it saves: native autograd is ~9 % faster on PPO's whole
# training loop (bench/speed_vs_sb3.py); above it (SAC's 400x300) the custom backward wins.
CUSTOM_BACKWARD_MIN_WEIGHTS = 16_384


class _EnsembleAffine(torch.autograd.Function):
    """out[e] = x[e] @ W[e].T + b[e], with a backward that forms each gradient in its final layout.

    Autograd's own baddbmm backward computes the weight gradient as x.T @ g, i.e. in (in, out)
    layout, and AccumulateGrad then copies it transposed into the (out, in) parameter: with two
    copies of a 400x300 layer that copy plus the slower transposed-A product cost ~2-3 ms of a
    ~12 ms SAC gradient step (measured with torch.profiler). Here dW = g.T @ x lands directly as
    (copies, out, in), and gradients not asked for (a detached weight, an input that needs none)
    are not computed at all.
    """

    @staticmethod
    def forward(ctx, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        shared = x.dim() == 2  # one input for every copy
        xs = x.unsqueeze(0).expand(weight.shape[0], *x.shape) if shared else x
        ctx.save_for_backward(xs, weight)
        ctx.shared = shared
        return torch.baddbmm(bias, xs, weight.transpose(1, 2))

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        xs, weight = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        grad_x = grad_w = grad_b = None
        if need_x:
            grad_x = torch.bmm(grad, weight)
            if ctx.shared:
                grad_x = grad_x.sum(0)
        if need_w:
            grad_w = torch.bmm(grad.transpose(1, 2), xs)
        if need_b:
            grad_b = grad.sum(1, keepdim=True)
        return grad_x, grad_w, grad_b


class EnsembleLinear(nn.Module):
    """y[e] = x[e] @ W[e].T + b[e] for every copy e, in one `baddbmm` call.

    Weights are stored (copies, out, in), nn.Linear's layout: measured here, the transposed-weight
    matmuls of that layout run ~4 % faster forward and backward than an (in, out) layout.
    """

    def __init__(self, in_dim: int, out_dim: int, copies: int = 1):
        super().__init__()
        self.in_dim, self.out_dim, self.copies = in_dim, out_dim, copies
        self.weight = nn.Parameter(torch.empty(copies, out_dim, in_dim))
        self.bias = nn.Parameter(torch.empty(copies, 1, out_dim))

    def reset(self, init_fn: str, gain: float) -> None:
        """Initialise every copy independently (each as its own nn.Linear would be)."""
        with torch.no_grad():
            for e in range(self.copies):
                w = self.weight[e]  # (out, in): the layout torch.nn.init expects
                if init_fn == "orthogonal_":
                    nn.init.orthogonal_(w, gain=gain)
                    self.bias[e].zero_()
                elif init_fn == "xavier_uniform_":
                    nn.init.xavier_uniform_(w, gain=gain)
                    self.bias[e].zero_()
                else:  # PyTorch's nn.Linear default
                    bound = 1.0 / math.sqrt(self.in_dim)
                    w.uniform_(-bound, bound)
                    self.bias[e].uniform_(-bound, bound)

    def forward(self, x: torch.Tensor, detached: bool = False) -> torch.Tensor:
        """x: (copies, B, in) or (B, in) shared by all copies -> (copies, B, out).

        `detached` uses the weights as constants: gradients flow to x but not to this layer
        (SAC's actor loss needs dQ/da, never dQ/dW).
        """
        weight, bias = (self.weight.detach(), self.bias.detach()) if detached else (self.weight, self.bias)
        if x.dim() == 2 and self.copies == 1:
            return torch.addmm(bias[0], x, weight[0].T).unsqueeze(0)
        if self.in_dim * self.out_dim >= CUSTOM_BACKWARD_MIN_WEIGHTS:
            return _EnsembleAffine.apply(x, weight, bias)
        if x.dim() == 2:
            x = x.unsqueeze(0).expand(self.copies, *x.shape)
        return torch.baddbmm(bias, x, weight.transpose(1, 2))

    def forward_numpy(self, x: np.ndarray) -> np.ndarray:
        """`forward` on NumPy arrays, for inference on the CPU: x (B, in) or (copies, B, in) -> (copies, B, out)."""
        weight_t, bias = self._numpy_views()
        return np.matmul(x, weight_t) + bias

    def _numpy_views(self) -> tuple[np.ndarray, np.ndarray]:
        """(W transposed to (copies, in, out), b) as NumPy views of the parameters' memory.

        Optimiser steps and `load_state_dict` write into the same memory, so the views stay current.
        They are rebuilt when they no longer point at the parameters' memory (a replaced storage, a
        copied module), and never copied or pickled with the module.
        """
        views = self.__dict__.get("_views")
        if (views is None or views[0].ctypes.data != self.weight.data_ptr()
                or views[1].ctypes.data != self.bias.data_ptr()):
            if self.weight.device.type != "cpu":
                raise RuntimeError("forward_numpy needs the layer on the CPU")
            views = (self.weight.detach().numpy().transpose(0, 2, 1), self.bias.detach().numpy())
            self.__dict__["_views"] = views
        return views

    def __getstate__(self) -> dict:
        state = super().__getstate__()
        state.pop("_views", None)
        return state

    def extra_repr(self) -> str:
        return f"in={self.in_dim}, out={self.out_dim}, copies={self.copies}"


class EnsembleMLP(nn.Module):
    """A stack of EnsembleLinear layers with an activation after each but (optionally) the last."""

    def __init__(self, dims: list[int], activation: str, copies: int = 1, activate_last: bool = False):
        super().__init__()
        self.layers = nn.ModuleList(EnsembleLinear(i, o, copies) for i, o in zip(dims[:-1], dims[1:]))
        self.activation = activation
        self.act = ACTIVATIONS[activation]
        self.activate_last = activate_last
        self.out_dim = dims[-1]

    def reset(self, init_fn: str, hidden_gain: float, last_gain: float | None = None) -> None:
        for k, layer in enumerate(self.layers):
            is_last = k == len(self.layers) - 1 and not self.activate_last
            layer.reset(init_fn, last_gain if is_last and last_gain is not None else hidden_gain)

    def forward(self, x: torch.Tensor, detached: bool = False) -> torch.Tensor:
        last = len(self.layers) - 1
        for k, layer in enumerate(self.layers):
            x = layer(x, detached)
            if k < last or self.activate_last:
                x = self.act(x)
        return x

    def forward_numpy(self, x: np.ndarray) -> np.ndarray:
        """`forward` on NumPy arrays (no autograd, CPU only)."""
        act = NUMPY_ACTIVATIONS[self.activation]
        last = len(self.layers) - 1
        for k, layer in enumerate(self.layers):
            x = layer.forward_numpy(x)
            if k < last or self.activate_last:
                x = act(x)
        return x


HIDDEN_GAIN = math.sqrt(2.0)  # orthogonal-init gain of hidden layers (Baselines' and CleanRL's choice)
