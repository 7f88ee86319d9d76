"""PPO's fast paths: acting in NumPy on the CPU, and the minibatch gradient written out by hand.

Why: PPO's minibatches are small (64 samples through 64x64 layers by default), so a gradient step is
mostly per-operation overhead, and autograd's graph and engine were half of it (torch.profiler on
bench/speed_vs_sb3.py's PPO case). Here the derivatives of `PPO.loss` are formed in closed form and
sent through the hand-written passes of fast/passes.py, for any layout, body net and number of bodies:

- d logpi/d mean = z / std and d logpi/d log_std = z^2 - 1, with z = (a - mean) / std;
- the clipped surrogate -mean(min(r A, clip(r) A)) passes -A r / n to log pi where the unclipped
  term is the smaller one and 0 where the clip is active;
- the value loss 0.5 mean((V - R)^2) passes (V - R) / n; with `clip_vloss`, the error of whichever
  of the plain and clipped terms is the larger;
- ties of min/max split the gradient in halves and clamp passes it at its bounds, as autograd does;
- the entropy bonus passes -entropy_coef to every log_std.

The result equals autograd's on `PPO.loss` up to float rounding (test/agent/test_fast_parity.py
compares every gradient and metric, for every setting on the allow-lists below).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from slm_acl.agent.algorithm.losses import (gaussian_entropy, normal_logprob, normalize_advantage,
                                            ratio_stats)
from slm_acl.agent.fast import passes
from slm_acl.agent.fast.selector import FastPath, any_value, one_of, register

if TYPE_CHECKING:
    from slm_acl.agent.algorithm.ppo import PPO

NET_TYPES = ("MLPNet", "HydraMLPNet")
ACTIVATIONS = ("relu", "tanh", "sigmoid", "elu", "leaky_relu")
# Every net setting; the passes read the net's structure from `BodyNet.stages()`, so sizes, layouts,
# optimisers and initialisations are all handled; the activations are those with a derivative in passes.py.
NET_FIELDS = {"hid_layers": any_value, "hid_layers_activation": one_of(*ACTIVATIONS), "init_fn": any_value,
              "clip_grad_val": any_value, "shared": any_value, "optim": any_value, "critic_optim": any_value,
              "gpu": any_value, "fast_path": any_value, "head_layers": any_value, "tail_layers": any_value}
# Every PPO setting. The hand-written gradient replaces `PPO.loss` + backward only: the settings used
# there (clip_eps, clip_vloss, val_loss_coef, entropy_coef, normalize_advantage) are implemented in
# `set_gradients`; the others act before or after it, on the same code as the reference path.
CONFIG_FIELDS = {name: any_value for name in (
    "gamma", "lam", "clip_eps", "clip_vloss", "val_loss_coef", "entropy_coef", "time_horizon", "minibatch_size",
    "training_epoch", "normalize_advantage", "normalize_obs", "normalize_reward", "obs_clip", "reward_clip",
    "log_std_init", "target_kl")}

ACTING = register(FastPath("PPO", "acting", "numpy", "torch", CONFIG_FIELDS, NET_FIELDS, NET_TYPES, devices=("cpu",)))
GRADIENTS = register(FastPath("PPO", "gradients", "hand-written", "autograd", CONFIG_FIELDS, NET_FIELDS, NET_TYPES))


@torch.no_grad()
def set_gradients(algo: "PPO", mb: dict[int, dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """Add the gradient of `algo.loss(mb)` to `.grad` of every parameter; returns the same loss terms."""
    cfg, layout = algo.config, algo.layout
    xs = [mb[b]["obs"] if b in mb else None for b in range(len(algo.bodies))]
    outs, tapes = {}, {}
    for name in layout.nets:
        outs[name], tapes[name] = passes.forward(algo.nets[name], xs)
    grad_outs = {name: [None] * len(xs) for name in layout.nets}
    policy_loss = value_loss = entropy = clip_fraction = approx_kl = 0.0
    for b, data in mb.items():
        body_outs = {name: outs[name][b] for name in layout.nets}
        mean, value = layout.policy_and_value(body_outs, algo.act_dims[b])
        log_std = algo.nets["log_std"][b]
        inv_std = torch.exp(-log_std)
        z = (data["action"] - mean) * inv_std
        advantage = normalize_advantage(data["advantage"]) if cfg.normalize_advantage else data["advantage"]
        log_ratio = normal_logprob(z, log_std) - data["logprob"]
        body_policy_loss, grad_logprob, ratio = surrogate_and_grad(log_ratio, advantage, cfg.clip_eps)
        body_value_loss, grad_value = value_loss_and_grad(value, data["value"], data["returns"], cfg.clip_vloss)
        grad_mean = grad_logprob.unsqueeze(1) * z * inv_std
        for name, grad in layout.output_grads(grad_mean, grad_value * cfg.val_loss_coef, body_outs).items():
            grad_outs[name][b] = grad
        log_std.grad = (grad_logprob.unsqueeze(1) * (z.square() - 1.0)).sum(0) - cfg.entropy_coef
        body_clip_fraction, body_kl = ratio_stats(ratio, log_ratio, cfg.clip_eps)
        policy_loss = policy_loss + body_policy_loss
        value_loss = value_loss + body_value_loss
        entropy = entropy + gaussian_entropy(log_std)
        clip_fraction = clip_fraction + body_clip_fraction
        approx_kl = approx_kl + body_kl
    for name in layout.nets:
        passes.backward(tapes[name], grad_outs[name])
    loss = policy_loss + cfg.val_loss_coef * value_loss - cfg.entropy_coef * entropy
    n = len(mb)
    return {"loss": loss, "policy_loss": policy_loss, "value_loss": value_loss, "entropy": entropy / n,
            "approx_kl": approx_kl / n, "clip_fraction": clip_fraction / n}


def surrogate_and_grad(log_ratio: torch.Tensor, adv: torch.Tensor,
                       clip_eps: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """-mean(min(r A, clip(r, 1 - eps, 1 + eps) A)) with r = exp(log_ratio), its gradient with
    respect to log_ratio (= log pi), and r."""
    ratio = torch.exp(log_ratio)
    unclipped = ratio * adv
    low, high = 1.0 - clip_eps, 1.0 + clip_eps
    clipped = torch.clamp(ratio, low, high) * adv
    loss = -torch.minimum(unclipped, clipped).mean()
    to_unclipped = _first_share(unclipped < clipped, unclipped == clipped)
    through_clip = (ratio >= low) & (ratio <= high)  # where clamp passes its gradient
    d_ratio = adv * (to_unclipped + (1.0 - to_unclipped) * through_clip)
    return loss, d_ratio * ratio * (-1.0 / len(ratio)), ratio


def value_loss_and_grad(value: torch.Tensor, old_value: torch.Tensor, returns: torch.Tensor,
                        clip: float | None) -> tuple[torch.Tensor, torch.Tensor]:
    """0.5 mean((V - R)^2), or its clipped form (losses.ppo_value_loss), and its gradient in V."""
    error = value - returns
    squared = error.square()
    if clip is not None:
        step = value - old_value
        error_clipped = old_value + torch.clamp(step, -clip, clip) - returns
        squared_clipped = error_clipped.square()
        to_plain = _first_share(squared > squared_clipped, squared == squared_clipped)
        error = to_plain * error + (1.0 - to_plain) * (step.abs() <= clip) * error_clipped
        squared = torch.maximum(squared, squared_clipped)
    return 0.5 * squared.mean(), error / len(value)


def _first_share(first_wins: torch.Tensor, tie: torch.Tensor) -> torch.Tensor:
    """The share of torch.minimum's (or maximum's) gradient that autograd sends to its first
    argument: all of it where that argument is the result, none where the other is, half on a tie."""
    return first_wins.float() + 0.5 * tie.float()
