"""A student that forgets: `Algorithm.reset_student` returns PPO and SAC to a freshly built student.

The reference for "fresh" is a student built under the same seed the reset draws its weights from
(`SeedTree(seed).integer("student_reset{k}")`): after the reset, every net, the optimiser, the normalisers and
the memories must equal that student's, while the run's counters (frames, optimiser steps) go on.
"""
from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from helpers import SIZES, SyntheticSteps, bodies, build

from slm_acl.agent.algorithm.base import Transition
from slm_acl.agent.algorithm.random import Random, RandomConfig
from slm_acl.agent.net.base import OptimConfig
from slm_acl.lib.seeding import SeedTree

PPO_SMALL = {"time_horizon": 8, "minibatch_size": 4, "training_epoch": 2, "normalize_obs": True,
             "normalize_reward": True}
SAC_SMALL = {"batch_size": 8, "start_steps": 6, "learning_starts": 6}
CASES = [  # (algorithm, config, net settings): every PPO layout, SAC with a tuned and a fixed alpha
    ("PPO", PPO_SMALL, {}),
    ("PPO", PPO_SMALL, {"shared": True}),
    ("PPO", PPO_SMALL, {"critic_optim": OptimConfig(lr=1e-3)}),
    ("SAC", SAC_SMALL, {}),
    ("SAC", {**SAC_SMALL, "ent_coef": 0.1}, {}),
]


def trained(algorithm, config, hydra, net_kw, steps=21):
    """A student after `steps` synthetic steps: trained, with optimiser state and a part-filled memory."""
    sizes = SIZES if hydra else [(8, 2)]
    algo = build(algorithm, config, sizes=sizes, hydra=hydra, seed=0, **net_kw)
    stream = SyntheticSteps(sizes, seed=5)
    for t in range(steps):
        stream.step(algo, t)
    return algo, stream, sizes


def fresh_student(algorithm, config, sizes, hydra, net_kw, reset_index=1):
    """The student a reset must equal: built while torch's generator holds the reset's seed."""
    torch.manual_seed(SeedTree(0).integer(f"student_reset{reset_index}"))
    return build(algorithm, config, sizes=sizes, hydra=hydra, seed=0, **net_kw)


