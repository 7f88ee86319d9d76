"""SPDL: Self-Paced Deep RL (Klink et al., NeurIPS 2020), as benchmarked in TeachMyAgent.

A Gaussian context distribution pi over tasks starts at the expert's easy `initial_dist` and is
pulled towards the `target_dist` the student should eventually master. Every few episodes it
solves (REFERENCE.md 1.9)

    max_pi   mean_i [pi(c_i) / pi_old(c_i)] * V(s0_i)  -  alpha * KL(pi || target)
    s.t.     KL(pi_old || pi) <= max_kl

over the contexts c_i played since the last update, where V(s0_i) is the student's value of the
episode's initial state. alpha follows `PercentageAlphaFunction`: 0 for the first `alpha_offset`
updates, then min(zeta * max(perf, 0) / max(KL(pi || target), 1e-10), 1e5), so the target term
is worth a fraction zeta of the current performance. Reference: REFERENCE.md 1.3, 1.9; source
`TeachMyAgent/teachers/algos/self_paced_teacher.py` (from github.com/psclklnk/spdl).

Everything is in the normalised task space [0,1]^dim. Conversions of published values:

- `max_kl` and the KL terms need none: the KL divergence between Gaussians is invariant under the
  affine map from raw units to the unit cube.
- `initial_dist` / `target_dist` arrive as unit-cube Gaussians from the spec; a raw std s on a
  dim of range r is s / r here. `std_lower_bound` is in unit-cube units (raw bound / range).

The distribution is a full-covariance Gaussian, parameterised as (mean, log of the Cholesky
diagonal, strictly lower Cholesky entries) as in the original.

Deliberate differences from the original code:

- Schedule in episodes. The original counts env steps in its per-step hook (benchmark: first
  update after 200k steps, then every 50k steps); teachers in this lab see episodes, not steps. The
  defaults convert at an assumed 1000 steps per episode (Stump Tracks caps episodes at 2000
  steps; early, falling students end much sooner): offset 200, frequency 50 episodes. Like the
  original, an update happens when the episode count is >= the offset and a multiple of the
  frequency, and the context buffer (last `max_context_buffer_size` episodes) is emptied on read.
- The constrained step uses scipy's SLSQP on the exact objective and KL constraint, with
  autograd gradients (as in the authors' later `self_paced_teacher_v2`), instead of one
  conjugate-gradient natural-gradient step. SLSQP aims at 0.999 max_kl (it meets constraints only
  up to a tolerance), and its answer then goes through the original's safety net: a backtracking
  line search towards the old parameters (up to 10 shrinks: to where the KL meets the bound when
  it is crossed, else halving) that accepts the first point with KL(pi_old || pi) <= max_kl and a
  better objective, else keeps pi_old. The bound is never exceeded (`info()["step_kl"]`).
- Importance weights use the unclipped Gaussian draw. A sample outside the unit cube is clipped
  before it is played; the original then evaluated the density at the clipped point, which biases
  the weights at the borders. Here each proposal carries its raw draw (`SelfPacedProposal.raw`)
  back to `update`, which is exact for the objective E_{c~pi}[V(clip(c))].
- Each episode keeps its own initial state. The original keeps one pending initial state and
  asserts it exists, which breaks with several sub-envs whose episodes overlap; here
  `record_initial_state(proposal, obs)` stores obs on the episode's own proposal and `update`
  reads it from there, so two episodes on equal contexts that finish in any order are each
  valued with their own initial state.
- The performance term uses V - mean(V) (a baseline). Since the importance weights average to 1
  under pi_old, this has the same optimum in expectation; without it, a large common part of V
  turned the step into chasing the noise of mean(pi / pi_old), and the distribution hardly moved.
  alpha still uses the uncentred performance.
- Values are rescaled by max |V| before the optimisation; the objective and alpha scale together,
  so the optimum is unchanged (only the 1e5 clamp on alpha now applies to the rescaled alpha).
  Non-finite values are dropped. This keeps huge or constant returns from overflowing.
- `use_avg_performance` defaults to False. The benchmark sets it, meaning "alpha's performance is
  the mean discounted return". Teachers here receive undiscounted episode returns, whose scale
  (up to episode length x reward) differs from V's (up to reward / (1 - gamma)), so alpha would be
  off by that ratio. The mean V(s0) over the buffer estimates the same quantity as the mean
  discounted return and is on the objective's scale. True uses the mean undiscounted return.
- No value estimate: when the lab gave no value estimator, or some buffered episodes have no
  recorded initial state, the episodes' returns stand in for V(s0) (a Monte-Carlo estimate) for
  that update, so the teacher still works; `info()["value_source"]` says which was used.
- The std floor (`std_lower_bound` while KL(pi || target) > `kl_threshold`) floors the Cholesky
  diagonal, as the original; a log-std below 1e-6 is also refused by the optimiser (numerics).
- Expert knowledge: the original's "high" level checked for "maximal" and so never passed
  initial/target distributions (REFERENCE.md 1.3): at every level its SPDL started from its own
  default, a random sub-space Gaussian (mean uniform over the space, std 10% of each range), and
  aimed at the whole space (centre, std = range / 4). Here `target_dist` is required, and so is
  `initial_dist` unless `initial_dist_fallback` is "random_subspace", which starts from that same
  random sub-space Gaussian (mean uniform in the cube, std 0.1) drawn from the teacher's generator.
  The fallback is a setting, not a silent default, so a spec that forgets initial_dist still fails
  validation; the expert-knowledge levels set it ("no", "low", and "high" on an env with no easy
  distribution), and give the whole-space target and, at "high", the env's easy initial_dist (the
  original's intended reading; slm_acl.spec.expert_knowledge).
- Randomness: samples come from the teacher's generator (no `torch.manual_seed` on the global
  torch state); the plotting sampler uses the caller's generator.

Initial states reach the teacher through `record_initial_state(proposal, obs)`, which the lab
calls right after each sub-env's reset (`CurriculumController.record_initial_state`, from
`Body.reset` and `Body._end_episodes`) with the teacher's own proposal and the first observation.

As in the original, alpha is 0 while the performance is negative (max(perf, 0)), so with
negative values (e.g. Pendulum's returns) the distribution follows V alone and is not pulled
towards the target. With the controller's `reward_bounds`, the returns the teacher sees are
mapped to [0, 1] but V(s0) stays in the student's reward units: one more reason to keep
`use_avg_performance` off.

Cost (defaults, 1 torch thread, measured on a shared 2-core box under load): a sample is a few
microseconds (numpy); an update is one SLSQP solve on d + d(d+1)/2 parameters, ~35 ms in 2-D
(50 or 1000 contexts) and ~0.5 s in 8-D (where SLSQP uses its 100 iterations), once per 50
episodes.
"""
from __future__ import annotations

