"""GoalGAN (Florensa et al., ICML 2018), as benchmarked in TeachMyAgent.

A least-squares GAN learns to generate goals of intermediate difficulty (GOIDs): tasks whose
success rate over `n_rollouts` attempts lies in [goid_lb, goid_ub]. Reference: REFERENCE.md 1.3
and 1.10; source `TeachMyAgent/teachers/algos/goal_gan.py` and `teachers/utils/gan/` (code from
psclklnk/spdl, GAN from florensacc/rllab-curriculum).

Algorithm, in the normalised task space [0,1]^dim:

- sample_task: a queued copy of the last GAN goal if any; otherwise, with probability `p_old`
  (when the success buffer is not empty), an old "too easy" goal from the success buffer plus
  Gaussian replay noise; with probability `p_random` (a lab extension, default 0) a uniform goal;
  else a new generator goal G(z), z ~ N(0, I_dim), plus Gaussian noise of std `state_noise_level`,
  clipped to the cube. A new goal (GAN or uniform) gets an id and is proposed `n_rollouts` times
  in a row, each proposal carrying that id; replayed goals carry none and are never labelled.
- update: each outcome (the success flag) is added to the goal its proposal names; once a goal
  has `n_rollouts` outcomes it is labelled GOID if goid_lb <= mean success <= goid_ub, and a goal
  with mean success > goid_ub joins the success buffer if it lies farther than
  `success_distance_threshold * sqrt(dim)` from every stored goal.
- Once `update_size` goals are labelled, the GAN is trained for `gan_iterations` outer
  iterations if at least one label is positive, and the labelled list is cleared.
- LSGAN: discriminator D minimises mean((D(x) - (2y - 1))^2) over a batch of labelled goals
  (target +1 for GOIDs, -1 otherwise) and a batch of generated goals (target -1); the generator
  minimises mean((D(G(z)) - 1)^2). One D step and one G step per outer iteration, RMSProp
  (lr 1e-3, decay 0.9 as TF1), batch 64, generator [256, 256] ReLU + tanh, discriminator
  [128, 128] leaky ReLU (0.2), Xavier-uniform weights and zero biases as the original. The
  generator's tanh output o in [-1, 1]^dim is the goal (o + 1) / 2; D sees goals as 2x - 1.
- Optional pretraining (`use_pretrained_samples`, set in the benchmark): `pretrain_samples`
  goals from `initial_dist` when the spec gives one (expert knowledge "high"/"original"), else from
  a random sub-space Gaussian (mean uniform in the cube, std 0.1 per dim, i.e. 10% of each range;
  expert knowledge "low"), all labelled positive, `pretrain_iterations` outer iterations.

Conversions from raw units: `state_noise_level` was a fraction of each dim's range, so it is the
std in the unit cube unchanged; `success_distance_threshold` was a fraction of ||range||, whose
unit-cube value is sqrt(dim). Distances are measured in the unit cube (the original measured raw
units, so dims with large ranges dominated).

Deliberate differences from the original code:

- Outcomes reach their goal by the goal id on each proposal (`GoalGANProposal.goal`). The
  original keyed them by the float32 bytes of the task, so a task that came back through any
  conversion (float64, raw units and back) was silently never labelled, and two goals with equal
  tasks pooled their outcomes; here each goal is labelled from its own rollouts, whatever order
  the sub-envs finish in.
- The generator's range is the task space. The original scaled tanh by the full range around the
  centre, i.e. twice the task space, and clipped half of the generator's output range away.
- Minibatches are drawn at random from the labelled goals instead of cycling through them in a
  fixed order; the generator step reuses the discriminator step's noise, as the original.
- Randomness comes from the teacher's generator (numpy for noise and batches, a torch generator
  derived from it only for the initial weights); the original seeded the global numpy and TF
  states. Nets are built without touching torch's global generator.
- Florensa et al. write the generator target as c = 0; the published code (and so the
  benchmark) uses c = 1, which is kept.

On teachDeepRL's toy (bench/toy_teachers.py) success is binary per cell (a cell fails until it
is mastered, then always succeeds), so a goal is of intermediate difficulty only when its rollouts
straddle mastery: the GAN rarely gets a positive label and rarely trains. Pretrained on a region
where every goal fails (a random sub-space without `initial_dist`), it then never trains at all and
keeps proposing the same unlearnable goals: that, not this code, is the toy's 0 % (see the bench).

Cost (defaults, 1 torch thread, measured on a shared 2-core box under load): construction with
pretraining 1.3-3 s (500 GAN iterations, once); a training of 250 iterations ~0.7 s (dim 2 or
8) per `update_size` labelled goals, i.e. about every 200 episodes; a sample is a queue pop or
one generator pass (well under 1 ms).
"""
from __future__ import annotations

