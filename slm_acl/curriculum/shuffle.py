"""Rugged difficulty: each task dimension cut into equal intervals that are permuted.

TeachMyAgent's "rugged difficulty" experiment (REFERENCE.md section 1.2) breaks the smooth link
between neighbouring tasks: every dimension of the unit cube is cut into `cuttings` equal intervals
and the intervals are shuffled, separately per dimension, with the run's seed. The teacher proposes
in the shuffled space and is updated with its own proposal; the env plays the mapped task. A
teacher that relies on difficulty varying smoothly (GMMs, regions, ADR's box) then sees a rugged
landscape, which is the point of the experiment.
"""
from __future__ import annotations

import numpy as np


class DimensionShuffler:
    """A piecewise-translation bijection of [0,1]^dim: interval k of dim d goes to interval perm[d, k]."""

    def __init__(self, dim: int, rng: np.random.Generator, cuttings: int = 4):
        if cuttings < 1:
            raise ValueError(f"cuttings must be >= 1, got {cuttings}")
        self.cuttings = cuttings
        self.perm = np.stack([rng.permutation(cuttings) for _ in range(dim)])  # (dim, cuttings)
        self.inverse_perm = np.argsort(self.perm, axis=1)

    def _move(self, unit: np.ndarray, perm: np.ndarray) -> np.ndarray:
        unit = np.clip(np.asarray(unit, dtype=np.float64), 0.0, 1.0)
        scaled = unit * self.cuttings
        interval = np.minimum(scaled.astype(int), self.cuttings - 1)  # 1.0 belongs to the last interval
        offset = scaled - interval
        target = perm[np.arange(len(unit)), interval]
        return (target + offset) / self.cuttings

    def to_real(self, proposal: np.ndarray) -> np.ndarray:
        """The task the env plays for a teacher's proposal (both in the unit cube)."""
        return self._move(proposal, self.perm)

    def to_proposal(self, real: np.ndarray) -> np.ndarray:
        """The proposal that maps to a real task (expert-knowledge means are moved this way)."""
        return self._move(real, self.inverse_perm)

    def state_dict(self) -> dict:
        return {"perm": self.perm.tolist(), "cuttings": self.cuttings}

    def load_state_dict(self, state: dict) -> None:
        self.cuttings = int(state["cuttings"])
        self.perm = np.asarray(state["perm"], dtype=int)
        self.inverse_perm = np.argsort(self.perm, axis=1)
