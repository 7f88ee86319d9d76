"""Name -> class registries, one per kind of component (algorithm, net, memory, teacher ...).

Components register themselves with a decorator; the spec validator and the builders look them up
by name. An unknown name raises `UnknownNameError`, which lists the registered names and the
closest match, so a typo in a spec never reaches a deep traceback.
"""
from __future__ import annotations

import difflib
from typing import Callable, Generic, Iterable, Iterator, TypeVar

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


class Registry(Generic[T]):
    """A named collection of classes of one kind."""

    def __init__(self, kind: str):
        self.kind = kind
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
        try:
            return self._entries[name]
        except (KeyError, TypeError):
            raise UnknownNameError(self.kind, name, self.names()) from None

    def names(self) -> list[str]:
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def items(self) -> list[tuple[str, T]]:
        return [(k, self._entries[k]) for k in self.names()]
