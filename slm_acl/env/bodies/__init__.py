"""Embodiments as data: `catalog/<name>.json` holds TeachMyAgent's 13 bodies in the lab's format
(generated from `reference.json` by `convert_reference.py`); `builder.Embodiment` builds any of them,
or a user's own JSON file, in a Box2D world."""
from __future__ import annotations

import functools
from importlib import resources
from pathlib import Path

from slm_acl.env.bodies.model import BodyDef, FixtureDef, JointDef, PartDef, SensorDef, SpawnHeights
from slm_acl.lib.registry import did_you_mean

_CATALOG = "catalog"


def body_names() -> list[str]:
    """The catalogue's body names, sorted."""
    folder = resources.files("slm_acl.env.bodies") / _CATALOG
    return sorted(entry.name[: -len(".json")] for entry in folder.iterdir() if entry.name.endswith(".json"))


def load_body(name_or_path: str) -> BodyDef:
    """A catalogue body by name, or a body from a JSON file of the lab's format (a path ending in .json)."""
    if str(name_or_path).endswith(".json"):
        path = Path(name_or_path)
        if not path.is_file():
            raise ValueError(f"body file {str(path)!r} does not exist")
        return BodyDef.from_json(path.read_text(), source=str(path))
    names = body_names()
    if name_or_path not in names:
        raise ValueError(f"unknown body {name_or_path!r}.{did_you_mean(name_or_path, names)} "
                         f"Catalogue bodies: {', '.join(names)}; "
                         f"a path to a .json file in the same format also works")
    return _catalog_body(name_or_path)


@functools.cache
def _catalog_body(name: str) -> BodyDef:
    """Parsed once: BodyDefs are immutable, and one instance per body keeps the builder's cache warm."""
    text = (resources.files("slm_acl.env.bodies") / _CATALOG / f"{name}.json").read_text()
    return BodyDef.from_json(text, source=f"{name}.json")


__all__ = ["BodyDef", "FixtureDef", "JointDef", "PartDef", "SensorDef", "SpawnHeights", "body_names", "load_body"]
