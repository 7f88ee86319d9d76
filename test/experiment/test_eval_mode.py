"""Eval mode: a saved policy (a session's last checkpoint, its best, a snapshot) on any test set."""
from __future__ import annotations

import json

import pandas as pd
import pytest
from conftest import make_raw, write_spec

from slm_acl.experiment.control import run as run_mode
from slm_acl.experiment.session import EVAL_COLUMNS, EVAL_TASK_COLUMNS
from slm_acl.spec.errors import SpecError

LABEL = "a0_e0_b0"


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A finished short session (a linear policy on ParamPendulum) and the spec file it was trained from."""
    tmp = tmp_path_factory.mktemp("eval")
    raw = make_raw(agent=[{"algorithm": {"name": "TestLinear"}}],
                   meta={"seed": 3, "log_frequency": 500, "eval_frequency": 500, "snapshot_frequency": 1000,
                         "tensorboard": False})
    spec = write_spec(tmp, raw)
    run_mode(str(spec), "t", "train", data_dir=str(tmp / "data"))
    return str(spec), next((tmp / "data").glob("t_*"))


def evaluate(trained, target: str, **sets: str) -> dict:
    spec, run_dir = trained
    return run_mode(spec, "t", f"eval@{run_dir / target}", {k: str(v) for k, v in sets.items()})


def test_eval_on_a_generated_test_set_writes_the_session_tables_and_a_picture(trained):
    report = evaluate(trained, "t_t0_s0", test_set="uniform", test_set_size=7)
    folder = trained[1] / "eval" / "t_t0_s0_ckpt_uniform_7_seed31"
    assert report["folder"] == str(folder)
    evals = pd.read_csv(folder / f"{LABEL}_eval_df.csv")
    tasks = pd.read_csv(folder / f"{LABEL}_eval_tasks_df.csv")
    assert list(evals.columns) == EVAL_COLUMNS and list(tasks.columns) == EVAL_TASK_COLUMNS
    assert evals["n_tasks"].tolist() == [7] and evals["frame"].tolist() == [2000]
    assert tasks["task_index"].tolist() == list(range(7)) and (tasks["frame"] == 2000).all()
    assert tasks["success"].tolist() == (tasks["return"] > -200).tolist()
    assert evals["mastered"].iloc[0] == pytest.approx(100 * tasks["success"].mean())
    assert len(json.loads((folder / f"{LABEL}_test_set.json").read_text())["tasks"]) == 7
    assert (folder / "tasks.png").stat().st_size > 5000
    assert json.loads((folder / "eval.json").read_text())["bodies"][LABEL]["n_tasks"] == 7


def test_a_deterministic_evaluation_of_the_same_checkpoint_gives_equal_returns(trained):
    first = evaluate(trained, "t_t0_s0_ckpt_best", test_set="grid", test_set_size=9)
    returns = pd.read_csv(first["folder"] + f"/{LABEL}_eval_tasks_df.csv")["return"]
    second = evaluate(trained, "t_t0_s0_ckpt_best", test_set="grid", test_set_size=9)
    assert second["folder"] == first["folder"] and second["folder"].endswith("t_t0_s0_ckpt_best_grid_9")
    pd.testing.assert_series_equal(pd.read_csv(second["folder"] + f"/{LABEL}_eval_tasks_df.csv")["return"], returns)
    assert len(returns) == 9 and returns.nunique() > 1


def test_the_last_checkpoint_on_its_own_test_set_reproduces_the_sessions_last_evaluation(trained):
    report = evaluate(trained, "t_t0_s0")
    session = pd.read_csv(trained[1] / "info" / f"t_t0_s0_{LABEL}_eval_df.csv").iloc[-1]
    body = report["bodies"][LABEL]
    assert body["test_set"] == "uniform_4_seed31" and body["mean_return"] == pytest.approx(session["mean_return"])
    assert body["mastered"] == session["mastered"]


def test_a_snapshot_and_the_stochastic_policy_can_be_evaluated(trained):
    snapshot = evaluate(trained, "t_t0_s0_ckpt_f1000", test_set="uniform", test_set_size=5)
    assert snapshot["frames"] == {LABEL: 1000} and snapshot["folder"].endswith("t_t0_s0_ckpt_f1000_uniform_5_seed31")
    stochastic = evaluate(trained, "t_t0_s0_ckpt_f1000", test_set="uniform", test_set_size=5, deterministic="false")
    assert stochastic["folder"] == snapshot["folder"] + "_stochastic" and not stochastic["deterministic"]


@pytest.mark.parametrize("target, sets, message", [
    ("t_t0_s0", {"test_sett": "uniform"}, "unknown key 'test_sett'. Did you mean 'test_set'?"),
    ("t_t0_s0", {"test_set": "stump_tracks_grid_100"}, "has tasks over .*stump_height.*task space has"),
    ("t_t0_s0", {"test_set": "grid", "test_set_size": "10"}, "needs test_set_size = k\\^2"),
    ("t_t0_s0_ckpt_f999", {}, "no checkpoint at .*ckpt_f999.pt: the session keeps t_t0_s0_ckpt.pt, "),
    ("t_t0", {}, "eval@ expects data/RUN_DIR/SPEC_tT_sS"),
])
def test_a_bad_eval_request_is_a_spec_error_before_any_work(trained, target, sets, message):
    with pytest.raises(SpecError, match=message):
        evaluate(trained, target, **sets)


def test_the_command_line_runs_eval_mode(trained, capsys):
    import run_lab

    spec, run_dir = trained
    target = f"eval@{run_dir / 't_t0_s0_ckpt_best'}"
    assert run_lab.main([spec, "t", target, "-s", "test_set=uniform", "-s", "test_set_size=3"]) == 0
    assert "3 tasks of uniform_3_seed31" in capsys.readouterr().out
    assert run_lab.main([spec, "t", target, "-s", "deterministic=maybe"]) == 2
    assert "-s deterministic: expected true or false" in capsys.readouterr().err
