"""PPO and SAC as components: Hydra gradients, checkpoint round trips, value estimates, schedules."""
from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from helpers import SIZES, SyntheticSteps, build

from slm_acl.agent.algorithm.base import Transition
from slm_acl.agent.fast.selector import PathChoice
from slm_acl.agent.net.base import OptimConfig
from slm_acl.agent.net.hydra import HydraMLPConfig, HydraMLPNet

PPO_SMALL = {"time_horizon": 8, "minibatch_size": 4, "training_epoch": 2, "normalize_obs": True,
             "normalize_reward": True}
SAC_SMALL = {"batch_size": 8, "start_steps": 6, "learning_starts": 6}


def test_hydra_trunk_gets_gradients_from_every_body_and_heads_only_from_their_own():
    torch.manual_seed(0)
    hydra = HydraMLPNet(HydraMLPConfig(head_layers=[16], hid_layers=[32], tail_layers=[], gpu=False)).build(
        [8, 24], [2, 4])
    xs = [torch.randn(5, 8), torch.randn(3, 24)]

    def grads(loss):
        hydra.zero_grad(set_to_none=True)
        loss.backward()
        return {n: None if p.grad is None else p.grad.clone() for n, p in hydra.named_parameters()}

    g0 = grads(hydra([xs[0], None])[0].sum())
    g1 = grads(hydra([None, xs[1]])[1].sum())
    both = hydra(xs)
    g01 = grads(both[0].sum() + both[1].sum())
    trunk = [n for n in g01 if n.startswith("trunk.")]
    assert trunk and all(g0[n] is not None and g1[n] is not None for n in trunk)
    for n in trunk:  # one batched trunk pass over both bodies = the sum of their separate gradients
        assert torch.allclose(g01[n], g0[n] + g1[n], atol=1e-5)
    assert all(g0[n] is None for n in g0 if n.startswith(("heads.1.", "tails.1.")))
    assert all(g1[n] is None for n in g1 if n.startswith(("heads.0.", "tails.0.")))
    assert both[0].shape == (1, 5, 2) and both[1].shape == (1, 3, 4)


@pytest.mark.parametrize("algorithm,config", [("PPO", PPO_SMALL), ("SAC", SAC_SMALL)])
def test_one_hydra_agent_trains_trunk_heads_and_tails_of_both_bodies(algorithm, config):
    algo = build(algorithm, config)
    before = {n: p.detach().clone() for n, p in algo.named_parameters()}
    steps = SyntheticSteps()
    for t in range(12):
        steps.step(algo, t)
    assert algo.opt_steps > 0
    changed = {n for n, p in algo.named_parameters() if not torch.equal(before[n], p.detach())}
    for part in ("trunk.", "heads.0.", "heads.1.", "tails.0.", "tails.1."):
        assert any(part in n for n in changed), f"{algorithm}: no weight of {part} changed"


def test_mlpnet_refuses_bodies_of_different_sizes_and_names_hydra():
    from slm_acl.agent.net.mlp import MLPNet

    assert "HydraMLPNet" in MLPNet.dims_problem([8, 24], [2, 4])
    assert MLPNet.dims_problem([24, 24], [4, 4]) is None
    with pytest.raises(ValueError, match="HydraMLPNet"):
        build("PPO", PPO_SMALL, hydra=False)


def roundtrip(state):
    blob = io.BytesIO()
    torch.save(state, blob)
    return torch.load(io.BytesIO(blob.getvalue()), weights_only=False)


@pytest.mark.parametrize("algorithm,config", [("PPO", PPO_SMALL), ("SAC", SAC_SMALL)])
@pytest.mark.parametrize("hydra", [False, True])
def test_checkpoint_then_resume_gives_identical_next_actions_and_updates(algorithm, config, hydra):
    sizes = SIZES if hydra else [(8, 2)]
    a = build(algorithm, config, sizes=sizes, hydra=hydra, seed=0)
    steps_a = SyntheticSteps(sizes, seed=5)
    for t in range(13):  # mid-rollout for PPO (13 = 8 + 5), past learning_starts for SAC
        steps_a.step(a, t)
    b = build(algorithm, config, sizes=sizes, hydra=hydra, seed=123)  # different init and streams
    b.load_state_dict(roundtrip(a.state_dict()))
    steps_b = SyntheticSteps(sizes, seed=5)
    steps_b.rng.bit_generator.state = steps_a.rng.bit_generator.state
    steps_b.obs = [o.copy() for o in steps_a.obs]
    for t in range(13, 30):  # through more training steps: stochastic actions stay identical
        for x, y in zip(steps_a.step(a, t), steps_b.step(b, t)):
            np.testing.assert_array_equal(x, y)
    for (n, p), (_, q) in zip(a.named_parameters(), b.named_parameters()):
        assert torch.equal(p, q), n


