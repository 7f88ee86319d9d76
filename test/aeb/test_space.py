"""Products build the right bodies; one agent steps bodies of different sizes together; the Random agent's actions."""
from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from conftest import make_raw

from slm_acl.aeb.space import AEBSpace
from slm_acl.agent.algorithm.base import BodyInterface
from slm_acl.agent.algorithm.random import RandomConfig
from slm_acl.agent.registry import ALGORITHMS
from slm_acl.lib.seeding import SeedTree
from slm_acl.spec import validate


def two_agents_two_envs(product, num=1):
    raw = make_raw(body={"product": product, "num": num})
    raw.pop("curriculum")
    raw["agent"] = [{"name": "x", "algorithm": {"name": "Random"}}, {"name": "y", "algorithm": {"name": "Random"}}]
    raw["env"] = [{"name": "Pendulum-v1", "max_frame": 100}, {"name": "slm_acl/ParamPendulum-v0", "max_frame": 100}]
    return validate(raw)


def test_outer_product():
    run = two_agents_two_envs("outer", num=2)
    assert [(p.a, p.e, p.b) for p in run.bodies] == [
        (0, 0, 0), (0, 0, 1), (0, 1, 0), (0, 1, 1), (1, 0, 0), (1, 0, 1), (1, 1, 0), (1, 1, 1)]


def test_inner_product():
    run = two_agents_two_envs("inner", num=2)
    assert [(p.a, p.e, p.b) for p in run.bodies] == [(0, 0, 0), (0, 0, 1), (1, 1, 0), (1, 1, 1)]


def test_custom_product_with_per_body_curriculum_override():
    raw = make_raw()
    raw["env"].append({"name": "LunarLanderContinuous-v3", "max_frame": 100})
    raw["body"] = {"product": "custom", "bodies": [
        {"agent": 0, "env": 0},
        {"agent": 0, "env": 0, "curriculum": {"task_space": {"gravity": [5, 15]}, "success_return": -100}},
        {"agent": 0, "env": 1, "no_curriculum": True}]}
    run = validate(raw)
    assert [(p.a, p.e, p.b) for p in run.bodies] == [(0, 0, 0), (0, 0, 1), (0, 1, 0)]
    assert run.bodies[0].curriculum.task_space == {"mass": [0.5, 2.0], "length": [0.5, 1.5]}
    assert run.bodies[1].curriculum.task_space == {"gravity": [5, 15]}
    assert run.bodies[1].curriculum.success_return == -100
    assert run.bodies[2].curriculum is None


def test_one_agent_two_bodies_of_different_sizes_step_together():
    raw = make_raw()
    raw["env"] = [{"name": "LunarLanderContinuous-v3", "num_envs": 2, "max_frame": 400},
                  {"name": "slm_acl/ParamPendulum-v0", "num_envs": 3, "max_frame": 600}]
    raw["body"] = {"product": "custom", "bodies": [{"agent": 0, "env": 0, "no_curriculum": True},
                                                   {"agent": 0, "env": 1}]}
    space = AEBSpace.build(validate(raw), SeedTree(0))
    try:
        space.reset()
        agent = space.agents[0]
        assert len(space.agents) == 1 and len(agent.bodies) == 2
        lunar, pend = agent.bodies
        assert lunar.obs.shape == (2, 8) and pend.obs.shape == (3, 3)
        actions = agent.act()
        assert actions[0].shape == (2, 2) and actions[1].shape == (3, 1)
        for _ in range(50):
            space.step()
        assert lunar.clock.frame == 100 and pend.clock.frame == 150
    finally:
        space.close()


def random_actions(seed: int, steps: int = 500) -> np.ndarray:
    """Actions of the Random agent for one body with an asymmetric 2-D box, 4 sub-envs per step."""
    box = gym.spaces.Box(np.array([-3.0, 0.5], np.float32), np.array([-1.0, 4.0], np.float32))
    body = BodyInterface("b", gym.spaces.Box(-1.0, 1.0, (3,), np.float32), box, num_envs=4, max_frame=100)
    agent = ALGORITHMS.get("Random")(RandomConfig(), [body], SeedTree(seed))
    assert agent.act([None]) == [None]  # a finished body gets no action
    return np.concatenate([agent.act([np.zeros((4, 3), np.float32)])[0] for _ in range(steps)])


def test_random_agent_covers_its_box_uniformly_and_is_seeded():
    acts = random_actions(1)
    assert acts.shape == (2000, 2) and acts.dtype == np.float32
    low, high = np.array([-3.0, 0.5]), np.array([-1.0, 4.0])
    assert (acts >= low).all() and (acts <= high).all()
    span = high - low
    # uniform over each dim: reaches both ends, and each quarter of the range holds about a quarter of the draws
    assert (acts.min(0) < low + 0.01 * span).all() and (acts.max(0) > high - 0.01 * span).all()
    quarters = np.stack([np.histogram(acts[:, d], 4, (low[d], high[d]))[0] for d in range(2)]) / len(acts)
    np.testing.assert_allclose(quarters, 0.25, atol=0.04)
    np.testing.assert_array_equal(acts, random_actions(1))  # its own generator, from the seed tree
    assert not np.array_equal(acts, random_actions(2))


@pytest.mark.parametrize("env_id, obs_dim, act_dim", [
    ("LunarLanderContinuous-v3", 8, 2), ("BipedalWalker-v3", 24, 4), ("Pendulum-v1", 3, 1)])
def test_any_registered_gymnasium_id_works_as_an_env(env_id, obs_dim, act_dim):
    raw = make_raw(env=[{"name": env_id, "num_envs": 2, "max_frame": 200}])
    raw.pop("curriculum")
    space = AEBSpace.build(validate(raw), SeedTree(0))
    try:
        space.reset()
        body = space.bodies[0]
        assert body.obs.shape == (2, obs_dim) and body.vec.action_space.shape == (act_dim,)
        while not space.done:
            space.step()
        assert body.clock.frame == 200
    finally:
        space.close()
