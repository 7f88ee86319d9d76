"""Benchmark mode end to end: a tiny campaign on a local Ray, killed part-way and resumed."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest
from conftest import ROOT, make_raw

from slm_acl.experiment.paths import RunPaths
from slm_acl.spec import load_spec

PYTHONPATH = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])


def campaign(max_frame: int) -> dict:
    """2 teachers x 2 criteria x 2 seeds on the cheap pendulum; GoalGAN cannot run without a success definition."""
    raw = make_raw(curriculum={"teacher": {"name": "Random"}, "task_space": {"mass": [0.5, 2.0], "length": [0.5, 1.5]},
                               "success_return": -900, "test_set_size": 4},
                   meta={"seed": 5, "log_frequency": 1000, "eval_frequency": 5000, "checkpoint_frequency": 1000})
    raw["env"][0]["max_frame"] = max_frame
    raw["benchmark"] = {"seeds": 2,
                        "teacher": {"Random": {"name": "Random"}, "GoalGAN": {"name": "GoalGAN"}},
                        "criterion": {"standard": {},
                                      "no_success": {"curriculum": {"success_return": None}}}}
    return raw


def run_lab(args: list[str], **kw) -> subprocess.CompletedProcess | subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": PYTHONPATH}
    cmd = [sys.executable, str(ROOT / "run_lab.py"), *args]
    if kw.pop("background", False):
        return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)


def test_a_killed_campaign_resumes_keeping_finished_sessions(tmp_path):
    raw = campaign(max_frame=16_000)
    spec = tmp_path / "campaign.json"
    spec.write_text(json.dumps({"camp": {k: v for k, v in raw.items() if k != "name"}}))
    data = tmp_path / "data"
    proc = run_lab([str(spec), "camp", "benchmark", "--data-dir", str(data)], background=True)
    try:
        deadline = time.time() + 240
        while time.time() < deadline:
            tables = list(data.glob("camp_*/info/camp_benchmark_df.csv"))
            if tables:
                df = pd.read_csv(tables[0])
                if (df["status"] == "FINISHED").any() and (df["status"] == "PENDING").sum() >= 2:
                    break
            assert proc.poll() is None, "the campaign ended before it could be killed"
            time.sleep(0.1)
        else:
            pytest.fail("no finished session within 240 s")
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    (predir,) = data.glob("camp_*")
    paths = RunPaths(predir, "camp")
    before = pd.read_csv(predir / "info" / "camp_benchmark_df.csv")
    finished = before[before["status"] == "FINISHED"][["cell", "seed"]].values.tolist()
    finished_stamp = {(c, s): paths.table(c, s, "a0_e0_b0", "session_df").stat().st_mtime_ns for c, s in finished}

    done = run_lab([str(spec), "camp", f"benchmark@{predir}", "--data-dir", str(data)])
    assert done.returncode == 0, done.stderr[-3000:]
    table = pd.read_csv(predir / "info" / "camp_benchmark_df.csv")
    assert len(table) == 8  # 4 cells x 2 seeds, one body each
    invalid = table[table["status"] == "INVALID"]
    assert set(invalid["teacher"]) == {"GoalGAN"} and set(invalid["criterion"]) == {"no_success"}
    assert invalid["error"].str.contains("success").all()
    ran = table[table["status"] != "INVALID"]
    assert (ran["status"] == "FINISHED").all() and (ran["frames"] == 16_000).all()
    assert ran[ran["criterion"] == "standard"]["mastered"].notna().all()  # no success definition: no % mastered
    assert ran[ran["criterion"] == "no_success"]["mastered"].isna().all()
    for (cell, seed), stamp in finished_stamp.items():  # kept, not run again
        assert paths.table(cell, seed, "a0_e0_b0", "session_df").stat().st_mtime_ns == stamp
    assert ran[["task_s", "session_s"]].notna().all().all()  # timings of sessions finished before the kill kept
    assert (ran["task_s"] >= ran["session_s"]).all()
    for cell, seed in ran[["cell", "seed"]].values.tolist():
        episodes = pd.read_csv(paths.table(cell, seed, "a0_e0_b0", "session_df"))
        assert episodes["frame"].max() == 16_000
        assert not episodes.duplicated(["episode", "sub_env"]).any()
    logs = "".join(p.read_text() for p in (predir / "log").glob("*.log"))
    assert "resumed from checkpoint" in logs  # interrupted sessions continued
    curves = pd.read_csv(predir / "info" / "camp_benchmark_curves_df.csv")
    assert set(zip(curves["cell"], curves["seed"])) == set(zip(ran["cell"], ran["seed"]))
    assert (curves.groupby(["cell", "seed"])["frame"].max() == 16_000).all()
    assert (predir / "graph" / "camp_benchmark_graph.png").exists()
    # any cell runs alone in train mode, with the campaign's settings and seeds
    cell_file = predir / "cells" / "GoalGAN__standard__spec__spec.json"
    alone = load_spec(cell_file, "GoalGAN__standard__spec__spec")
    assert alone.spec.curriculum.teacher.name == "GoalGAN" and alone.spec.meta.max_session == 2
