"""What the session runner is given and what it hands back: jobs, failures and events, all picklable.

A job is everything one session needs, validated once by the driver: the `RunSpec` travels to the
worker as is (pickled), so no worker validates a raw dict again. A failure is a plain record (error
type, message, traceback text, the session's name), the same whether the session raised in a local
process, in a Ray task, or its worker died, so train, search and the benchmark record it one way.
"""
from __future__ import annotations

import dataclasses
import traceback
from typing import Any, Union

from slm_acl.experiment.paths import RunPaths
from slm_acl.experiment.session import SessionResult
from slm_acl.spec.validate import RunSpec


@dataclasses.dataclass(frozen=True)
class SessionJob:
    """One session to run: `seed_trial` is the trial its seeds derive from (a search's trials share trial 0's)."""

    run: RunSpec
    paths: RunPaths
    trial: int
    session: int
    seed_trial: int
    mode: str = "train"

    @property
    def name(self) -> str:
        """`{spec}_t{trial}_s{session}`: the prefix of the session's files, unique in its run folder."""
        return self.paths.prename(self.trial, self.session)


@dataclasses.dataclass(frozen=True)
class SessionFailure:
    """Why a session did not finish, as text (an exception object may not pickle or unpickle elsewhere)."""

    name: str
    trial: int
    session: int
    error_type: str
    message: str
    traceback: str

    @classmethod
    def from_exception(cls, job: SessionJob, err: BaseException) -> "SessionFailure":
        text = "".join(traceback.format_exception(type(err), err, err.__traceback__))
        return cls(job.name, job.trial, job.session, type(err).__name__, str(err), text)

    def line(self) -> str:
        """`ErrorType: message`, for logs and tables."""
        return f"{self.error_type}: {self.message}"


Outcome = Union[SessionResult, SessionFailure]


@dataclasses.dataclass(frozen=True)
class Started:
    """A session was handed to a worker (a search's score waits only for sessions that started)."""

    job: SessionJob


@dataclasses.dataclass(frozen=True)
class Evaluated:
    """A session evaluated one of its bodies (streamed while it trains; a search's scheduler needs them)."""

    job: SessionJob
    evaluation: dict[str, Any]  # session, body, frame, mastered, mean_return, return_ma


@dataclasses.dataclass(frozen=True)
class Ended:
    """A session ended: its result, or the record of its failure."""

    job: SessionJob
    outcome: Outcome

    @property
    def failed(self) -> bool:
        return isinstance(self.outcome, SessionFailure)


SessionEvent = Union[Started, Evaluated, Ended]
