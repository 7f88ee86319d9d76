"""What a running campaign tells its user: sessions done of the total, frames per second, an ETA.

Frames come from the sessions' evaluations (streamed while they train) and from their ends, over the
sessions this invocation runs (a resumed campaign leaves out the sessions it found finished; a session
it resumes counts the frames of its checkpoint too, which flatters the rate until its first
evaluation). How it is shown is `lib.progress.FrameProgress`'s rule: on a terminal one bar for the
whole campaign; elsewhere a line when a session ends and at most every `every_s` seconds otherwise.
"""
from __future__ import annotations

from typing import Sequence

from slm_acl.experiment.runner.job import SessionJob
from slm_acl.lib import logger as logging_lib
from slm_acl.lib.progress import FrameProgress

log = logging_lib.get_logger("benchmark")


def _budget(job: SessionJob) -> int:
    return sum(job.run.spec.env[p.e].max_frame for p in job.run.bodies)


class Progress:
    def __init__(self, jobs: Sequence[SessionJob], total_sessions: int, done_before: int, every_s: float = 60.0,
                 bar: bool | None = None):
        self.total_sessions, self.done, self.failed = total_sessions, done_before, 0
        self.to_end = len(jobs)  # sessions of this invocation still running or queued
        self.frames: dict[str, dict[str, int]] = {j.name: {} for j in jobs}
        self.budgets = {j.name: _budget(j) for j in jobs}
        self.display = FrameProgress(sum(self.budgets.values()), "benchmark", bar=bar, log=log, every_s=every_s)

    def frames_done(self) -> int:
        return sum(sum(bodies.values()) for bodies in self.frames.values())

    def evaluated(self, job: SessionJob, evaluation: dict) -> None:
        self.frames[job.name][evaluation["body"]] = int(evaluation["frame"])
        self.display.update(self.frames_done(), self._note())

    def ended(self, job: SessionJob, failed: bool) -> None:
        self.done += 1
        self.failed += int(failed)
        self.to_end -= 1
        if not failed:
            self.frames[job.name] = {"all": self.budgets[job.name]}
        self.display.update(self.frames_done(), self._note(), force=True)
        if self.to_end <= 0:
            self.display.close()

    def _note(self) -> str:
        return f"{self.done}/{self.total_sessions} sessions done ({self.failed} failed)"

    def line(self) -> str:
        """`benchmark: 3/24 sessions done (0 failed), 1.2M of 24.0M frames, 3,000 frames/s, ETA 20 min`."""
        return self.display.line()