import dataclasses
import math
from typing import Any, Literal

import numpy as np
import scipy.optimize
import torch

from slm_acl.curriculum.expert_knowledge import Gift, gives, levels
from slm_acl.curriculum.teachers.base import Gaussian, Proposal, Teacher, TeacherContext
from slm_acl.curriculum.teachers.registry import TEACHERS
from slm_acl.lib.config import param
from slm_acl.lib.seeding import rng_state, set_rng_state

MAX_ALPHA = 1e5  # PercentageAlphaFunction's clamp
MIN_LOG_STD = math.log(1e-6)
LINE_SEARCH_STEPS = 10
KL_MARGIN = 0.999  # the search aims at KL_MARGIN * max_kl so rounding never crosses the bound
LOG_2PI = math.log(2.0 * math.pi)
SUBSPACE_STD = 0.1  # std of the random sub-space start (10% of each range), as TeachMyAgent's
MAX_LOG_RATIO = 50.0  # importance log-ratios are clamped here during the search (exp stays finite)


@dataclasses.dataclass(frozen=True)
class SelfPacedConfig:
    update_frequency: int = param(50, ge=1, doc="episodes between context-distribution updates (benchmark: "
                                  "50k env steps, converted at 1000 steps per episode)")
    update_offset: int = param(200, ge=0, doc="episodes before the first update (benchmark: 200k env steps at "
                               "1000 steps per episode)")
    alpha_offset: int = param(10, ge=0, doc="updates during which alpha = 0 (pure performance); benchmark 10")
    zeta: float = param(0.25, ge=0, doc="alpha's share of the performance given to the KL-to-target penalty; "
                        "benchmark 0.25")
    max_kl: float = param(0.1, gt=0, doc="bound on KL(old || new) per update (affine-invariant, so the same "
                          "in raw and unit units); benchmark 0.1")
    use_avg_performance: bool = param(False, doc="alpha's performance is the mean undiscounted return instead "
                                      "of the mean V(s0) (see the module docstring for why False)")
    max_context_buffer_size: int = param(1000, ge=1, doc="most recent episodes kept for an update")
    std_lower_bound: float | None = param(None, gt=0, doc="floor on the Cholesky diagonal (unit-cube std) while "
                                          "KL(pi || target) > kl_threshold; null: none")
    kl_threshold: float | None = param(None, ge=0, doc="KL to target above which std_lower_bound applies")
    initial_dist_fallback: Literal["none", "random_subspace"] = param(
        "none", doc="without curriculum.initial_dist: 'none' refuses (validation asks for it); 'random_subspace' "
                    "starts from a Gaussian with a mean uniform in the task space and a std of 10% of each range "
                    "(TeachMyAgent's default, what its SPDL ran with at every expert-knowledge level)")


