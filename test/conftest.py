"""Shared fixtures: spec builders, a tmp data dir, and small test algorithms with real weights."""
from __future__ import annotations

import copy
import dataclasses
import os
import sys
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).parent))
ROOT = Path(__file__).resolve().parents[1]

import task_echo_env  # noqa: E402,F401  (registers TaskEcho-v0)

from slm_acl.agent.algorithm.base import Algorithm  # noqa: E402
from slm_acl.agent.registry import ALGORITHMS  # noqa: E402
from slm_acl.lib.config import param  # noqa: E402

ECHO = "task_echo_env:TaskEcho-v0"


def make_raw(**overrides) -> dict:
    """A small valid spec (Random agent on ParamPendulum with a Random teacher), with overrides."""
    raw = {
        "name": "t",
        "agent": [{"name": "rand", "algorithm": {"name": "Random"}}],
        "env": [{"name": "slm_acl/ParamPendulum-v0", "num_envs": 2, "max_frame": 2000, "max_t": 50}],
        "curriculum": {"teacher": {"name": "Random"}, "task_space": {"mass": [0.5, 2.0], "length": [0.5, 1.5]},
                       "success_return": -200, "test_set_size": 4},
        "meta": {"seed": 3, "log_frequency": 500, "eval_frequency": 1000},
    }
    for key, value in overrides.items():
        raw[key] = copy.deepcopy(value)
    return raw


def write_spec(tmp_path: Path, raw: dict) -> Path:
    """Write one spec dict as a spec file of its own."""
    import json

    raw = dict(raw)
    name = raw.pop("name")
    path = tmp_path / "spec.json"
    path.write_text(json.dumps({name: raw}))
    return path


@pytest.fixture
def raw_spec():
    return make_raw


@dataclasses.dataclass(frozen=True)
class LinearConfig:
    lr: float = param(0.01, gt=0, doc="step size")
    nan_after: int | None = param(None, doc="frames after which actions become NaN")
    frozen: bool = param(False, doc="claim to train but never change the weights")


@ALGORITHMS.register("TestLinear")
class TestLinear(Algorithm):
    """A linear policy trained by a toy regression each step: a test double with real weights."""

    Config = LinearConfig
    uses_net = False
    uses_memory = False
    metric_names = ("loss",)
    __test__ = False

    def __init__(self, config, bodies, seeds, net=None, memory=None, device="cpu"):
        import torch

        super().__init__(config, bodies, seeds, net, memory, device)
        body = bodies[0]
        self.weight = torch.nn.Parameter(torch.zeros(body.action_space.shape[0], body.observation_space.shape[0]))
        self.opt = torch.optim.SGD([self.weight], lr=config.lr)
        self.frames = 0

    def act(self, obs, deterministic=False):
        import torch

        out = []
        for o in obs:
            if o is None:
                out.append(None)
                continue
            with torch.no_grad():
                a = (torch.as_tensor(o) @ self.weight.T).numpy()
            if self.config.nan_after is not None and self.frames >= self.config.nan_after:
                a = a * np.nan
            out.append(a)
        return out

    def update(self, transitions):
        import torch

        tr = transitions[0]
        if tr is None:
            self.trained_last_update = False
            return {}
        self.frames += len(tr.reward)
        if not self.config.frozen:
            loss = ((torch.as_tensor(tr.obs) @ self.weight.T).sum() - 1.0) ** 2
            self.opt.zero_grad()
            loss.backward()
            self.opt.step()
        self.trained_last_update = True
        return {"loss": 0.0}

    def named_parameters(self):
        return [("weight", self.weight)]

    def parameters(self):
        return [self.weight]

    def state_dict(self):
        return {"weight": self.weight.detach().clone(), "opt": self.opt.state_dict(), "frames": self.frames}

    def load_state_dict(self, state):
        import torch

        with torch.no_grad():
            self.weight.copy_(state["weight"])
        self.opt.load_state_dict(state["opt"])
        self.frames = state["frames"]


def worker_env() -> dict[str, str]:
    """The environment of a subprocess (a run_lab.py command line) and of its Ray workers: they import the
    test envs (task_echo_env) from the test folder."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT / "test"), str(ROOT), env.get("PYTHONPATH")) if p)
    return env


@pytest.fixture(scope="module")
def local_ray():
    """A local Ray for one test module, its workers started with `worker_env`'s PYTHONPATH."""
    import ray

    saved = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = worker_env()["PYTHONPATH"]  # inherited by the workers ray.init starts
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()
    if saved is None:
        os.environ.pop("PYTHONPATH", None)
    else:
        os.environ["PYTHONPATH"] = saved
