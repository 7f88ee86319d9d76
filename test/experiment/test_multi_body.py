"""The flagship spec: one agent, three embodiments in two worlds, three teachers. Trains (at test size),
resumes from its checkpoint after an interruption, replays every body in enjoy mode with a video each,
and graphs each body's curve and curriculum."""
from __future__ import annotations

import json

import imageio.v2 as imageio
import pandas as pd
import pytest
from conftest import ROOT

from slm_acl.experiment import checkpoint
from slm_acl.experiment.enjoy import enjoy
from slm_acl.experiment.paths import RunPaths
from slm_acl.experiment.session import Session
from slm_acl.experiment.trial import analyse_trial
from slm_acl.spec import validate

BODIES = ("a0_e0_b0", "a0_e0_b1", "a0_e1_b0")


def small_multi_body() -> dict:
    raw = json.loads((ROOT / "spec" / "multi_body.json").read_text())["multi_body"]
    for env in raw["env"]:
        env.update(num_envs=2, max_t=40, max_frame=800)
    raw["agent"][0]["algorithm"].update(time_horizon=40, minibatch_size=40, training_epoch=1)
    raw["meta"].update(log_frequency=160, eval_frequency=320, checkpoint_frequency=160)
    for curriculum in [raw["curriculum"]] + [b.get("curriculum") for b in raw["body"]["bodies"]]:
        if curriculum:
            curriculum.update(test_set=None, test_set_size=2)
    return {"name": "multi_body", **raw}


class Interrupted(Exception):
    pass


def test_multi_body_trains_resumes_and_replays_every_body_with_its_own_teacher(tmp_path, monkeypatch):
    run = validate(small_multi_body())
    paths = RunPaths.new(tmp_path, "multi_body")
    calls = {"n": 0}
    original = Session._checkpoint

    def checkpoint_then_stop(self, complete):
        original(self, complete)
        calls["n"] += 1
        if calls["n"] == 3:  # as if killed right after the third checkpoint
            raise Interrupted

    monkeypatch.setattr(Session, "_checkpoint", checkpoint_then_stop)
    with pytest.raises(Interrupted):
        Session(run, paths, progress=False).run_session()
    monkeypatch.setattr(Session, "_checkpoint", original)
    stopped = checkpoint.load(paths.checkpoint(0, 0))
    assert not stopped["complete"] and all(f < 800 for f in stopped["frames"].values())

    Session(run, paths, progress=False).run_session()  # continues from the checkpoint
    done = checkpoint.load(paths.checkpoint(0, 0))
    assert done["complete"] and all(f >= 800 for f in done["frames"].values())
    analyse_trial(run, paths, 0, [0])
    last_views = {}
    for label in BODIES:
        episodes = pd.read_csv(paths.table(0, 0, label, "session_df"))
        assert episodes["episode"].tolist() == list(range(len(episodes)))  # nothing lost or doubled by the resume
        info = pd.read_csv(paths.table(0, 0, label, "teacher_df"))["info"].map(json.loads)
        last_views[label] = set(info.iloc[-1])
        assert paths.graph(f"multi_body_t0_s0_{label}_curriculum.png").exists()
        assert paths.graph(f"multi_body_t0_s0_{label}_session_graph.png").exists()
    assert "low" in last_views["a0_e0_b1"] and "regions" in last_views["a0_e1_b0"]  # ADR's box, RIAC's regions

    report = enjoy(str(paths.predir / "multi_body_t0_s0"), {"video_episodes": "1"})
    for label in BODIES:
        video = report[label]["video"]
        assert video and len(imageio.mimread(video, memtest=False)) > 0
