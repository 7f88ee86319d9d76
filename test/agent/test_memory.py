"""Replay buffer: wrap-around, sampling, checkpoint round trip, memory footprint; rollout state."""
from __future__ import annotations

import io

import numpy as np
import torch

from slm_acl.agent.memory.onpolicy import Rollout
from slm_acl.agent.memory.replay import ReplayBuffer


def fill(buf: ReplayBuffer, start: int, n: int, num_envs: int = 2) -> None:
    for k in range(start, start + n, num_envs):
        ids = np.arange(k, k + num_envs, dtype=np.float32)
        buf.add(ids[:, None].repeat(3, 1), ids[:, None].repeat(2, 1), ids, ids[:, None].repeat(3, 1) + 0.5,
                (ids % 7 == 0).astype(np.float32))


def test_replay_wraps_around_and_keeps_the_newest():
    buf = ReplayBuffer(capacity=10, obs_dim=3, act_dim=2, batch_size=4, rng=np.random.default_rng(0))
    fill(buf, 0, 8)
    assert len(buf) == 8 and buf.pos == 8
    fill(buf, 8, 6)  # 14 transitions into 10 slots: ids 4..13 remain; the batch crossing the end wraps
    assert len(buf) == 10 and buf.pos == 4
    assert sorted(buf.data["reward"].tolist()) == list(range(4, 14))
    assert buf.data["reward"][:4].tolist() == [10, 11, 12, 13]


def test_replay_sampling_is_consistent_and_only_from_filled_slots():
    buf = ReplayBuffer(capacity=100, obs_dim=3, act_dim=2, batch_size=64, rng=np.random.default_rng(1))
    fill(buf, 0, 10)
    seen = set()
    for _ in range(20):
        batch = buf.sample()
        ids = batch["reward"]
        assert (ids < 10).all()  # never the zeros of unfilled slots... ids 0..9 only
        assert np.array_equal(batch["obs"][:, 0], ids) and np.array_equal(batch["next_obs"][:, 1], ids + 0.5)
        assert np.array_equal(batch["terminated"], (ids % 7 == 0).astype(np.float32))
        assert batch["obs"].dtype == np.float32
        seen.update(ids.tolist())
    assert seen == set(range(10))


def test_replay_state_round_trip_continues_the_same_samples():
    a = ReplayBuffer(capacity=16, obs_dim=3, act_dim=2, batch_size=5, rng=np.random.default_rng(2))
    fill(a, 0, 20)
    blob = io.BytesIO()
    torch.save(a.state_dict(), blob)
    b = ReplayBuffer(capacity=16, obs_dim=3, act_dim=2, batch_size=5, rng=np.random.default_rng(99))
    b.load_state_dict(torch.load(io.BytesIO(blob.getvalue()), weights_only=False))
    assert (b.pos, len(b)) == (a.pos, len(a))
    for _ in range(3):
        assert np.array_equal(a.sample()["obs"], b.sample()["obs"])
    fill(a, 20, 4)
    fill(b, 20, 4)
    assert all(np.array_equal(a.data[k], b.data[k]) for k in a.data)


def test_replay_state_without_data_starts_empty():
    a = ReplayBuffer(capacity=8, obs_dim=3, act_dim=2, batch_size=2, rng=np.random.default_rng(0))
    fill(a, 0, 6)
    state = a.state_dict(include_data=False)
    assert "data" not in state
    b = ReplayBuffer(capacity=8, obs_dim=3, act_dim=2, batch_size=2, rng=np.random.default_rng(0))
    b.load_state_dict(state)
    assert len(b) == 0


def test_two_million_transitions_of_36_dims_stay_within_1_2x_raw_float32():
    obs_dim, act_dim, n = 36, 4, 2_000_000
    buf = ReplayBuffer(capacity=n, obs_dim=obs_dim, act_dim=act_dim, batch_size=1000, rng=np.random.default_rng(0))
    raw = n * (2 * obs_dim + act_dim + 2) * 4  # obs, next_obs, action, reward, done as float32
    assert buf.nbytes <= 1.2 * raw
    assert all(a.dtype == np.float32 for a in buf.data.values())


def test_rollout_state_round_trip_mid_rollout():
    a = Rollout(horizon=4, num_envs=2, obs_dim=3, act_dim=1)
    for t in range(3):
        a.add(np.full((2, 3), t), np.full((2, 1), t), np.full(2, -t), np.full(2, t), np.ones(2), np.zeros(2), np.zeros(2))
    a.set_bootstrap(np.array([1]), np.array([7.0]))
    b = Rollout(horizon=4, num_envs=2, obs_dim=3, act_dim=1)
    b.load_state_dict(a.state_dict())
    assert b.t == 3 and b.bootstrap[2].tolist() == [0.0, 7.0]
    assert np.array_equal(a.obs, b.obs)
