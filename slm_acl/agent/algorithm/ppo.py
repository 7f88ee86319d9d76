"""PPO (clipped objective, GAE) for one agent over all its bodies.

Each body collects `time_horizon` vectorised steps into its own rollout; when every acting body's
rollout is full, the agent trains `training_epoch` epochs over minibatches drawn from every body at
once (one optimiser step per minibatch index, summing the bodies' losses, so a shared trunk learns
from all of them). Episodes cut by a time limit bootstrap from the value of their real last
observation; terminated ones do not.

`loss` is the reference: PPO's objective as the paper writes it, on autograd. Speed-ups (acting in
NumPy on the CPU, `loss` under torch.compile for long runs) live in agent/fast/ and are chosen once,
when the agent is built, by the fast-path selector (`net.fast_path: "off"` keeps the reference).
"""
from __future__ import annotations

import dataclasses
from typing import Any, Sequence

import numpy as np
import torch
import torch.nn as nn

from slm_acl.agent.algorithm.base import BodyInterface, Transition
from slm_acl.agent.algorithm.losses import (gae, gaussian_entropy, gaussian_logprob, next_values, normal_logprob,
                                            normalize_advantage, ppo_policy_loss, ppo_value_loss)
from slm_acl.agent.algorithm.normalizer import ObsNormalizer, RewardScaler
from slm_acl.agent.algorithm.ppo_layout import layout_for
from slm_acl.agent.algorithm.torch_base import TorchAlgorithm, grad_norm_clip
from slm_acl.agent.fast import numpy_acting
from slm_acl.agent.fast import ppo as fast_ppo  # noqa: F401  (registers PPO's fast paths)
from slm_acl.agent.fast.compiled import CompiledLoss
from slm_acl.agent.net.base import apply_lr_schedule, make_optimizer
from slm_acl.agent.registry import ALGORITHMS
from slm_acl.lib.config import Choice, param
from slm_acl.lib.seeding import SeedTree

LOSS_TERMS = ("loss", "policy_loss", "value_loss", "entropy", "approx_kl", "clip_fraction")


@dataclasses.dataclass(frozen=True)
class PPOConfig:
    gamma: float = param(0.99, ge=0, le=1, doc="discount")
    lam: float = param(0.95, ge=0, le=1, doc="GAE lambda")
    clip_eps: float = param(0.2, gt=0, doc="policy ratio clip")
    clip_vloss: float | None = param(None, gt=0, doc="value clip range around the old value (null: no clipping)")
    val_loss_coef: float = param(0.5, ge=0, doc="value loss weight (shared nets)")
    entropy_coef: float = param(0.0, ge=0, doc="entropy bonus weight")
    time_horizon: int = param(2048, ge=1, doc="steps per sub-env per rollout")
    minibatch_size: int = param(64, ge=1, doc="samples per body per minibatch")
    training_epoch: int = param(10, ge=1, doc="passes over each rollout")
    normalize_advantage: bool = param(True, doc="standardise advantages per minibatch")
    normalize_obs: bool = param(False, doc="running mean/std observation normalisation")
    normalize_reward: bool = param(False, doc="scale rewards by the running std of the discounted return")
    obs_clip: float = param(10.0, gt=0, doc="clip of normalised observations")
    reward_clip: float = param(10.0, gt=0, doc="clip of scaled rewards")
    log_std_init: float = param(0.0, doc="initial log std of the Gaussian policy")
    target_kl: float | None = param(None, gt=0, doc="stop the epochs early when approx KL exceeds this")


@dataclasses.dataclass
class _Acted:
    """What the stochastic act of one step left for the update of that step."""

    obs: np.ndarray
    action: np.ndarray
    logprob: np.ndarray
    value: np.ndarray


