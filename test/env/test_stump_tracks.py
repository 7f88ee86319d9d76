"""Stump Tracks as a Gymnasium env: API, sizes per body, determinism, falls, tasks."""
from __future__ import annotations

import json
from importlib import resources

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import slm_acl.env  # noqa: F401  (registers the ids)
from slm_acl.env.bodies import body_names, load_body

REFERENCE = json.loads((resources.files("slm_acl.env.bodies") / "reference.json").read_text())["bodies"]


def make(body: str = "classic_bipedal", **kw) -> gym.Env:
    return gym.make("slm_acl/StumpTracks-v0", body=body, **kw)


@pytest.mark.parametrize("body", body_names())
def test_every_body_passes_the_env_checker_with_the_reference_sizes(body):
    env = make(body)
    check_env(env.unwrapped, skip_render_check=True)
    expected = REFERENCE[body]["observation"]
    assert env.observation_space.shape == (expected["obs_size_stump_tracks"],)
    assert env.action_space.shape == (expected["get_action_size"],)
    obs, _ = env.reset(seed=1)
    for _ in range(20):
        obs, reward, *_ = env.step(env.action_space.sample())
    assert np.isfinite(obs).all() and np.isfinite(reward)


def rollout(seed: int, task: dict, steps: int = 300) -> tuple[np.ndarray, list[float]]:
    env = make()
    obs, _ = env.reset(seed=seed, options={"task": task})
    actions = np.random.default_rng(0).uniform(-1, 1, (steps, 4)).astype(np.float32)
    trajectory, rewards = [obs], []
    for a in actions:
        obs, reward, terminated, truncated, _ = env.step(a)
        trajectory.append(obs)
        rewards.append(reward)
        if terminated or truncated:
            break
    return np.array(trajectory), rewards


def test_same_seed_task_and_actions_give_identical_trajectories():
    task = {"stump_height": 1.5, "obstacle_spacing": 2.0}
    a, b = rollout(3, task), rollout(3, task)
    np.testing.assert_array_equal(a[0], b[0])
    assert a[1] == b[1]
    other = rollout(4, task)
    assert not np.array_equal(a[0][:50], other[0][:50])


def test_a_biped_that_does_nothing_useful_falls_with_minus_100():
    env = make()
    env.reset(seed=0, options={"task": {"stump_height": 0.0, "obstacle_spacing": 6.0}})
    flail = np.array([-1.0, -1.0, -1.0, -1.0], np.float32)  # both hips and knees driven back: it sits down
    for _ in range(300):
        _, reward, terminated, _, info = env.step(flail)
        if terminated:
            break
    assert terminated and reward == -100.0 and not info["success"]


def test_a_bad_task_gets_an_error_naming_the_key_and_the_valid_ones():
    env = make()
    with pytest.raises(ValueError, match=r"unknown task parameter 'stump_hieght'; valid: \['obstacle_spacing'"):
        env.reset(options={"task": {"stump_hieght": 1.0}})
    with pytest.raises(ValueError, match=r"'poly_shape' must be a list of 12 numbers"):
        env.unwrapped.set_task({"poly_shape": [1.0, 2.0]})
    with pytest.raises(ValueError, match=r"'stump_height'=11.0 is outside \[-10.0, 10.0\]"):
        env.unwrapped.set_task({"stump_height": 11.0})


def test_hexagon_tracks_task_replaces_the_default_stumps():
    env = make()
    env.reset(seed=0, options={"task": {"poly_shape": [2.0] * 12}})
    assert "stump_height" not in env.unwrapped.task
    kinds = {o.kind for o in env.unwrapped.layout.obstacles}
    assert kinds == {"hexagon"}


def test_a_user_body_file_works_as_the_body(tmp_path):
    path = tmp_path / "my_biped.json"
    path.write_text(load_body("classic_bipedal").to_json())
    env = make(str(path))
    obs, _ = env.reset(seed=0)
    assert obs.shape == (24,)
