"""The process-pool executor: sessions in `spawn`ed worker processes on this machine (train mode).

Each worker is a fresh process pinned to `meta.num_threads` BLAS / torch threads (set in its
environment before numpy or torch load, and again at run time), so parallel sessions never
oversubscribe the cores. With one worker the sessions run one after another in this process: no
start-up cost, and the caller's logging (dev mode's DEBUG) and signals apply to them.

Closing the event stream early cancels the sessions not started yet and waits for the running ones
(a process pool cannot stop its workers; each session checkpoints and resumes). In this process a
streaming session's thread goes on until the session ends.

Evaluations, when asked for, come back through a manager queue: a put returns once the item is
stored, so every evaluation of a session is drained before its outcome is handed on. The pool takes
jobs in the order they were submitted, so a job starts when an earlier one ends (`Started`).

A job goes to its worker, and its outcome comes back, as pickled bytes that the other side unpickles inside
a `try`: the pool itself only ever carries bytes. An object that does not survive the trip (a job whose
classes the worker cannot import, an error that does not unpickle here) then becomes that session's
`SessionFailure`, with its own error, instead of a `BrokenProcessPool` that would fail every session.
"""
from __future__ import annotations

import concurrent.futures as cf
import dataclasses
import logging
import multiprocessing as mp
import pickle
import queue as queue_lib
import traceback
from typing import Any, Generator, Sequence

from slm_acl.experiment.runner.job import (Ended, Evaluated, Outcome, SessionEvent, SessionFailure, SessionJob,
                                           Started)
from slm_acl.experiment.runner.worker import run_job, stream_job
from slm_acl.lib import logger as logging_lib
from slm_acl.lib.progress import wants_bar
from slm_acl.lib.threads import pin_threads, thread_env

POLL_S = 0.2  # how often the driver looks for evaluations while it waits for sessions to end


@dataclasses.dataclass(frozen=True)
class _Raised:
    """An error outside a session (pickling its job or its outcome, unpickling its job), as text."""

    error_type: str
    message: str
    traceback: str

    @classmethod
    def of(cls, err: BaseException) -> "_Raised":
        return cls(type(err).__name__, str(err), "".join(traceback.format_exception(type(err), err, err.__traceback__)))


def _payload(job: SessionJob) -> bytes:
    """The job pickled for its worker; a job that does not pickle sends its error instead, to come back as its
    outcome."""
    try:
        return pickle.dumps(job)
    except Exception as err:  # noqa: BLE001 - the session's failure, not the trial's
        return pickle.dumps(_Raised.of(err))


def _worker(payload: bytes, index: int, evals: Any) -> bytes:
    """A worker process's session (the pickled job in `payload`): threads pinned, evaluations to `evals`;
    returns the pickled outcome, or a pickled `_Raised` when the job or its outcome did not make the trip.

    On a terminal each worker shows its session's progress bar (in the row of its session index) and prints
    only warnings, which would otherwise tear the other workers' bars; elsewhere its log lines go to the
    console at INFO. Its log file gets INFO either way."""
    try:
        job = pickle.loads(payload)
        if isinstance(job, _Raised):
            return payload
        pin_threads(job.run.spec.meta.num_threads)
        bar = wants_bar()
        if bar:
            logging_lib.get_logger("slm_acl").setLevel(logging.INFO)
            logging_lib.add_warning_console()
        else:
            logging_lib.setup_console()
        on_eval = None if evals is None else (lambda e: evals.put((index, e)))
        return pickle.dumps(run_job(job, on_eval=on_eval, progress=bar))
    except Exception as err:  # noqa: BLE001 - sent back as text, which always pickles
        return pickle.dumps(_Raised.of(err))


def _outcome(job: SessionJob, future: cf.Future) -> Outcome:
    """The outcome a worker sent back for `job`; any way it did not arrive is the session's failure."""
    try:
        item = pickle.loads(future.result())
    except Exception as err:  # noqa: BLE001 - the worker died (killed, out of memory) or its outcome did not unpickle
        return SessionFailure.from_exception(job, err)
    if isinstance(item, _Raised):
        return SessionFailure(job.name, job.trial, job.session, item.error_type, item.message, item.traceback)
    return item


class ProcessExecutor:
    """Up to `parallel` sessions at once in worker processes of `num_threads` threads each."""

    def __init__(self, parallel: int, num_threads: int):
        self.parallel, self.num_threads = max(1, parallel), num_threads

    def run(self, jobs: Sequence[SessionJob], evaluations: bool) -> Generator[SessionEvent, None, None]:
        if not jobs:
            return
        if self.parallel == 1:
            yield from self._inline(jobs, evaluations)
        else:
            yield from self._pool(jobs, evaluations)

    def _inline(self, jobs: Sequence[SessionJob], evaluations: bool) -> Generator[SessionEvent, None, None]:
        pin_threads(self.num_threads)
        for job in jobs:
            yield Started(job)
            if not evaluations:  # in this thread: a debugger, Ctrl-C and tests see the session itself
                yield Ended(job, run_job(job, progress=None))
                continue
            for item in stream_job(job, progress=None):
                yield Evaluated(job, item) if isinstance(item, dict) else Ended(job, item)

    def _pool(self, jobs: Sequence[SessionJob], evaluations: bool) -> Generator[SessionEvent, None, None]:
        context = mp.get_context("spawn")
        manager = context.Manager() if evaluations else None
        evals = manager.Queue() if manager is not None else None
        started: set[int] = set()

        def start(k: int) -> Generator[Started, None, None]:
            if k not in started:
                started.add(k)
                yield Started(jobs[k])

        try:
            with thread_env(self.num_threads):  # workers start as jobs are submitted: all of them, here
                pool = cf.ProcessPoolExecutor(min(self.parallel, len(jobs)), mp_context=context)
                futures = {pool.submit(_worker, _payload(job), k, evals): k for k, job in enumerate(jobs)}
            try:
                for k in range(min(self.parallel, len(jobs))):
                    yield from start(k)
                while futures:
                    done, _ = cf.wait(futures, timeout=POLL_S if evals is not None else None,
                                      return_when=cf.FIRST_COMPLETED)
                    for k, evaluation in _drain(evals):
                        yield from start(k)
                        yield Evaluated(jobs[k], evaluation)
                    for future in sorted(done, key=futures.__getitem__):
                        k = futures.pop(future)
                        outcome = _outcome(jobs[k], future)
                        yield from start(k)
                        yield Ended(jobs[k], outcome)
                        queued = next((q for q in range(len(jobs)) if q not in started), None)
                        if queued is not None:  # the freed worker takes the next job in submission order
                            yield from start(queued)
            finally:
                pool.shutdown(wait=True, cancel_futures=True)
        finally:
            if manager is not None:
                manager.shutdown()


def _drain(evals: Any) -> Generator[tuple[int, dict], None, None]:
    if evals is None:
        return
    while True:
        try:
            yield evals.get_nowait()
        except queue_lib.Empty:
            return
