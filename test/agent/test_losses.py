"""The students' math on hand-computed cases."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from slm_acl.agent.algorithm.losses import (gae, gaussian_logprob, next_values, ppo_policy_loss, ppo_value_loss,
                                            sac_q_target, tanh_gaussian)

GAMMA, LAM = 0.9, 0.5


def test_gae_stops_at_termination_and_bootstraps_through_truncation():
    # one sub-env, 3 steps: step 0 ends by time limit (truncated), step 1 continues, step 2 is the last
    reward = np.array([[1.0], [2.0], [3.0]])
    value = np.array([[0.5], [1.0], [2.0]])
    last_value = np.array([4.0])
    bootstrap = np.array([[10.0], [0.0], [0.0]])  # V(real last obs) of the truncated episode
    done = np.array([[1.0], [0.0], [0.0]])
    nxt = next_values(value, last_value, done, bootstrap)
    assert nxt[:, 0].tolist() == [10.0, 2.0, 4.0]
    adv, ret = gae(reward, value, nxt, done, GAMMA, LAM)
    d2 = 3.0 + 0.9 * 4.0 - 2.0  # 4.6
    d1 = 2.0 + 0.9 * 2.0 - 1.0  # 2.8
    d0 = 1.0 + 0.9 * 10.0 - 0.5  # 9.5: bootstraps from V(last obs), and the trace stops there
    expected = [d0, d1 + GAMMA * LAM * d2, d2]
    assert adv[:, 0] == pytest.approx(expected)
    assert ret[:, 0] == pytest.approx(np.array(expected) + value[:, 0])

    # the same rollout where step 0 terminated: no bootstrap at all
    nxt_term = next_values(value, last_value, done, np.zeros_like(bootstrap))
    adv_term, _ = gae(reward, value, nxt_term, done, GAMMA, LAM)
    assert adv_term[0, 0] == pytest.approx(1.0 - 0.5)
    assert adv_term[1:, 0] == pytest.approx(expected[1:])


def test_gae_with_lambda_one_is_discounted_return_minus_value():
    reward = np.array([[1.0], [1.0], [1.0]])
    value = np.zeros((3, 1))
    nxt = next_values(value, np.array([0.0]), np.zeros((3, 1)), np.zeros((3, 1)))
    adv, _ = gae(reward, value, nxt, np.zeros((3, 1)), 0.5, 1.0)
    assert adv[:, 0] == pytest.approx([1.75, 1.5, 1.0])


def test_ppo_clipped_loss_on_a_hand_case():
    old = torch.log(torch.tensor([1.0, 1.0, 1.0, 1.0]))
    ratio = torch.tensor([1.5, 0.5, 1.1, 0.7])
    adv = torch.tensor([1.0, 1.0, -2.0, -1.0])
    loss, clip_fraction, _ = ppo_policy_loss(torch.log(ratio) + old, old, adv, clip_eps=0.2)
    # min(r A, clip(r) A): 1.2 (clipped), 0.5 (unclipped is smaller), -2.2 (unclipped), -0.8 (clipped)
    assert loss.item() == pytest.approx(-(1.2 + 0.5 - 2.2 - 0.8) / 4)
    assert clip_fraction.item() == pytest.approx(0.75)


def test_ppo_clipped_loss_gradient_vanishes_where_clipped():
    logprob = torch.log(torch.tensor([1.5, 0.9])).requires_grad_()
    loss, _, _ = ppo_policy_loss(logprob, torch.zeros(2), torch.tensor([1.0, 1.0]), clip_eps=0.2)
    loss.backward()
    assert logprob.grad[0].item() == 0.0  # ratio 1.5 > 1.2 with A > 0: no push further
    assert logprob.grad[1].item() == pytest.approx(-0.9 / 2)


def test_value_loss_clipping_takes_the_pessimistic_branch():
    value, old, ret = torch.tensor([3.0]), torch.tensor([1.0]), torch.tensor([2.5])
    assert ppo_value_loss(value, old, ret, None).item() == pytest.approx(0.5 * 0.25)
    # clipped value 1.5 is 1.0 from the return: max(0.25, 1.0)
    assert ppo_value_loss(value, old, ret, 0.5).item() == pytest.approx(0.5 * 1.0)


def test_sac_target_masks_only_terminated_transitions():
    reward = torch.tensor([1.0, 1.0])
    terminated = torch.tensor([0.0, 1.0])
    next_q = torch.tensor([10.0, 10.0])
    next_logprob = torch.tensor([-2.0, -2.0])
    y = sac_q_target(reward, terminated, next_q, next_logprob, alpha=0.5, gamma=0.9)
    assert y.tolist() == pytest.approx([1.0 + 0.9 * (10.0 + 1.0), 1.0])


def test_gaussian_logprob_matches_torch_distributions():
    mean, log_std, action = torch.randn(5, 3), torch.randn(3) * 0.3, torch.randn(5, 3)
    ref = torch.distributions.Normal(mean, log_std.exp()).log_prob(action).sum(-1)
    assert torch.allclose(gaussian_logprob(action, mean, log_std.expand_as(mean)), ref, atol=1e-5)


def test_tanh_gaussian_logprob_matches_change_of_variables():
    torch.manual_seed(0)
    mean, log_std, noise = torch.randn(6, 2), torch.randn(6, 2) * 0.5, torch.randn(6, 2)
    action, logprob = tanh_gaussian(mean, log_std, noise)
    u = mean + log_std.exp() * noise
    ref = torch.distributions.Normal(mean, log_std.exp()).log_prob(u).sum(-1) - torch.log(1 - torch.tanh(u) ** 2).sum(-1)
    assert torch.allclose(action, torch.tanh(u))
    assert torch.allclose(logprob, ref, atol=1e-4)
    # far in the tail the naive formula gives inf; the stable one stays finite
    _, tail = tanh_gaussian(torch.tensor([[30.0]]), torch.tensor([[0.0]]), torch.tensor([[0.0]]))
    assert math.isfinite(tail.item())
