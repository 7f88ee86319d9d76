"""The math of the students as pure functions, so each can be checked on hand-computed cases."""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


def next_values(value: np.ndarray, last_value: np.ndarray, done: np.ndarray, bootstrap: np.ndarray) -> np.ndarray:
    """V of the state after each step of a (T, n) rollout.

    Within an episode it is the next step's value; after the last step, `last_value`; where an
    episode ended it is `bootstrap`: 0 after termination, V(real last obs) after a time-limit
    truncation (the return goes on past the cut).
    """
    nxt = np.empty_like(value)
    nxt[:-1] = value[1:]
    nxt[-1] = last_value
    return np.where(done > 0, bootstrap, nxt)


def gae(reward: np.ndarray, value: np.ndarray, next_value: np.ndarray, done: np.ndarray,
        gamma: float, lam: float) -> tuple[np.ndarray, np.ndarray]:
    """Generalised advantage estimation over a (T, n) rollout; returns (advantages, returns).

    delta_t = r_t + gamma * V'_t - V_t;  A_t = delta_t + gamma * lam * (1 - done_t) * A_{t+1}.
    The trace stops at every episode end (terminated or truncated); whether the value after the
    end counts is decided by `next_value` (see `next_values`).
    """
    delta = reward + gamma * next_value - value
    carry = gamma * lam * (1.0 - done)
    adv = np.empty_like(delta)
    running = np.zeros(delta.shape[1:], delta.dtype)
    for t in range(len(delta) - 1, -1, -1):
        running = delta[t] + carry[t] * running
        adv[t] = running
    return adv, adv + value


def normal_logprob(z: Any, log_std: Any) -> Any:
    """log N(x; mean, exp(log_std)) summed over the last (action) dimension, from z = (x - mean) / std.

    Written with operators only, so it serves torch tensors and NumPy arrays alike (NumPy acting).
    """
    return (-0.5 * (z * z) - log_std - LOG_SQRT_2PI).sum(-1)


def gaussian_logprob(action: torch.Tensor, mean: torch.Tensor, log_std: torch.Tensor) -> torch.Tensor:
    """log N(action; mean, exp(log_std)) summed over the last (action) dimension."""
    return normal_logprob((action - mean) * torch.exp(-log_std), log_std)


def gaussian_entropy(log_std: torch.Tensor) -> torch.Tensor:
    return (log_std + 0.5 + LOG_SQRT_2PI).sum(-1)


def normalize_advantage(advantage: torch.Tensor) -> torch.Tensor:
    """Advantages standardised over the minibatch (a single sample is left as it is)."""
    if len(advantage) < 2:
        return advantage
    return (advantage - advantage.mean()) / (advantage.std() + 1e-8)


@torch.no_grad()
def ratio_stats(ratio: torch.Tensor, log_ratio: torch.Tensor, clip_eps: float) -> tuple[torch.Tensor, torch.Tensor]:
    """The fraction of clipped ratios and the approximate KL (Schulman's low-variance k3 estimator)."""
    clip_fraction = ((ratio - 1.0).abs() > clip_eps).float().mean()
    approx_kl = ((ratio - 1.0) - log_ratio).mean()
    return clip_fraction, approx_kl


def ppo_policy_loss(logprob: torch.Tensor, old_logprob: torch.Tensor, advantage: torch.Tensor,
                    clip_eps: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Clipped surrogate: -E[min(r A, clip(r, 1-eps, 1+eps) A)]; also the clip fraction and approx KL."""
    log_ratio = logprob - old_logprob
    ratio = torch.exp(log_ratio)
    surrogate = torch.minimum(ratio * advantage, torch.clamp(ratio, 1.0 - clip_eps, 1.0 + clip_eps) * advantage)
    return (-surrogate.mean(), *ratio_stats(ratio, log_ratio, clip_eps))


def ppo_value_loss(value: torch.Tensor, old_value: torch.Tensor, returns: torch.Tensor,
                   clip_eps: float | None) -> torch.Tensor:
    """0.5 * E[(V - R)^2], or with clipping 0.5 * E[max((V - R)^2, (V_old + clip(V - V_old) - R)^2)]."""
    loss = (value - returns).square()
    if clip_eps is not None:
        clipped = old_value + torch.clamp(value - old_value, -clip_eps, clip_eps)
        loss = torch.maximum(loss, (clipped - returns).square())
    return 0.5 * loss.mean()


def tanh_gaussian(mean: torch.Tensor, log_std: torch.Tensor, noise: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """A reparameterised tanh-squashed Gaussian sample in [-1, 1] and its log-probability.

    log pi(a) = log N(u) - sum log(1 - tanh(u)^2), with the stable form
    log(1 - tanh(u)^2) = 2 (log 2 - u - softplus(-2u)).
    """
    u = mean + torch.exp(log_std) * noise
    logprob = normal_logprob(noise, log_std) - (2.0 * (math.log(2.0) - u - F.softplus(-2.0 * u))).sum(-1)
    return torch.tanh(u), logprob


def sac_q_target(reward: torch.Tensor, terminated: torch.Tensor, next_q: torch.Tensor,
                 next_logprob: torch.Tensor, alpha: torch.Tensor | float, gamma: float) -> torch.Tensor:
    """y = r + gamma * (1 - terminated) * (min_i Q'_i(s', a') - alpha * log pi(a'|s')).

    Only termination masks the bootstrap: a time-limit truncation still has a future.
    """
    return reward + gamma * (1.0 - terminated) * (next_q - alpha * next_logprob)
