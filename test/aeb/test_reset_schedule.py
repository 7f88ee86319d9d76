"""Student resets in the AEB space: when they fire (the agent's frames summed over its bodies), that only the
student is reset (teachers, controllers and clocks untouched), and that the schedule survives a checkpoint."""
from __future__ import annotations

import pickle

import pytest
from conftest import make_raw

from slm_acl.spec.errors import SpecError
from slm_acl.aeb.space import AEBSpace
from slm_acl.aeb.student_reset import StudentResets
from slm_acl.lib.seeding import SeedTree
from slm_acl.spec import validate

PPO_AGENT = {"name": "p", "algorithm": {"name": "PPO", "time_horizon": 4, "minibatch_size": 4, "training_epoch": 1},
             "net": {"type": "MLPNet", "hid_layers": [8], "gpu": False}, "memory": {"name": "OnPolicyBatch"}}


def test_the_schedule_resets_once_per_new_multiple_of_the_frequency():
    resets = StudentResets(100)
    assert resets.due(0) is None and resets.due(99) is None
    assert resets.due(100) == 1 and resets.due(104) == 1
    resets.mark(1)
    assert resets.due(150) is None and resets.due(199) is None and resets.due(200) == 2
    resets.mark(2)
    assert resets.due(450) == 4  # a step that passes several multiples resets once, on the last one
    resets.mark(4)
    copy = StudentResets(100)
    copy.load_state_dict(pickle.loads(pickle.dumps(resets.state_dict())))
    assert copy.due(499) is None and copy.due(500) == 5
    with pytest.raises(ValueError, match="reset_frequency changed since the checkpoint"):
        StudentResets(50).load_state_dict(resets.state_dict())
    for bad in (0, -5, 2.5, True):
        with pytest.raises(ValueError, match="reset_frequency must be an integer >= 1"):
            StudentResets(bad)


def two_body_space(reset_frequency: int, agent: dict | None = None, max_frame: int = 40) -> AEBSpace:
    """One agent, two bodies of 2 sub-envs each (4 agent frames per step), each with its own Random teacher."""
    raw = make_raw(agent=[{**(agent or PPO_AGENT), "reset_frequency": reset_frequency}],
                   env=[{"name": "slm_acl/ParamPendulum-v0", "num_envs": 2, "max_frame": max_frame, "max_t": 10}],
                   body={"product": "outer", "num": 2})
    return AEBSpace.build(validate(raw), SeedTree(0))


def bodies_state(space: AEBSpace) -> bytes:
    """Everything a reset must leave alone: each body's clock (less wall time), controller and teacher."""
    states = []
    for body in space.bodies:
        clock = {k: v for k, v in body.clock.state_dict().items() if k != "wall_time"}
        states.append((clock, body.controller.state_dict(), body.controller.teacher.state_dict()))
    return pickle.dumps(states)


def test_resets_fire_on_the_agents_summed_frames_and_touch_only_the_student():
    space = two_body_space(10)
    agent = space.agents[0]
    real_reset, calls = agent.algorithm.reset_student, []

    def watched_reset(index):
        before = bodies_state(space)
        real_reset(index)
        assert bodies_state(space) == before, "a student reset touched a body, its clock or its teacher"
        calls.append((index, [b.clock.frame for b in space.bodies], list(agent.algorithm.student_frames)))

    agent.algorithm.reset_student = watched_reset
    try:
        space.reset()
        events = []
        while not space.done:
            space.step()
            events += space.drain_reset_events()
    finally:
        space.close()
    # 4 agent frames per step: the first step at or past each multiple of 10; none at 80, the step that ends both
    # bodies (the final evaluation sees the student that trained)
    assert [e.agent_frame for e in events] == [12, 20, 32, 40, 52, 60, 72]
    assert [e.index for e in events] == [1, 2, 3, 4, 5, 6, 7]
    assert all(e.body_frames == {"a0_e0_b0": e.agent_frame // 2, "a0_e0_b1": e.agent_frame // 2} for e in events)
    assert all(e.name == "p" and e.agent == 0 for e in events)
    assert [c[0] for c in calls] == [1, 2, 3, 4, 5, 6, 7]
    assert all(student == [0, 0] for _, _, student in calls)
    assert space.drain_reset_events() == []


def test_a_resumed_space_neither_repeats_nor_skips_a_reset():
    space = two_body_space(10)
    try:
        space.reset()
        for _ in range(3):  # 12 agent frames: reset 1 done
            space.step()
        assert [e.index for e in space.drain_reset_events()] == [1]
        state = pickle.loads(pickle.dumps(space.state_dict()))
    finally:
        space.close()
    assert state["student_resets"] == [{"frequency": 10, "last_index": 1}]
    resumed = two_body_space(10)
    try:
        resumed.load_state_dict(state)
        resumed.reset()
        resumed.step()  # 16 frames: reset 1 must not come again
        assert resumed.drain_reset_events() == []
        resumed.step()  # 20 frames: reset 2 must come
        assert [(e.index, e.agent_frame) for e in resumed.drain_reset_events()] == [(2, 20)]
    finally:
        resumed.close()


def test_no_reset_frequency_means_no_schedule_and_no_reset():
    raw = make_raw(agent=[PPO_AGENT], env=[{"name": "slm_acl/ParamPendulum-v0", "num_envs": 2, "max_frame": 40}])
    space = AEBSpace.build(validate(raw), SeedTree(0))
    try:
        assert space.agents[0].resets is None
        space.reset()
        while not space.done:
            space.step()
        assert space.drain_reset_events() == [] and space.state_dict()["student_resets"] == [None]
    finally:
        space.close()


def test_an_algorithm_that_cannot_reset_its_student_is_refused_when_the_spec_loads():
    with pytest.raises(SpecError, match=r"agent\[0\].reset_frequency: algorithm TestLinear cannot re-initialise"):
        two_body_space(10, agent={"algorithm": {"name": "TestLinear"}})
