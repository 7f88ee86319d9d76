"""Declaring component configs: typed dataclass fields with a docstring and bounds.

Every component declares its settings as a frozen dataclass whose fields are built with `param`.
The spec validator (slm_acl.spec.schema) reads the type hints and this metadata to check a spec
before any work starts, and the docs are generated from the `doc` strings.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Callable

MISSING = dataclasses.MISSING


def param(
    default: Any = MISSING,
    *,
    doc: str,
    ge: float | None = None,
    gt: float | None = None,
    le: float | None = None,
    lt: float | None = None,
    factory: Callable[[], Any] | None = None,
    registry: Any = None,
    dispatch_key: str = "name",
    check: Callable[[Any], str | None] | None = None,
) -> Any:
    """A config field.

    Args:
        default: the default value (published values for algorithms and teachers); omit for a
            required field.
        doc: one line saying what the field does.
        ge, gt, le, lt: numeric bounds checked by the validator.
        factory: default factory for mutable defaults.
        registry: for a field holding a sub-component (`{"name": ..., **its config}`): the
            registry whose entry's `Config` validates the rest of the dict.
        dispatch_key: the key that names the registry entry ("name" or "type").
        check: extra check returning an error message, or None when the value is fine.
    """
    metadata = {"doc": doc, "ge": ge, "gt": gt, "le": le, "lt": lt, "registry": registry,
                "dispatch_key": dispatch_key, "check": check}
    if factory is not None:
        return dataclasses.field(default_factory=factory, metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


@dataclasses.dataclass(frozen=True)
class Choice:
    """A validated sub-component: the registered name, its class and its typed config."""

    name: str
    cls: Any
    config: Any
    key: str = "name"

    def build(self, *args: Any, **kwargs: Any) -> Any:
        return self.cls(self.config, *args, **kwargs)


def as_dict(obj: Any) -> Any:
    """A plain JSON-able view of a validated config tree (for saving resolved specs)."""
    if isinstance(obj, Choice):
        return {obj.key: obj.name, **as_dict(obj.config)}
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: as_dict(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, (list, tuple)):
        return [as_dict(v) for v in obj]
    if isinstance(obj, dict):
        return {k: as_dict(v) for k, v in obj.items()}
    return obj
