"""What a running campaign tells its user: sessions done of the total, frames per second, an ETA.

Frames come from the sessions' evaluations (streamed while they train) and from their ends, over the
sessions this invocation runs (a resumed campaign leaves out the sessions it found finished; a session
it resumes counts the frames of its checkpoint too, which flatters the rate until its first
evaluation). A line is logged when a session ends and at most every `every_s` seconds otherwise.
"""
from __future__ import annotations

import time
from typing import Sequence

from slm_acl.experiment.runner.job import SessionJob
from slm_acl.lib import logger as logging_lib

log = logging_lib.get_logger("benchmark")


def _budget(job: SessionJob) -> int:
    return sum(job.run.spec.env[p.e].max_frame for p in job.run.bodies)


def _count(n: float) -> str:
    return f"{n / 1e6:.1f}M" if n >= 1e5 else f"{n:,.0f}"


class Progress:
    def __init__(self, jobs: Sequence[SessionJob], total_sessions: int, done_before: int, every_s: float = 60.0):
        self.total_sessions, self.done, self.failed = total_sessions, done_before, 0
        self.total_frames = sum(_budget(j) for j in jobs)
        self.frames: dict[str, dict[str, int]] = {j.name: {} for j in jobs}
        self.budgets = {j.name: _budget(j) for j in jobs}
        self.start = self.last_line = time.perf_counter()
        self.every_s = every_s

    def frames_done(self) -> int:
        return sum(sum(bodies.values()) for bodies in self.frames.values())

    def evaluated(self, job: SessionJob, evaluation: dict) -> None:
        self.frames[job.name][evaluation["body"]] = int(evaluation["frame"])
        if time.perf_counter() - self.last_line >= self.every_s:
            self.report()

    def ended(self, job: SessionJob, failed: bool) -> None:
        self.done += 1
        self.failed += int(failed)
        if not failed:
            self.frames[job.name] = {"all": self.budgets[job.name]}
        self.report()

    def line(self) -> str:
        elapsed = max(time.perf_counter() - self.start, 1e-9)
        frames = self.frames_done()
        rate = frames / elapsed
        left = max(self.total_frames - frames, 0)
        eta = f"ETA {left / rate / 60:.0f} min" if rate > 0 and left else ("done" if not left else "ETA -")
        return (f"benchmark: {self.done}/{self.total_sessions} sessions done ({self.failed} failed), "
                f"{_count(frames)} of {_count(self.total_frames)} frames, {rate:,.0f} frames/s, {eta}")

    def report(self) -> None:
        self.last_line = time.perf_counter()
        log.info(self.line())
