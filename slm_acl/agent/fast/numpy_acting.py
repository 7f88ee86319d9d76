"""Acting on the CPU in NumPy over views of the weights: the nets' forward without torch's per-call cost.

Why: PPO acts on one observation per sub-env, and at that batch size torch's per-call overhead is
most of the cost of a forward (NumPy: ~5 us against ~20 us for 64x64 nets, measured here). The
weights are read through zero-copy NumPy views of the parameters' memory, which optimiser steps
and `load_state_dict` write into, so the views stay current; they are rebuilt when a parameter's
storage was replaced (a copied module) and live outside the modules, so nothing is pickled with them.
Equal to the nets' torch forward up to float rounding (test/agent/test_fast_parity.py).
"""
from __future__ import annotations

import weakref
from typing import Callable, Sequence

import numpy as np

from slm_acl.agent.fast.stages import walk_forward
from slm_acl.agent.net.base import BodyNet
from slm_acl.agent.net.layers import EnsembleLinear, EnsembleMLP

# The nets' activations on float32 arrays; each may overwrite its argument.
NUMPY_ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "relu": lambda x: np.maximum(x, 0.0, out=x),
    "tanh": lambda x: np.tanh(x, out=x),
    "elu": lambda x: np.where(x > 0, x, np.expm1(np.minimum(x, 0.0))),
    "leaky_relu": lambda x: np.where(x > 0, x, np.float32(0.01) * x),  # torch's default slope
    "sigmoid": lambda x: np.float32(0.5) * (np.tanh(np.float32(0.5) * x) + np.float32(1.0)),
}

_VIEWS: "weakref.WeakKeyDictionary[EnsembleLinear, tuple[np.ndarray, np.ndarray]]" = weakref.WeakKeyDictionary()


def layer_views(layer: EnsembleLinear) -> tuple[np.ndarray, np.ndarray]:
    """(W transposed to (copies, in, out), b) as NumPy views of the layer's parameters."""
    views = _VIEWS.get(layer)
    if (views is None or views[0].ctypes.data != layer.weight.data_ptr()
            or views[1].ctypes.data != layer.bias.data_ptr()):
        if layer.weight.device.type != "cpu":
            raise RuntimeError("NumPy acting needs the net on the CPU")
        views = (layer.weight.detach().numpy().transpose(0, 2, 1), layer.bias.detach().numpy())
        _VIEWS[layer] = views
    return views


def mlp_forward(mlp: EnsembleMLP, x: np.ndarray) -> np.ndarray:
    """`EnsembleMLP.forward` on arrays: x (B, in) or (copies, B, in) -> (copies, B, out)."""
    act = NUMPY_ACTIVATIONS[mlp.activation]
    last = len(mlp.layers) - 1
    for k, layer in enumerate(mlp.layers):
        weight_t, bias = layer_views(layer)
        x = np.matmul(x, weight_t) + bias
        if k < last or mlp.activate_last:
            x = act(x)
    return x


def forward(net: BodyNet, xs: Sequence[np.ndarray | None]) -> list[np.ndarray | None]:
    """`net(xs)` on float32 arrays, one output (copies, B, out) per body given."""
    outs, _ = walk_forward(net.stages(), xs, lambda mlp, x: (mlp_forward(mlp, x), None))
    return outs
