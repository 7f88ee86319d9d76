"""Running a list of session jobs on an executor, and recording how each one ended.

Train (a process pool on this machine), search (Ray tasks inside a Tune trial) and the benchmark all
go through `run_sessions`: the executor runs the jobs and streams back evaluations (when asked) and
outcomes; this module records each outcome the one way there is. A failure is logged and written to
`info/{spec}_t{i}_s{j}_error.json` (type, message, traceback); a session that later finishes (a
resumed run) removes its stale record. What to do about a failure (go on, or give up on a search
trial) is the caller's choice: the runner never stops the other sessions by itself.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Generator, Iterator, Protocol, Sequence

from slm_acl.experiment.paths import RunPaths
from slm_acl.experiment.runner.job import Ended, Outcome, SessionEvent, SessionFailure, SessionJob
from slm_acl.lib import logger as logging_lib
from slm_acl.lib.io import write_json

log = logging_lib.get_logger("runner")


class Executor(Protocol):
    """Runs session jobs somewhere (local processes, Ray tasks)."""

    def run(self, jobs: Sequence[SessionJob], evaluations: bool) -> Generator[SessionEvent, None, None]:
        """Run every job, yielding for each one `Started`, then its `Evaluated` events as they happen
        (only when `evaluations`), then `Ended`. Closing the iterator early cancels the jobs not
        started yet; what happens to running ones is the executor's (Ray cancels its tasks; the process
        pool lets running sessions finish, each checkpointed and resumable)."""
        ...


def failure_file(paths: RunPaths, trial: int, session: int) -> Path:
    return paths.info(f"{paths.prename(trial, session)}_error.json")


def record_outcome(event: Ended) -> None:
    """Log and write a failure record; clear the record of an earlier attempt when the session finished."""
    job = event.job
    path = failure_file(job.paths, job.trial, job.session)
    if isinstance(event.outcome, SessionFailure):
        write_json(path, dataclasses.asdict(event.outcome))
        log.error(f"{job.name} failed: {event.outcome.line()} (traceback in {path})")
        log.debug(f"{job.name} traceback:\n{event.outcome.traceback}")
    else:
        path.unlink(missing_ok=True)


def run_sessions(jobs: Sequence[SessionJob], executor: Executor,
                 evaluations: bool = False) -> Iterator[SessionEvent]:
    """Run `jobs` on `executor`; yield its events after recording each outcome.

    Close the iterator (or leave a `with contextlib.closing(...)` block) to cancel the jobs not started
    yet (see `Executor.run` for running ones).
    """
    names = [job.name for job in jobs]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f"session jobs {repeated} appear more than once: they would write the same files")
    events = executor.run(list(jobs), evaluations)
    try:
        for event in events:
            if isinstance(event, Ended):
                record_outcome(event)
            yield event
    finally:
        events.close()


def run_to_end(jobs: Sequence[SessionJob], executor: Executor) -> list[Outcome]:
    """Every job's outcome, in the order of `jobs` (train's trial: no evaluations streamed)."""
    outcomes: dict[str, Outcome] = {}
    for event in run_sessions(jobs, executor):
        if isinstance(event, Ended):
            outcomes[event.job.name] = event.outcome
    return [outcomes[job.name] for job in jobs]
