"""Does torch.compile (or torch.func) make the reference (autograd) update as fast as the hand-written one?

On this CPU, one thread, the students' common shapes (BipedalWalker-v3 spaces: 24 observations,
4 actions):
- SAC, [400, 300] ReLU, batch 256: one gradient step (critic, actor and temperature losses, one
  optimiser step), as the lab's SAC takes it;
- PPO, [64, 64] tanh, separate actor and critic as one 2-copy ensemble, minibatch 64: one
  minibatch step.

Each update is timed as
- `eager`: the reference loss, `loss.backward()`, `optimizer.step()`;
- `compile`: the same with the loss function under `torch.compile` (AOTAutograd compiles its
  backward too);
- `compile_whole`: the whole step (loss, backward, optimiser) under `torch.compile` with compiled
  autograd;
- `func`: `torch.compile(torch.func.grad_and_value(loss over a parameter dict))`;
- `manual`: the lab's hand-written gradients (agent/fast/sac.py), then the same optimiser step.
Compile time is reported apart. Repeats are interleaved and the best mean is kept.

PPO had hand-written gradients too until this bench showed its loss compiled at 0.65x their time
(1.08 against 1.66 ms, eager 1.62 ms, in the run that decided it); they were deleted and PPO's fast
path is now its compiled loss, so PPO's table compares against eager. SAC's compiled loss took
1.30x the hand-written step's time, so SAC keeps its hand-written gradients.

    .venv/bin/python bench/compile_vs_manual.py [--steps 200] [--repeats 3] [--only sac|ppo|ppo_hydra]
"""
from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any, Callable  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(1)
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from slm_acl.aeb.space import AEBSpace  # noqa: E402
from slm_acl.lib.seeding import SeedTree, seed_torch  # noqa: E402
from slm_acl.spec import validate  # noqa: E402

ENV_ID = "BipedalWalker-v3"


def build(algorithm: dict, net: dict, memory: dict, warmup: int):
    seed_torch(0)
    raw = {"name": "bench", "agent": [{"algorithm": algorithm, "net": net, "memory": memory}],
           "env": [{"name": ENV_ID, "num_envs": 1, "max_frame": 10**9}]}
    space = AEBSpace.build(validate(raw), SeedTree(0))
    space.reset()
    for _ in range(warmup):
        space.step()
    return space


def time_step(step: Callable[[], None], steps: int) -> float:
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return (time.perf_counter() - start) / steps


def compiled_or_reason(make: Callable[[], Callable[[], None]]) -> tuple[Callable[[], None] | None, float, str]:
    """(step, compile seconds, '') or (None, 0, why it failed)."""
    try:
        step = make()
        start = time.perf_counter()
        for _ in range(3):  # the first calls compile (and may recompile once)
            step()
        return step, time.perf_counter() - start, ""
    except Exception as err:  # noqa: BLE001 - a variant that does not compile is a result too
        return None, 0.0, f"{type(err).__name__}: {str(err).splitlines()[0][:160]}"


# ---- SAC -----------------------------------------------------------------------------------------
def sac_variants() -> dict[str, Callable[[], Callable[[], None]]]:
    from slm_acl.agent.fast import sac as fast_sac

    space = build({"name": "SAC", "batch_size": 256, "start_steps": 1000, "learning_starts": 1000},
                  {"type": "MLPNet", "hid_layers": [400, 300], "hid_layers_activation": "relu", "init_fn": "default"},
                  {"name": "Replay", "capacity": 100_000}, warmup=1100)
    algo = space.agents[0].algorithm
    batch = algo._sample_batch([0])
    keys = ("obs", "action", "reward", "next_obs", "terminated")
    args = [batch[k][0] for k in keys]
    noise_next, noise_pi = torch.randn(256, algo.act_dims[0]), torch.randn(256, algo.act_dims[0])

    def loss_fn(obs, act, rew, nxt, term, noise_next, noise_pi):
        data = dict(zip(keys, ([obs], [act], [rew], [nxt], [term])))
        return algo.loss([0], data, noises={"next": [noise_next], "policy": [noise_pi]})["total"]

    return _variants(algo, loss_fn, [*args, noise_next, noise_pi], lambda: fast_sac.set_gradients(algo, [0], batch))


# ---- PPO -----------------------------------------------------------------------------------------
def ppo_variants() -> dict[str, Callable[[], Callable[[], None]]]:
    space = build({"name": "PPO", "time_horizon": 256, "minibatch_size": 64},
                  {"type": "MLPNet", "hid_layers": [64, 64], "hid_layers_activation": "tanh"},
                  {"name": "OnPolicyBatch"}, warmup=0)
    algo = space.agents[0].algorithm
    g = torch.Generator().manual_seed(0)
    keys = ("obs", "action", "logprob", "value", "advantage", "returns")
    shapes = {"obs": (64, algo.obs_dims[0]), "action": (64, algo.act_dims[0])}
    args = [torch.randn(shapes.get(k, (64,)), generator=g) for k in keys]  # the timing does not depend on the data

    def loss_fn(*tensors):
        return algo.loss({0: dict(zip(keys, tensors))})["loss"]

    return _variants(algo, loss_fn, args)


