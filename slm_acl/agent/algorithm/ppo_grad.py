"""PPO's minibatch gradient written out by hand for its common shape: one body, one MLPNet holding
actor and critic (the "twin" or "shared" layout) with tanh, ReLU or sigmoid between layers.

Why: PPO's minibatches are small (64 samples through 64x64 layers by default), so a gradient step
is mostly per-operation overhead, and autograd's graph and engine were half of it (measured with
torch.profiler on bench/speed_vs_sb3.py's PPO case). Here the loss's derivatives are formed in
closed form and sent through the passes of `slm_acl/agent/net/manual.py`:

- d logpi/d mean = z / std and d logpi/d log_std = z^2 - 1, with z = (a - mean) / std;
- the clipped surrogate -mean(min(r A, clip(r) A)) passes -A r / n to log pi where the unclipped
  term is the smaller one (r A <= clip(r) A), and 0 where the clip is active;
- the value loss 0.5 mean((V - R)^2) passes (V - R) / n, and with `clip_vloss` only where the
  unclipped error is the larger;
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
    ratio = torch.exp(log_ratio)
    unclipped = ratio * adv
    clipped = torch.clamp(ratio, 1.0 - cfg.clip_eps, 1.0 + cfg.clip_eps) * adv
    policy_loss = -torch.minimum(unclipped, clipped).mean()
    grad_logprob = (unclipped <= clipped) * unclipped * (-1.0 / n)  # d policy_loss / d log pi = -A r / n
    # value loss
    error = value - data["returns"]
    squared = error.square()
    if cfg.clip_vloss is not None:
        v_clipped = data["value"] + torch.clamp(value - data["value"], -cfg.clip_vloss, cfg.clip_vloss)
        squared_clipped = (v_clipped - data["returns"]).square()
        error = error * (squared >= squared_clipped)
        squared = torch.maximum(squared, squared_clipped)
    value_loss = 0.5 * squared.mean()
    entropy = (log_std + 0.5 + LOG_SQRT_2PI).sum()
    # gradients: the net's outputs, then its layers; log_std directly
    grad_out = torch.zeros_like(out)
    grad_mean = grad_out[0] if layout == "twin" else grad_out[0, :, :act_dim]
    torch.mul(grad_logprob.unsqueeze(1), z * inv_std, out=grad_mean)
    value_column = grad_out[1, :, 0] if layout == "twin" else grad_out[0, :, act_dim]
    value_column.copy_(error).mul_(cfg.val_loss_coef / n)
    manual.assign(layers, manual.backward(layers, inputs, grad_out, activation))
    log_std.grad = (grad_logprob.unsqueeze(1) * (z.square() - 1.0)).sum(0) - cfg.entropy_coef
    loss = policy_loss + cfg.val_loss_coef * value_loss - cfg.entropy_coef * entropy
    clip_fraction = ((ratio - 1.0).abs() > cfg.clip_eps).float().mean()
    approx_kl = ((ratio - 1.0) - log_ratio).mean()
    return {"loss": loss, "policy_loss": policy_loss, "value_loss": value_loss, "entropy": entropy,
            "approx_kl": approx_kl, "clip_fraction": clip_fraction}
