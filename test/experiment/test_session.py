"""Determinism, kill -9 and resume, NaN guards, dev checks and enjoy videos."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import imageio.v2 as imageio
import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, make_raw, write_spec

from slm_acl.agent.checks import DevCheckError
from slm_acl.curriculum.controller import NonFiniteError
from slm_acl.experiment import checkpoint
from slm_acl.experiment.control import run as run_mode
from slm_acl.experiment.enjoy import enjoy
from slm_acl.experiment.paths import RunPaths
from slm_acl.experiment.session import Session
from slm_acl.experiment.trial import TrialError
from slm_acl.spec import validate


def run_once(tmp_path, raw, sub):
    paths = RunPaths.new(tmp_path / sub, "t")
    Session(validate(raw), paths, progress=False).run_session()
    return paths


def test_same_spec_and_seed_give_identical_tables(tmp_path):
    raw = make_raw(agent=[{"algorithm": {"name": "TestLinear"}}])
    a, b = run_once(tmp_path, raw, "a"), run_once(tmp_path, raw, "b")
    for kind in ("session_df", "eval_df", "eval_tasks_df", "curriculum_df"):
        df_a = pd.read_csv(a.table(0, 0, "a0_e0_b0", kind))
        df_b = pd.read_csv(b.table(0, 0, "a0_e0_b0", kind))
        assert len(df_a) > 0
        pd.testing.assert_frame_equal(df_a, df_b)
    m_a = pd.read_csv(a.table(0, 0, "a0_e0_b0", "metrics_df")).drop(columns=["fps", "wall_time"])
    m_b = pd.read_csv(b.table(0, 0, "a0_e0_b0", "metrics_df")).drop(columns=["fps", "wall_time"])
    pd.testing.assert_frame_equal(m_a, m_b)
    other = run_once(tmp_path, make_raw(agent=[{"algorithm": {"name": "TestLinear"}}], meta={"seed": 4}), "c")
    assert not pd.read_csv(other.table(0, 0, "a0_e0_b0", "session_df")).equals(
        pd.read_csv(a.table(0, 0, "a0_e0_b0", "session_df")))



def test_kill_9_then_resume_has_no_duplicated_or_missing_rows(tmp_path):
    raw = make_raw(env=[{"name": "slm_acl/ParamPendulum-v0", "num_envs": 2, "max_frame": 300_000, "max_t": 50}],
                   meta={"seed": 5, "log_frequency": 5000, "eval_frequency": 100_000, "checkpoint_frequency": 10_000})
    raw["info"] = {"source": "a commented spec (the lab adds its own info keys to the saved copy)"}
    spec = write_spec(tmp_path, raw)
    data = tmp_path / "data"
    cmd = [sys.executable, str(ROOT / "run_lab.py"), str(spec), "t", "train", "--data-dir", str(data)]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        deadline = time.time() + 120
        ckpt = None
        while time.time() < deadline:
            found = list(data.glob("t_*/model/t_t0_s0_ckpt.pt"))
            if found and checkpoint.load(found[0])["frames"]["a0_e0_b0"] >= 30_000:
                ckpt = found[0]
                break
            time.sleep(0.2)
        assert ckpt is not None, "no checkpoint appeared"
        assert proc.poll() is None, "the run finished before it could be killed; raise max_frame"
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    run_dir = ckpt.parents[1]
    killed = checkpoint.load(ckpt)
    assert not killed["complete"]
    out = subprocess.run([sys.executable, str(ROOT / "run_lab.py"), str(spec), "t", f"train@{run_dir}",
                          "--data-dir", str(data)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    done = checkpoint.load(ckpt)
    assert done["complete"] and done["frames"]["a0_e0_b0"] == 300_000
    df = pd.read_csv(run_dir / "info" / "t_t0_s0_a0_e0_b0_session_df.csv")
    assert df["episode"].tolist() == list(range(len(df)))  # no duplicated, no missing episode
    assert df["frame"].is_monotonic_increasing and df["frame"].iloc[-1] <= 300_000
    assert len(df) >= killed["space"]["bodies"][0]["clock"]["episode"]
    metrics = pd.read_csv(run_dir / "info" / "t_t0_s0_a0_e0_b0_metrics_df.csv")
    assert metrics["frame"].is_unique and metrics["frame"].is_monotonic_increasing
    assert metrics["frame"].iloc[-1] == 300_000
    assert list(run_dir.glob("graph/*trial_graph.png"))


def test_nan_from_agent_raises_clearly_and_keeps_last_good_checkpoint(tmp_path):
    raw = make_raw(agent=[{"algorithm": {"name": "TestLinear", "nan_after": 1500}}],
                   env=[{"name": "slm_acl/ParamPendulum-v0", "num_envs": 2, "max_frame": 4000, "max_t": 50}],
                   meta={"seed": 1, "log_frequency": 500, "eval_frequency": 100_000, "checkpoint_frequency": 1000})
    paths = RunPaths.new(tmp_path, "t")
    with pytest.raises(NonFiniteError, match=r"agent 'agent' produced a non-finite action for body a0_e0_b0"):
        Session(validate(raw), paths, progress=False).run_session()
    state = checkpoint.load(paths.checkpoint(0, 0))
    assert state["frames"]["a0_e0_b0"] == 1000 and not state["complete"]
    assert np.isfinite(state["space"]["agents"][0]["weight"].numpy()).all()


def test_dev_mode_checks_that_training_changes_weights(tmp_path):
    frozen = make_raw(agent=[{"algorithm": {"name": "TestLinear", "frozen": True}}])
    spec = write_spec(tmp_path, frozen)
    with pytest.raises(TrialError, match=f"s0: {DevCheckError.__name__}: .*left every weight unchanged"):
        run_mode(str(spec), "t", "dev", data_dir=str(tmp_path / "d1"))
    (error_file,) = (tmp_path / "d1").glob("t_*/info/t_t0_s0_error.json")  # the failure, recorded
    failure = json.loads(error_file.read_text())
    assert failure["error_type"] == "DevCheckError" and "checks.py" in failure["traceback"]
    learning = write_spec(tmp_path, make_raw(agent=[{"algorithm": {"name": "TestLinear"}}]))
    result = run_mode(str(learning), "t", "dev", data_dir=str(tmp_path / "d2"))
    assert result.sessions[0].complete


def test_enjoy_writes_a_video_with_frames(tmp_path, capsys):
    paths = run_once(tmp_path, make_raw(agent=[{"algorithm": {"name": "TestLinear"}}]), "run")
    target = str(paths.predir / "t_t0_s0")
    report = enjoy(target, {"video_episodes": "2"})
    video = report["a0_e0_b0"]["video"]
    assert video and video.endswith(".mp4")
    frames = imageio.mimread(video, memtest=False)
    assert len(frames) == 100  # two test tasks of max_t=50 steps
    assert report["a0_e0_b0"]["n_tasks"] == 4 and "mean return" in capsys.readouterr().out
    one = enjoy(target, {"mass": "1.0", "length": "1.2", "episodes": "1", "video_episodes": "0"})
    assert one["a0_e0_b0"]["n_tasks"] == 1


def test_trial_runs_sessions_in_parallel_workers_with_distinct_seeds(tmp_path):
    raw = make_raw(meta={"seed": 2, "max_session": 2, "log_frequency": 500, "eval_frequency": 1000})
    spec = write_spec(tmp_path, raw)
    result = run_mode(str(spec), "t", "train", data_dir=str(tmp_path / "data"))
    assert [s.session for s in result.sessions] == [0, 1] and all(s.complete for s in result.sessions)
    run_dir = next((tmp_path / "data").glob("t_*"))
    seeds = {json.loads((run_dir / f"t_t0_s{s}_spec.json").read_text())["info"]["random_seed"] for s in (0, 1)}
    assert len(seeds) == 2
    s0 = pd.read_csv(run_dir / "info" / "t_t0_s0_a0_e0_b0_session_df.csv")
    s1 = pd.read_csv(run_dir / "info" / "t_t0_s1_a0_e0_b0_session_df.csv")
    assert not s0["return"].equals(s1["return"])
    trial = pd.read_csv(run_dir / "info" / "t_t0_trial_df.csv")
    assert sorted(trial["session"]) == [0, 1]
    assert (run_dir / "graph" / "t_t0_a0_e0_b0_trial_graph.png").stat().st_size > 1000


def test_task_dim_named_like_a_metric_does_not_overwrite_it(tmp_path):
    paths = run_once(tmp_path, make_raw(), "run")  # ParamPendulum's task has a dim named "length"
    df = pd.read_csv(paths.table(0, 0, "a0_e0_b0", "session_df"))
    assert (df["length"] == 50).all() and df["task_length"].between(0.5, 1.5).all()
    curriculum = pd.read_csv(paths.table(0, 0, "a0_e0_b0", "curriculum_df"))
    assert list(curriculum.columns) == ["frame", "sample", "task_mass", "task_length"]
