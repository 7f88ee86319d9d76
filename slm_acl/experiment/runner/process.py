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
"""
from __future__ import annotations

import concurrent.futures as cf
import logging
import multiprocessing as mp
import queue as queue_lib
from typing import Any, Generator, Sequence

from slm_acl.experiment.runner.job import Ended, Evaluated, SessionEvent, SessionFailure, SessionJob, Started
from slm_acl.experiment.runner.worker import run_job, stream_job
from slm_acl.lib import logger as logging_lib
from slm_acl.lib.progress import wants_bar
from slm_acl.lib.threads import pin_threads, thread_env

POLL_S = 0.2  # how often the driver looks for evaluations while it waits for sessions to end


def _worker(job: SessionJob, index: int, evals: Any) -> Any:
    """A worker process's session: threads pinned, evaluations to `evals`. On a terminal each worker shows its
    session's progress bar (in the row of its session index) and prints only warnings, which would otherwise
    tear the other workers' bars; elsewhere its log lines go to the console at INFO. Its log file gets INFO
    either way."""
    pin_threads(job.run.spec.meta.num_threads)
    bar = wants_bar()
    if bar:
        logging_lib.get_logger("slm_acl").setLevel(logging.INFO)
        logging_lib.add_warning_console()
    else:
        logging_lib.setup_console()
    on_eval = None if evals is None else (lambda e: evals.put((index, e)))
    return run_job(job, on_eval=on_eval, progress=bar)


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
                futures = {pool.submit(_worker, job, k, evals): k for k, job in enumerate(jobs)}
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
                        try:
                            outcome = future.result()
                        except Exception as err:  # noqa: BLE001 - the worker died (killed, out of memory)
                            outcome = SessionFailure.from_exception(jobs[k], err)
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
