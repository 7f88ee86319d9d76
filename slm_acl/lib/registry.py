"""Name -> class registries, one per kind of component (algorithm, net, memory, teacher ...).

Components register themselves with a decorator; the spec validator and the builders look them up
by name. An unknown name raises `UnknownNameError`, which lists the registered names and the
closest match, so a typo in a spec never reaches a deep traceback.
"""
from __future__ import annotations

import difflib
import importlib
from typing import Any, Callable, Generic, Iterable, Iterator, TypeVar

from slm_acl.lib import plugins

T = TypeVar("T")


def closest(name: str, choices: list[str] | tuple[str, ...]) -> str | None:
    """The closest of `choices` to `name` (case-insensitive), or None when nothing is close."""
    lowered = {c.lower(): c for c in choices}
    match = difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[match[0]] if match else None


def did_you_mean(name: str, choices: Iterable[str], show: Callable[[str], str] = repr) -> str:
    """`" Did you mean 'x'?"` for the closest choice, or "" when none is close.

    Every "unknown name" message in the lab phrases its suggestion through this one helper, so the
    wording and the closeness rule (`closest`) are the same everywhere; `show` formats the hint
    (e.g. `lambda h: f"__{h}"` for search suffixes).
    """
    hint = closest(str(name), list(choices))
    return f" Did you mean {show(hint)}?" if hint else ""


class UnknownNameError(KeyError):
    """A name that is not in a registry; the message lists the valid names."""

    def __init__(self, kind: str, name: str, valid: list[str]):
        self.kind, self.name, self.valid = kind, name, valid
        listing = ", ".join(valid) if valid else "(none registered)"
        super().__init__(f"unknown {kind} {name!r}.{did_you_mean(name, valid)} Registered {kind}s: {listing}")

    def __str__(self) -> str:  # KeyError quotes its message; we want it plain
        return self.args[0]

    def __reduce__(self) -> tuple[Any, ...]:
        # raised in a worker process (a spawned session, a Ray task), it must unpickle in the parent: the
        # default reduce would call UnknownNameError(message) and fail on the missing arguments
        return type(self), (self.kind, self.name, self.valid)


class Registry(Generic[T]):
    """A named collection of classes of one kind.

    Besides registered names, `get` takes a module path `"pkg.module:Name"` (`lib/plugins.py`): the module
    is imported, and `Name` is what it registered, or else its attribute, which must subclass `base` (given
    as `"module:Class"` and imported only when needed, so a registry never imports its components).
    """

    def __init__(self, kind: str, base: str | None = None):
        self.kind = kind
        self.base = base
        self._entries: dict[str, T] = {}

    def register(self, name: str | None = None) -> Callable[[T], T]:
        """Class decorator: `@ALGORITHMS.register()` registers under the class name."""

        def decorator(obj: T) -> T:
            key = name or getattr(obj, "__name__")
            if key in self._entries and self._entries[key] is not obj:
                raise ValueError(f"{self.kind} {key!r} is already registered")
            self._entries[key] = obj
            return obj

        return decorator

    def get(self, name: str) -> T:
        """The entry registered as `name`, or the one a module path `"pkg.module:Name"` names.

        Raises:
            UnknownNameError: an unknown plain name (after the installed plugins' entry points are loaded).
            PluginError: a module path whose module cannot be imported, or which names nothing of this kind.
        """
        try:
            return self._entries[name]
        except (KeyError, TypeError):
            pass
        reference = plugins.split(name)
        if reference is not None:
            return self._from_module(name, *reference)
        plugins.load_entry_points()  # an installed package may register it
        try:
            return self._entries[name]
        except (KeyError, TypeError):
            raise UnknownNameError(self.kind, name, self.names()) from None

    def _from_module(self, reference: str, module_name: str, attribute: str) -> T:
        with plugins._lock:
            module = plugins.import_module(module_name)
            if attribute in self._entries:  # the module registered it under its plain name
                return self._entries[attribute]
            obj = getattr(module, attribute, None)
            if obj is None:
                raise plugins.PluginError(
                    f"module {module_name!r} has no {self.kind} {attribute!r}: it neither registers one under that "
                    f"name nor defines it.{did_you_mean(attribute, [a for a in dir(module) if a[:1] != '_'])}")
            registered = [k for k, v in self._entries.items() if v is obj]
            if registered:
                return self._entries[registered[0]]
            self._check_base(reference, obj)
            self._entries[reference] = obj
            return obj

    def _check_base(self, reference: str, obj: Any) -> None:
        if self.base is None:
            return
        module_name, _, class_name = self.base.partition(":")
        base = getattr(importlib.import_module(module_name), class_name)
        if not (isinstance(obj, type) and issubclass(obj, base)):
            raise plugins.PluginError(f"{reference!r} is not a {self.kind}: a {self.kind} subclasses "
                                      f"{base.__module__}.{base.__qualname__}")

    def names(self) -> list[str]:
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def items(self) -> list[tuple[str, T]]:
        return [(k, self._entries[k]) for k in self.names()]
