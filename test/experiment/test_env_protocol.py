"""The env task protocol (slm_acl/env/tasks.py): an env's `info["is_success"]` decides an episode's success
wherever the lab judges one, and an env without `task_params` is told how to take tasks."""
from __future__ import annotations

import gymnasium as gym
import numpy as np
import pandas as pd
import pytest
from conftest import make_raw
from protocol_envs import EPISODE_STEPS

import slm_acl.env.tasks
from slm_acl.curriculum.task_space import TaskSpace
from slm_acl.curriculum.teachers.random import RandomTeacher
from slm_acl.curriculum.teachers.registry import TEACHERS
from slm_acl.env.factory import EnvMaker
from slm_acl.env.vector import make_vec_env
from slm_acl.experiment.paths import RunPaths
from slm_acl.experiment.session import Session
from slm_acl.spec import validate
from slm_acl.spec.env_fit import check_task_space
from slm_acl.spec.errors import SpecError
from slm_acl.teaching import CurriculumWrapper

FLAG = "protocol_envs:FlagEcho-v0"  # is_success = level < 5, return = 5 * level: the opposite of success_return 25
LABEL = "a0_e0_b0"


class HeardTeacher(RandomTeacher):
    """The Random teacher, keeping every success it is told (in the order it is told)."""

    heard: list[bool] = []

    def update(self, proposal, episodic_return, success):
        HeardTeacher.heard.append(success)
        super().update(proposal, episodic_return, success)


@pytest.fixture(scope="module")
def flag_run(tmp_path_factory):
    """A session on FlagEcho whose teacher records what it hears."""
    TEACHERS.register("TestHeard")(HeardTeacher)
    HeardTeacher.heard = []
    try:
        raw = make_raw(env=[{"name": FLAG, "num_envs": 2, "max_frame": 400, "max_t": 50}],
                       curriculum={"teacher": {"name": "TestHeard"}, "task_space": {"level": [0.0, 10.0]},
                                   "success_return": 25, "test_set_size": 8},
                       meta={"seed": 3, "log_frequency": 200, "eval_frequency": 200})
        paths = RunPaths.new(tmp_path_factory.mktemp("flag"), "t")
        Session(validate(raw), paths, progress=False).run_session()
    finally:
        TEACHERS._entries.pop("TestHeard", None)
    return paths, list(HeardTeacher.heard)


def test_the_envs_is_success_decides_session_df_and_what_the_teacher_hears(flag_run):
    paths, heard = flag_run
    df = pd.read_csv(paths.table(0, 0, LABEL, "session_df"))
    assert len(df) == 400 // EPISODE_STEPS
    assert df["success"].tolist() == (df["task_level"] < 5).tolist()
    assert df["success"].any() and not df["success"].all()
    assert (df["success"] != (df["return"] > 25)).all()  # the return alone would say the opposite every time
    assert heard == df["success"].tolist()  # every episode, in order, as recorded


def test_an_evaluations_mastered_tasks_follow_is_success(flag_run):
    paths, _ = flag_run
    tasks = pd.read_csv(paths.table(0, 0, LABEL, "eval_tasks_df"))
    evals = pd.read_csv(paths.table(0, 0, LABEL, "eval_df"))
    for frame, rows in tasks.groupby("frame"):
        assert rows["success"].tolist() == (rows["return"] < 25).tolist()  # level < 5
        mastered = evals.loc[evals["frame"] == frame, "mastered"].item()
        assert mastered == pytest.approx(100 * rows["success"].mean())
    assert 0 < tasks["success"].mean() < 1


@pytest.mark.parametrize("kind", ["sync", "subprocess"])
def test_a_vector_env_passes_is_success_only_at_an_episodes_end(kind):
    vec = make_vec_env(EnvMaker(FLAG), 1, kind)
    try:
        for level, expected in ((3.0, True), (7.0, False)):
            vec.reset_at([0], [0], [{"level": level}])
            for t in range(1, EPISODE_STEPS + 1):
                *_, terminated, _, success = vec.step(np.zeros((1, 1), dtype=np.float32))
                assert success == [expected if t == EPISODE_STEPS else None] and terminated[0] == (t == EPISODE_STEPS)
    finally:
        vec.close()


def test_the_teaching_wrappers_judge_success_by_the_same_rule():
    env = CurriculumWrapper(gym.make("FlagEcho-v0"), "Random", {"level": [0.0, 10.0]}, seed=1, success_return=25)
    heard = []
    original = env.curriculum.teacher.update
    env.curriculum.teacher.update = lambda proposal, ret, success: (heard.append(success),
                                                                     original(proposal, ret, success))
    levels = []
    for episode in range(12):
        _, info = env.reset(seed=episode)
        levels.append(info["task"]["level"])
        done = False
        while not done:
            _, _, terminated, truncated, _ = env.step(env.action_space.sample())
            done = terminated or truncated
    assert heard == [level < 5 for level in levels] and any(heard) and not all(heard)


def test_an_env_without_task_params_is_told_what_to_implement():
    with pytest.raises(SpecError) as err:
        check_task_space(TaskSpace.from_spec({"level": [0.0, 1.0]}), None, "MyEnv-v0", "curriculum.task_space")
    message = str(err.value)
    assert "env MyEnv-v0 takes no task parameters" in message
    assert "task_params = {param: (low, high)}" in message and "reset(options={'task'" in message
    assert "slm_acl.env.tasks" in message
    protocol = slm_acl.env.tasks.__doc__  # where the message sends the user
    assert "`task_params`" in protocol and 'options={"task"' in protocol and 'info["is_success"]' in protocol
