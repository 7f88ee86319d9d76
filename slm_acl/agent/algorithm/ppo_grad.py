"""PPO's minibatch gradient written out by hand for its common shape: one body, one MLPNet holding
actor and critic (the "twin" or "shared" layout) with tanh, ReLU or sigmoid between layers.

Why: PPO's minibatches are small (64 samples through 64x64 layers by default), so a gradient step
is mostly per-operation overhead, and autograd's graph and engine were half of it (measured with
torch.profiler on bench/speed_vs_sb3.py's PPO case). Here the loss's derivatives are formed in
closed form and sent through the passes of `slm_acl/agent/net/manual.py`:

- d logpi/d mean = z / std and d logpi/d log_std = z^2 - 1, with z = (a - mean) / std;
- the clipped surrogate -mean(min(r A, clip(r) A)) passes -A r / n to log pi where the unclipped
  term is the smaller one and 0 where the clip is active;
- the value loss 0.5 mean((V - R)^2) passes (V - R) / n; with `clip_vloss`, the error of whichever
  of the plain and clipped terms is the larger;
- ties of min/max split the gradient in halves and clamp passes it at its bounds, as autograd does;
- the entropy bonus passes -entropy_coef to every log_std.

The result equals autograd's up to float rounding (test/agent/test_ppo_grad.py compares every
gradient and metric). `PPO` uses this path when `manual_layers` finds such a net, autograd otherwise.
"""
from __future__ import annotations

from typing import Any

import torch

from slm_acl.agent.algorithm.losses import LOG_SQRT_2PI
from slm_acl.agent.net import manual
from slm_acl.agent.net.layers import EnsembleLinear


def manual_layers(net: Any, layout: str, n_bodies: int) -> tuple[list[EnsembleLinear], str] | None:
    """(the net's layers, its activation) when this path applies to it, else None."""
    layers = manual.plain_layers(net) if n_bodies == 1 and layout in ("twin", "shared") else None
    return None if layers is None else (layers, net.mlp.activation)


@torch.no_grad()
def set_gradients(layers: list[EnsembleLinear], activation: str, layout: str, log_std: torch.Tensor,
                  data: dict[str, torch.Tensor], config: Any) -> dict[str, torch.Tensor]:
    """Fill .grad of `layers` and `log_std` with PPO's loss gradient on one minibatch.

    Returns the loss terms as the autograd path does (loss, policy_loss, value_loss, entropy,
    approx_kl, clip_fraction). `config` is the PPOConfig.
    """
    cfg = config
    obs = data["obs"]
    n = obs.shape[0]
    act_dim = log_std.shape[0]
    out, inputs = manual.forward(layers, obs, activation)
    mean, value = (out[0], out[1, :, 0]) if layout == "twin" else (out[0, :, :act_dim], out[0, :, act_dim])
    # Gaussian log-probability of the stored actions
    inv_std = torch.exp(-log_std)
    z = (data["action"] - mean) * inv_std
    logprob = (-0.5 * z.square() - log_std - LOG_SQRT_2PI).sum(-1)
    # clipped surrogate
    adv = data["advantage"]
    if cfg.normalize_advantage and n > 1:
        adv = (adv - adv.mean()) / (adv.std() + 1e-8)
    log_ratio = logprob - data["logprob"]
    policy_loss, grad_logprob, ratio = surrogate_and_grad(log_ratio, adv, cfg.clip_eps)
    value_loss, grad_value = value_loss_and_grad(value, data["value"], data["returns"], cfg.clip_vloss)
    entropy = (log_std + 0.5 + LOG_SQRT_2PI).sum()
    # gradients: the net's outputs, then its layers; log_std directly
    grad_out = torch.zeros_like(out)
    grad_mean = grad_out[0] if layout == "twin" else grad_out[0, :, :act_dim]
    torch.mul(grad_logprob.unsqueeze(1), z * inv_std, out=grad_mean)
    value_column = grad_out[1, :, 0] if layout == "twin" else grad_out[0, :, act_dim]
    torch.mul(grad_value, cfg.val_loss_coef, out=value_column)
    manual.assign(layers, manual.backward(layers, inputs, grad_out, activation))
    log_std.grad = (grad_logprob.unsqueeze(1) * (z.square() - 1.0)).sum(0) - cfg.entropy_coef
    loss = policy_loss + cfg.val_loss_coef * value_loss - cfg.entropy_coef * entropy
    clip_fraction = ((ratio - 1.0).abs() > cfg.clip_eps).float().mean()
    approx_kl = ((ratio - 1.0) - log_ratio).mean()
    return {"loss": loss, "policy_loss": policy_loss, "value_loss": value_loss, "entropy": entropy,
            "approx_kl": approx_kl, "clip_fraction": clip_fraction}


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
