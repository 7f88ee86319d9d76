"""Enjoy and eval need only the policy: a teacher gone since training, task dims left out of `-s`, an env
that cannot render frames, a spec's search and benchmark blocks; none of them stops a replay."""
from __future__ import annotations

import copy
import logging
import re

import numpy as np
import pytest
from conftest import make_raw
from protocol_envs import EPISODE_STEPS

from slm_acl.curriculum.task_space import TaskSpace
from slm_acl.curriculum.teachers.random import RandomTeacher
from slm_acl.curriculum.teachers.registry import TEACHERS
from slm_acl.curriculum.test_sets import uniform
from slm_acl.experiment.enjoy import enjoy
from slm_acl.experiment.eval_mode import evaluate_saved
from slm_acl.experiment.paths import RunPaths
from slm_acl.experiment.replay_spec import for_replay
from slm_acl.experiment.session import Session
from slm_acl.spec import validate
from slm_acl.spec.errors import SpecError
from slm_acl.spec.loader import load_resolved

LABEL = "a0_e0_b0"
SPACE = {"level": [2.0, 8.0], "scale": [0.5, 1.5]}  # PlainEcho's return: EPISODE_STEPS * level * scale


class GoneTeacher(RandomTeacher):
    """A user's teacher, registered only while the run trains."""


def train(root, env: str, teacher: str = "Random") -> str:
    raw = make_raw(env=[{"name": env, "num_envs": 1, "max_frame": 100, "max_t": 50}],
                   curriculum={"teacher": {"name": teacher}, "task_space": SPACE, "success_return": 20,
                               "test_set_size": 4},
                   meta={"seed": 3, "log_frequency": 50, "eval_frequency": 50})
    paths = RunPaths.new(root, "t")
    Session(validate(raw), paths, progress=False).run_session()
    return str(paths.predir / "t_t0_s0")


@pytest.fixture(scope="module")
def gone(tmp_path_factory):
    """A session of PlainEcho (no render mode) trained by a teacher that is unregistered afterwards."""
    TEACHERS.register("TestGone")(GoneTeacher)
    try:
        return train(tmp_path_factory.mktemp("gone"), "protocol_envs:PlainEcho-v0", "TestGone")
    finally:
        TEACHERS._entries.pop("TestGone", None)


def test_enjoy_and_eval_replay_a_policy_whose_teacher_is_gone(gone, caplog, capsys):
    with pytest.raises(SpecError, match="unknown teacher 'TestGone'"):  # the whole spec no longer validates
        load_resolved(f"{gone}_spec.json")
    with caplog.at_level(logging.INFO, logger="slm_acl"):
        report = enjoy(gone, {"video_episodes": "2"})[LABEL]
    assert "set aside curriculum.teacher 'TestGone'" in caplog.text
    test_set = uniform(TaskSpace.from_spec(SPACE), 4, 31)  # the saved test set, played on the saved task space
    expected = [EPISODE_STEPS * task["level"] * task["scale"] for task in map(test_set.env_task, range(4))]
    np.testing.assert_allclose(report["returns"], expected)
    assert report["mastered"] == pytest.approx(100 * np.mean(np.array(expected) > 20))  # success_return kept
    assert "mean return" in capsys.readouterr().out
    evaluated = evaluate_saved(gone)["bodies"][LABEL]
    assert evaluated["n_tasks"] == 4 and evaluated["success_return"] == 20
    assert evaluated["mean_return"] == pytest.approx(np.mean(expected))


def test_task_dims_left_out_of_s_take_the_centre_of_the_task_space(gone, caplog):
    with caplog.at_level(logging.INFO, logger="slm_acl"):
        report = enjoy(gone, {"level": "4", "video_episodes": "0"})[LABEL]
    assert report["returns"] == [pytest.approx(EPISODE_STEPS * 4 * 1.0)]  # scale at the centre of [0.5, 1.5]
    assert "task dims not given with -s take the centre of the task space: scale=1" in caplog.text
    both = enjoy(gone, {"level": "4", "scale": "1.5", "episodes": "2", "video_episodes": "0"})[LABEL]
    assert both["returns"] == [pytest.approx(EPISODE_STEPS * 4 * 1.5)] * 2
    with pytest.raises(SpecError, match="unknown enjoy option"):
        enjoy(gone, {"levle": "4"})


@pytest.mark.parametrize("env, why", [
    ("protocol_envs:PlainEcho-v0", "does not offer render_mode 'rgb_array'"),
    ("protocol_envs:NoRenderEcho-v0", "render\\(\\) raises NotImplementedError"),
])
def test_an_env_that_cannot_render_frames_is_replayed_without_a_video(tmp_path, env, why, caplog, capsys):
    target = train(tmp_path, env)
    with caplog.at_level(logging.WARNING, logger="slm_acl"):
        report = enjoy(target, {})[LABEL]  # videos are on by default
    assert report["video"] is None and len(report["returns"]) == 4
    (warning,) = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert f"{LABEL}: no video" in warning and re.search(why, warning)
    assert "4 episodes, mean return" in capsys.readouterr().out
    assert not list(tmp_path.rglob("*.mp4"))


def test_the_replay_spec_sets_aside_teachers_search_and_benchmark_and_keeps_the_rest():
    raw = make_raw(env=[{"name": "protocol_envs:PlainEcho-v0", "max_frame": 100}],
                   curriculum={"teacher": {"name": "my_pkg.teachers:EpsGreedy", "eps": 0.1}, "task_space": SPACE,
                               "success_return": 20, "test_set": "grid", "test_set_size": 9,
                               "expert_knowledge": "low"},
                   body={"product": "custom", "bodies": [
                       {"agent": 0, "env": 0, "curriculum": {"teacher": {"eps": 0.5}}},
                       {"agent": 0, "env": 0, "curriculum": {"test_set_size": 4}},
                       {"agent": 0, "env": 0, "no_curriculum": True}]},
                   search={"agent": [{"algorithm": {"lr__loguniform": [1e-4, 1e-2]}}]},
                   benchmark={"teacher": {"alp": {"name": "ALP-GMM"}}})
    saved = copy.deepcopy(raw)
    replay, set_aside = for_replay(raw)
    assert raw == saved  # a copy is changed, not the saved tree
    assert set_aside == ["the search block", "the benchmark block", "curriculum.teacher 'my_pkg.teachers:EpsGreedy'",
                         "body.bodies[0].curriculum.teacher settings {'eps': 0.5}"]
    assert replay["curriculum"]["teacher"] == {"name": "Random"}
    assert replay["body"]["bodies"][0]["curriculum"] == {"teacher": {"name": "Random"}}
    assert replay["body"]["bodies"][1:] == raw["body"]["bodies"][1:]
    assert "search" not in replay and "benchmark" not in replay
    kept = {k: v for k, v in raw["curriculum"].items() if k != "teacher"}
    assert {k: v for k, v in replay["curriculum"].items() if k != "teacher"} == kept
    run = validate(replay)  # what a replay uses validates without the user's teacher module
    first, second, third = (plan.curriculum for plan in run.bodies)
    assert first.teacher.name == second.teacher.name == "Random" and third is None
    assert (first.success_return, first.test_set, first.test_set_size) == (20, "grid", 9)
    assert second.test_set_size == 4 and TaskSpace.from_spec(second.task_space).names == ["level", "scale"]