@ALGORITHMS.register("PPO")
class PPO(TorchAlgorithm):
    Config = PPOConfig
    memories = ("OnPolicyBatch",)
    metric_names = (*LOSS_TERMS, "explained_variance", "lr")
    provides_value_estimate = True

    def __init__(self, config: PPOConfig, bodies: Sequence[BodyInterface], seeds: SeedTree,
                 net: Choice | None = None, memory: Choice | None = None, device: str = "cpu"):
        super().__init__(config, bodies, seeds, net, memory, device)
        net_config = self.net_builder.config
        self.layout = layout_for(net_config)
        self.nets.update(self._build_nets())
        critic_optim = net_config.critic_optim or net_config.optim
        if self.layout.name == "split":
            actor_params = [*self.nets["actor"].parameters(), *self.nets["log_std"].parameters()]
            groups = [(actor_params, net_config.optim), (self.nets["critic"].parameters(), critic_optim)]
        else:
            groups = [(self.nets.parameters(), net_config.optim)]
        self._params = list(self.nets.parameters())  # clipped jointly, as Baselines, SB3 and CleanRL do
        self.optimizer = make_optimizer(groups)
        self._schedules = [g[1].schedule for g in groups]
        self.max_grad_norm = net_config.clip_grad_val
        self._fresh_normalizers()
        self.rollouts = [memory.build().build(config.time_horizon, b.num_envs, o, a)
                         for b, o, a in zip(self.bodies, self.obs_dims, self.act_dims)]
        self._acted: list[_Acted | None] = [None] * len(self.bodies)
        self._last_next_obs: list[np.ndarray | None] = [None] * len(self.bodies)
        self.acting, self.gradients = self.choose_path("acting"), self.choose_path("gradients")
        self._compiled = CompiledLoss(self.loss, "PPO.loss", self._params) if self.gradients.fast else None

    def _build_nets(self) -> dict[str, nn.Module]:
        """The layout's actor/critic nets and one state-independent log std per body."""
        log_std = nn.ParameterList(nn.Parameter(torch.full((a,), self.config.log_std_init, device=self.torch_device))
                                   for a in self.act_dims)
        return {**self.layout.build(self), "log_std": log_std}

    def _fresh_normalizers(self) -> None:
        cfg = self.config
        self.obs_norm = [ObsNormalizer(d, cfg.obs_clip, cfg.normalize_obs) for d in self.obs_dims]
        self.reward_scale = [RewardScaler(b.num_envs, cfg.gamma, cfg.reward_clip, cfg.normalize_reward)
                             for b in self.bodies]

    def _reset_student_extra(self) -> None:
        """Fresh normalisers and empty rollouts: the steps collected so far were acted by the forgotten policy,
        so the first update of the new student comes a full `time_horizon` after the reset."""
        self._fresh_normalizers()
        for rollout in self.rollouts:
            rollout.clear()
        self._acted = [None] * len(self.bodies)
        self._last_next_obs = [None] * len(self.bodies)

    # ---- forward passes ----------------------------------------------------------------------
    def _policy_and_value(self, xs: list, need_value: bool = True, numpy: bool = False) -> list:
        """Per body: (mean (B, act), value (B,)); value None when not needed (split layout only).

        Tensors in and out; with `numpy`, float32 arrays in and out through fast/numpy_acting.py.
        """
        names = [n for n in self.layout.nets if need_value or n not in self.layout.critic_nets]
        run = numpy_acting.forward if numpy else (lambda net, inputs: net(inputs))
        outs = {name: run(self.nets[name], xs) for name in names}
        return [None if x is None else self.layout.policy_and_value({n: outs[n][b] for n in names}, self.act_dims[b])
                for b, x in enumerate(xs)]

    def _acting_forward(self, normed: list[np.ndarray | None], need_value: bool) -> list:
        """`_policy_and_value` for acting, as NumPy arrays: through NumPy when the fast path acts, else
        through torch (a GPU's path) with the results copied back."""
        if self.acting.fast:
            return self._policy_and_value(normed, need_value, numpy=True)
        xs = [None if o is None else self.to_tensor(o) for o in normed]
        with torch.no_grad():
            outs = self._policy_and_value(xs, need_value)
        return [None if o is None else (o[0].cpu().numpy(), None if o[1] is None else o[1].cpu().numpy())
                for o in outs]

    def _values(self, body: int, obs: np.ndarray) -> np.ndarray:
        normed: list[np.ndarray | None] = [None] * len(self.bodies)
        normed[body] = self.obs_norm[body](obs)
        return self._acting_forward(normed, need_value=True)[body][1]

    # ---- acting -----------------------------------------------------------------------------
    def act(self, obs: Sequence[np.ndarray | None], deterministic: bool = False) -> list[np.ndarray | None]:
        if all(o is None for o in obs):  # every body of this agent is done (another agent still runs)
            return [None] * len(obs)
        normed = [None if o is None else self.obs_norm[b](o, update=not deterministic) for b, o in enumerate(obs)]
        actions: list[np.ndarray | None] = [None] * len(obs)
        for b, out in enumerate(self._acting_forward(normed, need_value=not deterministic)):
            if out is None:
                continue
            mean, value = out
            if deterministic:
                actions[b] = mean
                continue
            log_std = self.nets["log_std"][b].detach().cpu().numpy()
            noise = self.rng.standard_normal(mean.shape, dtype=np.float32)
            actions[b] = mean + np.exp(log_std) * noise
            self._acted[b] = _Acted(normed[b], actions[b], normal_logprob(noise, log_std), value)
        return actions

    # ---- learning ---------------------------------------------------------------------------
    def update(self, transitions: Sequence[Transition | None]) -> dict[str, float]:
        self.trained_last_update = False
        stepped = []
        for b, tr in enumerate(transitions):
            if tr is None:
                continue
            acted = self._acted[b]
            if acted is None:
                raise RuntimeError(f"PPO.update for body {self.bodies[b].label} without a stochastic act first")
            self._acted[b] = None
            done = tr.terminated | tr.truncated
            reward = self.reward_scale[b](tr.reward, done)
            rollout = self.rollouts[b]
            rollout.add(acted.obs, acted.action, acted.logprob, acted.value, reward, tr.terminated, done)
            cut = np.flatnonzero(tr.truncated & ~tr.terminated)
            if len(cut):
                rollout.set_bootstrap(cut, self._values(b, tr.next_obs[cut]))
            self._last_next_obs[b] = tr.next_obs
            self.count_frames(b, len(tr.reward))
            stepped.append(b)
        if not stepped or not all(self.rollouts[b].full for b in stepped):
            return {}
        metrics = self._train(stepped)
        for rollout in self.rollouts:
            rollout.clear()
        self.trained_last_update = True
        return metrics

    def _batch(self, b: int) -> dict[str, torch.Tensor]:
        """Flatten one body's rollout into training tensors with advantages and returns."""
        cfg, ro = self.config, self.rollouts[b]
        last_value = self._values(b, self._last_next_obs[b])
        nxt = next_values(ro.value, last_value, ro.done, ro.bootstrap)
        adv, ret = gae(ro.reward, ro.value, nxt, ro.done, cfg.gamma, cfg.lam)
        n = ro.horizon * ro.num_envs
        arrays = {"obs": ro.obs.reshape(n, -1), "action": ro.action.reshape(n, -1), "logprob": ro.logprob.ravel(),
                  "value": ro.value.ravel(), "advantage": adv.ravel(), "returns": ret.ravel()}
        return {k: self.to_tensor(v) for k, v in arrays.items()}

    def _train(self, bodies: list[int]) -> dict[str, float]:
        cfg = self.config
        apply_lr_schedule(self.optimizer, self._schedules, self.progress())
        batches = {b: self._batch(b) for b in bodies}
        sizes = {b: len(batches[b]["advantage"]) for b in bodies}
        n_minibatches = max(1, max(n // cfg.minibatch_size for n in sizes.values()))
        sums = dict.fromkeys(LOSS_TERMS, 0.0)
        bounds = {b: np.cumsum([0] + [len(p) for p in np.array_split(np.arange(sizes[b]), n_minibatches)])
                  for b in bodies}  # minibatch k of body b: its shuffled samples bounds[b][k]:bounds[b][k + 1]
        steps = 0
        for _ in range(cfg.training_epoch):
            # shuffle each body's samples once per epoch; its minibatches are then contiguous slices
            # (np.array_split's sizes), the same samples as indexing each minibatch, at 1/n the calls
            shuffled = {}
            for b in bodies:
                order = torch.from_numpy(self.rng.permutation(sizes[b])).to(self.torch_device)
                shuffled[b] = {key: t[order] for key, t in batches[b].items()}
            epoch_kl = []
            for k in range(n_minibatches):
                # a body with fewer samples than there are minibatches sits out the ones it has none for
                mb = {b: {key: t[bounds[b][k]:bounds[b][k + 1]] for key, t in shuffled[b].items()}
                      for b in bodies if bounds[b][k + 1] > bounds[b][k]}
                stats = self._minibatch_step(mb)
                for key in sums:
                    sums[key] += stats[key]
                epoch_kl.append(stats["approx_kl"])
                steps += 1
            if cfg.target_kl is not None and float(np.mean(epoch_kl)) > cfg.target_kl:
                break
        self.opt_steps += steps
        metrics = {k: float(v / steps) for k, v in sums.items()}
        values = torch.cat([batches[b]["value"] for b in bodies])
        returns = torch.cat([batches[b]["returns"] for b in bodies])
        var = float(returns.var())
        # 0 for a constant return (no variance to explain) rather than NaN, which the NaN guard would stop on
        metrics["explained_variance"] = 0.0 if var == 0 else 1.0 - float((returns - values).var()) / var
        metrics["lr"] = float(self.optimizer.param_groups[0]["lr"])
        return metrics

    def _minibatch_step(self, mb: dict[int, dict[str, torch.Tensor]]) -> dict[str, float]:
        self.optimizer.zero_grad(set_to_none=True)
        if self._compiled is not None:
            terms = self._compiled.backward(mb)
        else:
            terms = self.loss(mb)
            terms["loss"].backward()
        grad_norm_clip(self._params, self.max_grad_norm)
        self.optimizer.step()
        values = torch.stack([terms[k].detach() for k in LOSS_TERMS]).tolist()  # one host sync per minibatch
        return dict(zip(LOSS_TERMS, values))

    def loss(self, mb: dict[int, dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
        """PPO's objective on one minibatch, summed over its bodies (Schulman et al. 2017, eq. 9):

            L = L_clip + c_v L_V - c_e H,
            L_clip = -E[min(r A, clip(r, 1 - eps, 1 + eps) A)],  r = pi(a|s) / pi_old(a|s),
            L_V = 0.5 E[(V(s) - R)^2] (optionally clipped around the old value),  H = the policy's entropy.

        Returns the loss and its terms (entropy, approx_kl and clip_fraction averaged over the bodies).
        """
        cfg = self.config
        outs = self._policy_and_value([mb[b]["obs"] if b in mb else None for b in range(len(self.bodies))])
        policy_loss = value_loss = entropy = clip_fraction = approx_kl = 0.0
        for b, data in mb.items():
            mean, value = outs[b]
            log_std = self.nets["log_std"][b]
            logprob = gaussian_logprob(data["action"], mean, log_std)
            advantage = normalize_advantage(data["advantage"]) if cfg.normalize_advantage else data["advantage"]
            body_policy_loss, body_clip_fraction, body_kl = ppo_policy_loss(logprob, data["logprob"], advantage,
                                                                            cfg.clip_eps)
            policy_loss = policy_loss + body_policy_loss
            value_loss = value_loss + ppo_value_loss(value, data["value"], data["returns"], cfg.clip_vloss)
            entropy = entropy + gaussian_entropy(log_std)
            clip_fraction = clip_fraction + body_clip_fraction
            approx_kl = approx_kl + body_kl
        loss = policy_loss + cfg.val_loss_coef * value_loss - cfg.entropy_coef * entropy
        n = len(mb)
        return {"loss": loss, "policy_loss": policy_loss, "value_loss": value_loss, "entropy": entropy / n,
                "approx_kl": approx_kl / n, "clip_fraction": clip_fraction / n}

    # ---- teachers and checkpoints -------------------------------------------------------------
    def value_estimate(self, body_index: int, obs: np.ndarray) -> np.ndarray:
        """V(s) in reward units (the critic's output times the reward scale when rewards are scaled)."""
        return self._values(body_index, np.asarray(obs, np.float32)) * self.reward_scale[body_index].scale

    def _extra_state(self) -> dict[str, Any]:
        return {"optimizer": self.optimizer.state_dict(),
                "obs_norm": [n.state_dict() for n in self.obs_norm],
                "reward_scale": [r.state_dict() for r in self.reward_scale],
                "rollouts": [r.state_dict() for r in self.rollouts],
                "last_next_obs": list(self._last_next_obs)}

    def _load_policy_extra_state(self, state: dict[str, Any]) -> None:
        for n, s in zip(self.obs_norm, state["obs_norm"]):
            n.load_state_dict(s)

    def _load_extra_state(self, state: dict[str, Any]) -> None:
        self.optimizer.load_state_dict(state["optimizer"])
        self._load_policy_extra_state(state)
        for r, s in zip(self.reward_scale, state["reward_scale"]):
            r.load_state_dict(s)
        for r, s in zip(self.rollouts, state["rollouts"]):
            r.load_state_dict(s)
        self._last_next_obs = list(state["last_next_obs"])

