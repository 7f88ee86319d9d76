"""The Parkour terrain generator: TeachMyAgent's fixed-weight CPPN, as a numpy forward pass.

TeachMyAgent (`TanHSoftplusMixCPPN`) builds a TF1 graph from a checkpoint; the same weights, shipped here as
`data/parkour_cppn_weights.npz`, give the same network in a few numpy matrix products (ENV_FACTS section 10).
"""
from __future__ import annotations

from importlib import resources

import numpy as np

from slm_acl.env.terrain.constants import TERRAIN_LENGTH

WEIGHTS_FILE = "parkour_cppn_weights.npz"
NETWORKS = ("same_ground_ceiling_cppn", "ground_cppn")
N_LAYERS = 5


def softplus(x: np.ndarray) -> np.ndarray:
    """log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|)): exp never overflows and small values keep their relative
    precision (log1p). Written with in-place ufuncs; np.logaddexp gives the same numbers about 10x slower."""
    out = np.abs(x)
    np.negative(out, out)
    np.exp(out, out)
    np.log1p(out, out)
    out += np.maximum(x, 0)
    return out


class TerrainCPPN:
    """A 4-64-64-64-64-out MLP without biases mapping (position, input vector) to terrain heights.

    Row k of the input is [k / (x_dim - 1), v1, ..., v_d] for k = 0..x_dim-1. Activations: tanh, softplus,
    tanh, softplus, linear. Output column 0 is the ground, column 1 (same_ground_ceiling_cppn only) the
    ceiling, both in px-like CPPN units (the Parkour generator divides them by terrain_cppn_scale).

    The weights are read once, from the package data, when the instance is built; the env holds one
    instance. Computed in float32, the dtype of the checkpoint and of TeachMyAgent's TF graph (and about
    twice as fast as float64); the heights differ from a float64 pass by about 1e-5 relative (under 1e-4 m
    once scaled).

    Args:
        network: "same_ground_ceiling_cppn" (Parkour's default: 2 outputs) or "ground_cppn" (1 output).
        x_dim: number of positions (TERRAIN_LENGTH = 200).
    """

    def __init__(self, network: str = "same_ground_ceiling_cppn", x_dim: int = TERRAIN_LENGTH):
        if network not in NETWORKS:
            raise ValueError(f"unknown CPPN network {network!r}; valid: {list(NETWORKS)}")
        if x_dim < 2:
            raise ValueError(f"x_dim must be >= 2, got {x_dim}")
        ref = resources.files("slm_acl.env.terrain") / "data" / WEIGHTS_FILE
        with resources.as_file(ref) as path, np.load(path) as npz:
            self.weights = [np.asarray(npz[f"{network}/w{i}"], dtype=np.float32) for i in range(1, N_LAYERS + 1)]
        for a, b in zip(self.weights[:-1], self.weights[1:]):
            if a.shape[1] != b.shape[0]:
                shapes = [w.shape for w in self.weights]
                raise ValueError(f"{WEIGHTS_FILE}: {network} layer shapes do not chain: {shapes}")
        self.network = network
        self.x_dim = x_dim
        self.input_dim = self.weights[0].shape[0] - 1  # the first input column is the position
        self.output_dim = self.weights[-1].shape[1]
        self.positions = (np.arange(x_dim, dtype=np.float64) / (x_dim - 1)).astype(np.float32)

    def inputs(self, input_vector) -> np.ndarray:
        """The (x_dim, 1 + input_dim) input matrix: position column, then the input vector on every row."""
        v = self._check(input_vector)
        out = np.empty((self.x_dim, 1 + self.input_dim), dtype=np.float32)
        out[:, 0] = self.positions
        out[:, 1:] = v
        return out

    def forward(self, input_vector) -> np.ndarray:
        """Terrain heights (x_dim, output_dim), float32, for one input vector (CPPN units, not yet scaled)."""
        v = self._check(input_vector)
        w1, w2, w3, w4, w5 = self.weights
        # inputs(v) @ w1 without building the input matrix: the position column times w1's first row
        # plus the same input-vector term on every row.
        h = np.tanh(np.multiply.outer(self.positions, w1[0]) + v @ w1[1:])
        h = softplus(h @ w2)
        h = np.tanh(h @ w3)
        h = softplus(h @ w4)
        return h @ w5

    __call__ = forward

    def _check(self, input_vector) -> np.ndarray:
        v = np.asarray(input_vector, dtype=np.float32).reshape(-1)
        if v.shape[0] != self.input_dim:
            raise ValueError(f"CPPN {self.network} takes an input vector of {self.input_dim} values, got {v.shape[0]}")
        if not np.all(np.isfinite(v)):
            raise ValueError(f"CPPN input vector must be finite, got {v.tolist()}")
        return v