import copy
import dataclasses
import math
from typing import Any

import numpy as np
import torch
from torch import nn

from slm_acl.curriculum.expert_knowledge import Gift, gives, levels, refuses
from slm_acl.curriculum.teachers.base import Proposal, Teacher, TeacherContext
from slm_acl.curriculum.teachers.registry import TEACHERS
from slm_acl.lib.config import param
from slm_acl.lib.seeding import rng_state, set_rng_state

SUBSPACE_STD = 0.1  # std of the random sub-space Gaussian (10% of each range)


@dataclasses.dataclass(frozen=True)
class GoalGANConfig:
    state_noise_level: float = param(0.1, ge=0, doc="std of the noise added to GAN goals and replayed goals, as a "
                                     "fraction of each range; benchmark 0.1")
    success_distance_threshold: float = param(0.01, ge=0, doc="min distance between success-buffer goals, as a "
                                              "fraction of the task space's diagonal")
    update_size: int = param(100, ge=1, doc="labelled goals per GAN training; benchmark 100")
    n_rollouts: int = param(2, ge=1, doc="attempts per goal before it is labelled; benchmark 2")
    goid_lb: float = param(0.25, ge=0, le=1, doc="lowest success rate of a goal of intermediate difficulty")
    goid_ub: float = param(0.75, ge=0, le=1, doc="highest success rate of a goal of intermediate difficulty")
    p_old: float = param(0.1, ge=0, le=1, doc="probability of replaying a goal from the success buffer; "
                         "benchmark 0.1")
    p_random: float = param(0.0, ge=0, le=1, doc="probability of a uniform random goal (labelled like GAN goals; "
                            "lab extension, 0 in the original)")
    use_pretrained_samples: bool = param(True, doc="pretrain the GAN on initial_dist (or a random sub-space "
                                         "Gaussian); benchmark true")
    pretrain_samples: int = param(1000, ge=1, doc="goals drawn for pretraining")
    pretrain_iterations: int = param(500, ge=0, doc="outer GAN iterations of pretraining")
    gan_iterations: int = param(250, ge=1, doc="outer GAN iterations per training")
    generator_layers: tuple[int, ...] = param((256, 256), doc="generator hidden sizes")
    discriminator_layers: tuple[int, ...] = param((128, 128), doc="discriminator hidden sizes")
    batch_size: int = param(64, ge=1, doc="labelled and generated goals per GAN iteration")
    learning_rate: float = param(1e-3, gt=0, doc="RMSProp step size of both nets")


@dataclasses.dataclass(eq=False)
class GoalGANProposal(Proposal):
    """One rollout of a goal (`task`): `goal` is the id of the new goal it rolls out, or None for a
    replayed success-buffer goal, which is played but never labelled (as in the original)."""

    goal: int | None = None


def _mlp(sizes: list[int], hidden: nn.Module, out: nn.Module | None, gen: torch.Generator) -> nn.Sequential:
    """An MLP built without torch's global generator: Xavier-uniform weights from `gen`, zero biases."""
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layer = nn.Linear(n_in, n_out, device="meta").to_empty(device="cpu")
        bound = math.sqrt(6.0 / (n_in + n_out))
        with torch.no_grad():
            layer.weight.copy_(torch.rand(n_out, n_in, generator=gen) * (2 * bound) - bound)
            layer.bias.zero_()
        layers.append(layer)
        if i < len(sizes) - 2:
            layers.append(copy.deepcopy(hidden))
    if out is not None:
        layers.append(out)
    return nn.Sequential(*layers)


