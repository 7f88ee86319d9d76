"""A search trial as a Tune function trainable: the sampled spec's sessions on Ray, reported as they evaluate.

The trial takes its number (`TrialIndex`), validates its spec once (the base spec with Tune's sampled
values: a value the spec refuses fails the trial with its `SpecError`), and hands its sessions to the
session runner as Ray tasks. Every evaluation streams back; once every started session has reached a
frame, the trial reports the mean score there to Tune, so a scheduler (ASHA) can stop it early. A
session that fails fails the trial (its score would be a mean over fewer seeds): the runner records
the failure, the other sessions are cancelled, and Tune records the trial's error while the other
trials go on.
"""
from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

from ray import tune

from slm_acl.experiment.paths import RunPaths
from slm_acl.experiment.resolved import write_resolved_spec
from slm_acl.experiment.runner import Ended, Evaluated, SessionFailure, Started, run_sessions
from slm_acl.experiment.runner.ray_tasks import RayExecutor
from slm_acl.experiment.search.scoring import RESULT_COLUMNS, SCORE, TIME_ATTR, EvalBoard, trial_score
from slm_acl.experiment.search.trial_index import TrialIndex
from slm_acl.experiment.search.wiring import parallel_sessions, trial_resources
from slm_acl.experiment.trial import analyse_trial, trial_jobs
from slm_acl.spec import search_space
from slm_acl.spec.validate import RunSpec, validate

SEED_TRIAL = 0  # every trial's sessions take trial 0's seeds: trials differ by their searched values only,
# and `{spec}_best_spec.json` rerun in train mode (trial 0) replays the best trial's seeds


class SessionFailed(RuntimeError):
    """A session of a search trial failed; the message is the session's name and its error."""


def run_search_trial(config: dict[str, Any], base_raw: dict, predir: str) -> None:
    # the number first: a trial whose values the spec refuses still has its index in experiment_df
    trial = TrialIndex(Path(predir)).claim(tune.get_context().get_trial_id(), config)
    run = validate(search_space.apply(base_raw, config))
    paths = RunPaths(Path(predir), run.name)
    write_resolved_spec(run, paths, trial)
    meta = run.spec.meta
    jobs = trial_jobs(run, paths, trial, "train", seed_trial=SEED_TRIAL)
    board = EvalBoard({p.label: run.spec.env[p.e].max_frame for p in run.bodies})
    last_frame = max(e.max_frame for e in run.spec.env)
    events = run_sessions(jobs, RayExecutor(parallel_sessions(meta)), evaluations=True)
    with contextlib.closing(events):  # leaving early (a failure, Tune stopping the trial) cancels the sessions
        for event in events:
            if isinstance(event, Started):
                board.start(event.job.session)
            elif isinstance(event, Evaluated):
                board.add(event.evaluation)
            elif isinstance(event, Ended):
                if isinstance(event.outcome, SessionFailure):
                    raise SessionFailed(f"{event.job.name} failed: {event.outcome.line()}")
                board.finish(event.job.session)
            for report in board.ready_rounds():
                if report[TIME_ATTR] < last_frame:  # the last evaluation is reported with the trial's metrics
                    tune.report({"trial": trial, **report})
    metrics = analyse_trial(run, paths, trial, [job.session for job in jobs])
    final = {"trial": trial, TIME_ATTR: last_frame,
             **{c: metrics.get(c, float("nan")) for c in RESULT_COLUMNS}, "complete": True}
    final[SCORE] = trial_score(final)
    tune.report(final)


def make_trainable(run: RunSpec, predir: Path) -> Any:
    """`run_search_trial` bound to the base spec and run folder, with its placement group."""
    fn = tune.with_parameters(run_search_trial, base_raw=run.raw, predir=str(predir.resolve()))
    return tune.with_resources(fn, trial_resources(run.spec.meta))
