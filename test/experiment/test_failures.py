"""Failures visible: every lab error survives a trip between processes, tables hold each failure's own error,
and a run whose every trial or session failed exits non-zero."""
from __future__ import annotations

import dataclasses
import importlib
import json
import pickle
import pkgutil
import re
import subprocess
import sys

import pandas as pd
import pytest
from conftest import ECHO, ROOT, make_raw, worker_env, write_spec
from runner_contract import echo_jobs

import slm_acl
from slm_acl import cli
from slm_acl.experiment.control import run as run_mode
from slm_acl.experiment.runner import ProcessExecutor, SessionFailure, run_to_end
from slm_acl.experiment.search.trial_index import TrialIndex
from slm_acl.experiment.session import SessionResult
from slm_acl.experiment.verdict import total_failure
from slm_acl.lib.error_text import error_line
from slm_acl.spec import search_space
from slm_acl.spec.errors import SpecError

ECHO_FAILURE = "RuntimeError: TaskEcho: failing on reset 1 as asked (fail_after_resets)"


# ---- every lab exception pickles whole ------------------------------------------------------------------

def _trial_error():
    from slm_acl.experiment.trial import TrialError

    result = SessionResult(0, 1, {"a0_e0_b0": 1000}, {"a0_e0_b0": -3.5}, {"a0_e0_b0": 0.25}, True, 2.0)
    failure = SessionFailure("t_t0_s0", 0, 0, "RuntimeError", "boom", "Traceback ...\nRuntimeError: boom\n")
    return TrialError("1 of 2 sessions failed: s0: RuntimeError: boom", [result], [failure])


def _from(module: str, name: str, *args):
    return lambda: getattr(importlib.import_module(module), name)(*args)


# one instance of every exception class defined in slm_acl, built as the lab raises it
EXCEPTIONS = {
    "slm_acl.agent.checks.DevCheckError": _from("slm_acl.agent.checks", "DevCheckError",
                                                "TestLinear: a training step left every weight unchanged"),
    "slm_acl.curriculum.controller.NonFiniteError": _from("slm_acl.curriculum.controller", "NonFiniteError",
                                                          "teacher 'ALP-GMM' proposed a task with NaN"),
    "slm_acl.curriculum.task_space.TaskError": _from("slm_acl.curriculum.task_space", "TaskError",
                                                     "task_space.mass: expected [low, high], got 3"),
    "slm_acl.experiment.benchmark.driver.BenchmarkError": _from("slm_acl.experiment.benchmark.driver", "BenchmarkError",
                                                                "all 2 sessions failed; first error: x"),
    "slm_acl.experiment.checkpoint.CheckpointError": _from("slm_acl.experiment.checkpoint", "CheckpointError",
                                                           "no checkpoint at /tmp/x.pt"),
    "slm_acl.experiment.control.ScheduleError": _from("slm_acl.experiment.control", "ScheduleError",
                                                      "1 of 2 scheduled experiments failed: x"),
    "slm_acl.experiment.runner.ray_tasks.RayAuthError": _from("slm_acl.experiment.runner.ray_tasks", "RayAuthError",
                                                              "the Ray cluster at auto refused this driver"),
    "slm_acl.experiment.search.trainable.SessionFailed": _from("slm_acl.experiment.search.trainable", "SessionFailed",
                                                               "t_t0_s0 failed: RuntimeError: boom"),
    "slm_acl.experiment.tensorboard.TensorBoardUnavailable": _from("slm_acl.experiment.tensorboard",
                                                                   "TensorBoardUnavailable", "no tensorboard"),
    "slm_acl.experiment.trial.TrialError": _trial_error,
    "slm_acl.lib.plugins.PluginError": _from("slm_acl.lib.plugins", "PluginError", "cannot import plugin 'x'"),
    "slm_acl.lib.registry.UnknownNameError": _from("slm_acl.lib.registry", "UnknownNameError", "teacher", "ALP",
                                                   ["ALP-GMM", "Random"]),
    "slm_acl.lib.table.UnknownColumnError": _from("slm_acl.lib.table", "UnknownColumnError", "column 'x' unknown"),
    "slm_acl.spec.errors.SpecError": _from("slm_acl.spec.errors", "SpecError", "agent[0].algorithm.gamma",
                                           "expected a number < 1, got 1.5"),
}


