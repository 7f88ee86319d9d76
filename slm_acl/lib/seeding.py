"""Deterministic seeds for every owner of randomness.

A run has one integer seed (`meta.seed`). Each session derives its own seed from (seed, trial,
session), and each component of a session (a body's envs, its teacher, the agent's nets, a replay
buffer) asks for a generator by a stable name. Names are hashed into the SeedSequence spawn key,
so adding a component never changes the streams of the others. Nothing uses the global
`np.random` or `random` state, and nothing is seeded from the clock.
"""
from __future__ import annotations

import random
import zlib
from typing import Any

import numpy as np


def _name_key(name: str) -> int:
    return zlib.crc32(name.encode("utf-8"))


class SeedTree:
    """Named, order-independent seed streams below one root seed."""

    def __init__(self, seed: int, *path: int):
        self.seed = int(seed)
        self.path = tuple(int(p) for p in path)

    def child(self, *path: int) -> "SeedTree":
        return SeedTree(self.seed, *self.path, *path)

    def sequence(self, name: str) -> np.random.SeedSequence:
        return np.random.SeedSequence(self.seed, spawn_key=(*self.path, _name_key(name)))

    def generator(self, name: str) -> np.random.Generator:
        return np.random.Generator(np.random.PCG64(self.sequence(name)))

    def integer(self, name: str) -> int:
        """A 31-bit integer seed (for APIs such as env.reset(seed=...) and torch.manual_seed)."""
        return int(self.sequence(name).generate_state(1, np.uint32)[0] >> 1)


def session_seed(seed: int, trial: int, session: int) -> int:
    """The integer seed of one session, recorded in its resolved spec as `meta.random_seed`."""
    return SeedTree(seed, trial, session).integer("session")


def seed_torch(seed: int) -> None:
    """Seed torch's process-wide generator (used for weight initialisation)."""
    import torch

    torch.manual_seed(seed)


def rng_state(generator: np.random.Generator) -> dict[str, Any]:
    return generator.bit_generator.state


def set_rng_state(generator: np.random.Generator, state: dict[str, Any]) -> None:
    generator.bit_generator.state = state


def global_rng_states() -> dict[str, Any]:
    """Process-wide RNG states that libraries may touch (torch mostly); saved in checkpoints."""
    import torch

    return {"torch": torch.get_rng_state(), "python": random.getstate(), "numpy": np.random.get_state()}


def set_global_rng_states(states: dict[str, Any]) -> None:
    import torch

    torch.set_rng_state(states["torch"])
    random.setstate(states["python"])
    np.random.set_state(states["numpy"])
