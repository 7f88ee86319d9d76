"""examples/: a user's teacher, algorithm, env and body, each used from a spec alone (no launcher script),
in train (spawned session processes), search (Ray workers) and enjoy, run from a directory of the user's own.

The lab is started as a user starts it: `python run_lab.py` with a plain environment (no PYTHONPATH), in a
working directory that is neither the repository nor the examples folder.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
SPECS = ROOT / "examples" / "specs.json"


def lab(*args: str, cwd: Path, timeout: int = 600) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    out = subprocess.run([sys.executable, str(ROOT / "run_lab.py"), *args], cwd=cwd, env=env, capture_output=True,
                         text=True, timeout=timeout)
    assert out.returncode == 0, f"{args}: exit {out.returncode}\n{out.stdout[-2000:]}\n{out.stderr[-4000:]}"
    return out


def only_run(data: Path, spec_name: str) -> Path:
    (run,) = [p for p in data.glob(f"{spec_name}_*") if p.is_dir()]
    return run


@pytest.fixture
def user_dir(tmp_path) -> Path:
    folder = tmp_path / "my_project"
    folder.mkdir()
    return folder


def test_a_user_teacher_by_module_path_trains_two_spawned_sessions(user_dir):
    lab(str(SPECS), "eps_greedy_param_pendulum", "train", "-s", "frames=4000", "--data-dir", "data", cwd=user_dir)
    run = only_run(user_dir / "data", "eps_greedy_param_pendulum")
    for s in (0, 1):
        episodes = pd.read_csv(run / "info" / f"eps_greedy_param_pendulum_t0_s{s}_a0_e0_b0_session_df.csv")
        assert len(episodes) > 0 and episodes["frame"].max() <= 4000
        teacher = pd.read_csv(run / "info" / f"eps_greedy_param_pendulum_t0_s{s}_a0_e0_b0_teacher_df.csv")
        info = [json.loads(text) for text in teacher["info"]]
        assert info and info[-1]["cells_seen"] > 1  # the user teacher's own info, logged by the lab
    saved = json.loads((run / "eps_greedy_param_pendulum_spec.json").read_text())
    assert saved["curriculum"]["teacher"]["name"] == "my_teachers:EpsGreedyLP"
    assert str(SPECS.parent) in saved["meta"]["plugin_paths"]  # where a resume or a replay finds the module


def test_a_user_algorithm_on_a_user_env_trains_then_replays_from_elsewhere(user_dir, tmp_path):
    lab(str(SPECS), "reinforce_point_goal", "train", "-s", "frames=10000", "--data-dir", "data", cwd=user_dir)
    run = only_run(user_dir / "data", "reinforce_point_goal")
    metrics = pd.read_csv(run / "info" / "reinforce_point_goal_t0_s0_a0_e0_b0_metrics_df.csv")
    assert metrics["grad_norm"].notna().any()  # the user algorithm's declared metrics were trained and logged
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out = lab(str(SPECS), "reinforce_point_goal", f"enjoy@{run / 'reinforce_point_goal_t0_s0'}", "-s", "episodes=2",
              cwd=elsewhere)
    assert "a0_e0_b0: 2 episodes, mean return" in out.stdout
    assert list((run / "video").glob("reinforce_point_goal_t0_s0_a0_e0_b0_enjoy*.mp4"))
    # a resume from elsewhere reads the saved spec, whose plugins and plugin paths find the modules again
    lab(str(SPECS), "reinforce_point_goal", f"train@{run}", "-s", "frames=10000", cwd=elsewhere)


def test_a_search_over_a_user_teacher_and_algorithm_runs_in_ray_workers(user_dir):
    lab(str(SPECS), "reinforce_point_goal_search", "search", "-s", "frames=2000", "--data-dir", "data",
        cwd=user_dir)
    run = only_run(user_dir / "data", "reinforce_point_goal_search")
    table = pd.read_csv(run / "info" / "reinforce_point_goal_search_experiment_df.csv")
    assert sorted(table["trial"]) == [0, 1]
    assert list(table["status"]) == ["TERMINATED", "TERMINATED"], table.get("error")
    assert sorted(table["curriculum.teacher.epsilon"]) == [0.1, 0.5]


def test_a_user_body_file_beside_the_spec_trains_and_replays_from_elsewhere(user_dir, tmp_path):
    lab(str(SPECS), "long_shin_stump_tracks", "train", "-s", "frames=1000", "--data-dir", "data", cwd=user_dir)
    run = only_run(user_dir / "data", "long_shin_stump_tracks")
    kept = run / "bodies" / "long_shin_bipedal.json"
    assert json.loads(kept.read_text()) == json.loads((SPECS.parent / "bodies" / "long_shin_bipedal.json").read_text())
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out = lab(str(SPECS), "long_shin_stump_tracks", f"enjoy@{run / 'long_shin_stump_tracks_t0_s0'}", "-s",
              "episodes=1", "-s", "video_episodes=0", cwd=elsewhere)
    assert "a0_e0_b0: 1 episodes, mean return" in out.stdout
