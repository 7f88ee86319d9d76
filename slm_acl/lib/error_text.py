"""An error as one line of text: its own type name and message, never the text of a wrapper around it.

An error raised in a worker comes back wrapped: Ray's `RayTaskError` (and the `RayTaskError(SpecError)`
classes Ray makes to be both at once) prints a whole traceback and keeps the worker's own exception in
`.cause`. Tables (a search's experiment_df, a benchmark's benchmark_df), failure records and the command
line's last line show the cause itself, e.g. `SpecError: spec error at env[0].max_t: ...`, so a reader sees
what went wrong without opening a traceback.
"""
from __future__ import annotations

import re

# a traceback's last line: `pkg.module.ErrorType: message`
_ERROR_LINE = re.compile(r"^(?:[A-Za-z_]\w*\.)*(?P<type>[A-Za-z_]\w*): (?P<message>.+)$")


def root_cause(err: BaseException) -> BaseException:
    """The exception a wrapper carries (`.cause`, as Ray's task errors keep it), followed to the innermost;
    `err` itself when it wraps nothing. Python's own chaining (`__cause__`) is not followed: a lab error
    raised `from` another already says, in its own message, what the other meant."""
    seen = {id(err)}
    while True:
        cause = getattr(err, "cause", None)
        if not isinstance(cause, BaseException) or id(cause) in seen:
            return err
        seen.add(id(cause))
        err = cause


def one_line(text: str) -> str:
    """`text` with its lines joined by single spaces (a table cell, a log line)."""
    return " ".join(line.strip() for line in text.splitlines() if line.strip())


def error_line(err: BaseException) -> str:
    """`ErrorType: message` of the error `err` stands for (its root cause), on one line."""
    root = root_cause(err)
    if _is_ray_task_error(root):  # a wrapper that kept no cause (it did not unpickle): its text ends with the error
        found = _last_error_line(str(root))
        if found is not None:
            return found
    message = one_line(str(root))
    return f"{type(root).__name__}: {message}" if message else type(root).__name__


def _is_ray_task_error(err: BaseException) -> bool:
    return any(c.__name__ == "RayTaskError" and c.__module__.startswith("ray.") for c in type(err).__mro__)


def _last_error_line(text: str) -> str | None:
    """The last `ErrorType: message` line of a traceback dump, the type without its module path."""
    for line in reversed(text.splitlines()):
        match = _ERROR_LINE.match(line) if line[:1].strip() else None  # an indented line is the traceback's code
        if match:
            return f"{match['type']}: {match['message'].strip()}"
    return None
