"""Do a trial's sessions scale with workers? The same trial of N sessions on 1 worker, then on 2.

The trial is the demo's (spec/demo.json `alp_gmm_ppo_stump_tracks`: PPO with 8 sub-envs on Stump
Tracks, ALP-GMM choosing the tasks), with `--frames` frames per session (300k: the demo's own length) and `--sessions` sessions.
It is run through two engines, each with 1 and then 2 workers:

- `process`: train mode's trial (`slm_acl.experiment.trial.run_trial`), sessions in spawned worker
  processes, `meta.max_parallel` = workers;
- `ray`: search mode's trial (`slm_acl.experiment.search`, one trial of a one-value grid), sessions as
  Ray tasks on a local Ray started with `num_cpus` = workers.

Each session's BLAS / torch threads are pinned to 1. Printed per run: wall-clock time, frames per second
summed over sessions, and CPU utilisation of the machine from /proc/stat over the run (100 % = every
core busy) and per worker (busy cores / workers). Then the speed-up from 1 to 2 workers (goal >= 1.7x on
a 2-core machine), next to the ceiling this machine gives a pure-CPU loop in 2 processes. Pause other
work while it runs: the utilisation is machine-wide. At the defaults (the demo's trial length) it takes
about 10 minutes on 2 cores.

    .venv/bin/python bench/scaling.py [--sessions 4] [--frames 300000] [--engines process ray]
"""
from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS",
             "VECLIB_MAXIMUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import copy  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import platform  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
GOAL = 1.7


def cpu_times() -> tuple[float, float]:
    """(busy, total) jiffies summed over all cores, from /proc/stat."""
    fields = [float(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def trial_spec(sessions: int, frames: int, workers: int) -> dict:
    raw = copy.deepcopy(json.loads((ROOT / "spec" / "demo.json").read_text())["alp_gmm_ppo_stump_tracks"])
    raw["name"] = "scaling"
    raw["env"][0]["max_frame"] = frames
    raw["meta"].update({"max_session": sessions, "max_parallel": workers, "num_threads": 1,
                        "log_frequency": frames, "eval_frequency": frames, "checkpoint_frequency": frames})
    raw["curriculum"]["test_set_size"] = 4
    raw.pop("info", None)
    return raw


def run_process(raw: dict, data: Path, workers: int) -> None:
    from slm_acl.experiment.paths import RunPaths
    from slm_acl.experiment.trial import run_trial
    from slm_acl.spec import validate

    run = validate(raw)
    run_trial(run, RunPaths.new(data, run.name), trial=0, mode="train")


def run_ray(raw: dict, data: Path, workers: int) -> None:
    import ray

    from slm_acl.experiment import search
    from slm_acl.experiment.paths import RunPaths
    from slm_acl.spec import validate

    raw = copy.deepcopy(raw)
    raw["search"] = {"meta": {"seed__grid_search": [raw["meta"]["seed"]]}}
    run = validate(raw)
    ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False)
    try:
        result = search.run_search(run, RunPaths.new(data, run.name), verbose=0)
        if (result.experiment_df["status"] != "TERMINATED").any():
            raise RuntimeError(f"the trial did not finish: {result.experiment_df.to_dict('records')}")
    finally:
        ray.shutdown()


ENGINES = {"process": run_process, "ray": run_ray}


def _spin(n: int) -> float:
    t0 = time.perf_counter()
    x = 0
    for i in range(n):
        x += i
    return time.perf_counter() - t0


def hardware_ceiling(n: int = 20_000_000) -> float:
    """The speed-up this machine gives a pure-CPU Python loop run in 2 processes instead of 1 (at most 2x)."""
    import multiprocessing as mp

    with mp.get_context("spawn").Pool(2) as pool:
        pool.map(_spin, [1000, 1000])  # start both workers first
        t0 = time.perf_counter()
        pool.apply(_spin, (n,))
        pool.apply(_spin, (n,))
        serial = time.perf_counter() - t0
        t0 = time.perf_counter()
        pool.map(_spin, [n, n])
        parallel = time.perf_counter() - t0
    return serial / parallel


def measure(engine: str, sessions: int, frames: int, workers: int) -> dict:
    raw = trial_spec(sessions, frames, workers)
    with tempfile.TemporaryDirectory() as tmp:
        busy0, total0 = cpu_times()
        t0 = time.perf_counter()
        ENGINES[engine](raw, Path(tmp), workers)
        wall = time.perf_counter() - t0
        busy1, total1 = cpu_times()
    cores = os.cpu_count() or 1
    machine = (busy1 - busy0) / max(total1 - total0, 1e-9)
    return {"engine": engine, "workers": workers, "wall": wall, "fps": sessions * frames / wall,
            "machine_util": 100 * machine, "per_worker_util": 100 * machine * cores / workers}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=4)
    parser.add_argument("--frames", type=int, default=300_000, help="frames per session (the demo's length)")
    parser.add_argument("--engines", nargs="+", choices=list(ENGINES), default=list(ENGINES))
    args = parser.parse_args()
    logging.getLogger("slm_acl").setLevel(logging.WARNING)
    logging.getLogger("ray").setLevel(logging.WARNING)
    sha = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout
    print(f"git {sha.strip()} | {platform.processor() or platform.machine()} | {os.cpu_count()} cores | "
          f"trial: demo spec, {args.sessions} sessions x {args.frames:,} frames, 1 thread per session")
    ceiling = hardware_ceiling()
    print(f"hardware ceiling: a pure-CPU loop runs {ceiling:.2f}x faster in 2 processes than in 1", flush=True)
    rows = []
    for engine in args.engines:
        for workers in (1, 2):
            row = measure(engine, args.sessions, args.frames, workers)
            rows.append(row)
            print(f"  {engine} {workers} worker(s): {row['wall']:.1f} s", flush=True)
    print("\n| engine | workers | wall s | frames/s | CPU (machine) | CPU per worker | speed-up | goal |")
    print("|---|---|---|---|---|---|---|---|")
    for engine in args.engines:
        one, two = [r for r in rows if r["engine"] == engine]
        for r in (one, two):
            speedup = one["wall"] / r["wall"]
            goal = "" if r is one else f">= {GOAL}x {'met' if speedup >= GOAL else 'NOT met'}"
            print(f"| {engine} | {r['workers']} | {r['wall']:.1f} | {r['fps']:,.0f} | {r['machine_util']:.0f} % | "
                  f"{r['per_worker_util']:.0f} % | {speedup:.2f}x | {goal} |")


if __name__ == "__main__":
    main()
