"""Every spec shipped in spec/ runs a few hundred frames, shrunk to test size, and takes gradient steps
(whether the students learn is test_learning.py's question)."""
from __future__ import annotations

import copy
import json

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT

from slm_acl.experiment.paths import RunPaths
from slm_acl.experiment.session import Session
from slm_acl.spec import validate

SPEC_FILES = ["ppo.json", "sac.json", "hydra.json", "demo.json", "multi_body.json", "search.json"]
CASES = [(f, name) for f in SPEC_FILES for name in json.loads((ROOT / "spec" / f).read_text())]


def shrink(raw: dict) -> dict:
    """The same spec at test size: short episodes, small rollouts and batches, a quick evaluation."""
    raw = copy.deepcopy(raw)
    for env in raw["env"]:
        env.update(max_frame=300 * env.get("num_envs", 1), max_t=60, num_envs=min(env.get("num_envs", 1), 2))
        env["max_frame"] = 300 * env["num_envs"]
    for agent in raw["agent"]:
        algo = agent["algorithm"]
        if algo["name"] == "PPO":
            algo.update(time_horizon=50, minibatch_size=25, training_epoch=2)
        elif algo["name"] == "SAC":
            algo.update(start_steps=60, learning_starts=60, batch_size=32)
            agent["memory"]["capacity"] = 1000
    raw["meta"].update(max_session=1, log_frequency=100, eval_frequency=200, eval_episodes=1)
    # evaluations on 3 generated tasks instead of the shipped 100-task sets (their loading is tested elsewhere)
    curricula = [raw.get("curriculum")] + [b.get("curriculum") for b in raw.get("body", {}).get("bodies") or []]
    for curriculum in curricula:
        if curriculum:
            curriculum.update(test_set=None, test_set_size=3)
    return raw


@pytest.mark.parametrize("spec_file,spec_name", CASES)
def test_spec_runs_at_test_size_and_trains(tmp_path, spec_file, spec_name):
    raw = json.loads((ROOT / "spec" / spec_file).read_text())[spec_name]
    raw = shrink({"name": spec_name, **raw})
    paths = RunPaths.new(tmp_path, spec_name)
    Session(validate(raw), paths, progress=False).run_session()
    for label in ("a0_e0_b0",) + (("a0_e1_b0",) if len(raw["env"]) > 1 else ()):
        episodes = pd.read_csv(paths.table(0, 0, label, "session_df"))
        metrics = pd.read_csv(paths.table(0, 0, label, "metrics_df"))
        assert len(episodes) > 0 and np.isfinite(episodes["return"]).all()
        if raw["agent"][0]["algorithm"]["name"] != "Random":
            assert metrics["opt_step"].iloc[-1] > 0, "the agent never took a gradient step"


@pytest.mark.parametrize("spec_file,spec_name", [("ppo.json", "ppo_lunar_continuous"), ("sac.json", "sac_lunar_continuous")])
def test_same_seed_gives_identical_learning_curves(tmp_path, spec_file, spec_name):
    raw = shrink({"name": spec_name, **json.loads((ROOT / "spec" / spec_file).read_text())[spec_name]})
    tables = []
    for run in ("a", "b"):
        paths = RunPaths.new(tmp_path / run, spec_name)
        Session(validate(copy.deepcopy(raw)), paths, progress=False).run_session()
        tables.append(pd.read_csv(paths.table(0, 0, "a0_e0_b0", "session_df")))
    pd.testing.assert_frame_equal(tables[0], tables[1])
