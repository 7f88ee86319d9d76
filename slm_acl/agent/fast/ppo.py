"""PPO's fast paths: acting in NumPy on the CPU, and its reference loss under torch.compile.

- acting (fast/numpy_acting.py): at PPO's batch of one observation per sub-env torch's per-call
  overhead is most of a forward's cost;
- gradients (fast/compiled.py): `PPO.loss` itself, compiled. It replaced hand-written minibatch
  gradients that it matched or beat in speed (measured in compiled.py's docstring), so there is no
  second PPO loss: parity with the reference holds by construction and is tested on representative
  settings (test/agent/test_fast_parity.py).
"""
from __future__ import annotations

from typing import Any, Sequence

from slm_acl.agent.fast.compiled import MIN_LOSS_CALLS, compiler_problem
from slm_acl.agent.fast.numpy_acting import NUMPY_ACTIVATIONS
from slm_acl.agent.fast.selector import EVERY_FIELD, FastPath, any_value, one_of, register

# NumPy acting: every body net (it walks `BodyNet.stages()`), every activation with a NumPy twin;
# the other settings act around it, on the reference code (observation normalisation, sampling).
ACTING_NET_FIELDS = {"hid_layers": any_value, "hid_layers_activation": one_of(*NUMPY_ACTIVATIONS),
                     "init_fn": any_value, "clip_grad_val": any_value, "shared": any_value, "optim": any_value,
                     "critic_optim": any_value, "gpu": any_value, "fast_path": any_value, "head_layers": any_value,
                     "tail_layers": any_value}
ACTING_CONFIG_FIELDS = {name: any_value for name in (
    "gamma", "lam", "clip_eps", "clip_vloss", "val_loss_coef", "entropy_coef", "time_horizon", "minibatch_size",
    "training_epoch", "normalize_advantage", "normalize_obs", "normalize_reward", "obs_clip", "reward_clip",
    "log_std_init", "target_kl")}


def planned_loss_calls(config: Any, bodies: Sequence[Any]) -> int:
    """Minibatch updates a session will make: updates x epochs x minibatches (the largest body's)."""
    if not bodies:
        return 0
    samples = [config.time_horizon * b.num_envs for b in bodies]
    updates = min(b.max_frame // n for b, n in zip(bodies, samples))
    return updates * config.training_epoch * max(1, max(samples) // config.minibatch_size)


def compiling_pays(config: Any, bodies: Sequence[Any]) -> str | None:
    """Compiling costs seconds up front: refuse it for runs too short to repay that, and where it cannot run."""
    calls = planned_loss_calls(config, bodies)
    if calls < MIN_LOSS_CALLS:
        return f"a run of {calls:,} minibatch updates does not repay compiling (>= {MIN_LOSS_CALLS:,})"
    return compiler_problem()


ACTING = register(FastPath("PPO", "acting", "numpy", "torch", ACTING_CONFIG_FIELDS, ACTING_NET_FIELDS,
                           ("MLPNet", "HydraMLPNet"), devices=("cpu",)))
# The compiled loss is `PPO.loss` itself: every setting is handled by construction.
GRADIENTS = register(FastPath("PPO", "gradients", "compiled", "autograd", EVERY_FIELD, EVERY_FIELD,
                              ("MLPNet", "HydraMLPNet"), devices=("cpu",), requirement=compiling_pays))
