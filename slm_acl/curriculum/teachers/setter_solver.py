"""Setter-Solver (Racanière, Lampinen et al., ICLR 2020), as benchmarked in TeachMyAgent.

A setter proposes goals of a requested feasibility, a judge predicts whether the student will
succeed. Reference: REFERENCE.md 1.3 and 1.11; source `TeachMyAgent/teachers/algos/setter_solver.py`
and `teachers/utils/setter_solver_utils.py` (building blocks (c) Google, Apache-2.0).

Algorithm, in the normalised task space [0,1]^dim (the original's setter already worked there, so
no published value needs converting):

- Setter: a conditional RealNVP flow. z ~ N(0, I_dim) goes through `num_blocks` blocks of three
  affine couplings (first half -> second half, second -> first, odd -> even indices), each with
  scale and translation nets conditioned on the untouched coordinates and the feasibility f; the
  scale is 0.01 + softplus(s). A final sigmoid maps to (0,1)^dim. The s/t nets are highway MLPs
  of width `setter_hidden_size` with `num_layers_per_block` gated blocks. The exact log density
  of each goal comes with it (change of variables).
- sample_task: f ~ U(1e-8, 1), goal = setter(z, f); the proposal carries f back to `update`.
- Judge: an MLP [64, 64, 64] (ReLU) giving the logit of success for a goal.
- Every `update_frequency` episodes, on the goals played since the last update (then
  forgotten): `train_steps` Adam steps (lr 3e-4) of the judge on sigmoid cross-entropy with
  the success flags, then `train_steps` Adam steps of the setter on the sum of
    validity     -mean log p(g + noise | f) over the successful goals g with their f,
    feasibility  mean (judge_logit(setter(z, f)) - logit(f))^2 over fresh z, f,
    coverage     mean log p(setter(z, f) | f) over the same fresh samples (entropy bonus).
  Only the setter's weights move in its step.

Deliberate differences from the original code:

- The judge has the three hidden layers it declares: the original built `MLP(sizes[1:])`, which
  dropped the first one.
- Feasibility and coverage use fresh samples z ~ N(0, I), f ~ U(1e-8, 1) as in the paper; the
  original pushed the buffered goals back through the flow and reused those latents and
  feasibilities, so coverage only measured the density of old goals.
- No successful goal in a window: the validity term is left out. The original took the mean of
  an empty set, a NaN that turns the setter's weights into NaN.
- The validity noise is centred, U(-ub/2, ub/2), the published width without the upward drift of
  U(0, ub).
- Each goal's f travels on its proposal (`SetterSolverProposal.f`) and comes back with that
  episode's outcome. The original compared the episode's task with the last sampled goal only and
  raised "Wrong goal" whenever episodes overlap, as they do with several sub-envs; two equal goals
  with different f finishing in any order each keep their own f here.
- The softplus is torch's (the original used an arctan-based softplus with the same limits), and
  the last layer of each s/t net starts at zero (the original's optional GLOW-style init), so the
  untrained flow is a fixed affine map of z.
- `train_steps` defaults to the published single step per update. That is very little training
  (a 20M-step run makes a few hundred steps in all); raise it for a setter that learns.
- Randomness comes from the teacher's generator (numpy for z, f and the noise; a torch generator
  derived from it only for the initial weights); the original seeded the global TF state, and its
  plotting sampler advanced the teacher's own generator.

Cost (defaults, 1 torch thread, measured on a shared 2-core box under load): a sample is one
pass through the flow, ~1.2 ms (dim 2 or 8); a training (one judge and one setter step on 50
goals) ~36 ms every 50 episodes; each extra `train_steps` adds about as much. The setter has
~0.45 M weights at width 64.
"""
from __future__ import annotations

import copy
import dataclasses
import math
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from slm_acl.curriculum.expert_knowledge import gives, levels, refuses
from slm_acl.curriculum.teachers.base import Proposal, Teacher, TeacherContext
from slm_acl.curriculum.teachers.registry import TEACHERS
from slm_acl.lib.config import param
from slm_acl.lib.seeding import rng_state, set_rng_state

