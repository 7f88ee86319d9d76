"""A search's progress over its trials, from Tune's trial list (no Ray needed: trials are stand-ins)."""
from __future__ import annotations

import logging
import pickle
from types import SimpleNamespace

from conftest import make_raw

from slm_acl.experiment.search.progress import SearchProgress
from slm_acl.spec import validate


def trial(status: str, frame: int | None = None, score: float | None = None) -> SimpleNamespace:
    result = {} if frame is None else {"frame": frame, "score": score}
    return SimpleNamespace(status=status, last_result=result)


def test_trials_count_their_reported_frames_and_ended_trials_their_whole_budget(caplog):
    run = validate(make_raw(meta={"max_session": 2}))  # a trial: 2 sessions x 2,000 frames
    progress = SearchProgress(run, n_trials=3, bar=False)
    progress = pickle.loads(pickle.dumps(progress))  # Tune pickles its callbacks with the run config
    a, b, c = trial("RUNNING", 1000, 25.0), trial("RUNNING", 500, 50.0), trial("PENDING")
    with caplog.at_level(logging.INFO, logger="slm_acl.search"):
        progress.on_trial_result(0, [a, b, c], a, {})
        assert progress.display.done == 2000 + 1000
        progress.on_trial_complete(0, [a, b, c], a)  # stopped early by the scheduler: nothing of it left to run
        a.status, b.status = "TERMINATED", "ERROR"
        progress.on_trial_error(0, [a, b, c], b)
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2  # a line when a trial ends
    assert lines[0].startswith("search: 1/3 trials done (0 failed), best score 50, 5,000 of 12,000 frames")
    assert lines[1].startswith("search: 2/3 trials done (1 failed), best score 50, 8,000 of 12,000 frames")
