"""SAC: twin Q with polyak-averaged targets, a tanh-squashed Gaussian policy, fixed or tuned entropy.

One gradient step computes the critic, actor and temperature losses from the same sampled batch
and takes a single backward pass: the target needs no autograd, both Q nets run as one batched
ensemble call, and the actor's loss sees the Q weights as constants (dQ/da flows to the actor, no
critic weight gradients are formed). This is the grouped update of SpinningUp's SAC v0.1.1.

`loss` is the reference, on autograd. The same gradients written out by hand (no graph, dQ/da
through the smaller twin only) live in agent/fast/sac.py and are chosen once, when the agent is
built, by the fast-path selector (`net.fast_path: "off"` keeps the reference).

Updates follow one of two schedules:
- "step" (SB3): every `train_freq` vectorised steps, `gradient_steps` gradient steps;
- "episode" (TeachMyAgent / SpinningUp v0.1.1): when an episode of length L ends, ceil(L / train_freq)
  gradient steps.
"""
from __future__ import annotations

import copy
import dataclasses
import math
from typing import Any, Literal, Sequence

import numpy as np
import torch

from slm_acl.agent.algorithm.base import BodyInterface, Transition
from slm_acl.agent.algorithm.losses import sac_q_target, tanh_gaussian
from slm_acl.agent.algorithm.torch_base import TorchAlgorithm, grad_norm_clip
from slm_acl.agent.fast import sac as fast_sac
from slm_acl.agent.net.base import OptimConfig, apply_lr_schedule, make_optimizer
from slm_acl.agent.registry import ALGORITHMS
from slm_acl.lib.config import Choice, param
from slm_acl.lib.seeding import SeedTree

METRICS_EVERY = 100  # report losses once per this many gradient steps (each report syncs with the device)


@dataclasses.dataclass(frozen=True)
class SACConfig:
    gamma: float = param(0.99, ge=0, le=1, doc="discount")
    tau: float = param(0.005, gt=0, le=1, doc="target update rate (polyak = 1 - tau)")
    batch_size: int = param(256, ge=1, doc="transitions per body per gradient step")
    start_steps: int = param(10_000, ge=0, doc="frames per body of uniform random actions before the policy acts "
                                               "(counted again from each student reset)")
    learning_starts: int = param(10_000, ge=0, doc="frames per body stored before gradient steps begin (a student "
                                                   "reset empties the replay, so again after one)")
    update_schedule: Literal["step", "episode"] = param(
        "step", doc="'step': gradient_steps every train_freq steps; 'episode': ceil(len/train_freq) per episode")
    train_freq: int = param(1, ge=1, doc="vectorised steps between updates ('step') or the episode divisor")
    gradient_steps: int = param(1, ge=1, doc="gradient steps per update ('step' schedule)")
    ent_coef: float | Literal["auto"] = param("auto", doc="entropy coefficient alpha, or 'auto' to tune it")
    ent_coef_init: float = param(1.0, gt=0, doc="initial alpha when tuned")
    target_entropy: float | None = param(None, doc="entropy target when tuned (null: -action size)")
    alpha_optim: OptimConfig | None = param(None, doc="optimiser of the tuned alpha (null: as the actor's)")
    target_update_interval: int = param(1, ge=1, doc="gradient steps between target updates")
    log_std_min: float = param(-20.0, doc="lower clamp of the policy's log std")
    log_std_max: float = param(2.0, doc="upper clamp of the policy's log std")


