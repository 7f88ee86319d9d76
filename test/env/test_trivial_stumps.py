"""Negative stump heights: TeachMyAgent's "mostly trivial" criterion (stump height in [-3, 3]).

`stump_height` is the mean of N(h, 0.1) stump heights floored at 0.05 terrain steps, so a negative mean is a
valid task whose stumps are all 0.05 steps high. Checked end to end: the terrain generator, the env through
`gymnasium.make` / `reset(options=...)` / `set_task`, the spec's task-space check, task-space normalisation and
generated test sets.
"""
from __future__ import annotations

import json

import gymnasium as gym
import numpy as np
import pytest
from conftest import ROOT

import slm_acl.env  # noqa: F401  (registers the ids)
from slm_acl.curriculum.task_space import TaskSpace
from slm_acl.curriculum.test_sets import grid, uniform
from slm_acl.env import LAB_ENVS
from slm_acl.env.stump_tracks import StumpTracks
from slm_acl.env.terrain.constants import TERRAIN_STEP as TS
from slm_acl.env.terrain.stump_tracks import MIN_SIZE, StumpTracksTask, generate_stump_tracks
from slm_acl.spec import SpecError, validate

TRIVIAL = {"stump_height": [-3.0, 3.0], "obstacle_spacing": [0.0, 6.0]}


def stump_heights(layout) -> np.ndarray:
    """Each stump's height in terrain steps (stumps are upright rectangles: vertex 2 above vertex 0)."""
    v = np.array([o.vertices for o in layout.obstacles if o.kind == "stump"])
    return (v[:, 2, 1] - v[:, 0, 1]) / TS


@pytest.mark.parametrize("mean", [-3.0, -1.0, -0.4])
def test_a_negative_mean_gives_only_floored_stumps(mean):
    heights = stump_heights(generate_stump_tracks(np.random.default_rng(0), StumpTracksTask(mean, 0.5)))
    assert len(heights) > 80
    np.testing.assert_allclose(heights, MIN_SIZE)  # 0.05 steps high: a trivial track


def test_the_floor_applies_per_stump_after_the_draw_not_to_the_mean():
    """At mean 0 about half the N(0, 0.1) draws are positive and keep their height: the floor is TeachMyAgent's
    max(0.05, N(h, 0.1)) per stump, not a clip of the mean (which would give all 0.05)."""
    heights = stump_heights(generate_stump_tracks(np.random.default_rng(0), StumpTracksTask(0.0, 0.5)))
    floored = np.isclose(heights, MIN_SIZE)
    assert 0.55 < floored.mean() < 0.8  # P(N(0, 0.1) <= 0.05) = 0.69
    assert heights[~floored].min() > MIN_SIZE and heights.max() < 0.5


def test_a_negative_mean_consumes_the_same_draws_as_a_positive_one():
    """The floor comes after the draw, so the stream (and everything drawn after the terrain) does not depend on
    the mean's sign: the same seed gives the same ground line and clouds for h = -2 and h = 2."""
    low = generate_stump_tracks(np.random.default_rng(7), StumpTracksTask(-2.0, 1.0, roughness=3.0))
    high = generate_stump_tracks(np.random.default_rng(7), StumpTracksTask(2.0, 1.0, roughness=3.0))
    np.testing.assert_array_equal(low.x, high.x)
    np.testing.assert_array_equal(low.y, high.y)
    np.testing.assert_array_equal(low.clouds, high.clouds)


def test_the_env_accepts_negative_heights_through_make_reset_and_set_task():
    env = gym.make("slm_acl/StumpTracks-v0", body="classic_bipedal")
    obs, info = env.reset(seed=0, options={"task": {"stump_height": -3.0, "obstacle_spacing": 2.0}})
    assert info["task"]["stump_height"] == -3.0 and np.isfinite(obs).all()
    np.testing.assert_allclose(stump_heights(env.unwrapped.layout), MIN_SIZE)
    for _ in range(20):
        obs, reward, *_ = env.step(env.action_space.sample())
    assert np.isfinite(obs).all() and np.isfinite(reward)
    env.unwrapped.set_task({"stump_height": -10.0})
    assert env.unwrapped.task["stump_height"] == -10.0
    with pytest.raises(ValueError, match=r"'stump_height'=-10.5 is outside \[-10.0, 10.0\]"):
        env.unwrapped.set_task({"stump_height": -10.5})


def test_the_registry_declares_the_env_range_the_spec_checks_against():
    assert LAB_ENVS.get("StumpTracks").task_params["stump_height"] == (-10.0, 10.0)
    assert StumpTracks.task_params["stump_height"] == (-10.0, 10.0)


def stump_tracks_raw(task_space: dict) -> dict:
    """The demo's Stump Tracks spec (shortened) with its task space replaced."""
    raw = json.loads((ROOT / "spec" / "demo.json").read_text())["alp_gmm_ppo_stump_tracks"]
    raw["name"] = "trivial"
    raw["env"][0].update(num_envs=1, max_frame=1000)
    raw["curriculum"]["task_space"] = task_space
    return raw


def test_the_spec_accepts_the_mostly_trivial_space_and_still_refuses_beyond_the_range():
    run = validate(stump_tracks_raw(TRIVIAL))
    assert run.bodies[0].curriculum.task_space["stump_height"] == [-3.0, 3.0]
    with pytest.raises(SpecError, match=r"bounds \[-11.0, 3.0\] of stump_height exceed env StumpTracks's range "
                                        r"\[-10.0, 10.0\]"):
        validate(stump_tracks_raw({**TRIVIAL, "stump_height": [-11.0, 3.0]}))


def test_normalisation_and_generated_test_sets_span_a_negative_lower_bound():
    space = TaskSpace.from_spec(TRIVIAL)
    np.testing.assert_allclose(space.normalise([-3.0, 0.0]), [0.0, 0.0])
    np.testing.assert_allclose(space.normalise([0.0, 3.0]), [0.5, 0.5])
    np.testing.assert_allclose(space.denormalise([0.25, 1.0]), [-1.5, 6.0])
    np.testing.assert_allclose(space.denormalise(space.normalise([-2.2, 4.0])), [-2.2, 4.0])
    env = StumpTracks()
    g = grid(space, 100)
    assert g.tasks[:, 0].min() == -3.0 and g.tasks[:, 0].max() == 3.0 and (g.tasks[:, 0] < 0).sum() == 50
    u = uniform(space, 50)
    assert (u.tasks[:, 0] < 0).any() and all(space.contains(t) for t in u.tasks)
    for test_set in (g, u):
        for k in range(len(test_set)):
            env.set_task(test_set.env_task(k))  # every generated task is a valid env task
