"""The session runner: one way to run a list of sessions, on local processes or on Ray.

    jobs = [SessionJob(run, paths, trial, session, seed_trial, mode), ...]
    for event in run_sessions(jobs, ProcessExecutor(parallel, num_threads)):   # or RayExecutor(parallel)
        ...  # Started(job); Evaluated(job, evaluation) as it trains (evaluations=True); Ended(job, outcome)

Every executor runs the same `worker.run_job` for a session; `driver.record_outcome` records every
failure the same way. `RayExecutor` lives in `runner.ray_tasks` (importing it imports Ray).
"""
from slm_acl.experiment.runner.driver import Executor, failure_file, record_outcome, run_sessions, run_to_end
from slm_acl.experiment.runner.job import (Ended, Evaluated, Outcome, SessionEvent, SessionFailure, SessionJob,
                                           Started)
from slm_acl.experiment.runner.process import ProcessExecutor

__all__ = ["Ended", "Evaluated", "Executor", "Outcome", "ProcessExecutor", "SessionEvent", "SessionFailure",
           "SessionJob", "Started", "failure_file", "record_outcome", "run_sessions", "run_to_end"]