@TEACHERS.register("GoalGAN")
class GoalGANTeacher(Teacher):
    """Goals of intermediate difficulty from a least-squares GAN (see the module docstring)."""

    Config = GoalGANConfig
    proposal_type = GoalGANProposal
    needs_success_return = True
    # TeachMyAgent raises at "no" (no success definition); the benchmark passes --use_pretrained_samples, so
    # "low" pretrains on a random sub-space Gaussian and "high" on initial_dist
    expert_knowledge = levels(
        no=refuses("GoalGAN needs a success definition (TeachMyAgent raises 'Unable to run GoalGAN without any "
                   "expert knowledge')"),
        low=gives(Gift.PRETRAINING),
        high=gives(Gift.PRETRAINING, Gift.INITIAL_DIST))

    def __init__(self, config: GoalGANConfig, context: TeacherContext):
        super().__init__(config, context)
        if config.goid_lb > config.goid_ub:
            raise ValueError(f"GoalGAN: goid_lb {config.goid_lb} > goid_ub {config.goid_ub}")
        d = self.dim
        gen = torch.Generator().manual_seed(int(self.rng.integers(2**63)))
        self.generator = _mlp([d, *config.generator_layers, d], nn.ReLU(), nn.Tanh(), gen)
        self.discriminator = _mlp([d, *config.discriminator_layers, 1], nn.LeakyReLU(0.2), None, gen)
        self.g_opt = torch.optim.RMSprop(self.generator.parameters(), lr=config.learning_rate, alpha=0.9)
        self.d_opt = torch.optim.RMSprop(self.discriminator.parameters(), lr=config.learning_rate, alpha=0.9)
        self._queue: list[GoalGANProposal] = []  # rollouts of the last new goal still to propose
        self._rollouts: dict[int, list[bool]] = {}  # goal id -> outcomes so far, until the goal is labelled
        self._next_goal = 0
        self._goals: list[np.ndarray] = []  # labelled goals since the last training
        self._labels: list[bool] = []
        self._success_rates: list[float] = []
        self._success_buffer = np.zeros((0, d))
        self.episodes = 0
        self.trainings = 0
        # label rates of the last labelled batch and losses of the last training; None until then
        self._last: dict[str, float | None] = dict.fromkeys(("goid_rate", "easy_rate", "hard_rate", "dis_loss",
                                                             "gen_loss"))
        if config.use_pretrained_samples and config.pretrain_iterations > 0:
            self._pretrain()

    # -- sampling ------------------------------------------------------------------------------

    def _generate(self, rng: np.random.Generator, n: int) -> np.ndarray:
        z = torch.as_tensor(rng.standard_normal((n, self.dim)), dtype=torch.float32)
        with torch.no_grad():
            out = self.generator(z).double().numpy()
        return (out + 1.0) / 2.0

    def sample_task(self) -> GoalGANProposal:
        if self._queue:
            return self._queue.pop(0)
        cfg = self.config
        u = self.rng.random()
        if u < cfg.p_old and len(self._success_buffer) > 0:
            goal = self._success_buffer[self.rng.integers(len(self._success_buffer))]
            noisy = goal + cfg.state_noise_level * self.rng.standard_normal(self.dim)
            return GoalGANProposal(np.clip(noisy, 0.0, 1.0))
        if cfg.p_old <= u < cfg.p_old + cfg.p_random:
            goal = self.rng.uniform(0.0, 1.0, self.dim)
        else:
            goal = self._generate(self.rng, 1)[0]
            goal = np.clip(goal + cfg.state_noise_level * self.rng.standard_normal(self.dim), 0.0, 1.0)
        goal_id, self._next_goal = self._next_goal, self._next_goal + 1
        self._rollouts[goal_id] = []
        self._queue = [GoalGANProposal(goal.copy(), goal=goal_id) for _ in range(cfg.n_rollouts - 1)]
        return GoalGANProposal(goal, goal=goal_id)

    def non_exploratory_sample(self, rng: np.random.Generator) -> np.ndarray:
        """A generator goal without noise, replay or random goals, drawn with the caller's generator."""
        return np.clip(self._generate(rng, 1)[0], 0.0, 1.0)

    # -- feedback ------------------------------------------------------------------------------

    def update(self, proposal: Proposal, episodic_return: float, success: bool) -> None:
        proposal = self.own_proposal(proposal)
        cfg = self.config
        self.episodes += 1
        if proposal.goal is not None:
            outcomes = self._rollouts.get(proposal.goal)
            if outcomes is None:
                raise ValueError(f"GoalGAN: goal {proposal.goal} has no rollouts left (already labelled, or a "
                                 "proposal of another teacher); every proposal goes back to update exactly once")
            outcomes.append(bool(success))
            if len(outcomes) >= cfg.n_rollouts:
                del self._rollouts[proposal.goal]
                self._label(proposal.task.copy(), float(np.mean(outcomes)))
        if len(self._goals) >= cfg.update_size:
            self._train_on_labels()

    def _label(self, goal: np.ndarray, rate: float) -> None:
        cfg = self.config
        self._goals.append(goal)
        self._labels.append(cfg.goid_lb <= rate <= cfg.goid_ub)
        self._success_rates.append(rate)
        if rate > cfg.goid_ub:
            threshold = cfg.success_distance_threshold * math.sqrt(self.dim)
            if len(self._success_buffer) == 0 or \
                    np.min(np.linalg.norm(self._success_buffer - goal, axis=1)) > threshold:
                self._success_buffer = np.vstack([self._success_buffer, goal])

    def _train_on_labels(self) -> None:
        cfg = self.config
        goals, labels = np.array(self._goals), np.array(self._labels, dtype=np.float64)
        rates = np.array(self._success_rates)
        self._last.update(goid_rate=float(labels.mean()), easy_rate=float(np.mean(rates > cfg.goid_ub)),
                          hard_rate=float(np.mean(rates < cfg.goid_lb)))
        if labels.any():
            dis_loss, gen_loss = self._train_gan(goals, labels, cfg.gan_iterations)
            self._last.update(dis_loss=dis_loss, gen_loss=gen_loss)
            self.trainings += 1
        self._goals, self._labels, self._success_rates = [], [], []

    def _pretrain(self) -> None:
        cfg, d = self.config, self.dim
        dist = self.context.initial_dist
        if dist is not None:
            mean, std = np.asarray(dist.mean, np.float64), np.asarray(dist.std, np.float64)
        else:
            mean, std = self.rng.uniform(0.0, 1.0, d), np.full(d, SUBSPACE_STD)
        goals = np.clip(mean + std * self.rng.standard_normal((cfg.pretrain_samples, d)), 0.0, 1.0)
        self._train_gan(goals, np.ones(len(goals)), cfg.pretrain_iterations)

    def _train_gan(self, goals: np.ndarray, labels: np.ndarray, iterations: int) -> tuple[float, float]:
        """LSGAN training on goals in [0,1]^dim with labels in {0, 1}; returns the last losses."""
        cfg, n = self.config, len(goals)
        x_all = torch.as_tensor(2.0 * goals - 1.0, dtype=torch.float32)
        target_all = torch.as_tensor(2.0 * labels - 1.0, dtype=torch.float32)
        batch = cfg.batch_size
        dis_loss = gen_loss = float("nan")
        for _ in range(iterations):
            idx = self.rng.choice(n, size=batch, replace=False) if n > batch else np.arange(n)
            z = torch.as_tensor(self.rng.standard_normal((batch, self.dim)), dtype=torch.float32)
            with torch.no_grad():
                fake = self.generator(z)
            scores = self.discriminator(torch.cat([x_all[idx], fake])).squeeze(-1)
            targets = torch.cat([target_all[idx], -torch.ones(batch)])
            d_loss = torch.mean((scores - targets) ** 2)
            self.d_opt.zero_grad()
            d_loss.backward()
            self.d_opt.step()
            g_loss = torch.mean((self.discriminator(self.generator(z)).squeeze(-1) - 1.0) ** 2)
            self.g_opt.zero_grad()
            g_loss.backward()
            self.g_opt.step()
            dis_loss, gen_loss = float(d_loss.detach()), float(g_loss.detach())
        return dis_loss, gen_loss

    # -- reporting and state -------------------------------------------------------------------

    def info(self) -> dict[str, Any]:
        return {"success_buffer": len(self._success_buffer), "labelled": len(self._goals),
                "goals_in_rollout": len(self._rollouts), "trainings": self.trainings, "episodes": self.episodes,
                **self._last}

    def state_dict(self) -> dict[str, Any]:
        return {"rng": rng_state(self.rng),
                "generator": {k: v.detach().clone() for k, v in self.generator.state_dict().items()},
                "discriminator": {k: v.detach().clone() for k, v in self.discriminator.state_dict().items()},
                "g_opt": copy.deepcopy(self.g_opt.state_dict()), "d_opt": copy.deepcopy(self.d_opt.state_dict()),
                "queue": [q.state_dict() for q in self._queue],
                "rollouts": {goal: list(outcomes) for goal, outcomes in self._rollouts.items()},
                "next_goal": self._next_goal,
                "goals": [g.copy() for g in self._goals], "labels": list(self._labels),
                "success_rates": list(self._success_rates), "success_buffer": self._success_buffer.copy(),
                "episodes": self.episodes, "trainings": self.trainings, "last": dict(self._last)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        set_rng_state(self.rng, state["rng"])
        self.generator.load_state_dict(state["generator"])
        self.discriminator.load_state_dict(state["discriminator"])
        self.g_opt.load_state_dict(copy.deepcopy(state["g_opt"]))
        self.d_opt.load_state_dict(copy.deepcopy(state["d_opt"]))
        self._queue = [GoalGANProposal.from_state(q) for q in state["queue"]]
        self._rollouts = {int(goal): [bool(s) for s in outcomes] for goal, outcomes in state["rollouts"].items()}
        self._next_goal = int(state["next_goal"])
        self._goals = [np.array(g) for g in state["goals"]]
        self._labels = [bool(x) for x in state["labels"]]
        self._success_rates = [float(x) for x in state["success_rates"]]
        self._success_buffer = np.array(state["success_buffer"]).reshape(-1, self.dim)
        self.episodes, self.trainings = int(state["episodes"]), int(state["trainings"])
        self._last = dict(state["last"])