@pytest.mark.parametrize("algorithm,config", [("PPO", PPO_SMALL), ("SAC", SAC_SMALL)])
def test_value_estimate_is_per_body_and_finite(algorithm, config):
    algo = build(algorithm, config)
    steps = SyntheticSteps()
    for t in range(10):
        steps.step(algo, t)
    for b, (obs_dim, _) in enumerate(SIZES):
        v = algo.value_estimate(b, np.zeros((3, obs_dim), np.float32))
        assert v.shape == (3,) and np.isfinite(v).all()


def test_ppo_trains_exactly_when_the_rollout_is_full():
    algo = build("PPO", PPO_SMALL)
    steps = SyntheticSteps()
    for t in range(7):
        steps.step(algo, t)
    assert algo.opt_steps == 0
    steps.step(algo, 7)
    # 8 steps x 2 envs = 16 samples per body, minibatch 4 -> 4 minibatches x 2 epochs
    assert algo.opt_steps == 8 and algo.rollouts[0].t == 0


def test_ppo_body_with_fewer_samples_than_minibatches_sits_some_out():
    """Bodies with 8 and 1 sub-envs: 16 and 2 samples, 8 minibatches; the small body's 2 samples
    fall in 2 of them and the other 6 train the large body alone (no empty slices, no NaN)."""
    from slm_acl.agent.algorithm.base import Transition

    algo = build("PPO", {"time_horizon": 2, "minibatch_size": 2, "training_epoch": 1}, num_envs=[8, 1])
    rng = np.random.default_rng(0)
    metrics = {}
    for t in range(2):
        obs = [rng.normal(size=(n, o)).astype(np.float32) for n, (o, _) in zip((8, 1), SIZES)]
        actions = algo.act(obs)
        metrics = algo.update([Transition(o, a, np.ones(len(o), np.float32), o, np.zeros(len(o), bool),
                                          np.zeros(len(o), bool)) for o, a in zip(obs, actions)])
    assert algo.opt_steps == 8
    assert metrics and all(np.isfinite(v) for v in metrics.values()), metrics


def test_sac_episode_schedule_does_ceil_length_over_train_freq_updates():
    algo = build("SAC", {**SAC_SMALL, "update_schedule": "episode", "train_freq": 3, "learning_starts": 0},
                 sizes=[(8, 2)], hydra=False, num_envs=1)
    steps = SyntheticSteps([(8, 2)], num_envs=1)
    # with one sub-env, episodes end by termination at t=6 (length 7) and truncation at t=4 (length 5)
    for t in range(5):
        steps.step(algo, t)
    assert algo.opt_steps == 2  # ceil(5 / 3)
    for t in range(5, 7):
        steps.step(algo, t)
    assert algo.opt_steps == 2 + 1  # the episode after the cut ended at t=6 with length 2: ceil(2/3)


def test_sac_uses_uniform_random_actions_before_start_steps():
    algo = build("SAC", {**SAC_SMALL, "start_steps": 100}, sizes=[(8, 2)], hydra=False)
    obs = [np.zeros((2, 8), np.float32)]
    a1, a2 = algo.act(obs)[0], algo.act(obs)[0]
    assert not np.array_equal(a1, a2)  # the same observation, different random actions
    det = algo.act(obs, deterministic=True)[0]
    np.testing.assert_array_equal(det, algo.act(obs, deterministic=True)[0])


def test_spec_pairs_each_algorithm_with_its_memory():
    from conftest import make_raw

    from slm_acl.spec import validate
    from slm_acl.spec.errors import SpecError

    raw = make_raw(agent=[{"algorithm": {"name": "PPO"}, "net": {"type": "MLPNet"}, "memory": {"name": "Replay"}}])
    with pytest.raises(SpecError, match=r"agent\[0\]\.memory\.name.*OnPolicyBatch"):
        validate(raw)
    raw = make_raw(agent=[{"algorithm": {"name": "SAC"}, "net": {"type": "HydraMLP"}, "memory": {"name": "Replay"}}])
    with pytest.raises(SpecError, match="HydraMLPNet"):
        validate(raw)


@pytest.mark.parametrize("net_kw,layout", [({"shared": True}, "shared"), ({}, "twin"),
                                            ({"critic_optim": "separate"}, "split")])
def test_ppo_layouts_train_and_round_trip(net_kw, layout):
    from slm_acl.agent.net.base import OptimConfig

    if net_kw.get("critic_optim") == "separate":
        net_kw = {"critic_optim": OptimConfig(lr=1e-3)}
    a = build("PPO", PPO_SMALL, **net_kw)
    assert a.layout.name == layout
    steps_a = SyntheticSteps()
    for t in range(10):
        steps_a.step(a, t)
    assert a.opt_steps > 0
    b = build("PPO", PPO_SMALL, seed=9, **net_kw)
    b.load_state_dict(roundtrip(a.state_dict()))
    obs = [np.ones((2, o), np.float32) for o, _ in SIZES]
    for x, y in zip(a.act(obs, deterministic=True), b.act(obs, deterministic=True)):
        np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("net_kw", [{"shared": True}, {}, {"critic_optim": "separate"}])