def lab_exceptions() -> dict[str, type]:
    """Every exception class defined in a module of slm_acl (each module imported: none may fail to; a
    `__main__` module is a command line, run rather than imported, and left out)."""
    def refuse(name: str) -> None:
        raise ImportError(f"cannot import {name}: its exceptions would go unchecked")

    found = {}
    for info in pkgutil.walk_packages(slm_acl.__path__, "slm_acl.", onerror=refuse):
        if info.name.rpartition(".")[2] == "__main__":
            continue
        module = importlib.import_module(info.name)
        for obj in vars(module).values():
            if isinstance(obj, type) and issubclass(obj, BaseException) and obj.__module__ == info.name:
                found[f"{obj.__module__}.{obj.__qualname__}"] = obj
    return found


def _state(err: BaseException) -> dict:
    """What a copy must keep: the arguments, the instance's attributes and the C-level ones of OSError,
    ImportError."""
    slots = ("errno", "strerror", "filename", "name", "path")
    return {"args": err.args, **vars(err), **{s: getattr(err, s) for s in slots if hasattr(err, s)}}


def test_every_lab_exception_survives_a_pickle_round_trip_intact():
    found = lab_exceptions()
    assert not set(found) - set(EXCEPTIONS), (
        f"exception classes with no entry in EXCEPTIONS: {sorted(set(found) - set(EXCEPTIONS))}; add one instance "
        "each (as the lab raises it) so that it is checked to cross a process boundary intact")
    assert not set(EXCEPTIONS) - set(found), f"stale EXCEPTIONS entries: {sorted(set(EXCEPTIONS) - set(found))}"
    for name, make in EXCEPTIONS.items():
        err = make()
        assert type(err) is found[name]
        copy = pickle.loads(pickle.dumps(err))
        assert type(copy) is type(err), name
        assert str(copy) == str(err), name
        assert _state(copy) == _state(err), name


def test_an_unknown_name_error_keeps_its_plain_message_and_fields_after_pickling():
    from slm_acl.lib.registry import UnknownNameError

    copy = pickle.loads(pickle.dumps(UnknownNameError("teacher", "ALP", ["ALP-GMM", "Random"])))
    assert (copy.kind, copy.name, copy.valid) == ("teacher", "ALP", ["ALP-GMM", "Random"])
    assert str(copy).startswith("unknown teacher 'ALP'. Did you mean 'ALP-GMM'?")


# ---- an error's own text, out of Ray's wrapper --------------------------------------------------------

def test_error_line_is_the_root_cause_type_and_message_not_rays_traceback_dump():
    from ray.exceptions import RayTaskError

    dump = ('Traceback (most recent call last):\n  File "trainable.py", line 39, in run_search_trial\n'
            "    run = validate(...)\nslm_acl.spec.errors.SpecError: spec error at env.0.max_t: expected > 0, got -1")
    wrapped = RayTaskError("run_search_trial", dump, SpecError("env.0.max_t", "expected > 0, got -1"))
    expected = "SpecError: spec error at env.0.max_t: expected > 0, got -1"
    assert error_line(wrapped) == expected
    assert error_line(wrapped.as_instanceof_cause()) == expected  # Ray's RayTaskError(SpecError) class
    assert error_line(RayTaskError("run_search_trial", dump, None)) == expected  # a cause that did not unpickle
    assert error_line(ValueError("two\n  lines")) == "ValueError: two lines"


# ---- train mode: the process pool and the exit code -------------------------------------------------------

class _TwoArgError(Exception):
    """Like the lab's errors before they could be pickled: the default reduce passes the message only."""

    def __init__(self, what: str, why: str):
        super().__init__(f"{what}: {why}")


def _refuse_to_unpickle() -> None:
    raise _TwoArgError("job", "refuses to unpickle in its worker")


class _Poison:
    """Pickles, but raises (an error that itself does not unpickle) when the worker unpickles it."""

    def __reduce__(self):
        return _refuse_to_unpickle, ()


