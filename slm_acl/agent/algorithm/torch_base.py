"""Common ground of the lab's PyTorch students: device, random streams, parameters, checkpoints."""
from __future__ import annotations

from typing import Any, Iterable, Sequence

import gymnasium as gym
import numpy as np
import torch
import torch.nn as nn

from slm_acl.agent.algorithm.base import Algorithm, BodyInterface
from slm_acl.agent.fast import selector
from slm_acl.agent.fast.selector import PathChoice
from slm_acl.agent.net.base import resolve_device
from slm_acl.lib.config import Choice
from slm_acl.lib.seeding import SeedTree, rng_state, set_rng_state


class TorchAlgorithm(Algorithm):
    """Owns `self.nets` (an nn.ModuleDict), a torch generator for sampling and a numpy generator.

    Subclasses build every trainable module in `_build_nets` (called once in their constructor, and again
    by `reset_student` for fresh initial weights), list their extra state in `_extra_state` /
    `_load_extra_state`, and return what else a fresh student lacks in `_reset_student_extra`.
    """

    resets_student = True
    optimizer: torch.optim.Optimizer  # made by the subclass over the parameters of `self.nets`

    def __init__(self, config: Any, bodies: Sequence[BodyInterface], seeds: SeedTree,
                 net: Choice | None = None, memory: Choice | None = None, device: str = "cpu"):
        super().__init__(config, bodies, seeds, net, memory, device)
        for b in self.bodies:
            problem = self.spaces_problem(b.observation_space, b.action_space)
            if problem:
                raise ValueError(f"body {b.label}: {problem}")
        self.net_builder = net.build()
        self.torch_device = resolve_device(self.net_builder.config.gpu)
        self.obs_dims = [int(np.prod(b.observation_space.shape)) for b in self.bodies]
        self.act_dims = [int(np.prod(b.action_space.shape)) for b in self.bodies]
        self.generator = torch.Generator(self.torch_device)
        self.generator.manual_seed(seeds.integer("torch_sampling"))
        self.rng = seeds.generator("numpy_sampling")
        self.frames = [0] * len(self.bodies)  # per body, since the start (learning-rate schedules read these)
        self.student_frames = [0] * len(self.bodies)  # per body, since the last student reset (warm-ups read these)
        self.nets = nn.ModuleDict()
        self._paths: dict[str, PathChoice] = {}

    @classmethod
    def spaces_problem(cls, observation_space: gym.Space, action_space: gym.Space) -> str | None:
        """The lab's students act in continuous spaces: Box observations and bounded Box actions."""
        if not isinstance(observation_space, gym.spaces.Box):
            return (f"observation space {observation_space} is not a Box; {cls.__name__} needs vector "
                    "observations")
        if not isinstance(action_space, gym.spaces.Box):
            return f"action space {action_space} is not a Box; {cls.__name__} here is for continuous actions"
        if not (np.isfinite(action_space.low).all() and np.isfinite(action_space.high).all()):
            return f"action bounds must be finite, got {action_space}"
        return None

    # ---- helpers ---------------------------------------------------------------------------
    def to_tensor(self, array: np.ndarray) -> torch.Tensor:
        tensor = torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32))
        return tensor.to(self.torch_device, non_blocking=True) if self.torch_device.type != "cpu" else tensor

    def choose_path(self, part: str) -> PathChoice:
        """The implementation of `part` (acting, gradients) for this agent's settings and device."""
        choice = selector.choose(type(self).__name__, part, self.config, self.net_choice.name,
                                 self.net_builder.config, self.torch_device.type, self.bodies)
        self._paths[part] = choice
        return choice

    def fast_path_info(self) -> dict[str, str]:
        return {part: str(choice) for part, choice in self._paths.items()}

    def progress(self) -> float:
        """Fraction of the agent's frame budget used (mean over its bodies)."""
        return float(np.mean([f / b.max_frame for f, b in zip(self.frames, self.bodies)]))

    def build_net(self, in_dims: Sequence[int], out_dims: Sequence[int], copies: int = 1,
                  last_gain: float = 1.0) -> nn.Module:
        module = self.net_builder.build(in_dims, out_dims, copies=copies, last_gain=last_gain)
        return module.to(self.torch_device)

    # ---- a student that forgets --------------------------------------------------------------
    def _build_nets(self) -> dict[str, nn.Module]:
        """Every trainable module of the algorithm, freshly initialised from torch's generator."""
        raise NotImplementedError

    def count_frames(self, body: int, n: int) -> None:
        """Count `n` frames a body's update stored, since the start and since the last reset."""
        self.frames[body] += n
        self.student_frames[body] += n

    def reset_student(self, reset_index: int) -> None:
        """See `Algorithm.reset_student`. The fresh weights are built under a fork of torch's CPU generator seeded
        from the agent's seed tree ("student_reset{k}"), so the global stream the session checkpoints is left as it
        was, and copied into the existing parameters: the optimiser, the fast paths' weight views and the compiled
        loss keep pointing at the same tensors. The optimiser's state (Adam's moments and step counts) is dropped
        and every group's rate set back to its initial value (a linear schedule then sets it from `frames` as
        before: the schedule follows the run's budget, not the student's age)."""
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seeds.integer(f"student_reset{reset_index}"))
            fresh = nn.ModuleDict(self._build_nets())
        with torch.no_grad():
            self.nets.load_state_dict(fresh.state_dict())
        self.optimizer.state.clear()
        for group in self.optimizer.param_groups:
            group["lr"] = group["initial_lr"]
        self.student_frames = [0] * len(self.bodies)
        self._reset_student_extra()

    def _reset_student_extra(self) -> None:
        """Return the algorithm's own learnt or counted state (memories, normalisers, counters) to a fresh one."""

    # ---- Algorithm interface -----------------------------------------------------------------
    def parameters(self) -> Iterable[Any]:
        return self.nets.parameters()

    def named_parameters(self) -> Iterable[tuple[str, Any]]:
        return self.nets.named_parameters()

    def state_dict(self) -> dict[str, Any]:
        return {"nets": self.nets.state_dict(), "generator": self.generator.get_state(),
                "rng": rng_state(self.rng), "frames": list(self.frames), "student_frames": list(self.student_frames),
                "opt_steps": self.opt_steps, **self._extra_state()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.nets.load_state_dict(state["nets"])
        self.generator.set_state(state["generator"])
        set_rng_state(self.rng, state["rng"])
        self.frames = list(state["frames"])
        # a checkpoint written before students could reset has none: its student is as old as the run
        self.student_frames = list(state.get("student_frames", self.frames))
        self.opt_steps = int(state["opt_steps"])
        self._load_extra_state(state)

    def load_policy_state(self, state: dict[str, Any]) -> None:
        self.nets.load_state_dict(state["nets"])
        self._load_policy_extra_state(state)

    def _load_policy_extra_state(self, state: dict[str, Any]) -> None:
        """Acting state beyond the nets (PPO: observation normalisers)."""

    def _extra_state(self) -> dict[str, Any]:
        return {}

    def _load_extra_state(self, state: dict[str, Any]) -> None:
        pass


def grad_norm_clip(params: list[nn.Parameter], max_norm: float | None) -> None:
    if max_norm is not None:
        torch.nn.utils.clip_grad_norm_(params, max_norm, foreach=True)
