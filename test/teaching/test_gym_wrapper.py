"""Curricula for any trainer: the Gymnasium wrappers and the Curriculum they share.

TaskEcho (test/task_echo_env.py) pays `level` per step for a random natural length, so an episode's return is
level * length: a return the teacher hears proves which task its episode played.
"""
from __future__ import annotations

import pickle

import gymnasium as gym
import numpy as np
import pytest
from task_echo_env import LENGTHS

from slm_acl.spec import SpecError
from slm_acl.teaching import Curriculum, CurriculumVectorEnv, CurriculumWrapper

ECHO_SPACE = {"level": [1.0, 9.0]}
PENDULUM_SPACE = {"mass": [0.5, 2.0], "length": [0.5, 1.5]}


def play(env: gym.Env, episodes: int) -> list[tuple[dict, float, int]]:
    """(task, return, length) of `episodes` episodes of random actions, the task read from the infos."""
    out = []
    for k in range(episodes):
        _, info = env.reset(seed=k)
        start_task, total, length, done = info["task"], 0.0, 0, False
        while not done:
            _, reward, terminated, truncated, info = env.step(env.action_space.sample())
            total, length, done = total + float(reward), length + 1, terminated or truncated
        assert info["task"] == start_task  # the last step names the episode's task too
        out.append((start_task, total, length))
    return out


def stored_alp_history(curriculum: Curriculum) -> tuple[np.ndarray, np.ndarray]:
    """ALP-GMM's record of every (unit-cube task, return) it heard, in order."""
    alp = curriculum.teacher.alp
    return alp.tasks[:alp.size], alp.returns[:alp.size]


def test_each_episode_plays_a_task_of_the_space_and_its_return_reaches_the_teacher():
    env = CurriculumWrapper(gym.make("TaskEcho-v0"), "ALP-GMM", ECHO_SPACE, seed=3, fit_rate=10)
    played = play(env, 40)
    levels = np.array([task["level"] for task, _, _ in played])
    assert ((levels >= 1.0) & (levels <= 9.0)).all() and levels.std() > 0.5
    for task, total, length in played:
        assert total == pytest.approx(task["level"] * length) and length in LENGTHS
    tasks, returns = stored_alp_history(env.curriculum)
    np.testing.assert_allclose(returns, [total for _, total, _ in played])  # every episode, in order
    np.testing.assert_allclose(tasks[:, 0], (levels - 1.0) / 8.0)  # with the task it played
    assert env.curriculum.episodes == 40 and env.curriculum.teacher.n_fits >= 2


def test_the_env_success_flag_counts():
    class Succeeds(gym.Wrapper):
        def step(self, action):
            obs, reward, terminated, truncated, info = self.env.step(action)
            return obs, reward, terminated, truncated, {**info, "is_success": True}

    heard = []
    env = CurriculumWrapper(Succeeds(gym.make("TaskEcho-v0")), "Random", ECHO_SPACE, success_return=1e9)
    original = env.curriculum.teacher.update
    env.curriculum.teacher.update = lambda proposal, ret, success: (heard.append(success),
                                                                     original(proposal, ret, success))
    play(env, 3)
    assert heard == [True, True, True]


def test_an_early_reset_replays_the_task_and_the_teacher_hears_one_outcome():
    env = CurriculumWrapper(gym.make("TaskEcho-v0"), "ALP-GMM", ECHO_SPACE, seed=0)
    _, first = env.reset(seed=0)
    env.step(env.action_space.sample())
    _, again = env.reset(seed=1)  # abandoned mid-episode (SB3's learn() resets at its start)
    assert again["task"] == first["task"] and env.curriculum.episodes == 0


def test_settings_are_checked_as_a_spec_checks_them():
    pendulum = gym.make("slm_acl/ParamPendulum-v0")
    with pytest.raises(SpecError, match="unknown teacher 'ALP-GM'. Did you mean 'ALP-GMM'.*Registered teachers"):
        CurriculumWrapper(pendulum, "ALP-GM", PENDULUM_SPACE)
    with pytest.raises(SpecError, match="unknown key 'fit_rat'. Did you mean 'fit_rate'"):
        CurriculumWrapper(pendulum, "ALP-GMM", PENDULUM_SPACE, fit_rat=10)
    with pytest.raises(SpecError, match="no task parameter 'masss'. Did you mean 'mass'"):
        CurriculumWrapper(pendulum, "ALP-GMM", {"masss": [0.5, 2.0]})
    with pytest.raises(SpecError, match="GoalGAN needs a success definition"):
        CurriculumWrapper(pendulum, "GoalGAN", PENDULUM_SPACE)
    with pytest.raises(TypeError, match="remove"):
        CurriculumWrapper(pendulum, "Random", PENDULUM_SPACE, curriculum=Curriculum("Random", PENDULUM_SPACE))
    env = CurriculumWrapper(pendulum, {"name": "ALP-GMM", "fit_rate": 20}, PENDULUM_SPACE)
    with pytest.raises(ValueError, match="the teacher chooses"):
        env.reset(options={"task": {"mass": 1.0}})


