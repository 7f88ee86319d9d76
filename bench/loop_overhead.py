"""How much does the lab's session loop cost on top of a bare Gymnasium loop?

Runs, in one process, with every thread pool pinned to one thread:

1. a bare loop: `gymnasium.make(env, disable_env_checker=True)` (the wrappers the lab's envs get),
   `env.action_space.sample()` actions, reset on terminated/truncated; and for reference the same
   loop with all actions drawn up front in one call, which times the env alone;
2. the lab's `Session.run_session()` with the Random agent, num_envs=1, sync vector env, built
   through the real API (`spec.validate`, `RunPaths.new`, `Session`);
3. the same with num_envs 2 and 4, sync and subprocess vector envs (frames summed over sub-envs).

For the lab two rates are printed: "loop" times `Session._train` minus the time spent in its
evaluations and checkpoints (one final evaluation of `eval_episodes=1` episode, checkpoints every
`log_frequency` frames), i.e. the per-step stepping, bookkeeping and logging; "whole" times the
entire `run_session()` call (building the env/agent, the loop, evaluation, checkpoints, tables,
closing), subtracting nothing. The ratio against the bare loop uses "loop". Each case runs
`--repeats` times, interleaved across cases, and the best rate is kept.

    .venv/bin/python bench/loop_overhead.py [--frames 50000] [--repeats 3]
"""
from __future__ import annotations

import os

# Pin BLAS/OpenMP threads before numpy or torch is imported.
for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS",
             "VECLIB_MAXIMUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import logging  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import gymnasium as gym  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(1)

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from slm_acl.experiment.paths import RunPaths  # noqa: E402
from slm_acl.experiment.session import Session  # noqa: E402
from slm_acl.lib.provenance import git_sha, package_versions  # noqa: E402
from slm_acl.spec import validate  # noqa: E402

ENV_ID = "LunarLanderContinuous-v3"


def bare_loop(frames: int, seed: int = 0, predrawn: bool = False) -> float:
    """Steps/s of a plain Gymnasium loop (env construction not timed).

    `predrawn`: draw every action up front in one call, so the loop times the env alone
    (`Box.sample()` costs about a third of a LunarLander step).
    """
    env = gym.make(ENV_ID, disable_env_checker=True)
    env.action_space.seed(seed)
    env.reset(seed=seed)
    step, reset = env.step, env.reset
    if predrawn:
        space = env.action_space
        rng = np.random.default_rng(seed)
        actions = iter(rng.uniform(space.low, space.high, size=(frames, *space.shape)).astype(space.dtype))
        sample = actions.__next__
    else:
        sample = env.action_space.sample
    start = time.perf_counter()
    for _ in range(frames):
        _, _, terminated, truncated, _ = step(sample())
        if terminated or truncated:
            reset()
    wall = time.perf_counter() - start
    env.close()
    return frames / wall


class TimedSession(Session):
    """A Session that records how long its loop, evaluations and checkpoints take."""

    def _train(self) -> None:
        self.side_time = 0.0
        start = time.perf_counter()
        super()._train()
        self.train_time = time.perf_counter() - start

    def _evaluate(self, i: int) -> None:
        start = time.perf_counter()
        super()._evaluate(i)
        self.side_time += time.perf_counter() - start

    def _checkpoint(self, complete: bool) -> None:
        start = time.perf_counter()
        super()._checkpoint(complete)
        self.side_time += time.perf_counter() - start