def test_a_job_that_cannot_make_the_trip_to_its_worker_is_its_own_failure_not_a_broken_pool(tmp_path):
    good = echo_jobs(tmp_path)[1]
    poisoned = dataclasses.replace(echo_jobs(tmp_path)[0], mode=_Poison())
    unpicklable = dataclasses.replace(good, session=2, mode=lambda: "train")
    with pytest.raises(TypeError, match="missing 1 required positional argument"):  # what broke the pool
        pickle.loads(pickle.dumps(_TwoArgError("a", "b")))
    failed, done, refused = run_to_end([poisoned, good, unpicklable], ProcessExecutor(parallel=2, num_threads=1))
    assert isinstance(failed, SessionFailure) and failed.name == "t_t0_s0"
    assert failed.line() == "_TwoArgError: job: refuses to unpickle in its worker"
    assert "_refuse_to_unpickle" in failed.traceback
    assert isinstance(refused, SessionFailure) and refused.name == "t_t0_s2" and "pickle" in refused.line().lower()
    assert isinstance(done, SessionResult) and done.complete  # the other session ran in the same pool


def echo_raw(**meta) -> dict:
    """Sessions on TaskEcho that fail on their first reset."""
    return make_raw(env=[{"name": ECHO, "num_envs": 2, "max_frame": 1000, "kwargs": {"fail_after_resets": 1}}],
                    curriculum={"teacher": {"name": "Random"}, "task_space": {"level": [0.0, 10.0]},
                                "success_return": 20, "test_set_size": 4},
                    meta={"seed": 1, "log_frequency": 500, "eval_frequency": 500, **meta})


def test_a_train_run_whose_every_session_fails_exits_1_with_their_errors(tmp_path, capsys):
    spec = write_spec(tmp_path, echo_raw(max_session=2, max_parallel=2))
    code = cli.main([str(spec), "t", "train", "--data-dir", str(tmp_path / "data")])
    assert code == cli.EXIT_RUN_ERROR
    err = capsys.readouterr().err
    assert f"error: TrialError: 2 of 2 sessions failed: s0: {ECHO_FAILURE}; s1: {ECHO_FAILURE}" in err


# ---- one rule from a result to an exit code ---------------------------------------------------------------

@dataclasses.dataclass
class _Result:
    """A mode's result that can fail as a whole, as a search's or a campaign's does."""

    failure: str | None

    def total_failure(self) -> str | None:
        return self.failure


@pytest.mark.parametrize("failure, code", [("all 2 trials failed; first error: SpecError: x", cli.EXIT_RUN_ERROR),
                                           (None, 0)])
def test_the_command_line_exits_1_exactly_when_the_result_says_everything_failed(tmp_path, monkeypatch, capsys,
                                                                                 failure, code):
    from slm_acl.experiment import control

    monkeypatch.setitem(control.MODES, "train", lambda req: _Result(failure))
    assert cli.main([str(write_spec(tmp_path, make_raw())), "t", "train"]) == code
    err = capsys.readouterr().err
    assert (f"error: {failure}\n" in err) if failure else "error:" not in err


def test_a_scheduled_experiment_whose_every_trial_failed_is_one_of_the_schedules_failures(tmp_path, monkeypatch):
    from slm_acl.experiment import control

    outcomes = iter([_Result("all 2 trials failed; first error: SpecError: x"), _Result(None)])
    monkeypatch.setitem(control.MODES, "train", lambda req: next(outcomes))
    specs = tmp_path / "specs.json"
    specs.write_text(json.dumps({n: {k: v for k, v in make_raw().items() if k != "name"} for n in ("a", "b")}))
    schedule = tmp_path / "experiments.json"
    schedule.write_text(json.dumps({str(specs): {"a": "train", "b": "train"}}))
    with pytest.raises(control.ScheduleError, match=r"1 of 2 .* a train: all 2 trials failed; first error: SpecError"):
        control.run_schedule(schedule, data_dir=str(tmp_path / "data"))
    assert next(outcomes, None) is None  # the second experiment still ran


# ---- search: a spec error inside every trial ------------------------------------------------------------

# a continuous range over an integer setting whose ends and interior check point are whole: the driver's
# check passes, and every value Tune samples (a float such as 47.3) fails validation inside the trial
TEST_SET_SIZE = "curriculum.test_set_size"
BAD_SEARCH = {"curriculum": {"test_set_size__uniform": [4, 104]}}
SPEC_ERROR = re.compile(r"SpecError: spec error at curriculum\.test_set_size: expected an integer, got float \d+\.\d+")


def bad_search_raw() -> dict:
    raw = make_raw(meta={"seed": 3, "log_frequency": 500, "eval_frequency": 1000, "max_trial": 2})
    raw["search"] = BAD_SEARCH
    keys = search_space.parse(raw["search"], search_space.without_search(raw))
    checked = [v[TEST_SET_SIZE] for v in search_space.example_values(keys)]
    assert all(float(v).is_integer() for v in checked), (
        f"the driver now checks {checked}: pick another way to make a trial's spec fail only in its worker")
    return raw