@pytest.mark.parametrize("hydra", [False, True])
def test_ppo_acting_in_numpy_matches_the_torch_forward_and_logprob(net_kw, hydra):
    from slm_acl.agent.algorithm.losses import gaussian_logprob
    from slm_acl.agent.net.base import OptimConfig

    if net_kw.get("critic_optim") == "separate":
        net_kw = {"critic_optim": OptimConfig(lr=1e-3)}
    sizes = SIZES if hydra else [(24, 4), (24, 4)]
    algo = build("PPO", {**PPO_SMALL, "normalize_obs": False}, sizes=sizes, hydra=hydra, **net_kw)
    with torch.no_grad():
        for p in algo.nets["log_std"].parameters():
            p.uniform_(-1.0, 0.5)
    obs = [np.random.default_rng(b).normal(size=(2, o)).astype(np.float32) for b, (o, _) in enumerate(sizes)]
    got_path = algo.acting
    assert got_path.fast
    got = algo._acting_forward(obs, need_value=True)
    algo.acting = PathChoice("acting", "torch", False, "the GPU's path, run here on the CPU")
    expected = algo._acting_forward(obs, need_value=True)
    algo.acting = got_path
    for (mean, value), (mean_np, value_np) in zip(expected, got):
        np.testing.assert_allclose(mean_np, mean, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(value_np, value, rtol=1e-5, atol=1e-6)
    actions = algo.act(obs)
    for b, action in enumerate(actions):
        acted = algo._acted[b]
        mean = torch.from_numpy(got[b][0])
        logprob = gaussian_logprob(torch.from_numpy(action), mean, algo.nets["log_std"][b].detach())
        np.testing.assert_allclose(acted.logprob, logprob.numpy(), rtol=1e-5, atol=1e-5)
        np.testing.assert_array_equal(acted.value, got[b][1])


@pytest.mark.parametrize("algorithm,config", [("PPO", PPO_SMALL), ("SAC", SAC_SMALL)])
def test_a_body_value_estimate_depends_on_its_own_head_only(algorithm, config):
    """SPDL reads V(s) per body: perturbing body 0's head must move body 0's estimate and leave body 1's."""
    algo = build(algorithm, config)
    obs = [np.random.default_rng(b).normal(size=(5, o)).astype(np.float32) for b, (o, _) in enumerate(SIZES)]
    before = [algo.value_estimate(b, obs[b]) for b in range(2)]
    with torch.no_grad():
        for name, p in algo.named_parameters():
            if ".heads.0." in name:
                p.add_(torch.randn_like(p) * 0.5)
    after = [algo.value_estimate(b, obs[b]) for b in range(2)]
    assert not np.allclose(after[0], before[0])
    np.testing.assert_array_equal(after[1], before[1])


@pytest.mark.parametrize("algorithm,config", [
    ("PPO", {"time_horizon": 32, "minibatch_size": 32, "training_epoch": 4, "gamma": 0.9, "normalize_reward": True}),
    ("SAC", {"batch_size": 64, "start_steps": 50, "learning_starts": 50, "gamma": 0.9, "ent_coef": 1e-4, "tau": 0.05})])
def test_value_estimate_learns_the_discounted_return_in_reward_units(algorithm, config):
    """A reward of 2 at every step and episodes cut by a time limit only: V(s) = 2 / (1 - 0.9) = 20 for
    every state, in reward units (PPO scales rewards here, and must scale its estimate back)."""
    torch.manual_seed(0)
    algo = build(algorithm, config, sizes=[(3, 1)], hydra=False, **({"optim": OptimConfig(lr=3e-3)}))
    rng = np.random.default_rng(0)
    obs = rng.normal(size=(2, 3)).astype(np.float32)
    for t in range(1500):
        action = algo.act([obs])[0]
        nxt = rng.normal(size=(2, 3)).astype(np.float32)
        cut = np.full(2, t % 25 == 24)
        algo.update([Transition(obs, action, np.full(2, 2.0, np.float32), nxt, np.zeros(2, bool), cut)])
        obs = nxt
    estimate = algo.value_estimate(0, rng.normal(size=(50, 3)).astype(np.float32))
    assert np.all(np.abs(estimate - 20.0) < 3.0), estimate


def test_agents_with_different_budgets_run_until_the_last_body_is_done():
    """Two agents, one body each, budgets of 20 and 40 frames: the first agent idles while the second runs."""
    from slm_acl.aeb.space import AEBSpace
    from slm_acl.lib.seeding import SeedTree
    from slm_acl.spec import validate

    agent = {"algorithm": {"name": "PPO", "time_horizon": 8, "minibatch_size": 4}, "net": {"type": "MLPNet"},
             "memory": {"name": "OnPolicyBatch"}}
    raw = {"name": "two_budgets", "agent": [agent, agent],
           "env": [{"name": "Pendulum-v1", "max_frame": 20}, {"name": "Pendulum-v1", "max_frame": 40}],
           "body": {"product": "inner"}}
    space = AEBSpace.build(validate(raw), SeedTree(0))
    try:
        space.reset()
        while not space.done:
            space.step()
        assert [b.clock.frame for b in space.bodies] == [20, 40]
        assert space.agents[0].algorithm.act([None]) == [None]
    finally:
        space.close()
