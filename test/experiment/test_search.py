"""Search mode on a local Ray: trials of several sessions, a failing trial, Optuna, a killed driver resumed."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest
from conftest import ECHO, ROOT, make_raw, worker_env, write_spec
from runner_contract import check_executor

from slm_acl.experiment.search import scoring, wiring
from slm_acl.experiment.search.trial_index import TrialIndex
from slm_acl.experiment.control import run as run_mode
from slm_acl.experiment.paths import RunPaths
from slm_acl.spec import validate
from slm_acl.spec.errors import SpecError

FIT_RATE = "curriculum.teacher.fit_rate"


def alp_gmm_search_spec(**meta) -> dict:
    raw = make_raw(curriculum={"teacher": {"name": "ALP-GMM", "fit_rate": 20},
                               "task_space": {"mass": [0.5, 2.0], "length": [0.5, 1.5]},
                               "success_return": -200, "test_set_size": 4},
                   meta={"seed": 3, "log_frequency": 1000, "eval_frequency": 1000, "max_session": 2,
                         "max_trial": 1, **meta})
    raw["env"][0]["max_frame"] = 3000
    raw["search"] = {"curriculum": {"teacher": {"fit_rate__grid_search": [20, 40]}}}
    return raw


def test_two_trials_of_two_sessions_write_experiment_df_graph_and_best_spec(tmp_path, local_ray):
    spec = write_spec(tmp_path, alp_gmm_search_spec())
    result = run_mode(str(spec), "t", "search", data_dir=str(tmp_path / "data"))
    table = result.experiment_df
    assert sorted(table[FIT_RATE]) == [20, 40]
    assert list(table["status"]) == ["TERMINATED", "TERMINATED"]
    assert table["score"].notna().all() and (table["frame"] == 3000).all()
    on_disk = pd.read_csv(result.predir / "info" / "t_experiment_df.csv")
    pd.testing.assert_frame_equal(on_disk.drop(columns=["error"]), table.drop(columns=["error"]),
                                  check_dtype=False)
    paths = RunPaths(result.predir, "t")
    all_seeds = []
    for _, row in table.iterrows():
        trial = int(row["trial"])
        saved = json.loads(paths.spec_file(trial).read_text())
        assert saved["curriculum"]["teacher"]["fit_rate"] == row[FIT_RATE]  # each trial ran its own value
        assert "search" not in saved
        for s in (0, 1):
            episodes = pd.read_csv(paths.table(trial, s, "a0_e0_b0", "session_df"))
            assert episodes["frame"].max() == 3000
        finals = [pd.read_csv(paths.table(trial, s, "a0_e0_b0", "eval_df"))["mastered"].iloc[-1] for s in (0, 1)]
        assert row["score"] == pytest.approx(sum(finals) / 2)  # the score: the sessions' final % mastered
        seeds = {json.loads(paths.spec_file(trial, s).read_text())["info"]["random_seed"] for s in (0, 1)}
        all_seeds.append(seeds)
    assert all_seeds[0] == all_seeds[1] and len(all_seeds[0]) == 2  # trials share seeds, sessions differ
    assert (result.predir / "graph" / "t_experiment_graph.png").stat().st_size > 0
    best = json.loads(result.best_spec_file.read_text())["t"]
    assert best["curriculum"]["teacher"]["fit_rate"] == table.iloc[0][FIT_RATE]
    best["name"] = "t"
    assert validate(best).spec.search is None


def test_a_failing_trial_is_recorded_and_the_other_completes(tmp_path, local_ray):
    raw = make_raw(env=[{"name": ECHO, "num_envs": 2, "max_frame": 1500, "kwargs": {"fail_after_resets": None}}],
                   curriculum={"teacher": {"name": "Random"}, "task_space": {"level": [0.0, 10.0]},
                               "success_return": 20, "test_set_size": 4},
                   meta={"seed": 1, "log_frequency": 500, "eval_frequency": 500, "max_session": 2})
    raw["search"] = {"env": [{"kwargs": {"fail_after_resets__grid_search": [None, 30]}}]}
    result = run_mode(str(write_spec(tmp_path, raw)), "t", "search", data_dir=str(tmp_path / "data"))
    table = result.experiment_df.set_index("env.0.kwargs.fail_after_resets", drop=False)
    assert len(table) == 2
    failed = table[table["status"] == "ERROR"]
    assert len(failed) == 1 and failed.iloc[0]["env.0.kwargs.fail_after_resets"] == 30
    assert "failing on reset 30" in failed.iloc[0]["error"]
    assert sorted(table["trial"]) == [0, 1]  # the failed trial keeps its number
    assert result.total_failure() is None  # one trial finished: the search succeeded (exit code 0)
    done = table[table["status"] == "TERMINATED"]
    assert len(done) == 1 and pd.isna(done.iloc[0]["env.0.kwargs.fail_after_resets"])
    assert done.iloc[0]["score"] == done.iloc[0]["score"]  # finite
    best = json.loads(result.best_spec_file.read_text())["t"]
    assert best["env"][0]["kwargs"]["fail_after_resets"] is None


def test_optuna_search_runs_its_trials(tmp_path, local_ray):
    raw = alp_gmm_search_spec(max_session=1, max_trial=2, search_algorithm="optuna")
    raw["search"] = {"curriculum": {"teacher": {"fit_rate__choice": [20, 40]}}}
    result = run_mode(str(write_spec(tmp_path, raw)), "t", "search", data_dir=str(tmp_path / "data"))
    assert len(result.experiment_df) == 2
    assert set(result.experiment_df[FIT_RATE]) <= {20, 40}
    assert (result.experiment_df["status"] == "TERMINATED").all()


def test_a_trial_too_big_for_a_local_ray_is_refused_with_the_keys_to_change():
    meta = validate(make_raw(meta={"max_session": 4, "resources": {"cpu": 1}})).spec.meta
    with pytest.raises(SpecError, match="max_parallel"):
        wiring.check_fits(meta, {"CPU": 2.0}, local=True)
    wiring.check_fits(meta, {"CPU": 2.0}, local=False)  # a cluster may grow: a warning only
    capped = validate(make_raw(meta={"max_session": 4, "max_parallel": 2})).spec.meta
    wiring.check_fits(capped, {"CPU": 2.0}, local=True)
    resources = wiring.trial_resources(capped)
    assert resources.head_bundle_is_empty  # the trainable only waits on its sessions
    assert resources.required_resources == {"CPU": 2.0}  # 2 sessions at once, 1 CPU each


def test_asha_stops_bad_trials_early_from_the_per_evaluation_reports(tmp_path, local_ray):
    """Without a curriculum the score is the return moving average; Pendulum's longer episodes score worse."""
    raw = make_raw(meta={"seed": 3, "log_frequency": 1000, "eval_frequency": 1000, "eval_episodes": 1,
                         "search_scheduler": {"name": "ASHA", "grace_period": 2000, "reduction_factor": 2}})
    del raw["curriculum"]
    raw["env"] = [{"name": "slm_acl/ParamPendulum-v0", "num_envs": 1, "max_frame": 12_000}]
    raw["search"] = {"env": [{"max_t__grid_search": [10, 50, 100, 200]}]}
    table = run_mode(str(write_spec(tmp_path, raw)), "t", "search", data_dir=str(tmp_path / "data")).experiment_df
    best = table.iloc[0]
    assert best["env.0.max_t"] == 10 and best["status"] == "TERMINATED" and best["frame"] == 12_000
    stopped = table[table["status"] == "STOPPED"]
    assert len(stopped) >= 2 and (stopped["frame"] < 12_000).all()
    assert stopped["score"].notna().all()  # their last reported score is kept