def lab_loop(frames: int, num_envs: int, vector: str, data_dir: Path) -> tuple[float, float, float]:
    """(loop steps/s, whole run_session steps/s, seconds of evaluation + checkpoints)."""
    raw = {"name": f"bench_{vector}{num_envs}",
           "agent": [{"algorithm": {"name": "Random"}}],
           "env": [{"name": ENV_ID, "num_envs": num_envs, "max_frame": frames, "vector": vector}],
           "meta": {"seed": 0, "log_frequency": 10_000, "eval_frequency": 10**9, "eval_episodes": 1}}
    run = validate(raw)
    paths = RunPaths.new(data_dir, run.name)
    session = TimedSession(run, paths, 0, 0, "train", progress=False)
    start = time.perf_counter()
    result = session.run_session()
    whole = time.perf_counter() - start
    done = sum(result.frames.values())
    loop = session.train_time - session.side_time
    return done / loop, done / whole, session.side_time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=50_000, help="env steps per case (summed over sub-envs)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per case; the best is kept")
    parser.add_argument("--num-envs", type=int, nargs="+", default=[2, 4], help="num_envs of the vector cases")
    args = parser.parse_args()
    logging.getLogger("slm_acl").setLevel(logging.WARNING)  # keep the table readable

    versions = package_versions()
    print(f"git sha   {git_sha()}")
    print("versions  " + "  ".join(f"{k} {v}" for k, v in versions.items()))
    print(f"machine   {platform.platform()}  cpus {os.cpu_count()}  torch threads {torch.get_num_threads()}")
    print(f"env       {ENV_ID}, {args.frames} frames per case, best of {args.repeats} repeats")
    print("timed     bare: the step loop only (env built before); lab steps/s: Session._train minus its "
          "evaluation (1 episode) and checkpoints; lab whole/s: all of run_session(), nothing subtracted")
    print()

    cases = [("lab", 1, "sync")] + [("lab", n, v) for v in ("sync", "subprocess") for n in args.num_envs]
    bare: list[float] = []
    env_only: list[float] = []
    lab: dict[tuple, list[tuple[float, float, float]]] = {c: [] for c in cases}
    with tempfile.TemporaryDirectory(prefix="slm_acl_bench_") as tmp:
        for r in range(args.repeats):  # interleaved, so slow phases of the machine hit every case
            bare.append(bare_loop(args.frames, seed=r))
            env_only.append(bare_loop(args.frames, seed=r, predrawn=True))
            for case in cases:
                lab[case].append(lab_loop(args.frames, case[1], case[2], Path(tmp)))
            print(f"repeat {r + 1}/{args.repeats}: bare {bare[-1]:,.0f}/s, bare pre-drawn {env_only[-1]:,.0f}/s, "
                  f"lab 1 sync {lab[cases[0]][-1][0]:,.0f}/s", flush=True)
    print()

    best_bare = max(bare)
    header = (f"{'case':<30}{'steps/s':>10}{'us/step':>9}{'x bare':>8}"
              f"{'whole/s':>10}{'x bare':>8}{'eval+ckpt s':>13}")
    print(header)
    print("-" * len(header))

    def row(name: str, rate: float, whole: float | None = None, side: float | None = None) -> None:
        line = f"{name:<30}{rate:>10,.0f}{1e6 / rate:>9.1f}{rate / best_bare:>8.3f}"
        if whole is not None:
            line += f"{whole:>10,.0f}{whole / best_bare:>8.3f}{side:>13.3f}"
        print(line)

    row("bare gymnasium loop", best_bare)
    row("bare, pre-drawn actions", max(env_only))
    for case in cases:
        runs = lab[case]
        row(f"lab Random, {case[1]} x {case[2]}", max(x[0] for x in runs), max(x[1] for x in runs),
            min(x[2] for x in runs))
    lab1 = [x[0] for x in lab[cases[0]]]
    ratio = max(lab1) / best_bare
    print()
    print(f"lab loop (num_envs=1, sync) / bare loop = {ratio:.3f}  (goal >= 0.85: "
          f"{'met' if ratio >= 0.85 else 'NOT met'})")
    print(f"lab loop (num_envs=1, sync) / bare pre-drawn loop = {max(lab1) / max(env_only):.3f}")
    print(f"spread over repeats: bare {min(bare):,.0f}..{max(bare):,.0f}/s, bare pre-drawn "
          f"{min(env_only):,.0f}..{max(env_only):,.0f}/s, lab 1 sync {min(lab1):,.0f}..{max(lab1):,.0f}/s")

if __name__ == "__main__":
    main()
