"""Products build the right bodies; one agent steps bodies of different sizes together."""
from __future__ import annotations

import numpy as np
import pytest
from conftest import make_raw

from slm_acl.aeb.space import AEBSpace
from slm_acl.lib.seeding import SeedTree
from slm_acl.spec import SpecError, validate


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


def test_curriculum_on_env_without_task_params_is_a_spec_error():
    raw = make_raw(env=[{"name": "Pendulum-v1", "max_frame": 100}])
    with pytest.raises(SpecError, match="takes no task parameters"):
        AEBSpace.build(validate(raw), SeedTree(0))


def test_task_dim_unknown_to_env_is_a_spec_error():
    raw = make_raw(curriculum={"teacher": {"name": "Random"}, "task_space": {"mas": [1, 2]}})
    with pytest.raises(SpecError, match=r"curriculum.task_space.mas.*valid: gravity, length, mass"):
        AEBSpace.build(validate(raw), SeedTree(0))


def test_random_agent_actions_stay_in_bounds():
    run = validate(make_raw())
    space = AEBSpace.build(run, SeedTree(1))
    try:
        space.reset()
        acts = np.concatenate([space.agents[0].act()[0] for _ in range(200)])
        assert acts.min() >= -2.0 and acts.max() <= 2.0
    finally:
        space.close()


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
