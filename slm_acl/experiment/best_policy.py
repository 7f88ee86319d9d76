"""A session's best policy: which of its evaluations scored highest, so that its checkpoint is kept.

The score is judged per session, after every step in which a body evaluated, from each body's latest
evaluation (once every body has one): the mean over bodies of their % of the test set mastered, ties
broken by the mean over bodies of their mean evaluation return. A session with a body that has no
success threshold (no curriculum, or no `success_return`) is judged by that mean evaluation return
alone. It is one number per session, not one per body, because a checkpoint holds the whole agent: a
multi-body agent is kept as a whole, and the plain mean weighs every body's test set alike whatever
its size. A strictly higher score replaces the record; a tie keeps the earlier checkpoint.

The record (what scored, at which frames) goes into every checkpoint, so a resumed session judges
against the best before the kill; the session writes it beside the best checkpoint as JSON too.
"""
from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

from slm_acl.spec.run_spec import BodyPlan


class BestPolicy:
    """The record to beat and each body's latest evaluation."""

    def __init__(self, labels: Sequence[str], by_mastered: bool):
        self.labels = list(labels)
        self.metric = "mastered" if by_mastered else "mean_return"
        self.latest: dict[str, dict[str, float]] = {}
        self.record: dict[str, Any] | None = None

    @classmethod
    def for_plans(cls, plans: Sequence[BodyPlan]) -> "BestPolicy":
        """% mastered when every body has a success threshold, else the mean evaluation return."""
        by_mastered = all(p.curriculum is not None and p.curriculum.success_return is not None for p in plans)
        return cls([p.label for p in plans], by_mastered)

    def observe(self, label: str, frame: int, summary: Mapping[str, float]) -> None:
        """A body's evaluation (`EvalResult.summary()`) at its frame."""
        self.latest[label] = {"frame": int(frame), "mastered": float(summary["mastered"]),
                              "mean_return": float(summary["mean_return"])}

    def improved(self) -> bool:
        """Whether the bodies' latest evaluations beat the record; if so they become the record."""
        if set(self.latest) != set(self.labels):
            return False
        candidate = self._score({label: self.latest[label] for label in self.labels})
        if self.record is not None and _key(candidate) <= _key(self.record):
            return False
        self.record = candidate
        return True

    def _score(self, bodies: dict[str, dict[str, float]]) -> dict[str, Any]:
        mean_return = sum(b["mean_return"] for b in bodies.values()) / len(bodies)
        score = sum(b["mastered"] for b in bodies.values()) / len(bodies) if self.metric == "mastered" else mean_return
        return {"metric": self.metric, "score": score, "mean_return": mean_return,
                "frame": min(b["frame"] for b in bodies.values()), "bodies": {k: dict(v) for k, v in bodies.items()}}

    def state_dict(self) -> dict[str, Any]:
        return {"latest": {k: dict(v) for k, v in self.latest.items()},
                "record": None if self.record is None else {**self.record,
                                                            "bodies": {k: dict(v) for k, v in
                                                                       self.record["bodies"].items()}}}

    def load_state_dict(self, state: Mapping[str, Any] | None) -> None:
        """A checkpoint's record (None in one written before best policies were kept: nothing to beat yet)."""
        state = state or {}
        self.latest = {k: dict(v) for k, v in state.get("latest", {}).items()}
        self.record = state.get("record")


def _key(record: Mapping[str, Any]) -> tuple[float, ...]:
    """What is compared: (% mastered, mean return) or (mean return,); NaN counts as the worst score."""
    values = (record["score"], record["mean_return"]) if record["metric"] == "mastered" else (record["score"],)
    return tuple(-math.inf if math.isnan(v) else v for v in values)
