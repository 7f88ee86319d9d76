"""The one error type a bad spec raises: it names the path of the bad key and what is allowed."""
from __future__ import annotations

from typing import Any


class SpecError(ValueError):
    """A spec that cannot run. `path` is the dotted key path, e.g. `agent[0].algorithm.gamma`."""

    def __init__(self, path: str, message: str):
        self.path, self.message = path, message
        where = f" at {path}" if path else ""
        super().__init__(f"spec error{where}: {message}")

    def __reduce__(self) -> tuple[Any, ...]:
        # a spec error raised in a worker process (spawned session, Ray task) must reach the parent intact;
        # the default reduce would call SpecError(full_message) and miss `message`
        return type(self), (self.path, self.message)