@dataclasses.dataclass(eq=False)
class SelfPacedProposal(Proposal):
    """A context for one episode: `task` is the draw clipped into the cube (what is played), `raw` the
    unclipped Gaussian draw (for the importance weights), `obs` the episode's initial observation once
    the lab has recorded it (for V(s0))."""

    raw: np.ndarray
    obs: np.ndarray | None = None


def _pack(mean: np.ndarray, chol: np.ndarray) -> np.ndarray:
    d = mean.shape[0]
    rows, cols = np.tril_indices(d, -1)
    return np.concatenate([mean, np.log(np.diag(chol)), chol[rows, cols]])


def _unpack_np(theta: np.ndarray, d: int) -> tuple[np.ndarray, np.ndarray]:
    chol = np.diag(np.exp(theta[d:2 * d]))
    rows, cols = np.tril_indices(d, -1)
    chol[rows, cols] = theta[2 * d:]
    return theta[:d].copy(), chol


def _chol(theta: torch.Tensor, d: int) -> torch.Tensor:
    chol = torch.diag(torch.exp(theta[d:2 * d]))
    if d > 1:
        rows, cols = torch.tril_indices(d, d, -1)
        chol = chol.index_put((rows, cols), theta[2 * d:])
    return chol


def _log_prob(mean: torch.Tensor, chol: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """log N(x | mean, chol chol^T) for the rows of x."""
    y = torch.linalg.solve_triangular(chol, (x - mean).T, upper=False)
    return -0.5 * (y ** 2).sum(0) - torch.log(torch.diagonal(chol)).sum() - 0.5 * mean.shape[0] * LOG_2PI


def _kl(m0: torch.Tensor, l0: torch.Tensor, m1: torch.Tensor, l1: torch.Tensor) -> torch.Tensor:
    """KL(N(m0, l0 l0^T) || N(m1, l1 l1^T)) in closed form (cheaper than torch.distributions here)."""
    a = torch.linalg.solve_triangular(l1, l0, upper=False)
    b = torch.linalg.solve_triangular(l1, (m1 - m0)[:, None], upper=False)
    return (0.5 * ((a ** 2).sum() + (b ** 2).sum() - m0.shape[0])
            + torch.log(torch.diagonal(l1)).sum() - torch.log(torch.diagonal(l0)).sum())


@TEACHERS.register("Self-Paced")
class SelfPacedTeacher(Teacher):
    """SPDL's Gaussian curriculum from `initial_dist` to `target_dist` (see the module docstring)."""

    Config = SelfPacedConfig
    proposal_type = SelfPacedProposal
    needs_value_estimate = True
    needs_initial_dist = True
    needs_target_dist = True
    # TeachMyAgent's SPDL got no distribution at any level (its "high" checked for "maximal"); the lab gives it
    # what it ran with (the whole-space target, a random sub-space start) and, at "high", the intended initial_dist
    expert_knowledge = levels(
        no=gives(Gift.TARGET_DIST, Gift.RANDOM_INITIAL_DIST),
        low=gives(Gift.TARGET_DIST, Gift.RANDOM_INITIAL_DIST),
        high=gives(Gift.INITIAL_DIST, Gift.TARGET_DIST, Gift.RANDOM_INITIAL_DIST))

    @classmethod
    def needed_keys(cls, config: SelfPacedConfig) -> tuple[str, ...]:
        """target_dist always; initial_dist unless the config falls back to a random sub-space start."""
        return ("target_dist",) if config.initial_dist_fallback == "random_subspace" else ("initial_dist",
                                                                                           "target_dist")

    def __init__(self, config: SelfPacedConfig, context: TeacherContext):
        super().__init__(config, context)
        for key in self.needed_keys(config):
            if getattr(context, key) is None:
                raise ValueError(f"Self-Paced needs curriculum.{key} {{'mean': [...], 'std': [...]}}")
        if (config.std_lower_bound is None) != (config.kl_threshold is None):
            raise ValueError("Self-Paced: set both std_lower_bound and kl_threshold, or neither")
        d = self.dim
        init, target = context.initial_dist, context.target_dist
        if init is None:  # initial_dist_fallback "random_subspace": TeachMyAgent's create_dist_from_bounds(subspace)
            init = Gaussian(self.rng.uniform(0.0, 1.0, d), np.full(d, SUBSPACE_STD))
        init_chol = np.diag(np.maximum(np.asarray(init.std, np.float64), math.exp(MIN_LOG_STD)))
        self.theta = _pack(np.asarray(init.mean, np.float64).copy(), init_chol)
        self._target = (torch.as_tensor(np.asarray(target.mean, np.float64)),
                        torch.diag(torch.as_tensor(np.asarray(target.std, np.float64))))
        self._mean, self._chol = _unpack_np(self.theta, d)
        self.episodes = 0
        self.iteration = 0
        # (raw draw, initial obs or None, return) of the episodes since the last update
        self._buffer: list[tuple[np.ndarray, np.ndarray | None, float]] = []
        self._last: dict[str, Any] = {"alpha": 0.0, "step_kl": 0.0, "value_source": None}

    # -- sampling ------------------------------------------------------------------------------

    def _draw(self, rng: np.random.Generator) -> np.ndarray:
        return self._mean + self._chol @ rng.standard_normal(self.dim)

    def sample_task(self) -> SelfPacedProposal:
        raw = self._draw(self.rng)
        return SelfPacedProposal(np.clip(raw, 0.0, 1.0), raw=raw)

    def non_exploratory_sample(self, rng: np.random.Generator) -> np.ndarray:
        """A draw of the current Gaussian (SPDL has no exploration branch), with the caller's generator."""
        return np.clip(self._draw(rng), 0.0, 1.0)

    # -- feedback ------------------------------------------------------------------------------

    def record_initial_state(self, proposal: Proposal, obs: np.ndarray) -> None:
        """Store the first observation of the episode played on `proposal` on that proposal.

        Called by the lab right after the sub-env's reset. A later call (a resumed run resets its
        sub-envs again) replaces the observation.
        """
        self.own_proposal(proposal).obs = np.array(obs, copy=True)

    def update(self, proposal: Proposal, episodic_return: float, success: bool) -> None:
        proposal = self.own_proposal(proposal)
        self.episodes += 1
        self._buffer.append((proposal.raw, proposal.obs, float(episodic_return)))
        if len(self._buffer) > self.config.max_context_buffer_size:
            del self._buffer[0]
        cfg = self.config
        if self.episodes >= cfg.update_offset and self.episodes % cfg.update_frequency == 0 and self._buffer:
            buffer, self._buffer = self._buffer, []
            self._update_distribution(buffer)

    # -- the SPDL step -------------------------------------------------------------------------

    def _values(self, buffer: list[tuple[np.ndarray, np.ndarray | None, float]]) -> tuple[np.ndarray, str]:
        returns = np.array([r for _, _, r in buffer], np.float64)
        estimator = self.context.value_estimator
        if estimator is None or any(o is None for _, o, _ in buffer):
            return returns, "return"
        obs = np.stack([o for _, o, _ in buffer])
        values = np.asarray(estimator(obs), np.float64).reshape(-1)
        if values.shape[0] != len(buffer):
            raise ValueError(f"value estimator returned {values.shape[0]} values for {len(buffer)} states")
        return values, "value"

    def _update_distribution(self, buffer: list[tuple[np.ndarray, np.ndarray | None, float]]) -> None:
        cfg, d = self.config, self.dim
        self.iteration += 1
        values, source = self._values(buffer)
        returns = np.array([r for _, _, r in buffer], np.float64)
        contexts = np.stack([c for c, _, _ in buffer])
        keep = np.isfinite(values)
        if not keep.any():
            self._last.update(value_source=source, step_kl=0.0)
            return
        values, contexts, returns = values[keep], contexts[keep], returns[keep]
        scale = max(float(np.max(np.abs(values))), 1e-12)
        v_n = values / scale
        with np.errstate(over="ignore", invalid="ignore"):
            perf_n = float(np.mean(np.clip(returns / scale, -1e6, 1e6))) if cfg.use_avg_performance \
                else float(np.mean(v_n))

        theta0 = self.theta.copy()
        old_mean, old_chol = torch.as_tensor(theta0[:d]), _chol(torch.as_tensor(theta0), d)
        c_t = torch.as_tensor(contexts)
        v_t = torch.as_tensor(v_n - np.mean(v_n))  # baseline: same optimum in expectation, less variance
        old_logp = _log_prob(old_mean, old_chol, c_t)
        target_kl0 = self._target_kl(theta0)
        if self.iteration < cfg.alpha_offset:
            alpha = 0.0
        else:
            alpha = min(cfg.zeta * max(perf_n, 0.0) / max(target_kl0, 1e-10), MAX_ALPHA)

        def loss_and_grad(x: np.ndarray) -> tuple[float, np.ndarray]:
            theta = torch.tensor(x, dtype=torch.float64, requires_grad=True)
            mean, chol = theta[:d], _chol(theta, d)
            ratio = torch.exp(torch.clamp(_log_prob(mean, chol, c_t) - old_logp, max=MAX_LOG_RATIO))
            loss = -(torch.mean(ratio * v_t) - alpha * _kl(mean, chol, *self._target))
            (grad,) = torch.autograd.grad(loss, theta)
            return float(loss.detach()), grad.numpy()

        last_kl: dict[str, Any] = {"x": None}  # SLSQP asks for the constraint and its jacobian at one x

        def step_kl_and_grad(x: np.ndarray) -> tuple[float, np.ndarray]:
            if last_kl["x"] is None or not np.array_equal(last_kl["x"], x):
                theta = torch.tensor(x, dtype=torch.float64, requires_grad=True)
                kl = _kl(old_mean, old_chol, theta[:d], _chol(theta, d))
                (grad,) = torch.autograd.grad(kl, theta)
                last_kl.update(x=np.array(x), value=(float(kl.detach()), grad.numpy()))
            return last_kl["value"]

        bounds = [(None, None)] * d + [(MIN_LOG_STD, None)] * d + [(None, None)] * (theta0.size - 2 * d)
        # SLSQP meets constraints only up to its tolerance: aim a hair inside the bound
        constraint = {"type": "ineq", "fun": lambda x: KL_MARGIN * cfg.max_kl - step_kl_and_grad(x)[0],
                      "jac": lambda x: -step_kl_and_grad(x)[1]}
        loss0 = loss_and_grad(theta0)[0]
        try:
            with np.errstate(all="ignore"):
                res = scipy.optimize.minimize(loss_and_grad, theta0, jac=True, method="SLSQP", bounds=bounds,
                                              constraints=[constraint], options={"maxiter": 100, "ftol": 1e-9})
            candidate = res.x
        except (ValueError, FloatingPointError, RuntimeError):
            candidate = theta0
        new = theta0
        if np.all(np.isfinite(candidate)):
            t = 1.0
            for _ in range(LINE_SEARCH_STEPS + 1):
                x = theta0 + t * (candidate - theta0)
                x[d:2 * d] = np.maximum(x[d:2 * d], MIN_LOG_STD)
                kl, loss = step_kl_and_grad(x)[0], loss_and_grad(x)[0]
                if math.isfinite(kl) and math.isfinite(loss) and kl <= cfg.max_kl and loss < loss0:
                    new = x
                    break
                if math.isfinite(kl) and math.isfinite(loss) and kl > cfg.max_kl:
                    t *= math.sqrt(KL_MARGIN * cfg.max_kl / kl)  # KL grows ~quadratically along the segment
                else:
                    t *= 0.5
        if cfg.std_lower_bound is not None and self._target_kl(new) > cfg.kl_threshold:
            new = new.copy()
            new[d:2 * d] = np.maximum(new[d:2 * d], math.log(cfg.std_lower_bound))
        self.theta = np.asarray(new, np.float64).copy()
        self._mean, self._chol = _unpack_np(self.theta, d)
        self._last = {"alpha": float(alpha), "step_kl": float(step_kl_and_grad(self.theta)[0]),
                      "value_source": source, "contexts": int(contexts.shape[0])}

    def _target_kl(self, theta: np.ndarray) -> float:
        theta_t = torch.as_tensor(theta)
        return float(_kl(theta_t[:self.dim], _chol(theta_t, self.dim), *self._target))

    # -- reporting and state -------------------------------------------------------------------

    def info(self) -> dict[str, Any]:
        return {"mean": self._mean.tolist(), "std": np.sqrt(np.diag(self._chol @ self._chol.T)).tolist(),
                "kl_to_target": self._target_kl(self.theta), "iteration": self.iteration,
                "episodes": self.episodes, "buffer": len(self._buffer), **self._last}

    def state_dict(self) -> dict[str, Any]:
        return {"rng": rng_state(self.rng), "theta": self.theta.copy(), "episodes": self.episodes,
                "iteration": self.iteration,
                "buffer": [(c.copy(), None if o is None else o.copy(), r) for c, o, r in self._buffer],
                "last": dict(self._last)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        set_rng_state(self.rng, state["rng"])
        self.theta = np.asarray(state["theta"], np.float64).copy()
        self._mean, self._chol = _unpack_np(self.theta, self.dim)
        self.episodes, self.iteration = int(state["episodes"]), int(state["iteration"])
        self._buffer = [(np.array(c), None if o is None else np.array(o), float(r)) for c, o, r in state["buffer"]]
        self._last = dict(state["last"])
