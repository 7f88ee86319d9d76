"""SAC's gradients written out by hand, on the passes of fast/passes.py.

Why: on a CPU core a SAC gradient step is ~80 % matrix products; the rest is autograd's graph
building and engine, and work the graph cannot skip. Written out, the step
- builds no graph (each layer's input is kept, activation derivatives are read back from outputs);
- sends the actor loss's dQ/da through the Q copy that is the minimum for each sample only (the
  other twin's rows get no gradient: autograd multiplies them by zero, here they are left out),
  which halves the input-gradient products of that pass;
- forms each weight gradient in the parameter's own (copies, out, in) layout.
The critic's target is `SAC.q_targets`, the reference's own (it needs no gradient). The result
equals autograd's on `SAC.loss` up to float rounding, for every setting on the allow-list below
(test/agent/test_fast_parity.py), with any body net and number of bodies.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from slm_acl.agent.algorithm.losses import tanh_gaussian
from slm_acl.agent.fast import passes
from slm_acl.agent.fast.passes import ACTIVATION_GRADS
from slm_acl.agent.fast.selector import FastPath, any_value, one_of, register

if TYPE_CHECKING:
    from slm_acl.agent.algorithm.sac import SAC

# Every SAC setting. The hand-written step replaces `SAC.loss` + backward only: the settings used
# there (gamma through the target, ent_coef and its tuning, target_entropy, log_std_min/max) are
# implemented in `set_gradients`; the others act around it, on the same code as the reference path.
CONFIG_FIELDS = {name: any_value for name in (
    "gamma", "tau", "batch_size", "start_steps", "learning_starts", "update_schedule", "train_freq",
    "gradient_steps", "ent_coef", "ent_coef_init", "target_entropy", "alpha_optim", "target_update_interval",
    "log_std_min", "log_std_max")}

# The passes walk any body net (`BodyNet.stages()`) and read each activation's derivative from its
# output (passes.ACTIVATION_GRADS); sizes, initialisation, optimisers and clipping act around them.
NET_FIELDS = {"hid_layers": any_value, "hid_layers_activation": one_of(*ACTIVATION_GRADS), "init_fn": any_value,
              "clip_grad_val": any_value, "shared": any_value, "optim": any_value, "critic_optim": any_value,
              "gpu": any_value, "fast_path": any_value, "head_layers": any_value, "tail_layers": any_value}

GRADIENTS = register(FastPath("SAC", "gradients", "hand-written", "autograd", CONFIG_FIELDS, NET_FIELDS,
                              ("MLPNet", "HydraMLPNet")))


@torch.no_grad()
def set_gradients(algo: "SAC", bodies: list[int], batch: dict[str, list[torch.Tensor | None]]) -> dict[str, torch.Tensor]:
    """Add the gradient of `algo.loss(bodies, batch)["total"]` to `.grad` of every trained parameter
    (same noise draws); returns the same metrics."""
    cfg, n = algo.config, len(algo.bodies)
    obs, act = batch["obs"], batch["action"]
    log_alpha = algo.nets["log_alpha"][0]
    alpha = log_alpha.detach().exp()
    targets = algo.q_targets(bodies, batch, alpha)
    # critic: 0.5 * sum over both Q nets of the mean squared error to the target
    q_outs, q_tape = passes.forward(algo.nets["q"], [torch.cat([obs[b], act[b]], 1) if b in bodies else None
                                                      for b in range(n)])
    q_loss = q_mean = 0.0
    grad_q: list[torch.Tensor | None] = [None] * n
    for b in bodies:
        error = q_outs[b][:, :, 0] - targets[b]
        q_loss = q_loss + 0.5 * error.square().mean(dim=1).sum()
        q_mean = q_mean + q_outs[b].mean()
        grad_q[b] = (error / error.shape[1]).unsqueeze(-1)
    passes.backward(q_tape, grad_q)
    # actor: mean(alpha * log pi(a|s) - min_e Q_e(s, a)), a = tanh(mean + std * noise), Q constant
    outs, actor_tape = passes.forward(algo.nets["actor"], [obs[b] if b in bodies else None for b in range(n)])
    sampled = {}
    for b in bodies:
        a_dim = algo.act_dims[b]
        mean, raw_log_std = outs[b][0, :, :a_dim], outs[b][0, :, a_dim:]
        log_std = raw_log_std.clamp(cfg.log_std_min, cfg.log_std_max)
        noise = algo.noise(mean)
        action, logprob = tanh_gaussian(mean, log_std, noise)
        sampled[b] = (raw_log_std, log_std, noise, action, logprob)
    q_pi, q_pi_tape = passes.forward(algo.nets["q"], [torch.cat([obs[b], sampled[b][3]], 1) if b in bodies else None
                                                      for b in range(n)])
    chosen, scales, columns = [None] * n, [None] * n, [None] * n
    actor_loss = alpha_loss = entropy = 0.0
    for b in bodies:
        q_min, chosen[b] = q_pi[b][:, :, 0].min(dim=0)
        logprob = sampled[b][4]
        actor_loss = actor_loss + (alpha[b] * logprob - q_min).mean()
        entropy = entropy - logprob.mean()
        scales[b] = -1.0 / len(logprob)
        columns[b] = slice(algo.obs_dims[b], algo.obs_dims[b] + algo.act_dims[b])
    grad_actions = passes.min_copy_input_grads(q_pi_tape, chosen, scales, columns)
    grad_outs: list[torch.Tensor | None] = [None] * n
    for b in bodies:
        raw_log_std, log_std, noise, action, logprob = sampled[b]
        batch_size, a_b = len(logprob), alpha[b]
        # d log pi / du = 2 tanh(u) (the squashing term), d log pi / d log_std = -1 (the Gaussian term)
        grad_u = grad_actions[b] * (1.0 - action.square()) + (2.0 * a_b / batch_size) * action
        grad_log_std = grad_u * (log_std.exp() * noise) - a_b / batch_size
        grad_log_std.mul_((raw_log_std >= cfg.log_std_min) & (raw_log_std <= cfg.log_std_max))
        grad_outs[b] = torch.cat([grad_u, grad_log_std], dim=1).unsqueeze(0)
    passes.backward(actor_tape, grad_outs)
    if algo.tune_alpha:
        grad = torch.zeros_like(log_alpha)
        for b in bodies:
            gap = sampled[b][4] + algo.target_entropy[b]
            alpha_loss = alpha_loss - (log_alpha[b] * gap).mean()
            grad[b] = -gap.mean()
        log_alpha.grad = grad
    k = len(bodies)
    return {"q_loss": q_loss, "actor_loss": actor_loss, "alpha": alpha.mean(),
            "alpha_loss": torch.as_tensor(alpha_loss, device=alpha.device), "entropy": entropy / k,
            "q_mean": q_mean / k}
