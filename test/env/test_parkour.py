"""Parkour as a Gymnasium env: sizes per body, water (float, drown), climbing (hold, fall), tasks."""
from __future__ import annotations

import json
from importlib import resources

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import slm_acl.env  # noqa: F401  (registers the ids)
from slm_acl.env.bodies import body_names

REFERENCE = json.loads((resources.files("slm_acl.env.bodies") / "reference.json").read_text())["bodies"]
DRY = {"input_vector": [-0.15, 0.8, 0.1], "water_level": 0.0}
FULL_WATER = {"input_vector": [-0.15, 0.8, 0.1], "water_level": 1.0}


def make(body: str = "classic_bipedal", **kw) -> gym.Env:
    return gym.make("slm_acl/Parkour-v0", body=body, **kw)


@pytest.mark.parametrize("body", body_names())
def test_every_body_passes_the_env_checker_with_the_reference_sizes(body):
    env = make(body)
    check_env(env.unwrapped, skip_render_check=True)
    expected = REFERENCE[body]["observation"]
    assert env.observation_space.shape == (expected["obs_size_parkour"],)
    assert env.action_space.shape == (expected["get_action_size"],)
    obs, _ = env.reset(seed=2, options={"task": {**FULL_WATER, "water_level": 0.4, "creepers_width": 0.25,
                                                 "creepers_height": 2.0, "creepers_spacing": 1.0}})
    for _ in range(30):
        obs, reward, *_ = env.step(env.action_space.sample())
    assert np.isfinite(obs).all() and np.isfinite(reward)


def test_the_fish_floats_up_in_full_water_and_stays_alive():
    env = make("fish")
    obs, _ = env.reset(seed=0, options={"task": FULL_WATER})
    y0 = env.unwrapped.agent.head.position[1]
    for _ in range(300):
        obs, *_ = env.step(np.zeros(4, np.float32))
    assert obs[4] == 1.0 and obs[5] == 0.0  # under water, alive
    assert env.unwrapped.agent.head.position[1] > y0  # its density is just below the water's


def test_a_walker_drowns_after_600_steps_under_water_and_then_its_actions_do_nothing():
    env = make("classic_bipedal")
    obs, _ = env.reset(seed=0, options={"task": FULL_WATER})
    flags = []
    for _ in range(620):
        obs, reward, terminated, truncated, _ = env.step(np.ones(4, np.float32))
        flags.append((obs[4], obs[5]))
        assert not terminated  # death does not end an episode
    assert all(under == 1.0 for under, _ in flags)
    dead_from = next(k for k, (_, dead) in enumerate(flags) if dead == 1.0)
    assert dead_from == 601  # dead once more than 600 steps were spent under water
    assert [j.motorSpeed for j in env.unwrapped.agent.motors] == [0.0] * 4  # actions replaced by zeros


@pytest.mark.parametrize("body", ["climbing_profile_chimpanzee", "climbing_chest_profile_chimpanzee"])
def test_a_climber_holds_on_with_grasp_and_falls_without(body):
    heights = {}
    for grasp in (1.0, -1.0):
        env = make(body)
        obs, _ = env.reset(seed=0, options={"task": DRY})
        agent = env.unwrapped.agent
        assert all(s.userData.has_joint for s in agent.sensors)  # hanging after reset
        action = np.zeros(env.action_space.shape, np.float32)
        action[env.unwrapped.n_motors:] = grasp
        y0 = agent.head.position[1]
        for _ in range(100):
            env.step(action)
        heights[grasp] = agent.head.position[1] - y0
    assert abs(heights[1.0]) < 1.0
    assert heights[-1.0] < -3.0


def test_bad_parkour_tasks_get_clear_errors():
    env = make()
    with pytest.raises(ValueError, match=r"'input_vector' must be a list of 3 numbers"):
        env.reset(options={"task": {"input_vector": [0.1, 0.2]}})
    with pytest.raises(ValueError, match=r"unknown task parameter 'water'; valid: \['creepers_height'"):
        env.reset(options={"task": {"water": 0.5}})
