"""The one place that decides whether a student runs a speed-up or its reference implementation.

Each speed-up is a `FastPath`: the part of an algorithm it replaces (acting, gradients), what runs
instead, and an explicit allow-list of every setting it handles: one predicate per field of the
algorithm's config and per field of the net's config. The selector picks the fast path only when
the net has `fast_path: "auto"`, the device and net type are handled, and every field of both
configs is on the allow-list with an accepted value; anything else runs the reference path, with
the reason. A field added to a config and not to the allow-list therefore falls back to the
reference path (and the parity tests, generated from the config fields, fail until the fast path
handles or refuses it). A path may also state a requirement beyond
the settings (torch.compile's: a C++ compiler, and a run long enough to repay compiling). The
choice is made once, when the algorithm is built; the session logs it
and records it in its resolved spec (`Algorithm.fast_path_info`).
"""
from __future__ import annotations

import dataclasses
from typing import Any, Callable, Mapping, Sequence

from slm_acl.lib.registry import Registry

Predicate = Callable[[Any], bool]
Requirement = Callable[[Any, Sequence[Any]], "str | None"]  # (config, bodies) -> why not, or None


def any_value(value: Any) -> bool:
    """Every value of the field is handled."""
    return True


class _EveryField(Mapping[str, Predicate]):
    """The allow-list of a path that runs the reference code itself (a compiled reference loss): every
    setting, present and future, is handled by construction."""

    def __getitem__(self, name: str) -> Predicate:
        return any_value

    def __contains__(self, name: object) -> bool:
        return True

    def __iter__(self):
        return iter(())

    def __len__(self) -> int:
        return 0

    def __repr__(self) -> str:
        return "EVERY_FIELD"


EVERY_FIELD: Mapping[str, Predicate] = _EveryField()


def one_of(*allowed: Any) -> Predicate:
    def accepts(value: Any) -> bool:
        return value in allowed

    accepts.__doc__ = f"one of {allowed}"
    return accepts


@dataclasses.dataclass(frozen=True)
class PathChoice:
    """The implementation chosen for one part of an algorithm, and why when it is the reference."""

    part: str
    name: str
    fast: bool
    reason: str = ""

    def __str__(self) -> str:
        return self.name if self.fast or not self.reason else f"{self.name} ({self.reason})"


@dataclasses.dataclass(frozen=True)
class FastPath:
    """A speed-up of one part of one algorithm, with the settings it is known to handle."""

    algorithm: str  # the algorithm's registered name
    part: str  # what it replaces: "acting", "gradients"
    name: str  # what runs instead, e.g. "numpy", "hand-written"
    reference: str  # what runs otherwise, e.g. "torch", "autograd"
    config: Mapping[str, Predicate]  # every field of the algorithm's config
    net: Mapping[str, Predicate]  # every field of the net configs it handles
    net_types: tuple[str, ...]  # registered net names
    devices: tuple[str, ...] = ("cpu", "cuda")
    requirement: Requirement | None = None  # a condition beyond the settings (a compiler, a long enough run)

    def refusal(self, config: Any, net_type: str, net_config: Any, device: str) -> str | None:
        """Why this path cannot run these settings, or None when it can (the requirement aside)."""
        if device not in self.devices:
            return f"device {device} (handles {', '.join(self.devices)})"
        if net_type not in self.net_types:
            return f"net {net_type} (handles {', '.join(self.net_types)})"
        for section, values, allowed in (("algorithm", config, self.config), ("net", net_config, self.net)):
            for field in dataclasses.fields(values):
                value = getattr(values, field.name)
                if field.name not in allowed:
                    return f"{section}.{field.name} is not on its allow-list"
                if not allowed[field.name](value):
                    return f"{section}.{field.name}={value!r} is not handled"
        return None

    def choose(self, config: Any, net_type: str, net_config: Any, device: str,
               bodies: Sequence[Any] = ()) -> PathChoice:
        if net_config.fast_path == "off":
            return PathChoice(self.part, self.reference, False, "net.fast_path is 'off'")
        refusal = self.refusal(config, net_type, net_config, device)
        if refusal is None and self.requirement is not None:
            refusal = self.requirement(config, bodies)
        if refusal:
            return PathChoice(self.part, self.reference, False, refusal)
        return PathChoice(self.part, self.name, True)


FAST_PATHS: Registry = Registry("fast path")  # "{algorithm}.{part}" -> FastPath


def register(path: FastPath) -> FastPath:
    FAST_PATHS.register(f"{path.algorithm}.{path.part}")(path)
    return path


def choose(algorithm: str, part: str, config: Any, net_type: str, net_config: Any, device: str,
           bodies: Sequence[Any] = ()) -> PathChoice:
    """The implementation of `part` of `algorithm` for these settings: the registered fast path when
    it handles them, else `reference`."""
    key = f"{algorithm}.{part}"
    if key not in FAST_PATHS:
        raise KeyError(f"no fast path registered for {key}; registered: {', '.join(FAST_PATHS.names())}")
    return FAST_PATHS.get(key).choose(config, net_type, net_config, device, bodies)