def test_a_search_whose_every_trial_fails_validation_records_each_error_and_index(tmp_path, local_ray):
    result = run_mode(str(write_spec(tmp_path, bad_search_raw())), "t", "search", data_dir=str(tmp_path / "data"))
    table = result.experiment_df.sort_values("trial")
    assert list(table["trial"]) == [0, 1] and (table["status"] == "ERROR").all()
    for error in table["error"]:
        assert SPEC_ERROR.fullmatch(error), error
    claims = TrialIndex(result.predir).claims()  # each row's index is the one its trial claimed, with its values
    for _, row in table.iterrows():
        assert claims[int(row["trial"])]["values"][TEST_SET_SIZE] == pytest.approx(row[TEST_SET_SIZE])
    on_disk = pd.read_csv(result.predir / "info" / "t_experiment_df.csv").sort_values("trial")
    assert list(on_disk["error"]) == list(table["error"]) and list(on_disk["trial"]) == [0, 1]
    first = table.iloc[0]["error"]
    assert total_failure(result) == f"all 2 trials failed; first error: {first}"
    assert result.best_spec_file is None


def test_a_search_whose_every_trial_fails_exits_non_zero_from_the_command_line(tmp_path):
    spec = write_spec(tmp_path, bad_search_raw())
    done = subprocess.run([sys.executable, str(ROOT / "run_lab.py"), str(spec), "t", "search", "--data-dir",
                           str(tmp_path / "data")], check=False, cwd=ROOT, env=worker_env(), capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == cli.EXIT_RUN_ERROR, done.stderr[-3000:]
    lines = [ln for ln in done.stderr.splitlines() if ln.startswith("error: ")]
    assert len(lines) == 1, done.stderr[-3000:]
    assert lines[0].startswith("error: all 2 trials failed; first error: SpecError: spec error at "
                               "curriculum.test_set_size: expected an integer, got float "), lines[0]
    (predir,) = (tmp_path / "data").glob("t_*")
    table = pd.read_csv(predir / "info" / "t_experiment_df.csv")
    assert sorted(table["trial"]) == [0, 1] and table["error"].str.startswith("SpecError: spec error at ").all()


# ---- benchmark: every session failed, or none could run -----------------------------------------------------

def test_a_campaign_whose_every_session_fails_exits_non_zero_with_their_errors_in_benchmark_df(tmp_path):
    raw = echo_raw()
    raw["benchmark"] = {"seeds": 2, "teacher": {"Random": {"name": "Random"}}}
    spec = tmp_path / "campaign.json"
    spec.write_text(json.dumps({"camp": {k: v for k, v in raw.items() if k != "name"}}))
    done = subprocess.run([sys.executable, str(ROOT / "run_lab.py"), str(spec), "camp", "benchmark", "--data-dir",
                           str(tmp_path / "data")], check=False, cwd=ROOT, env=worker_env(), capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == cli.EXIT_RUN_ERROR, done.stderr[-3000:]
    assert f"error: BenchmarkError: all 2 sessions failed; first error: {ECHO_FAILURE}" in done.stderr
    (predir,) = (tmp_path / "data").glob("camp_*")
    table = pd.read_csv(predir / "info" / "camp_benchmark_df.csv")
    assert list(table["status"]) == ["FAILED", "FAILED"]
    assert list(table["error"]) == [ECHO_FAILURE, ECHO_FAILURE]


def test_a_campaign_none_of_whose_cells_can_run_is_a_total_failure(tmp_path, local_ray):
    raw = make_raw(meta={"seed": 5, "log_frequency": 1000, "eval_frequency": 1000})
    raw["benchmark"] = {"seeds": 2, "teacher": {"GoalGAN": {"name": "GoalGAN"}},
                        "criterion": {"no_success": {"curriculum": {"success_return": None}}}}
    spec = tmp_path / "campaign.json"
    spec.write_text(json.dumps({"camp": {k: v for k, v in raw.items() if k != "name"}}))
    result = run_mode(str(spec), "camp", "benchmark", data_dir=str(tmp_path / "data"))
    assert (result.benchmark_df["status"] == "INVALID").all()
    failure = total_failure(result)
    assert failure is not None and failure.startswith("all 2 sessions failed; first error: spec error at ")
    assert "success" in failure
