"""The scripted biped controller walks flat Stump Tracks: positive return, no fall, metres of progress.

Measured with the default gains (500 steps, stump_height 0, obstacle_spacing 6, seeds 0..19):
classic_bipedal returns 118.9-122.1 and moves its head 32-33 m; old_classic_bipedal (seeds 0..4)
128.3-133.6 and 34.5-35.8 m. Both reach the end of the track (about 84 m, ~1150 steps) with a
return of about 314, above the 230 success threshold. The bounds below sit at about half of that.
"""
from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import slm_acl.env  # noqa: F401  (registers the ids)
from slm_acl.env.box2d_base import FALL_REWARD
from slm_acl.env.controllers import BipedWalkerController

FLAT = {"stump_height": 0.0, "obstacle_spacing": 6.0}
MIN_RETURN = 60.0  # measured >= 118.9 over 500 steps
MIN_PROGRESS_M = 15.0  # measured >= 32 m over 500 steps


def walk(body: str, seed: int, steps: int) -> dict:
    """One episode of at most `steps` steps on flat Stump Tracks under the scripted controller."""
    env = gym.make("slm_acl/StumpTracks-v0", body=body, max_episode_steps=steps)
    obs, _ = env.reset(seed=seed, options={"task": FLAT})
    controller = BipedWalkerController(body=body)
    head = env.unwrapped.agent.head
    x0 = float(head.position[0])
    total, reward, terminated, truncated, info, n = 0.0, 0.0, False, False, {}, 0
    while not (terminated or truncated):
        action = controller(obs)
        assert action.shape == (4,) and np.all(np.abs(action) <= 1.0)
        obs, reward, terminated, truncated, info = env.step(action)
        total += reward
        n += 1
    out = {"return": total, "progress": float(env.unwrapped.agent.head.position[0]) - x0, "terminated": terminated,
           "last_reward": reward, "steps": n, "success": info["success"], "end_x": env.unwrapped.end_x,
           "head_x": float(env.unwrapped.agent.head.position[0])}
    env.close()
    return out


@pytest.mark.parametrize(("body", "seed"), [("classic_bipedal", 0), ("classic_bipedal", 1), ("classic_bipedal", 3),
                                            ("old_classic_bipedal", 2)])
def test_the_scripted_walker_walks_forward_on_flat_stump_tracks(body, seed):
    run = walk(body, seed, steps=500)
    assert not run["terminated"], f"fell after {run['steps']} steps: {run}"
    assert run["steps"] == 500
    assert run["return"] > MIN_RETURN, run
    assert run["progress"] > MIN_PROGRESS_M, run


def test_the_scripted_walker_reaches_the_end_of_the_track_with_a_successful_return():
    run = walk("classic_bipedal", seed=4, steps=2000)
    assert run["terminated"] and run["steps"] < 2000
    assert run["last_reward"] != FALL_REWARD and run["head_x"] > run["end_x"], run
    assert run["success"] and run["return"] > 230.0, run


def test_the_controller_refuses_a_body_without_the_biped_motor_layout():
    with pytest.raises(ValueError, match="hip, knee"):
        BipedWalkerController(body="spider")
    controller = BipedWalkerController(body="old_classic_bipedal")
    controller.swing_leg, controller.steps_in_swing = 1, 7
    controller.reset()
    assert (controller.swing_leg, controller.steps_in_swing) == (0, 0)