def assert_same_tensors(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


def assert_same_arrays(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for key in a:
        if isinstance(a[key], dict):
            assert_same_arrays(a[key], b[key])
        else:
            np.testing.assert_array_equal(a[key], b[key], err_msg=key)


@pytest.mark.parametrize("hydra", [False, True])
@pytest.mark.parametrize("algorithm,config,net_kw", CASES)
def test_a_reset_student_equals_a_freshly_built_one_and_the_run_counters_go_on(algorithm, config, net_kw, hydra):
    algo, _, sizes = trained(algorithm, config, hydra, net_kw)
    before = {k: v.clone() for k, v in algo.nets.state_dict().items()}
    assert algo.opt_steps > 0 and len(algo.optimizer.state) > 0  # it trained: there is something to forget
    memory_used = (algo.rollouts[0].t if algorithm == "PPO" else len(algo.replays[0]))
    assert memory_used > 0
    frames, opt_steps, global_rng = list(algo.frames), algo.opt_steps, torch.get_rng_state()

    algo.reset_student(1)
    assert torch.equal(torch.get_rng_state(), global_rng)  # the session's checkpointed stream is left alone

    fresh = fresh_student(algorithm, config, sizes, hydra, net_kw)
    assert_same_tensors(algo.nets.state_dict(), fresh.nets.state_dict())
    assert any(not torch.equal(before[k], v) for k, v in algo.nets.state_dict().items())
    assert len(algo.optimizer.state) == 0
    assert algo.optimizer.state_dict() == fresh.optimizer.state_dict()  # no moments, initial rates
    assert algo.frames == frames and algo.opt_steps == opt_steps  # the run's clocks go on
    assert algo.student_frames == [0] * len(sizes)
    if algorithm == "PPO":
        for mine, theirs in zip(algo.obs_norm + algo.reward_scale, fresh.obs_norm + fresh.reward_scale):
            assert_same_arrays(mine.state_dict(), theirs.state_dict())
        assert all(r.t == 0 for r in algo.rollouts)
    else:
        assert_same_tensors(algo.target_q.state_dict(), fresh.target_q.state_dict())
        assert all(len(r) == 0 for r in algo.replays)
        assert algo.steps == algo.grad_steps == 0 and all((e == 0).all() for e in algo.ep_length)
    obs = [np.random.default_rng(1).normal(size=(3, o)).astype(np.float32) for o, _ in sizes]
    for mine, theirs in zip(algo.act(obs, deterministic=True), fresh.act(obs, deterministic=True)):
        np.testing.assert_array_equal(mine, theirs)  # also through the fast paths' views of the weights


def test_each_reset_draws_its_own_weights_and_the_same_index_the_same_ones():
    first, _, _ = trained("PPO", PPO_SMALL, False, {})
    second, _, _ = trained("PPO", PPO_SMALL, False, {})
    first.reset_student(1)
    second.reset_student(1)
    assert_same_tensors(first.nets.state_dict(), second.nets.state_dict())
    second.reset_student(2)
    differ = [k for k, v in first.nets.state_dict().items()
              if v.numel() > 1 and not torch.equal(v, second.nets.state_dict()[k]) and "log_std" not in k]
    assert differ


def act_and_store(algo, obs: np.ndarray, reward: float = 0.0) -> None:
    action = algo.act([obs])[0]
    n = len(obs)
    algo.update([Transition(obs, action, np.full(n, reward, np.float32), obs, np.zeros(n, bool), np.zeros(n, bool))])


def test_sac_warm_up_counts_again_from_the_reset():
    """start_steps uniform actions and learning_starts stored frames, both 10 (5 steps of 2 sub-envs), as a
    student built at the reset would."""
    algo = build("SAC", {"batch_size": 4, "start_steps": 10, "learning_starts": 10}, sizes=[(8, 2)], hydra=False)
    obs = np.random.default_rng(0).normal(size=(2, 8)).astype(np.float32)
    for _ in range(8):
        act_and_store(algo, obs)
    assert algo.opt_steps > 0
    actor_calls = []
    algo.nets["actor"].register_forward_hook(lambda *args: actor_calls.append(1))
    algo.reset_student(1)
    opt_steps = algo.opt_steps
    for step in range(5):
        calls = len(actor_calls)
        action = algo.act([obs])[0]
        assert len(actor_calls) == calls, f"the policy acted at step {step} after the reset, before start_steps"
        algo.update([Transition(obs, action, np.zeros(2, np.float32), obs, np.zeros(2, bool), np.zeros(2, bool))])
        assert algo.trained_last_update == (step == 4)  # the 5th step stores the 10th frame: learning starts
    assert algo.opt_steps == opt_steps + 1
    calls = len(actor_calls)
    algo.act([obs])
    assert len(actor_calls) == calls + 1  # 10 frames since the reset: the policy acts


def test_ppo_trains_again_a_full_rollout_after_a_reset():
    algo = build("PPO", PPO_SMALL)
    stream = SyntheticSteps()
    for t in range(13):  # one rollout trained, 5 steps into the next
        stream.step(algo, t)
    assert algo.opt_steps == 8 and algo.rollouts[0].t == 5
    algo.reset_student(1)
    for t in range(13, 20):
        stream.step(algo, t)
        assert not algo.trained_last_update
    stream.step(algo, 20)
    assert algo.trained_last_update and algo.opt_steps == 16


def roundtrip(state):
    blob = io.BytesIO()
    torch.save(state, blob)
    return torch.load(io.BytesIO(blob.getvalue()), weights_only=False)


@pytest.mark.parametrize("algorithm,config", [("PPO", PPO_SMALL), ("SAC", SAC_SMALL)])
def test_a_checkpoint_taken_after_a_reset_resumes_the_reset_student_exactly(algorithm, config):
    """The counters a reset restarts (SAC: frames since the reset for start_steps, gradient steps for the target
    phase) are checkpointed: the copy acts and trains as the original (uniform actions until start_steps too)."""
    a, steps_a, sizes = trained(algorithm, config, True, {}, steps=13)
    a.reset_student(1)
    for t in range(13, 15):
        steps_a.step(a, t)
    b = build(algorithm, config, sizes=sizes, seed=123)
    b.load_state_dict(roundtrip(a.state_dict()))
    assert b.student_frames == a.student_frames and b.frames == a.frames
    steps_b = SyntheticSteps(sizes, seed=5)
    steps_b.rng.bit_generator.state = steps_a.rng.bit_generator.state
    steps_b.obs = [o.copy() for o in steps_a.obs]
    for t in range(15, 30):
        for x, y in zip(steps_a.step(a, t), steps_b.step(b, t)):
            np.testing.assert_array_equal(x, y)
    assert_same_tensors(a.nets.state_dict(), b.nets.state_dict())


def test_random_has_nothing_to_forget():
    agents = [Random(RandomConfig(), bodies(), SeedTree(0)) for _ in range(2)]
    agents[0].reset_student(1)
    obs = [np.zeros((2, o), np.float32) for o, _ in SIZES]
    for x, y in zip(agents[0].act(obs), agents[1].act(obs)):
        np.testing.assert_array_equal(x, y)
    assert Random.resets_student
