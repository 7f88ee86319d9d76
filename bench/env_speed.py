"""Simulation speed of Stump Tracks and Parkour against Gymnasium's BipedalWalker-v3, same run.

Simulation is half the cost of every curriculum run, so each env x body family is timed with
uniform random actions (seeded), one env in this process, one thread:

- steps/s: env.step calls per second, resets included where an episode ends (what a training
  loop sees); BipedalWalker-v3 is timed the same way, interleaved with the cases, and every ratio
  is against it;
- step us: the mean cost of one step, resets excluded;
- reset ms: the mean cost of `reset()` (terrain generation, Box2D build, spawn, first step).

Cases are run in rounds (BipedalWalker, then every case, then BipedalWalker again...) and the
median over rounds is reported, so a background load that comes and goes hits all of them alike.
The goals come from the issue: TeachMyAgent's own envs measured 0.85x (Stump Tracks biped),
0.12x (Parkour fish in full water) and 0.13x (Parkour climbing chimpanzee) on this kind of machine.

    .venv/bin/python bench/env_speed.py [--steps 3000] [--resets 50] [--rounds 3] [--only NAME ...]
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import sys
import time
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import gymnasium as gym  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import slm_acl.env  # noqa: E402,F401  (registers the lab's envs)

FLAT = {"stump_height": 0.0, "obstacle_spacing": 6.0}
STUMPS = {"stump_height": 1.5, "obstacle_spacing": 3.0}
PARKOUR_MEDIUM = {"input_vector": [-0.15, 0.8, 0.1], "water_level": 0.0}
FULL_WATER = {"input_vector": [-0.15, 0.8, 0.1], "water_level": 1.0}
CREEPERS = {"input_vector": [-0.15, 0.8, 0.1], "water_level": 0.0, "creepers_width": 0.5,
            "creepers_height": 3.0, "creepers_spacing": 4.0}


@dataclasses.dataclass(frozen=True)
class Case:
    name: str
    env_id: str
    kwargs: dict
    task: dict | None = None
    goal: float | None = None  # steps/s as a multiple of BipedalWalker-v3's
    reset_goal_ms: float | None = None


CASES = [
    Case("BipedalWalker-v3", "BipedalWalker-v3", {}),
    Case("stump_tracks/classic_bipedal", "slm_acl/StumpTracks-v0", {"body": "classic_bipedal"}, STUMPS,
         goal=1.2, reset_goal_ms=2.0),
    Case("stump_tracks/old_classic_bipedal flat", "slm_acl/StumpTracks-v0", {"body": "old_classic_bipedal"}, FLAT),
    Case("stump_tracks/small_bipedal", "slm_acl/StumpTracks-v0", {"body": "small_bipedal"}, STUMPS),
    Case("stump_tracks/big_quadru", "slm_acl/StumpTracks-v0", {"body": "big_quadru"}, STUMPS),
    Case("stump_tracks/spider", "slm_acl/StumpTracks-v0", {"body": "spider"}, STUMPS),
    Case("stump_tracks/millipede", "slm_acl/StumpTracks-v0", {"body": "millipede"}, STUMPS),
    Case("stump_tracks/wheel", "slm_acl/StumpTracks-v0", {"body": "wheel"}, STUMPS),
    Case("stump_tracks/profile_chimpanzee", "slm_acl/StumpTracks-v0", {"body": "profile_chimpanzee"}, STUMPS),
    Case("hexagon_tracks/classic_bipedal", "slm_acl/StumpTracks-v0", {"body": "classic_bipedal"},
         {"poly_shape": [2.0] * 12, "obstacle_spacing": 3.0}),
    Case("parkour/classic_bipedal", "slm_acl/Parkour-v0", {"body": "classic_bipedal"}, PARKOUR_MEDIUM),
    Case("parkour/fish full water", "slm_acl/Parkour-v0", {"body": "fish"}, FULL_WATER, goal=0.5),
    Case("parkour/amphibious_bipedal full water", "slm_acl/Parkour-v0", {"body": "amphibious_bipedal"}, FULL_WATER),
    Case("parkour/climbing_profile_chimpanzee", "slm_acl/Parkour-v0", {"body": "climbing_profile_chimpanzee"},
         PARKOUR_MEDIUM, goal=0.3),
    Case("parkour/climbing_profile_chimpanzee creepers", "slm_acl/Parkour-v0",
         {"body": "climbing_profile_chimpanzee", "movable_creepers": True}, CREEPERS),
]


@dataclasses.dataclass
class Timing:
    steps_per_s: float
    step_us: float
    reset_ms: float


def time_case(case: Case, steps: int, resets: int, seed: int) -> Timing:
    env = gym.make(case.env_id, **case.kwargs).unwrapped  # no wrappers: both sides bare
    options = {"task": case.task} if case.task else None
    rng = np.random.default_rng(seed)
    actions = rng.uniform(-1, 1, (steps, *env.action_space.shape)).astype(np.float32)
    env.reset(seed=seed, options=options)
    for a in actions[:100]:  # warm-up
        if env.step(a)[2]:
            env.reset(options=options)
    env.reset(seed=seed, options=options)

    step_time, n_resets, reset_time, length = 0.0, 0, 0.0, 0
    clock = time.perf_counter
    start = clock()
    for a in actions:
        t0 = clock()
        _, _, terminated, _, _ = env.step(a)
        step_time += clock() - t0
        length += 1
        if terminated or length >= 2000:  # the registered time limit
            t0 = clock()
            env.reset(options=options)
            reset_time += clock() - t0
            n_resets += 1
            length = 0
    total = clock() - start

    t0 = clock()
    for i in range(resets):
        env.reset(seed=seed + i, options=options)
    reset_ms = (clock() - t0) / resets * 1e3
    env.close()
    return Timing(steps / total, step_time / steps * 1e6, reset_ms)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=3000, help="steps per case per round")
    parser.add_argument("--resets", type=int, default=50, help="timed resets per case per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", nargs="*", default=None, help="case names containing any of these")
    args = parser.parse_args()
    cases = [c for c in CASES if c.name == "BipedalWalker-v3"
             or args.only is None or any(s in c.name for s in args.only)]

    results: dict[str, list[Timing]] = {c.name: [] for c in cases}
    for r in range(args.rounds):
        for case in cases:
            results[case.name].append(time_case(case, args.steps, args.resets, seed=r))
        print(f"round {r + 1}/{args.rounds} done", file=sys.stderr, flush=True)

    def median(name: str, field: str) -> float:
        return statistics.median(getattr(t, field) for t in results[name])

    base = median("BipedalWalker-v3", "steps_per_s")
    print(f"BipedalWalker-v3: {base:,.0f} steps/s, {median('BipedalWalker-v3', 'step_us'):.0f} us/step, "
          f"reset {median('BipedalWalker-v3', 'reset_ms'):.2f} ms (median of {args.rounds} rounds, 1 thread)")
    print()
    print("| case | steps/s | vs BW-v3 | goal | step us | reset ms |")
    print("|---|---|---|---|---|---|")
    for case in cases:
        rate = median(case.name, "steps_per_s")
        ratio = rate / base
        goal = "" if case.goal is None else f">= {case.goal}x {'met' if ratio >= case.goal else 'NOT met'}"
        reset = median(case.name, "reset_ms")
        reset_note = "" if case.reset_goal_ms is None else \
            f" (goal <= {case.reset_goal_ms}: {'met' if reset <= case.reset_goal_ms else 'NOT met'})"
        print(f"| {case.name} | {rate:,.0f} | {ratio:.2f}x | {goal} | {median(case.name, 'step_us'):.0f} | "
              f"{reset:.2f}{reset_note} |")


if __name__ == "__main__":
    main()
