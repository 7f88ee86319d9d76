"""PPO's hand-written minibatch gradients (ppo_grad.py) equal autograd's, parameter by parameter."""
from __future__ import annotations

import pytest
import torch
from helpers import build

from slm_acl.agent.algorithm import ppo_grad
from slm_acl.agent.algorithm.losses import ppo_policy_loss, ppo_value_loss
from slm_acl.agent.net.base import OptimConfig

ONE_BODY = [(24, 4)]


def minibatch(algo, n: int = 64) -> dict[int, dict[str, torch.Tensor]]:
    """A minibatch whose stored log-probabilities are off the current policy's by up to +-0.5 (so
    ratios straddle both clip bounds), with advantages of both signs."""
    g = torch.Generator().manual_seed(7)
    obs = torch.randn(n, 24, generator=g)
    action = torch.randn(n, 4, generator=g)
    with torch.no_grad():
        mean, _ = algo._policy_and_value([obs])[0]
        log_std = algo.nets["log_std"][0]
        z = (action - mean) * torch.exp(-log_std)
        logprob = (-0.5 * z.square() - log_std - 0.9189385332046727).sum(-1)
        value = algo._policy_and_value([obs])[0][1]
    return {0: {"obs": obs, "action": action, "logprob": logprob + (torch.rand(n, generator=g) - 0.5),
                "advantage": torch.randn(n, generator=g) * 2.0 + 0.3,
                "value": value + (torch.rand(n, generator=g) - 0.5) * 0.6,  # both sides of clip_vloss 0.2
                "returns": torch.randn(n, generator=g) * 3.0}}


def gradients(algo, manual: bool, mb) -> tuple[dict[str, torch.Tensor], dict[str, float]]:
    algo.optimizer.zero_grad(set_to_none=True)
    if manual:
        layers, activation = algo._manual
        terms = ppo_grad.set_gradients(layers, activation, algo.layout, algo.nets["log_std"][0], mb[0], algo.config)
    else:
        terms = algo._autograd_gradients(mb)
    grads = {name: p.grad.clone() for name, p in algo.named_parameters() if p.grad is not None}
    return grads, {k: float(v) for k, v in terms.items()}


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid"])
@pytest.mark.parametrize("shared", [False, True])
@pytest.mark.parametrize("config", [{}, {"clip_vloss": 0.2, "entropy_coef": 0.01},
                                    {"normalize_advantage": False, "clip_eps": 0.1, "val_loss_coef": 1.0}])
def test_hand_written_gradients_equal_autograd(activation, shared, config):
    algo = build("PPO", {"time_horizon": 8, "minibatch_size": 4, **config}, sizes=ONE_BODY, hydra=False,
                 hid_layers_activation=activation, shared=shared)
    assert algo._manual is not None and algo.layout == ("shared" if shared else "twin")
    with torch.no_grad():
        algo.nets["log_std"][0].copy_(torch.tensor([-0.5, 0.0, 0.3, -1.0]))
    mb = minibatch(algo)
    auto, auto_terms = gradients(algo, False, mb)
    hand, hand_terms = gradients(algo, True, mb)
    assert set(auto) == set(hand) and len(auto) == 7  # three layers' weights and biases, and log_std
    for name in auto:
        scale = auto[name].abs().max().item() + 1e-6
        assert torch.allclose(hand[name], auto[name], rtol=1e-4, atol=1e-5 * scale), name
    for key in auto_terms:
        assert hand_terms[key] == pytest.approx(auto_terms[key], rel=1e-5, abs=1e-6), key
    assert 0.1 < auto_terms["clip_fraction"] < 0.9  # both branches of the surrogate are exercised


def test_other_shapes_keep_autograd():
    assert build("PPO", {})._manual is None  # two bodies, Hydra net
    assert build("PPO", {}, sizes=ONE_BODY, hydra=False, critic_optim=OptimConfig(lr=1e-3))._manual is None  # split
    assert build("PPO", {}, sizes=ONE_BODY, hydra=False, hid_layers_activation="elu")._manual is None


@pytest.mark.parametrize("config,n", [({}, 64), ({"clip_vloss": 0.2, "entropy_coef": 0.01}, 64), ({}, 1)])
def test_a_training_step_on_the_hand_written_path_matches_autograd(config, n):
    """Whole minibatch steps (gradients, clipping, Adam) from the same start give the same weights."""
    algos = [build("PPO", {"time_horizon": 8, "minibatch_size": 4, **config}, sizes=ONE_BODY, hydra=False)
             for _ in range(2)]
    algos[1].load_state_dict(algos[0].state_dict())
    algos[1]._manual = None
    mb = minibatch(algos[0], n)
    for algo in algos:
        for _ in range(3):
            algo._minibatch_step(mb)
    for (name, p), q in zip(algos[0].named_parameters(), algos[1].parameters()):
        assert torch.allclose(p, q, rtol=1e-4, atol=1e-6), name


def test_surrogate_gradient_at_ties_and_clip_bounds_equals_autograd():
    """Ratios within a few ulps of 1 +- eps, where r A and clip(r) A can round equal outside the
    range (autograd then halves the gradient) and clamp passes its gradient at the bounds."""
    g = torch.Generator().manual_seed(0)
    n, eps = 20_000, 0.2
    base = torch.where(torch.rand(n, generator=g) < 0.5, torch.tensor(1.0 + eps), torch.tensor(1.0 - eps))
    ratio = base + torch.randint(-3, 4, (n,), generator=g).float() * 1.2e-7
    log_ratio = torch.log(ratio).requires_grad_()
    adv = torch.randn(n, generator=g)
    adv[:100] = 0.0
    loss, _, _ = ppo_policy_loss(log_ratio, torch.zeros(n), adv, eps)
    loss.backward()
    hand_loss, hand_grad, _ = ppo_grad.surrogate_and_grad(log_ratio.detach(), adv, eps)
    assert float(hand_loss) == pytest.approx(float(loss.detach()), rel=1e-6)
    torch.testing.assert_close(hand_grad, log_ratio.grad, rtol=1e-5, atol=1e-9)


@pytest.mark.parametrize("clip", [None, 0.2])
def test_value_gradient_at_ties_and_clip_bounds_equals_autograd(clip):
    g = torch.Generator().manual_seed(1)
    n = 20_000
    old = torch.randn(n, generator=g) * 0.1
    value = old + (torch.rand(n, generator=g) - 0.5) * 0.6  # inside and outside the clip range
    value[:200] = old[:200] + 0.2  # on the bound (up to rounding)
    returns = torch.randn(n, generator=g)
    returns[200:400] = value[200:400]  # zero error
    value = value.requires_grad_()
    loss = ppo_value_loss(value, old, returns, clip)
    loss.backward()
    hand_loss, hand_grad = ppo_grad.value_loss_and_grad(value.detach(), old, returns, clip)
    assert float(hand_loss) == pytest.approx(float(loss.detach()), rel=1e-6)
    torch.testing.assert_close(hand_grad, value.grad, rtol=1e-5, atol=1e-10)