def ppo_hydra_variants() -> dict[str, Callable[[], Callable[[], None]]]:
    """The flagship agent of spec/multi_body.json: a Hydra net over three embodiments, minibatch 512 each."""
    import json

    raw = json.loads((Path(__file__).resolve().parents[1] / "spec" / "multi_body.json").read_text())["multi_body"]
    seed_torch(0)
    space = AEBSpace.build(validate({"name": "multi_body", **raw}), SeedTree(0))
    algo = space.agents[0].algorithm
    g = torch.Generator().manual_seed(0)
    keys = ("obs", "action", "logprob", "value", "advantage", "returns")
    mb = {}
    for b in range(len(algo.bodies)):
        shapes = {"obs": (512, algo.obs_dims[b]), "action": (512, algo.act_dims[b])}
        mb[b] = {k: torch.randn(shapes.get(k, (512,)), generator=g) for k in keys}
    flat = [mb[b][k] for b in mb for k in keys]

    def loss_fn(*tensors):
        it = iter(tensors)
        return algo.loss({b: {k: next(it) for k in keys} for b in mb})["loss"]

    return _variants(algo, loss_fn, flat)


def _variants(algo, loss_fn: Callable, args: list, hand_written: Callable[[], Any] | None = None) -> dict[str, Callable]:
    """The ways of taking one update step of `algo` (see the module docstring); `manual` only where
    the lab has hand-written gradients."""

    def eager():
        def step():
            algo.optimizer.zero_grad(set_to_none=True)
            loss_fn(*args).backward()
            algo.optimizer.step()
        return step

    def compiled():
        fn = torch.compile(loss_fn)

        def step():
            algo.optimizer.zero_grad(set_to_none=True)
            fn(*args).backward()
            algo.optimizer.step()
        return step

    def compiled_whole():
        torch._dynamo.config.compiled_autograd = True

        @torch.compile
        def whole(*a):
            algo.optimizer.zero_grad(set_to_none=True)
            loss_fn(*a).backward()
            algo.optimizer.step()

        return lambda: whole(*args)

    def func():
        params = dict(algo.nets.named_parameters())

        def call(p, *a):
            with torch.nn.utils.stateless._reparametrize_module(algo.nets, p):
                return loss_fn(*a)

        grad_fn = torch.compile(torch.func.grad(call))

        def step():
            grads = grad_fn(params, *args)
            for name, tensor in params.items():
                tensor.grad = grads[name]
            algo.optimizer.step()
        return step

    def manual():
        def step():
            algo.optimizer.zero_grad(set_to_none=True)
            hand_written()
            algo.optimizer.step()
        return step

    variants = {"eager": eager, "compile": compiled, "compile_whole": compiled_whole, "func": func}
    return variants if hand_written is None else {**variants, "manual": manual}


def measure(name: str, variants: dict, steps: int, repeats: int) -> None:
    steps_fns, notes = {}, {}
    for key, make in variants.items():
        torch._dynamo.reset()
        torch._dynamo.config.compiled_autograd = False
        fn, compile_s, why = compiled_or_reason(make)
        if fn is None:
            notes[key] = f"failed: {why}"
            continue
        steps_fns[key] = fn
        notes[key] = f"first 3 calls {compile_s:.1f} s" if key not in ("eager", "manual") else ""
    best = {k: float("inf") for k in steps_fns}
    for _ in range(repeats):
        for key, fn in steps_fns.items():
            if key == "compile_whole":
                torch._dynamo.config.compiled_autograd = True
            best[key] = min(best[key], time_step(fn, steps))
            torch._dynamo.config.compiled_autograd = False
    base = "manual" if "manual" in best else "eager"
    base_ms = 1e3 * best.get(base, float("nan"))
    print(f"\n## {name}\n| variant | ms per update | vs {base} | note |\n|---|---|---|---|")
    for key in variants:
        if key in best:
            ms = 1e3 * best[key]
            print(f"| {key} | {ms:.3f} | {ms / base_ms:.2f}x | {notes[key]} |")
        else:
            print(f"| {key} | - | - | {notes[key]} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", choices=["sac", "ppo", "ppo_hydra"], action="append")
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread, numpy {np.__version__}")
    cases = {"sac": ("SAC [400, 300] relu, batch 256", sac_variants),
             "ppo": ("PPO [64, 64] tanh twin, minibatch 64", ppo_variants),
             "ppo_hydra": ("PPO HydraMLPNet of spec/multi_body.json, 3 bodies x minibatch 512", ppo_hydra_variants)}
    for key in args.only or list(cases):
        title, make = cases[key]
        measure(title, make(), args.steps * 5 if key == "ppo" else args.steps, args.repeats)


if __name__ == "__main__":
    main()
