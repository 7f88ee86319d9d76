"""A validated spec as the rest of the lab sees it: the JSON tree, its typed view and the resolved bodies.

These are plain frozen dataclasses of picklable parts (dicts, config dataclasses, registered classes by
reference), so a `RunSpec` validated once in the parent can be handed to spawned worker processes and Ray
tasks as it is. A `RunSpec` pickles its plugins ahead of itself: unpickling imports the spec's plugin modules
(`lib/plugins.py`) before the user's classes it holds are looked up, in whatever process that is.
"""
from __future__ import annotations

import dataclasses
import pickle
from typing import Any

from slm_acl.lib import plugins
from slm_acl.spec.model import CurriculumSpec, Spec


@dataclasses.dataclass(frozen=True)
class BodyPlan:
    """One body: agent a in env e, the b-th body of that pair, with its embodiment and curriculum."""

    index: int
    a: int
    e: int
    b: int
    embodiment: str | None
    curriculum: CurriculumSpec | None

    @property
    def label(self) -> str:
        return f"a{self.a}_e{self.e}_b{self.b}"


@dataclasses.dataclass(frozen=True)
class RunSpec:
    """A validated spec: the JSON-able tree (saved as the resolved spec), the typed view, the bodies."""

    raw: dict[str, Any]
    spec: Spec
    bodies: tuple[BodyPlan, ...]

    @property
    def name(self) -> str:
        return self.spec.name

    def bodies_of_agent(self, a: int) -> list[BodyPlan]:
        return [p for p in self.bodies if p.a == a]

    def __reduce__(self) -> tuple[Any, ...]:
        meta = self.raw.get("meta") or {}
        payload = pickle.dumps((self.raw, self.spec, self.bodies), protocol=pickle.HIGHEST_PROTOCOL)
        return _unpickle, (list(meta.get("plugins", [])), list(meta.get("plugin_paths", [])), payload)


def _unpickle(modules: list[str], paths: list[str], payload: bytes) -> RunSpec:
    """A pickled `RunSpec` in a new process: its plugins first, then the spec (which may hold their classes)."""
    plugins.activate(modules, paths)
    return RunSpec(*pickle.loads(payload))