def test_ray_executor_streams_evaluations_and_records_a_failure_as_the_process_pool_does(tmp_path, local_ray):
    from slm_acl.experiment.runner.ray_tasks import RayExecutor

    check_executor(RayExecutor(parallel=2), tmp_path)


def test_search_needs_a_search_block(tmp_path):
    with pytest.raises(SpecError, match="no search block"):
        run_mode(str(write_spec(tmp_path, make_raw())), "t", "search", data_dir=str(tmp_path / "data"))


def test_eval_board_reports_a_frame_once_every_started_session_has_evaluated_it():
    board = scoring.EvalBoard({"b": 300})
    board.start(0)
    board.start(1)
    event = {"body": "b", "mean_return": 1.0, "return_ma": 2.0}
    board.add({**event, "session": 0, "frame": 100, "mastered": 10.0})
    assert list(board.ready_rounds()) == []
    board.add({**event, "session": 1, "frame": 100, "mastered": 30.0})
    (report,) = board.ready_rounds()
    assert report["frame"] == 100 and report["score"] == pytest.approx(20.0)
    board.add({**event, "session": 0, "frame": 200, "mastered": 50.0})
    assert list(board.ready_rounds()) == []
    board.finish(1)  # a finished session does not hold the next frames back
    (report,) = board.ready_rounds()
    assert report["frame"] == 200 and report["score"] == pytest.approx(40.0)  # s1's last with s0's at 200
    board.add({**event, "session": 0, "frame": 300, "mastered": 70.0})  # max_frame: this body is done
    board.start(2)  # a session started late (max_parallel) holds back only the frames after it starts
    board.add({**event, "session": 2, "frame": 100, "mastered": 0.0})
    assert list(board.ready_rounds()) == []  # s2 has not reached 300
    board.add({**event, "session": 2, "frame": 300, "mastered": 40.0})
    (report,) = board.ready_rounds()
    assert report["frame"] == 300 and report["score"] == pytest.approx((70 + 30 + 40) / 3)
    no_test_set = scoring.round_report([{**event, "frame": 5, "mastered": float("nan")}], 5)
    assert no_test_set["score"] == 2.0  # without a test set the score is the return moving average


