"""What every session-runner executor must do, checked the same way for the process pool and for Ray."""
from __future__ import annotations

import json

import pandas as pd
from conftest import ECHO, make_raw

from slm_acl.experiment.paths import RunPaths
from slm_acl.experiment.runner import Ended, Evaluated, SessionFailure, SessionJob, Started, run_sessions
from slm_acl.experiment.session import SessionResult
from slm_acl.spec import validate

LABEL = "a0_e0_b0"


def echo_jobs(predir) -> list[SessionJob]:
    """Two sessions of one trial: s0 fails on its 30th env reset, s1 runs to the end (two evaluations)."""
    def run(fail_after):
        return validate(make_raw(
            env=[{"name": ECHO, "num_envs": 2, "max_frame": 1000, "kwargs": {"fail_after_resets": fail_after}}],
            curriculum={"teacher": {"name": "Random"}, "task_space": {"level": [0.0, 10.0]},
                        "success_return": 20, "test_set_size": 4},
            meta={"seed": 1, "log_frequency": 500, "eval_frequency": 500, "max_session": 2}))

    paths = RunPaths(predir, "t")
    paths.make_dirs()
    return [SessionJob(run(30), paths, 0, 0, seed_trial=0), SessionJob(run(None), paths, 0, 1, seed_trial=0)]


def check_executor(executor, predir) -> None:
    """Started, then every evaluation as it happens, then one outcome per job; a failure is a record,
    written to the session's error file, and the other session still finishes."""
    jobs = echo_jobs(predir)
    events = list(run_sessions(jobs, executor, evaluations=True))
    for job in jobs:
        kinds = [type(e).__name__ for e in events if e.job.name == job.name]
        assert kinds[0] == "Started" and kinds[-1] == "Ended" and kinds.count("Ended") == 1, kinds
        assert set(kinds[1:-1]) <= {"Evaluated"}, kinds
    failed, done = (next(e.outcome for e in events if isinstance(e, Ended) and e.job is job) for job in jobs)
    assert isinstance(failed, SessionFailure) and isinstance(done, SessionResult) and done.complete
    assert failed.name == "t_t0_s0" and failed.error_type == "RuntimeError"
    assert "failing on reset 30" in failed.message and "task_echo_env.py" in failed.traceback
    paths = jobs[0].paths
    record = json.loads(paths.info("t_t0_s0_error.json").read_text())
    assert record == {"name": "t_t0_s0", "trial": 0, "session": 0, "error_type": "RuntimeError",
                      "message": failed.message, "traceback": failed.traceback}
    assert not paths.info("t_t0_s1_error.json").exists()
    streamed = [e.evaluation["frame"] for e in events if isinstance(e, Evaluated) and e.job.session == 1]
    assert streamed == pd.read_csv(paths.table(0, 1, LABEL, "eval_df"))["frame"].tolist() == [500, 1000]
    assert sum(isinstance(e, Started) for e in events) == 2
