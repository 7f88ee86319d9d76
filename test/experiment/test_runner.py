"""The session runner: jobs and failures that pickle, the process-pool executor's contract, one way to
record a failure, sessions that get a validated spec, and what a session records about its fast paths."""
from __future__ import annotations

import json
import logging
import pickle
import subprocess
import sys

import pytest
from conftest import ROOT, make_raw
from runner_contract import check_executor, echo_jobs

from slm_acl.agent.algorithm.base import Algorithm
from slm_acl.experiment.paths import RunPaths
from slm_acl.experiment.runner import Ended, ProcessExecutor, SessionFailure, record_outcome, run_sessions
from slm_acl.experiment.runner.worker import run_job
from slm_acl.experiment.session import Session, SessionResult
from slm_acl.spec import validate

PPO_AGENT = {"name": "walker",
             "algorithm": {"name": "PPO", "time_horizon": 50, "minibatch_size": 25, "training_epoch": 1},
             "net": {"type": "MLPNet", "hid_layers": [16], "optim": {"name": "Adam", "lr": 3e-4}},
             "memory": {"name": "OnPolicyBatch"}}


def test_jobs_and_failures_pickle_whole(tmp_path):
    job = echo_jobs(tmp_path)[0]
    again = pickle.loads(pickle.dumps(job))
    assert again == job and again.run.spec == job.run.spec and again.name == "t_t0_s0"
    try:
        raise KeyError("boom")
    except KeyError as err:
        failure = SessionFailure.from_exception(job, err)
    assert pickle.loads(pickle.dumps(failure)) == failure
    assert failure.line() == "KeyError: 'boom'" and "raise KeyError" in failure.traceback


def test_process_pool_streams_evaluations_and_records_a_failure(tmp_path):
    check_executor(ProcessExecutor(parallel=2, num_threads=1), tmp_path)


def test_one_worker_runs_the_sessions_here_with_the_same_contract(tmp_path):
    check_executor(ProcessExecutor(parallel=1, num_threads=1), tmp_path)


def test_a_finished_session_clears_the_failure_record_of_an_earlier_attempt(tmp_path):
    job = echo_jobs(tmp_path)[0]
    try:
        raise RuntimeError("killed")
    except RuntimeError as err:
        record_outcome(Ended(job, SessionFailure.from_exception(job, err)))
    error_file = job.paths.info("t_t0_s0_error.json")
    assert json.loads(error_file.read_text())["message"] == "killed"
    record_outcome(Ended(job, SessionResult(0, 0, {}, {}, {}, complete=True)))
    assert not error_file.exists()


def test_the_same_session_twice_in_one_run_is_refused(tmp_path):
    job = echo_jobs(tmp_path)[1]
    with pytest.raises(ValueError, match=r"\['t_t0_s1'\] appear more than once"):
        list(run_sessions([job, job], ProcessExecutor(1, 1)))


def test_a_worker_runs_the_validated_spec_it_is_given_without_validating_again(tmp_path):
    job = echo_jobs(tmp_path)[1]
    job.run.raw["agent"] = "not a list of agents"  # what a worker re-validating the raw tree would refuse
    outcome = run_job(job)
    assert isinstance(outcome, SessionResult) and outcome.complete


def test_the_session_records_and_logs_no_fast_path_for_the_random_agent(tmp_path, caplog):
    paths = RunPaths.new(tmp_path, "t")
    with caplog.at_level(logging.INFO, logger="slm_acl"):
        Session(validate(make_raw()), paths, progress=False).run_session()
    saved = json.loads(paths.spec_file(0, 0).read_text())
    assert saved["info"]["fast_path"] == {"rand": {}}
    assert saved["info"]["random_seed"] is not None and saved["info"]["session"] == 0
    lines = [r.getMessage() for r in caplog.records if "fast path" in r.getMessage()]
    assert lines == ["t_t0_s0: agent 'rand' (Random): no fast path"]


def test_the_session_records_and_logs_what_ppo_runs(tmp_path, caplog):
    raw = make_raw(agent=[PPO_AGENT])
    raw["env"][0]["max_frame"] = 200
    paths = RunPaths.new(tmp_path, "t")
    with caplog.at_level(logging.INFO, logger="slm_acl"):
        session = Session(validate(raw), paths, progress=False)
        session.run_session()
    chosen = session.space.agents[0].algorithm.fast_path_info()
    assert json.loads(paths.spec_file(0, 0).read_text())["info"]["fast_path"] == {"walker": chosen}
    (line,) = [r.getMessage() for r in caplog.records if "agent 'walker' (PPO)" in r.getMessage()]
    assert all(f"{part} {impl}" in line for part, impl in chosen.items())


def test_a_training_metric_the_algorithm_does_not_declare_is_refused(tmp_path, monkeypatch):
    from conftest import TestLinear

    monkeypatch.setattr(TestLinear, "metric_names", ())
    raw = make_raw(agent=[{"algorithm": {"name": "TestLinear"}}])
    with pytest.raises(ValueError, match=r"returned training metrics \['loss'\] missing from its metric_names"):
        Session(validate(raw), RunPaths.new(tmp_path, "t"), progress=False).run_session()


def test_every_algorithm_declares_metric_names_that_fit_metrics_df():
    from slm_acl.agent.registry import ALGORITHMS
    from slm_acl.experiment.session import METRIC_COLUMNS

    for name in ALGORITHMS.names():
        cls = ALGORITHMS.get(name)
        assert issubclass(cls, Algorithm) and isinstance(cls.metric_names, tuple), name
        assert not set(cls.metric_names) & set(METRIC_COLUMNS), f"{name}: a metric named like a column of metrics_df"


def test_analysis_imports_nothing_from_experiment():
    code = ("import sys, pkgutil, importlib, slm_acl.analysis as a\n"
            "for m in pkgutil.iter_modules(a.__path__): importlib.import_module(f'slm_acl.analysis.{m.name}')\n"
            "print(sorted(n for n in sys.modules if n.startswith('slm_acl.experiment')))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "[]"