@ALGORITHMS.register("SAC")
class SAC(TorchAlgorithm):
    Config = SACConfig
    memories = ("Replay",)
    metric_names = ("q_loss", "actor_loss", "alpha", "alpha_loss", "entropy", "q_mean")
    provides_value_estimate = True

    def __init__(self, config: SACConfig, bodies: Sequence[BodyInterface], seeds: SeedTree,
                 net: Choice | None = None, memory: Choice | None = None, device: str = "cpu"):
        super().__init__(config, bodies, seeds, net, memory, device)
        net_config = self.net_builder.config
        self.tune_alpha = config.ent_coef == "auto"
        self.nets.update(self._build_nets())
        self.target_q = copy.deepcopy(self.nets["q"]).requires_grad_(False)
        self.target_entropy = torch.tensor(
            [config.target_entropy if config.target_entropy is not None else -float(a) for a in self.act_dims],
            device=self.torch_device)
        critic_optim = net_config.critic_optim or net_config.optim
        groups = [(self.nets["actor"].parameters(), net_config.optim), (self.nets["q"].parameters(), critic_optim)]
        if self.tune_alpha:
            groups.append((self.nets["log_alpha"].parameters(), config.alpha_optim or net_config.optim))
        self.optimizer = make_optimizer(groups)
        self._schedules = [g[1].schedule for g in groups]
        self._clip_groups = [list(self.nets["actor"].parameters()), list(self.nets["q"].parameters())]
        self.max_grad_norm = net_config.clip_grad_val
        self._q_params = list(self.nets["q"].parameters())
        self._target_params = list(self.target_q.parameters())
        replay = memory.build()
        self.replays = [replay.build(o, a, config.batch_size, seeds.child(b).generator("replay"))
                        for b, (o, a) in enumerate(zip(self.obs_dims, self.act_dims))]
        self.save_replay = replay.config.save_in_checkpoint
        spaces = [b.action_space for b in self.bodies]
        self._low = [s.low.astype(np.float32) for s in spaces]
        self._half_span = [((s.high - s.low) / 2).astype(np.float32) for s in spaces]
        self.ep_length = [np.zeros(b.num_envs, np.int64) for b in self.bodies]
        self.steps = 0  # vectorised agent steps (the 'step' schedule counts these)
        self.grad_steps = 0  # gradient steps of the current student (target updates count these)
        self._metrics: dict[str, torch.Tensor] = {}
        self._since_report = 0
        self.gradients = self.choose_path("gradients")

    def _build_nets(self) -> dict[str, torch.nn.Module]:
        """The actor, the twin Q ensemble and log alpha (a parameter even when fixed, so it is checkpointed)."""
        n = len(self.bodies)
        init = self.config.ent_coef_init if self.tune_alpha else float(self.config.ent_coef)
        log_alpha = torch.full((n,), math.log(init), device=self.torch_device)
        log_alpha = torch.nn.ParameterList([torch.nn.Parameter(log_alpha, requires_grad=self.tune_alpha)])
        return {"actor": self.build_net(self.obs_dims, [2 * a for a in self.act_dims]),
                "q": self.build_net([o + a for o, a in zip(self.obs_dims, self.act_dims)], [1] * n, copies=2),
                "log_alpha": log_alpha}

    def _reset_student_extra(self) -> None:
        """A fresh student's warm-up, counted from the reset: the replay buffers are emptied, so gradient steps wait
        for `learning_starts` new transitions per body, and `student_frames` (zeroed by the caller) restarts the
        `start_steps` of uniform random actions. The targets copy the fresh Q nets; the step and episode-length
        counters of the update schedules and the target-update phase restart too."""
        with torch.no_grad():
            self.target_q.load_state_dict(self.nets["q"].state_dict())
        for replay in self.replays:
            replay.clear()
        for lengths in self.ep_length:
            lengths[:] = 0
        self.steps = self.grad_steps = self._since_report = 0
        self._metrics = {}

    # ---- scaling between the policy's [-1, 1] and the env's bounds --------------------------
    def _to_env(self, b: int, action: np.ndarray) -> np.ndarray:
        return self._low[b] + (action + 1.0) * self._half_span[b]

    def _to_policy(self, b: int, action: np.ndarray) -> np.ndarray:
        return (action - self._low[b]) / self._half_span[b] - 1.0

    # ---- forward passes ---------------------------------------------------------------------
    def _mean_log_std(self, out: torch.Tensor, b: int) -> tuple[torch.Tensor, torch.Tensor]:
        a = self.act_dims[b]
        out = out[0]
        return out[:, :a], out[:, a:].clamp(self.config.log_std_min, self.config.log_std_max)

    def noise(self, like: torch.Tensor) -> torch.Tensor:
        """Standard normal noise for one body's reparameterised sample, from the agent's own generator
        (drawn in body order: the reference and the fast path draw the same numbers)."""
        return torch.randn(like.shape, generator=self.generator, device=like.device)

    def _sample(self, outs: list[torch.Tensor | None],
                noises: list[torch.Tensor | None] | None = None) -> list[tuple[torch.Tensor, torch.Tensor] | None]:
        """A reparameterised action and its log-probability per body (`noises`: given instead of drawn)."""
        result: list[tuple[torch.Tensor, torch.Tensor] | None] = []
        for b, out in enumerate(outs):
            if out is None:
                result.append(None)
                continue
            mean, log_std = self._mean_log_std(out, b)
            noise = self.noise(mean) if noises is None else noises[b]
            result.append(tanh_gaussian(mean, log_std, noise))
        return result

    def _q_min(self, net, obs: list[torch.Tensor | None], act: list[torch.Tensor | None],
               detached: bool = False) -> list[torch.Tensor | None]:
        xs = [None if o is None else torch.cat([o, a], dim=1) for o, a in zip(obs, act)]
        return [None if q is None else q.min(dim=0).values[:, 0] for q in net(xs, detached)]

    # ---- acting -----------------------------------------------------------------------------
    def act(self, obs: Sequence[np.ndarray | None], deterministic: bool = False) -> list[np.ndarray | None]:
        actions: list[np.ndarray | None] = [None] * len(obs)
        policy_bodies = []
        for b, o in enumerate(obs):
            if o is None:
                continue
            if not deterministic and self.student_frames[b] < self.config.start_steps:
                uniform = self.rng.uniform(-1.0, 1.0, size=(len(o), self.act_dims[b])).astype(np.float32)
                actions[b] = self._to_env(b, uniform)
            else:
                policy_bodies.append(b)
        if policy_bodies:
            xs = [self.to_tensor(obs[b]) if b in policy_bodies else None for b in range(len(obs))]
            with torch.no_grad():
                outs = self.nets["actor"](xs)
                if deterministic:
                    acts = [None if o is None else torch.tanh(self._mean_log_std(o, b)[0]) for b, o in enumerate(outs)]
                else:
                    acts = [None if s is None else s[0] for s in self._sample(outs)]
            for b in policy_bodies:
                actions[b] = self._to_env(b, acts[b].cpu().numpy())
        return actions

    # ---- learning ---------------------------------------------------------------------------
    def update(self, transitions: Sequence[Transition | None]) -> dict[str, float]:
        self.trained_last_update = False
        due = 0
        cfg = self.config
        for b, tr in enumerate(transitions):
            if tr is None:
                continue
            self.replays[b].add(tr.obs, self._to_policy(b, tr.action), tr.reward, tr.next_obs, tr.terminated)
            self.count_frames(b, len(tr.reward))
            self.ep_length[b] += 1
            ended = tr.terminated | tr.truncated
            if ended.any():
                if cfg.update_schedule == "episode":
                    due += sum(math.ceil(int(n) / cfg.train_freq) for n in self.ep_length[b][ended])
                self.ep_length[b][ended] = 0
        self.steps += 1
        if cfg.update_schedule == "step" and self.steps % cfg.train_freq == 0:
            due = cfg.gradient_steps
        ready = [b for b, r in enumerate(self.replays) if len(r) >= max(cfg.learning_starts, 1)]
        if not due or not ready:
            return {}
        apply_lr_schedule(self.optimizer, self._schedules, self.progress())
        for _ in range(due):
            self._gradient_step(ready)
        self.trained_last_update = True
        return self._report(due)

    def _gradient_step(self, bodies: list[int]) -> None:
        cfg = self.config
        batch = self._sample_batch(bodies)
        self.optimizer.zero_grad(set_to_none=True)
        if self.gradients.fast:
            self._metrics = fast_sac.set_gradients(self, bodies, batch)
        else:
            terms = self.loss(bodies, batch)
            terms.pop("total").backward()
            self._metrics = {k: v.detach() for k, v in terms.items()}
        for params in self._clip_groups:
            grad_norm_clip(params, self.max_grad_norm)
        self.optimizer.step()
        self.opt_steps += 1
        self.grad_steps += 1
        if self.grad_steps % cfg.target_update_interval == 0:
            with torch.no_grad():
                torch._foreach_lerp_(self._target_params, self._q_params, cfg.tau)

    def _sample_batch(self, bodies: list[int]) -> dict[str, list[torch.Tensor | None]]:
        n = len(self.bodies)
        batch: dict[str, list[torch.Tensor | None]] = {k: [None] * n for k in ("obs", "action", "reward",
                                                                                "next_obs", "terminated")}
        for b in bodies:
            sample = self.replays[b].sample()
            for key, column in batch.items():
                column[b] = self.to_tensor(sample[key])
        return batch

    @torch.no_grad()
    def q_targets(self, bodies: list[int], batch: dict[str, list[torch.Tensor | None]], alpha: torch.Tensor,
                  noises: list[torch.Tensor | None] | None = None) -> dict[int, torch.Tensor]:
        """The critic's target per body: y = r + gamma (1 - terminated) (min_i Q'_i(s', a') - alpha log pi(a'|s')),
        a' drawn from the current policy at s', Q' the target nets."""
        nxt = batch["next_obs"]
        next_sample = self._sample(self.nets["actor"](nxt), noises)
        next_q = self._q_min(self.target_q, nxt, [None if s is None else s[0] for s in next_sample])
        return {b: sac_q_target(batch["reward"][b], batch["terminated"][b], next_q[b], next_sample[b][1], alpha[b],
                                self.config.gamma) for b in bodies}

    def loss(self, bodies: list[int], batch: dict[str, list[torch.Tensor | None]],
             noises: dict[str, list[torch.Tensor | None]] | None = None) -> dict[str, torch.Tensor]:
        """SAC's three losses on one batch, summed over `bodies` (Haarnoja et al. 2018):

            critic      sum_i 0.5 E[(Q_i(s, a) - y)^2]                          (y: `q_targets`)
            actor       E[alpha log pi(a~|s) - min_i Q_i(s, a~)],  a~ = tanh(mu + sigma eps), Q_i constant
            temperature -E[log alpha (log pi(a~|s) + target entropy)]          (when alpha is tuned)

        Returns `total` (their sum, for one backward pass) and the step's metrics. `noises`
        ({"next": [...], "policy": [...]} per body) replaces the draws from the agent's generator.
        """
        n = len(self.bodies)
        obs, act = batch["obs"], batch["action"]
        log_alpha = self.nets["log_alpha"][0]
        alpha = log_alpha.detach().exp()
        targets = self.q_targets(bodies, batch, alpha, None if noises is None else noises["next"])
        qs = self.nets["q"]([torch.cat([obs[b], act[b]], dim=1) if b in bodies else None for b in range(n)])
        sample = self._sample(self.nets["actor"](obs), None if noises is None else noises["policy"])
        q_pi = self._q_min(self.nets["q"], obs, [None if s is None else s[0] for s in sample], detached=True)
        q_loss = actor_loss = alpha_loss = entropy = q_mean = 0.0
        for b in bodies:
            q = qs[b][:, :, 0]  # (2, B)
            q_loss = q_loss + 0.5 * (q - targets[b]).square().mean(dim=1).sum()
            logprob = sample[b][1]
            actor_loss = actor_loss + (alpha[b] * logprob - q_pi[b]).mean()
            if self.tune_alpha:
                alpha_loss = alpha_loss - (log_alpha[b] * (logprob.detach() + self.target_entropy[b])).mean()
            entropy = entropy - logprob.detach().mean()
            q_mean = q_mean + q.detach().mean()
        k = len(bodies)
        return {"total": q_loss + actor_loss + alpha_loss, "q_loss": q_loss, "actor_loss": actor_loss,
                "alpha": alpha.mean(), "alpha_loss": torch.as_tensor(alpha_loss), "entropy": entropy / k,
                "q_mean": q_mean / k}

    def _report(self, steps: int) -> dict[str, float]:
        self._since_report += steps
        if self._since_report < METRICS_EVERY:
            return {}
        self._since_report = 0
        values = torch.stack([v.float().reshape(()) for v in self._metrics.values()]).tolist()
        return dict(zip(self._metrics, values))

    # ---- teachers and checkpoints -------------------------------------------------------------
    def value_estimate(self, body_index: int, obs: np.ndarray) -> np.ndarray:
        """min_i Q_i(s, a*) at the policy's deterministic action a* = tanh(mean)."""
        xs: list[torch.Tensor | None] = [None] * len(self.bodies)
        xs[body_index] = self.to_tensor(np.asarray(obs, np.float32))
        with torch.no_grad():
            mean, _ = self._mean_log_std(self.nets["actor"](xs)[body_index], body_index)
            acts: list[torch.Tensor | None] = [None] * len(self.bodies)
            acts[body_index] = torch.tanh(mean)
            return self._q_min(self.nets["q"], xs, acts)[body_index].cpu().numpy()

    def _extra_state(self) -> dict[str, Any]:
        return {"optimizer": self.optimizer.state_dict(), "target_q": self.target_q.state_dict(),
                "replays": [r.state_dict(self.save_replay) for r in self.replays],
                "ep_length": [e.copy() for e in self.ep_length], "steps": self.steps, "grad_steps": self.grad_steps,
                "since_report": self._since_report}

    def policy_state_dict(self) -> dict[str, Any]:
        """The state without the replay buffers' transitions (acting never reads them)."""
        return {**self.state_dict(), "replays": [r.state_dict(include_data=False) for r in self.replays]}

    def _load_extra_state(self, state: dict[str, Any]) -> None:
        self.optimizer.load_state_dict(state["optimizer"])
        self.target_q.load_state_dict(state["target_q"])
        for r, s in zip(self.replays, state["replays"]):
            r.load_state_dict(s)
        self.ep_length = [e.copy() for e in state["ep_length"]]
        self.steps = int(state["steps"])
        self.grad_steps = int(state.get("grad_steps", self.opt_steps))  # older checkpoints: no reset yet
        self._since_report = int(state["since_report"])