def test_cloud_storage_is_kept_as_a_uri_and_local_paths_made_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert wiring.storage_uri("s3://bucket/runs") == "s3://bucket/runs"
    assert wiring.storage_uri("store") == str(tmp_path / "store")


def test_trial_indices_follow_id_and_values_so_no_trial_resumes_another_configs_files(tmp_path):
    index = TrialIndex(tmp_path)
    assert index.claim("a_00000", {"x": 1}) == 0
    assert index.claim("a_00001", {"x": 2}) == 1
    assert index.claim("a_00000", {"x": 1}) == 0  # a restored trial keeps its index (and its checkpoints)
    assert index.claim("a_00001", {"x": 3}) == 2  # an id handed out again with other values: a new index
    assert index.find("a_00001", {"x": 2}) == 1 and index.find("zz", {"x": 1}) is None
    assert not list(index.folder.glob(".claim_*"))


def test_a_killed_search_resumes_and_finishes_every_trial(tmp_path):
    raw = alp_gmm_search_spec(checkpoint_frequency=2000, log_frequency=2000, eval_frequency=10_000)
    raw["env"][0]["max_frame"] = 40_000
    spec = write_spec(tmp_path, raw)
    data = tmp_path / "data"
    cmd = [sys.executable, str(ROOT / "run_lab.py"), str(spec), "t"]
    proc = subprocess.Popen(cmd + ["search", "--data-dir", str(data)], cwd=ROOT, env=worker_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.time() + 180
        while time.time() < deadline:
            runs = list(data.glob("t_*"))
            if runs and list(runs[0].glob("model/*_ckpt.pt")) and list(runs[0].glob("tune/experiment_state*")):
                break
            assert proc.poll() is None, "the search ended before it could be killed"
            time.sleep(0.2)
        else:
            pytest.fail("no checkpoint within 180 s")
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    (predir,) = data.glob("t_*")
    done = subprocess.run(cmd + [f"search@{predir}", "--data-dir", str(data)], cwd=ROOT, env=worker_env(),
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    # Tune's restore brings back the progress callback: the resumed search still reports over all its trials
    assert "search: 2/2 trials done (0 failed)" in done.stdout + done.stderr
    table = pd.read_csv(predir / "info" / "t_experiment_df.csv")
    assert sorted(table[FIT_RATE]) == [20, 40]
    assert list(table["status"]) == ["TERMINATED", "TERMINATED"]
    paths = RunPaths(predir, "t")
    for trial in table["trial"]:
        for s in (0, 1):
            episodes = pd.read_csv(paths.table(int(trial), s, "a0_e0_b0", "session_df"))
            assert episodes["frame"].max() == 40_000
            assert not episodes.duplicated(["episode", "sub_env"]).any()