MIN_SCALE = 1e-2  # the couplings' smallest scale (keeps the inverse finite)
F_LOW = 1e-8  # feasibilities are drawn from U(F_LOW, 1)
GOAL_CLIP = 1e-4  # successful goals are clipped to [GOAL_CLIP, 1 - GOAL_CLIP] before the inverse sigmoid
LOG_2PI = math.log(2.0 * math.pi)


@dataclasses.dataclass(frozen=True)
class SetterSolverConfig:
    update_frequency: int = param(50, ge=1, doc="episodes between two trainings of judge and setter; benchmark 50")
    setter_loss_noise_ub: float = param(0.1, ge=0, doc="width of the noise added to successful goals in the "
                                        "validity loss; benchmark 0.1")
    setter_hidden_size: int = param(64, ge=1, doc="width of the setter's scale/translation nets; benchmark 64")
    judge_layers: tuple[int, ...] = param((64, 64, 64), doc="judge hidden sizes")
    num_blocks: int = param(3, ge=1, doc="flow blocks of three couplings each")
    num_layers_per_block: int = param(3, ge=1, doc="highway layers in each scale/translation net")
    learning_rate: float = param(3e-4, gt=0, doc="Adam step size of judge and setter")
    train_steps: int = param(1, ge=1, doc="Adam steps of judge and of setter per training (published: 1)")


@dataclasses.dataclass(eq=False)
class SetterSolverProposal(Proposal):
    """A goal (`task`) and the feasibility f the setter was asked for when it made it."""

    f: float


def _linear(n_in: int, n_out: int, gen: torch.Generator, zero: bool = False) -> nn.Linear:
    """A linear layer built without torch's global generator: Xavier-uniform from `gen` (or zeros)."""
    layer = nn.Linear(n_in, n_out, device="meta").to_empty(device="cpu")
    with torch.no_grad():
        if zero:
            layer.weight.zero_()
        else:
            bound = math.sqrt(6.0 / (n_in + n_out))
            layer.weight.copy_(torch.rand(n_out, n_in, generator=gen) * (2 * bound) - bound)
        layer.bias.zero_()
    return layer


