"""The Ray executor: each session a Ray generator task (search's trials; the benchmark, on a cluster too).

A task asks for `meta.resources` (CPUs, default `meta.num_threads`; GPUs) and pins its BLAS / torch
threads to `meta.num_threads`. Inside a Tune trial, the tasks land in the trial's placement group,
so Ray never runs more sessions on a node than it has cores for. The task streams each evaluation
back while the session trains (`stream_job`), then its outcome. Tasks are never retried: a session
that dies is recorded as failed, not restarted behind the caller's back with repeated evaluations.
"""
from __future__ import annotations

import logging
import os
from typing import Any, Generator, Iterator, Sequence

import ray

from slm_acl.experiment.runner.job import Ended, Evaluated, SessionEvent, SessionFailure, SessionJob, Started
from slm_acl.experiment.runner.worker import stream_job
from slm_acl.lib import logger as logging_lib
from slm_acl.lib.error_text import root_cause
from slm_acl.lib.threads import pin_threads
from slm_acl.spec.model import MetaSpec

log = logging_lib.get_logger("runner")


def session_cpus(meta: MetaSpec) -> float:
    """CPUs one session task asks Ray for."""
    return meta.resources.cpu if meta.resources.cpu is not None else float(meta.num_threads)


class RayAuthError(ConnectionError):
    """A Ray cluster with token authentication refused this driver."""


def _refused_token(err: BaseException) -> bool:
    """Whether Ray's connection error comes from a missing or wrong token (Ray's AuthenticationError, >= 2.52)."""
    seen: BaseException | None = err
    while seen is not None:
        if type(seen).__name__ == "AuthenticationError" or "InvalidAuthToken" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def connect(ray_address: str | None) -> bool:
    """Attach to `ray_address` (or RAY_ADDRESS), else start Ray on this machine's cores.

    A cluster started with token authentication (Ray >= 2.52; `ray start` turns it on when a token exists)
    accepts a driver only when the driver's environment has RAY_AUTH_MODE=token and the cluster's token
    (~/.ray/auth_token, RAY_AUTH_TOKEN_PATH or RAY_AUTH_TOKEN). Ray reads them itself; nothing is passed
    here. Ray never sends a token to an address given explicitly unless RAY_AUTH_MODE=token says so, so a
    refusal is turned into one line that names the fix.

    Returns whether Ray is a single machine (then a trial bigger than it can never start).

    Raises:
        RayAuthError: the cluster refused this driver's token (or the lack of one).
    """
    if ray.is_initialized():
        if ray_address:
            log.warning(f"Ray is already running in this process; --ray-address {ray_address} is not used")
    else:
        try:
            ray.init(address=ray_address, log_to_driver=True, include_dashboard=False)
        except Exception as err:
            if not _refused_token(err):
                raise
            address = ray_address or os.environ.get("RAY_ADDRESS", "auto")
            mode = os.environ.get("RAY_AUTH_MODE", "unset")
            raise RayAuthError(
                f"the Ray cluster at {address} uses token authentication and refused this driver (RAY_AUTH_MODE is "
                f"{mode} here): export RAY_AUTH_MODE=token with the cluster's token in ~/.ray/auth_token (or "
                "RAY_AUTH_TOKEN_PATH=FILE, or RAY_AUTH_TOKEN); see the README, 'On a Ray cluster'") from None
    alive = [n for n in ray.nodes() if n.get("Alive")]
    return len(alive) <= 1 and not (ray_address or os.environ.get("RAY_ADDRESS"))


def _session_task(job: SessionJob) -> Iterator[Any]:
    pin_threads(job.run.spec.meta.num_threads)
    logging.getLogger("slm_acl").setLevel(logging.INFO)  # INFO to the session's log file
    logging_lib.add_warning_console()  # warnings and errors to the worker's stderr, which Ray shows the driver
    yield from stream_job(job)


_remote_session = ray.remote(_session_task)


class RayExecutor:
    """Up to `parallel` sessions at once as Ray tasks (further ones start as running ones end)."""

    def __init__(self, parallel: int):
        self.parallel = max(1, parallel)

    def run(self, jobs: Sequence[SessionJob], evaluations: bool) -> Generator[SessionEvent, None, None]:
        waiting = list(jobs)
        streams: dict[Any, SessionJob] = {}
        try:
            while streams or waiting:
                while waiting and len(streams) < self.parallel:
                    job = waiting.pop(0)
                    meta = job.run.spec.meta
                    task = _remote_session.options(num_cpus=session_cpus(meta), num_gpus=meta.resources.gpu,
                                                   max_retries=0)
                    streams[task.remote(job)] = job
                    yield Started(job)
                ready, _ = ray.wait(list(streams), num_returns=1)
                for stream in ready:
                    job = streams[stream]
                    try:
                        item = ray.get(next(stream))
                    except StopIteration:  # the outcome came first: nothing is left in this stream
                        del streams[stream]
                        continue
                    except Exception as err:  # noqa: BLE001 - the task or its worker died
                        del streams[stream]
                        yield Ended(job, SessionFailure.from_exception(job, root_cause(err)))
                        continue
                    if isinstance(item, dict):
                        if evaluations:
                            yield Evaluated(job, item)
                    else:
                        yield Ended(job, item)
        finally:
            for stream in streams:
                ray.cancel(stream, force=True)
