"""Embodiments as data: `catalog/<name>.json` holds TeachMyAgent's 13 bodies in the lab's format
(generated from `reference.json` by `convert_reference.py`); `builder.Embodiment` builds any of them,
or a user's own JSON file, in a Box2D world; `scale_part` derives a body with one part longer or shorter
(`python -m slm_acl.env.bodies scale ...` writes one as a body file)."""
from __future__ import annotations

import functools
from importlib import resources
from pathlib import Path

from slm_acl.env.bodies.model import BodyDef, FixtureDef, JointDef, PartDef, SensorDef, SpawnHeights
from slm_acl.env.bodies.scaling import scale_part
from slm_acl.lib.registry import did_you_mean

_CATALOG = "catalog"
SUFFIX = ".json"


def is_body_path(name: object) -> bool:
    """Whether an embodiment names a body file (a path ending in .json) rather than a catalogue body."""
    return isinstance(name, str) and name.endswith(SUFFIX)


def embodiment_label(embodiment: str | None) -> str:
    """How tables and reports name an embodiment: a catalogue body by its name, a body file by its file name
    without `.json` (its path differs between run folders, which keep their own copies), none as ""."""
    if embodiment is None:
        return ""
    return Path(embodiment).name[: -len(SUFFIX)] if is_body_path(embodiment) else embodiment


def body_names() -> list[str]:
    """The catalogue's body names, sorted."""
    folder = resources.files("slm_acl.env.bodies") / _CATALOG
    return sorted(entry.name[: -len(".json")] for entry in folder.iterdir() if entry.name.endswith(".json"))


def load_body(name_or_path: str) -> BodyDef:
    """A catalogue body by name, or a body from a JSON file of the lab's format (a path ending in .json)."""
    if is_body_path(str(name_or_path)):
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


__all__ = ["BodyDef", "FixtureDef", "JointDef", "PartDef", "SensorDef", "SpawnHeights", "body_names", "is_body_path",
           "load_body", "scale_part"]
