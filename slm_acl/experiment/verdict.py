"""Whether a run failed as a whole: the one rule the command line (and a schedule) turn into an exit code.

A mode hands back its result even when trials or sessions of it failed, each recorded with its own error
(a search's experiment_df, a benchmark's benchmark_df), so that a caller still gets the tables. A result
that can fail as a whole says so with a `total_failure()` method: one line when every trial or session of
the run failed, None when anything ran. `total_failure(result)` asks any mode's result, so no caller needs
to know which mode made it. (A train run raises `TrialError` as soon as one session fails, and a campaign
`BenchmarkError`: an exception is a failed run already.)
"""
from __future__ import annotations

from typing import Any, Protocol, Sequence, runtime_checkable


@runtime_checkable
class Judged(Protocol):
    """A mode's result that can say it failed as a whole."""

    def total_failure(self) -> str | None:
        """One line when every trial or session failed (how many, the first error), else None."""
        ...


def total_failure(result: Any) -> str | None:
    """`result.total_failure()` for a result that can tell; None for one that cannot (an analysis, a list)."""
    return result.total_failure() if isinstance(result, Judged) else None


def all_failed(noun: str, errors: Sequence[str]) -> str | None:
    """`all N {noun} failed; first error: ...` when every one of `errors` (one per trial or session, in order,
    "" for one that did not fail) is an error; None when any did not fail, or there are none."""
    if not errors or not all(errors):
        return None
    return f"all {len(errors)} {noun} failed; first error: {errors[0]}"