class Highway(nn.Module):
    """tanh(Linear) then gated blocks y <- y + (tanh(a) - y) * sigmoid(g), then a linear output."""

    def __init__(self, n_in: int, n_out: int, hidden: int, num_blocks: int, gen: torch.Generator):
        super().__init__()
        self.inp = _linear(n_in, hidden, gen)
        self.blocks = nn.ModuleList(_linear(hidden, 2 * hidden, gen) for _ in range(num_blocks))
        self.out = _linear(hidden, n_out, gen, zero=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.tanh(self.inp(x))
        for block in self.blocks:
            a, g = block(y).chunk(2, dim=-1)
            y = y + (torch.tanh(a) - y) * torch.sigmoid(g)
        return self.out(y)


class ConditionalRealNVP(nn.Module):
    """The setter: an invertible map R^dim -> (0,1)^dim conditioned on a feasibility in (0,1)."""

    def __init__(self, dim: int, num_blocks: int, hidden: int, num_layers: int, gen: torch.Generator):
        super().__init__()
        self.dim = dim
        half = dim // 2
        idx = list(range(dim))
        patterns = [(idx[:half], idx[half:]), (idx[half:], idx[:half]), (idx[1::2], idx[::2])]
        self.couplings: list[tuple[torch.Tensor, torch.Tensor]] = []
        self.s_nets, self.t_nets = nn.ModuleList(), nn.ModuleList()
        for _ in range(num_blocks):
            for cond, moved in patterns:
                if not moved:
                    continue
                self.couplings.append((torch.tensor(cond, dtype=torch.long), torch.tensor(moved, dtype=torch.long)))
                self.s_nets.append(Highway(len(cond) + 1, len(moved), hidden, num_layers, gen))
                self.t_nets.append(Highway(len(cond) + 1, len(moved), hidden, num_layers, gen))

    def _st(self, k: int, z: torch.Tensor, f: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        inp = torch.cat([z[:, self.couplings[k][0]], f], dim=1)
        return MIN_SCALE + F.softplus(self.s_nets[k](inp)), self.t_nets[k](inp)

    def forward(self, z: torch.Tensor, f: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Latents (n, dim) and feasibilities (n, 1) -> goals in (0,1)^dim and their log densities."""
        log_p = -0.5 * (z ** 2).sum(dim=1) - 0.5 * self.dim * LOG_2PI
        for k, (_, moved) in enumerate(self.couplings):
            scale, shift = self._st(k, z, f)
            z = z.index_copy(1, moved, z[:, moved] * scale + shift)
            log_p = log_p - torch.log(scale).sum(dim=1)
        log_p = log_p - (F.logsigmoid(z) + F.logsigmoid(-z)).sum(dim=1)
        return torch.sigmoid(z), log_p

    def log_prob(self, x: torch.Tensor, f: torch.Tensor) -> torch.Tensor:
        """Log density of goals x in (0,1)^dim given their feasibilities (the inverse pass)."""
        z = torch.log(x) - torch.log1p(-x)
        log_p = -(F.logsigmoid(z) + F.logsigmoid(-z)).sum(dim=1)
        for k in reversed(range(len(self.couplings))):
            moved = self.couplings[k][1]
            scale, shift = self._st(k, z, f)
            z = z.index_copy(1, moved, (z[:, moved] - shift) / scale)
            log_p = log_p - torch.log(scale).sum(dim=1)
        return log_p - 0.5 * (z ** 2).sum(dim=1) - 0.5 * self.dim * LOG_2PI


@TEACHERS.register("Setter-Solver")
class SetterSolverTeacher(Teacher):
    """Goals from a feasibility-conditioned flow, trained against a success judge (see the module docstring)."""

    Config = SetterSolverConfig
    proposal_type = SetterSolverProposal
    needs_success_return = True
    # TeachMyAgent raises at "no" (no success definition); "low" and "high" give it its success only
    expert_knowledge = levels(
        no=refuses("Setter-Solver needs a success definition (TeachMyAgent raises 'Unable to run Setter-Solver "
                   "without any expert knowledge')"),
        low=gives(), high=gives())

    def __init__(self, config: SetterSolverConfig, context: TeacherContext):
        super().__init__(config, context)
        d = self.dim
        gen = torch.Generator().manual_seed(int(self.rng.integers(2**63)))
        self.setter = ConditionalRealNVP(d, config.num_blocks, config.setter_hidden_size,
                                         config.num_layers_per_block, gen)
        sizes = [d, *config.judge_layers, 1]
        layers: list[nn.Module] = []
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(_linear(n_in, n_out, gen))
            if i < len(sizes) - 2:
                layers.append(nn.ReLU())
        self.judge = nn.Sequential(*layers)
        self.setter_opt = torch.optim.Adam(self.setter.parameters(), lr=config.learning_rate)
        self.judge_opt = torch.optim.Adam(self.judge.parameters(), lr=config.learning_rate)
        self._window: list[tuple[np.ndarray, float, bool]] = []  # (goal, f, success) since the last training
        self.episodes = 0
        self.trainings = 0
        # losses of the last training; None until then (validity stays None while no goal succeeded)
        self._last: dict[str, float | None] = dict.fromkeys(("judge_loss", "setter_loss", "validity_loss",
                                                             "feasibility_loss", "coverage_loss"))

    # -- sampling ------------------------------------------------------------------------------

    def _propose(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        f = rng.uniform(F_LOW, 1.0, (n, 1))
        z = rng.standard_normal((n, self.dim))
        with torch.no_grad():
            goals, _ = self.setter(torch.as_tensor(z, dtype=torch.float32), torch.as_tensor(f, dtype=torch.float32))
        return np.clip(goals.double().numpy(), 0.0, 1.0), f[:, 0]

    def sample_task(self) -> SetterSolverProposal:
        goals, f = self._propose(self.rng, 1)
        return SetterSolverProposal(goals[0], f=float(f[0]))

    def non_exploratory_sample(self, rng: np.random.Generator) -> np.ndarray:
        """A setter goal for a uniform feasibility, drawn with the caller's generator."""
        return self._propose(rng, 1)[0][0]

    def judge_probability(self, tasks: np.ndarray) -> np.ndarray:
        """The judge's predicted success probability for tasks (n, dim) in [0,1]^dim."""
        with torch.no_grad():
            return torch.sigmoid(self.judge(torch.as_tensor(np.asarray(tasks), dtype=torch.float32))[:, 0]).numpy()

    # -- feedback ------------------------------------------------------------------------------

    def update(self, proposal: Proposal, episodic_return: float, success: bool) -> None:
        proposal = self.own_proposal(proposal)
        self._window.append((np.clip(proposal.task, 0.0, 1.0), float(proposal.f), bool(success)))
        self.episodes += 1
        if self.episodes % self.config.update_frequency == 0:
            window, self._window = self._window, []
            self._train(window)

    def _train(self, window: list[tuple[np.ndarray, float, bool]]) -> None:
        cfg = self.config
        goals = torch.as_tensor(np.stack([g for g, _, _ in window]), dtype=torch.float32)
        fs = np.array([f for _, f, _ in window])
        success = np.array([s for _, _, s in window])
        labels = torch.as_tensor(success, dtype=torch.float32)
        for _ in range(cfg.train_steps):
            judge_loss = F.binary_cross_entropy_with_logits(self.judge(goals)[:, 0], labels)
            self.judge_opt.zero_grad()
            judge_loss.backward()
            self.judge_opt.step()
        valid = success
        n = len(window)
        params = list(self.setter.parameters())
        parts: dict[str, float | None] = {}
        for _ in range(cfg.train_steps):
            if valid.any():
                noise = self.rng.uniform(-cfg.setter_loss_noise_ub / 2, cfg.setter_loss_noise_ub / 2,
                                         (int(valid.sum()), self.dim))
                xs = np.clip(goals.numpy()[valid] + noise, GOAL_CLIP, 1.0 - GOAL_CLIP)
                validity = -self.setter.log_prob(torch.as_tensor(xs, dtype=torch.float32),
                                                 torch.as_tensor(fs[valid, None], dtype=torch.float32)).mean()
            else:
                validity = torch.zeros(())  # no successful goal: no validity term (the original got NaN)
            f_new = self.rng.uniform(F_LOW, 1.0, (n, 1))
            z = torch.as_tensor(self.rng.standard_normal((n, self.dim)), dtype=torch.float32)
            f_t = torch.as_tensor(f_new, dtype=torch.float32)
            x, log_p = self.setter(z, f_t)
            feasibility = torch.mean((self.judge(x) - torch.log(f_t / (1.0 - f_t))) ** 2)
            coverage = log_p.mean()
            loss = validity + feasibility + coverage
            if not torch.isfinite(loss):
                continue  # never let one bad batch poison the weights
            grads = torch.autograd.grad(loss, params)
            for p, g in zip(params, grads):
                p.grad = g
            self.setter_opt.step()
            parts = {"setter_loss": float(loss.detach()),
                     "validity_loss": float(validity.detach()) if valid.any() else None,
                     "feasibility_loss": float(feasibility.detach()), "coverage_loss": float(coverage.detach())}
        self._last.update(judge_loss=float(judge_loss.detach()), **parts)
        self.trainings += 1

    # -- reporting and state -------------------------------------------------------------------

    def info(self) -> dict[str, Any]:
        return {"trainings": self.trainings, "episodes": self.episodes, "window": len(self._window),
                **self._last}

    def state_dict(self) -> dict[str, Any]:
        return {"rng": rng_state(self.rng),
                "setter": {k: v.detach().clone() for k, v in self.setter.state_dict().items()},
                "judge": {k: v.detach().clone() for k, v in self.judge.state_dict().items()},
                "setter_opt": copy.deepcopy(self.setter_opt.state_dict()),
                "judge_opt": copy.deepcopy(self.judge_opt.state_dict()),
                "window": [(g.copy(), f, s) for g, f, s in self._window],
                "episodes": self.episodes, "trainings": self.trainings, "last": dict(self._last)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        set_rng_state(self.rng, state["rng"])
        self.setter.load_state_dict(state["setter"])
        self.judge.load_state_dict(state["judge"])
        self.setter_opt.load_state_dict(copy.deepcopy(state["setter_opt"]))
        self.judge_opt.load_state_dict(copy.deepcopy(state["judge_opt"]))
        self._window = [(np.array(g), float(f), bool(s)) for g, f, s in state["window"]]
        self.episodes, self.trainings = int(state["episodes"]), int(state["trainings"])
        self._last = dict(state["last"])
