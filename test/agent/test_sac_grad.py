"""SAC's hand-written gradients (sac_grad.py) equal autograd's, parameter by parameter."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers import SyntheticSteps, build

from slm_acl.agent.algorithm import sac_grad
from slm_acl.agent.net import manual

ONE_BODY = [(24, 4)]


def trained_sac(**config):
    algo = build("SAC", {"batch_size": 64, "start_steps": 50, "learning_starts": 50, **config}, sizes=ONE_BODY,
                 hydra=False, hid_layers_activation="relu")
    steps = SyntheticSteps(ONE_BODY)
    for t in range(120):  # a few real gradient steps first: weights, alpha and the replay are not at init
        steps.step(algo, t)
    return algo


def gradients(algo, manual: bool, batch) -> tuple[dict[str, torch.Tensor], dict[str, float]]:
    algo.generator.manual_seed(1234)  # the same policy noise for both paths
    algo.optimizer.zero_grad(set_to_none=True)
    metrics = algo._set_gradients([0], batch, manual=manual)
    grads = {name: p.grad.clone() for name, p in algo.named_parameters() if p.grad is not None}
    return grads, {k: float(v) for k, v in metrics.items()}


@pytest.mark.parametrize("config", [{}, {"ent_coef": 0.2}, {"log_std_min": -1.0, "log_std_max": 0.5}])
def test_hand_written_gradients_equal_autograd(config):
    algo = trained_sac(**config)
    assert algo._manual_layers is not None  # one body, ReLU MLPs: the hand-written path is the one used
    torch.manual_seed(0)
    batch = algo._sample_batch([0])
    auto, auto_metrics = gradients(algo, False, batch)
    hand, hand_metrics = gradients(algo, True, batch)
    assert set(auto) == set(hand) and len(auto) >= 12  # actor, both Q nets (and alpha when tuned)
    for name in auto:
        scale = auto[name].abs().max().item() + 1e-6
        assert torch.allclose(hand[name], auto[name], rtol=1e-4, atol=1e-5 * scale), name
    for key in auto_metrics:
        assert hand_metrics[key] == pytest.approx(auto_metrics[key], rel=1e-5, abs=1e-6), key
    if config.get("log_std_min") == -1.0:  # the clamp must bite somewhere for this case to test it
        out = algo.nets["actor"]([batch["obs"][0]])[0][0, :, 4:]
        assert bool(((out < -1.0) | (out > 0.5)).any())


def test_other_shapes_keep_autograd():
    assert build("SAC", {}, hydra=True)._manual_layers is None  # two bodies, Hydra net
    assert build("SAC", {}, sizes=ONE_BODY, hydra=False, hid_layers_activation="tanh")._manual_layers is None


def test_min_branch_gradient_goes_only_through_the_smaller_q():
    torch.manual_seed(0)
    algo = build("SAC", {}, sizes=ONE_BODY, hydra=False, hid_layers_activation="relu")
    layers = sac_grad.relu_layers(algo.nets["q"])
    x = torch.randn(32, 28, requires_grad=True)
    out = algo.nets["q"]([x], detached=True)[0][:, :, 0]
    values, chosen = out.min(dim=0)
    values.sum().backward()
    _, inputs = manual.forward(layers, x.detach(), sac_grad.RELU)
    for select_rows in (True, False):  # CPU: per-copy rows; GPU: every row, masked (no host sync)
        hand = sac_grad.min_q_input_grad(layers, inputs, chosen, 1.0, slice(24, 28), select_rows=select_rows)
        np.testing.assert_allclose(hand.detach().numpy(), x.grad[:, 24:].numpy(), rtol=1e-5, atol=1e-6)