def test_save_and_load_continue_the_same_proposals(tmp_path):
    def outcome(task: dict) -> float:
        return 10.0 * task["mass"] - task["length"]  # any deterministic function of the task

    def drive(curriculum: Curriculum, slot: int, episodes: int) -> list[dict]:
        tasks = []
        for _ in range(episodes):
            task = curriculum.next_task(slot)
            curriculum.end_episode(slot, outcome(task), 50, truncated=True)
            tasks.append(task)
        return tasks

    original = Curriculum("ALP-GMM", PENDULUM_SPACE, seed=1, fit_rate=10)
    drive(original, original.add_env(), 35)  # past the bootstrap: a fitted GMM is part of the state
    original.save(tmp_path / "teacher.pt")
    resumed = Curriculum("ALP-GMM", PENDULUM_SPACE, seed=999, fit_rate=10)
    resumed.load(tmp_path / "teacher.pt")
    assert resumed.episodes == 35
    assert drive(resumed, resumed.add_env(), 30) == drive(original, 0, 30)

    other = Curriculum("ALP-GMM", PENDULUM_SPACE, fit_rate=20)
    with pytest.raises(ValueError, match="other settings \\(teacher\\)"):
        other.load(tmp_path / "teacher.pt")
    busy = Curriculum("ALP-GMM", PENDULUM_SPACE, seed=1, fit_rate=10)
    busy.next_task(busy.add_env())
    with pytest.raises(RuntimeError, match="before its envs' first reset"):
        busy.load(tmp_path / "teacher.pt")


def test_a_curriculum_refuses_to_be_copied_into_another_process():
    with pytest.raises(TypeError, match="would teach alone"):
        pickle.dumps(Curriculum("Random", ECHO_SPACE))


@pytest.mark.parametrize("vectorization", ["sync", "async"])
def test_the_vector_env_gives_each_sub_env_its_own_task(vectorization):
    envs = CurriculumVectorEnv("TaskEcho-v0", 3, "ALP-GMM", ECHO_SPACE, seed=2, fit_rate=10,
                               vectorization=vectorization)
    try:
        obs, info = envs.reset(seed=0)
        playing = info["task"]["level"].copy()
        assert len(set(playing.tolist())) == 3 and np.array_equal(obs[:, 0], playing.astype(np.float32))
        returns, finished, new_tasks = np.zeros(3), [], 0
        restarting = np.zeros(3, dtype=bool)
        for _ in range(120):
            obs, reward, terminated, truncated, info = envs.step(envs.action_space.sample())
            if restarting.any():  # next-step autoreset: these sub-envs started their next task now
                assert (reward[restarting] == 0).all()
                fresh = info["task"]["level"][restarting]
                assert np.array_equal(obs[restarting, 0], fresh.astype(np.float32))
                playing[restarting], returns[restarting] = fresh, 0.0
                new_tasks += int(restarting.sum())
            returns[~restarting] += reward[~restarting]
            ended = terminated | truncated
            for i in np.flatnonzero(ended):
                assert info["task"]["level"][i] == playing[i]
                finished.append((playing[i], returns[i]))
            restarting = ended
        curriculum = envs.curriculum
        tasks, heard = stored_alp_history(curriculum)
        assert curriculum.episodes == len(finished) >= 20 and new_tasks >= len(finished) - 3
        for level, total in finished:
            assert min(abs(total / level - n) for n in LENGTHS) < 1e-9  # each sub-env's return: its own task
        np.testing.assert_allclose(sorted(heard), sorted(total for _, total in finished))
        np.testing.assert_allclose(sorted(tasks[:, 0]), sorted((lv - 1.0) / 8.0 for lv, _ in finished))
        with pytest.raises(ValueError, match="the teacher chooses"):  # refused here, the workers left intact
            envs.reset(options={"task": {"level": 1.0}})
        envs.reset(seed=1)
    finally:
        envs.close()


def test_sb3_ppo_trains_with_alp_gmm_on_a_shared_curriculum(tmp_path):
    pytest.importorskip("stable_baselines3")
    from stable_baselines3 import PPO
    from stable_baselines3.common.logger import configure
    from stable_baselines3.common.env_util import make_vec_env

    curriculum = Curriculum("ALP-GMM", PENDULUM_SPACE, seed=0, fit_rate=10)
    vec = make_vec_env(lambda: CurriculumWrapper(gym.make("slm_acl/ParamPendulum-v0", max_episode_steps=50),
                                                 curriculum=curriculum), n_envs=2, seed=0)
    model = PPO("MlpPolicy", vec, n_steps=256, batch_size=128, n_epochs=2, seed=0, device="cpu",
                policy_kwargs={"net_arch": [32, 32]})
    model.set_logger(configure(str(tmp_path), [""]))  # SB3's default logger leaves a folder in /tmp
    model.learn(3000)
    tasks, returns = stored_alp_history(curriculum)
    assert curriculum.episodes == len(returns) >= 55  # 3072 steps / 50 per episode, both sub-envs reporting
    assert curriculum.teacher.n_fits >= 4  # the GMM was fitted from what PPO's episodes reported
    assert (tasks.std(axis=0) > 0.1).all() and np.isfinite(returns).all()
