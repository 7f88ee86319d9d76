"""A search's progress as one display over all its trials: frames done of the search's budget, fps, ETA.

A Tune callback in the driver: each trial's reports carry the frame its sessions have all reached
(`TIME_ATTR`), so a trial's frames are that fraction of its budget (sessions x bodies x max_frame); a
trial that ended (finished, stopped early by a scheduler, or failed) counts its whole budget, since
nothing of it is left to run. Progress is recomputed from Tune's list of trials each time, so a
restored search counts the trials it had finished. How it shows is `lib.progress.FrameProgress`'s rule:
on a terminal one bar (Tune's own status tables are then turned off, they would tear it); elsewhere a
line when a trial ends and at most every minute.
"""
from __future__ import annotations

from typing import Any

from ray import tune

from slm_acl.experiment.search.scoring import SCORE, TIME_ATTR
from slm_acl.lib import logger as logging_lib
from slm_acl.lib.progress import FrameProgress
from slm_acl.spec.validate import RunSpec

log = logging_lib.get_logger("search")

ENDED = ("TERMINATED", "ERROR")


class SearchProgress(tune.Callback):
    """Frames done over every trial of a search of `n_trials` trials."""

    def __init__(self, run: RunSpec, n_trials: int, bar: bool | None = None):
        meta = run.spec.meta
        self.last_frame = max(e.max_frame for e in run.spec.env)  # a trial's reports end at this frame
        self.trial_budget = meta.max_session * sum(run.spec.env[p.e].max_frame for p in run.bodies)
        self.n_trials, self.bar = n_trials, bar
        self.display: FrameProgress | None = None  # made at the first report: Tune pickles its callbacks

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "display": None}

    def _show(self, trials: list[Any], force: bool, ending: Any = None, status: str = "") -> None:
        """`ending`: the trial a callback reports as ended with `status` (Tune may set its status after)."""
        statuses = {id(t): status if t is ending else t.status for t in trials}
        done = int(sum(self._frames(t, statuses[id(t)]) for t in trials))
        if self.display is None:  # what was done before the first report (a restored search) makes no rate
            self.display = FrameProgress(self.n_trials * self.trial_budget, "search", initial=done, bar=self.bar,
                                         log=log)
        ended = sum(s in ENDED for s in statuses.values())
        failed = sum(s == "ERROR" for s in statuses.values())
        note = f"{ended}/{self.n_trials} trials done ({failed} failed)"
        scores = [t.last_result.get(SCORE) for t in trials if t.last_result]
        best = max((s for s in scores if isinstance(s, (int, float)) and s == s), default=None)  # s == s: not NaN
        if best is not None:
            note += f", best score {best:.3g}"
        self.display.update(done, note, force=force)
        if ended >= self.n_trials:
            self.display.close()

    def _frames(self, trial: Any, status: str) -> float:
        if status in ENDED:
            return self.trial_budget
        frame = (trial.last_result or {}).get(TIME_ATTR, 0) or 0
        return self.trial_budget * min(float(frame) / self.last_frame, 1.0)

    def on_trial_result(self, iteration: int, trials: list, trial: Any, result: dict, **info: Any) -> None:
        self._show(trials, force=False)

    def on_trial_complete(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        self._show(trials, force=True, ending=trial, status="TERMINATED")

    def on_trial_error(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        self._show(trials, force=True, ending=trial, status="ERROR")

    def on_experiment_end(self, trials: list, **info: Any) -> None:
        if self.display is not None:
            self.display.close()
