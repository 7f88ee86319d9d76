"""The one body every executor runs for a session, wherever it runs.

`run_job` runs a session and turns any exception into a `SessionFailure`, so an executor only ever
hands back records. `stream_job` runs it in a thread and yields its evaluations as they happen, then
its outcome: a Ray generator task is made of it, and the local executor uses it when asked for
evaluations.
"""
from __future__ import annotations

import queue
import threading
from typing import Any, Iterator

from slm_acl.experiment.runner.job import Outcome, SessionFailure, SessionJob
from slm_acl.experiment.session import EvalListener, Session, SessionResult


def run_job(job: SessionJob, on_eval: EvalListener | None = None, progress: bool | None = False) -> Outcome:
    """Run one session (fresh, or from its checkpoint) and return its result or the record of its failure."""
    try:
        return Session(job.run, job.paths, job.trial, job.session, job.mode, progress=progress, on_eval=on_eval,
                       seed_trial=job.seed_trial).run_session()
    except Exception as err:  # noqa: BLE001 - every failure becomes a record; KeyboardInterrupt goes through
        return SessionFailure.from_exception(job, err)


def stream_job(job: SessionJob, progress: bool | None = False) -> Iterator[dict[str, Any] | Outcome]:
    """Yield each evaluation (a dict) as the session makes it, and its outcome last.

    The session runs in a thread so that its evaluations can be yielded while it trains.
    """
    events: queue.Queue = queue.Queue()

    def target() -> None:
        try:
            events.put(run_job(job, on_eval=events.put, progress=progress))
        except BaseException as err:  # noqa: BLE001 - e.g. SystemExit in the thread: still an outcome
            events.put(SessionFailure.from_exception(job, err))

    threading.Thread(target=target, name=f"session-{job.name}", daemon=True).start()
    while True:
        item = events.get()
        yield item
        if isinstance(item, (SessionResult, SessionFailure)):
            return
