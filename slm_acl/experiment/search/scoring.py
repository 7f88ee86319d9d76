"""A search trial's score: its sessions' evaluations lined up by frame and averaged into reports.

The score is the % mastered on the test set, or the return moving average for specs without a
curriculum. Every evaluation is reported as soon as every started session has reached its frame, so
a scheduler (ASHA) can stop a bad trial early.
"""
from __future__ import annotations

import math
from typing import Iterator

import numpy as np

SCORE = "score"
TIME_ATTR = "frame"
RESULT_COLUMNS = ["mastered", "eval_mean_return", "return_ma"]


class EvalBoard:
    """Collects the sessions' evaluations and yields the trial's report at each evaluation frame.

    Frame F is reported once every started (session, body) still training has evaluated at F or later;
    a body that reached its max_frame, or a session that ended, no longer holds a frame back, and a
    session not started yet (meta.max_parallel) is not waited for. Each report averages, per
    (session, body), the latest evaluation at or before F. Frames, not counts, line evaluations up, so
    a session resumed from a checkpoint (which repeats no evaluation) still lines up with the others.
    """

    def __init__(self, max_frames: dict[str, int]):
        self.max_frames = max_frames
        self.evals: dict[tuple[int, str], list[dict]] = {}
        self.finished: set[int] = set()
        self.last_frame = -1

    def start(self, session: int) -> None:
        for label in self.max_frames:
            self.evals.setdefault((session, label), [])

    def add(self, event: dict) -> None:
        self.evals.setdefault((event["session"], event["body"]), []).append(event)

    def finish(self, session: int) -> None:
        self.finished.add(session)

    def _holds_back(self, key: tuple[int, str], frame: int) -> bool:
        session, label = key
        events = self.evals[key]
        done = session in self.finished or (events and events[-1]["frame"] >= self.max_frames[label])
        return not done and (not events or events[-1]["frame"] < frame)

    def ready_rounds(self) -> Iterator[dict[str, float]]:
        frames = sorted({e["frame"] for v in self.evals.values() for e in v if e["frame"] > self.last_frame})
        for frame in frames:
            if any(self._holds_back(key, frame) for key in self.evals):
                return
            rows = [next(e for e in reversed(v) if e["frame"] <= frame) for v in self.evals.values()
                    if v and v[0]["frame"] <= frame]
            self.last_frame = frame
            yield round_report(rows, frame)


def round_report(rows: list[dict], frame: int) -> dict[str, float]:
    mastered = [r["mastered"] for r in rows if math.isfinite(r["mastered"])]
    report = {TIME_ATTR: int(frame),
              "mastered": float(np.mean(mastered)) if mastered else float("nan"),
              "eval_mean_return": float(np.mean([r["mean_return"] for r in rows])),
              "return_ma": float(np.nanmean([r["return_ma"] for r in rows]))}
    report[SCORE] = trial_score(report)
    return report


def trial_score(metrics: dict[str, float]) -> float:
    """% mastered on the test set when the trial has one, else the return moving average."""
    mastered = metrics.get("mastered", float("nan"))
    return float(mastered) if math.isfinite(mastered) else float(metrics.get("return_ma", float("nan")))
