"""What the teachers cost: per-teacher sample and update time, and their share of a Stump Tracks session.

1. The session: the lab's SAC student in TeachMyAgent's configuration (spec/sac.json
   `sac_stump_tracks_tma`: [400, 300] nets, batch 1000, 0.1 gradient step per env step) on Stump Tracks
   with a Random teacher, timed over `--session-frames` env steps after its warm-up. This gives the
   wall-clock seconds of one env step and the mean episode length, hence the seconds of one episode.
   Early episodes are short (the walker falls), so this over-states the teachers' share of a full
   20M-step run, where episodes get longer.
2. Every registered teacher with its published hyperparameters on the 2-D Stump Tracks space, fed
   `--episodes` synthetic episodes (returns from a competence that grows where the teacher samples),
   each teacher in its own process pinned to one thread, as the lab's workers are. ADR gets
   TeachMyAgent's Stump Tracks reward thresholds (180 / 0), the Oracle a window step of 1/30 of each
   range and the success threshold, Self-Paced TeachMyAgent's initial (easy corner) and target
   (whole space) distributions and a synthetic value estimate.
3. Share = teacher time per episode / session time per episode. Goal (the issue): < 1 % for every teacher.

    .venv/bin/python bench/teacher_cost.py [--episodes 2000] [--session-frames 4000] [--only NAME ...]
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import statistics
import sys
import time
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[_var] = "1"

ROOT = Path(__file__).resolve().parents[1]
SUCCESS_RETURN = 230.0


def teacher_settings(name: str) -> tuple[dict, dict]:
    """(teacher settings, curriculum extras) beyond the published defaults for a Stump Tracks run."""
    import numpy as np

    easy = {"mean": np.array([0.0, 1.0]), "std": np.array([0.1, 0.1])}  # height 0, spacing max (unit cube)
    whole = {"mean": np.array([0.5, 0.5]), "std": np.array([0.25, 0.25])}
    table = {
        "ADR": ({"max_reward_thr": 180.0, "min_reward_thr": 0.0}, {"initial_dist": easy}),
        "Oracle": ({"window_step": [1 / 30, -1 / 30], "reward_thr": SUCCESS_RETURN}, {}),
        "Self-Paced": ({}, {"initial_dist": easy, "target_dist": whole}),
    }
    return table.get(name, ({}, {}))


def synthetic_return(task, competence: float) -> float:
    """A walker that does well on low stumps / wide spacing and gets better with practice."""
    difficulty = 0.6 * task[0] + 0.4 * (1.0 - task[1])
    return float(-100.0 + 400.0 / (1.0 + 2.0 ** (10.0 * (difficulty - competence))))


def time_teacher(name: str, episodes: int, seed: int = 0) -> dict:
    import numpy as np

    import torch

    torch.set_num_threads(1)
    sys.path.insert(0, str(ROOT))
    from slm_acl.curriculum.teachers import Gaussian, TeacherContext
    from slm_acl.curriculum.toy.bench import teacher_choice

    settings, extras = teacher_settings(name)
    dists = {k: Gaussian(np.asarray(v["mean"], float), np.asarray(v["std"], float)) for k, v in extras.items()}
    rng = np.random.default_rng(seed)
    competence = {"value": 0.1}
    context = TeacherContext(dim=2, rng=np.random.default_rng(seed + 1), success_return=SUCCESS_RETURN, **dists)
    build_start = time.perf_counter()
    teacher = teacher_choice(name, settings).build(context)
    build_s = time.perf_counter() - build_start
    context.value_estimator = lambda obs: np.array([synthetic_return(o[:2], competence["value"]) for o in obs])
    sample_s, update_s = [], []
    for _ in range(episodes):
        t0 = time.perf_counter()
        proposal = teacher.sample_task()
        t1 = time.perf_counter()
        task = proposal.task
        teacher.record_initial_state(proposal, np.concatenate([task, rng.normal(size=22)]).astype(np.float32))
        ret = synthetic_return(task, competence["value"]) + float(rng.normal(0, 20))
        t2 = time.perf_counter()
        teacher.update(proposal, ret, ret > SUCCESS_RETURN)
        t3 = time.perf_counter()
        sample_s.append(t1 - t0)
        update_s.append(t3 - t2)
        competence["value"] = min(1.2, competence["value"] + 0.0005)
    return {"teacher": name, "build_s": build_s, "sample_ms": 1e3 * statistics.fmean(sample_s),
            "update_ms": 1e3 * statistics.fmean(update_s), "update_max_ms": 1e3 * max(update_s),
            "per_episode_ms": 1e3 * (sum(sample_s) + sum(update_s)) / episodes}


def time_session(frames: int) -> dict:
    import numpy as np
    import torch

    torch.set_num_threads(1)
    sys.path.insert(0, str(ROOT))
    from slm_acl.aeb.space import AEBSpace
    from slm_acl.lib.seeding import SeedTree, seed_torch
    from slm_acl.spec import validate

    raw = json.loads((ROOT / "spec" / "sac.json").read_text())["sac_stump_tracks_tma"]
    raw["agent"][0]["algorithm"].update(start_steps=2000, learning_starts=1000)  # reach training sooner
    raw["env"][0]["max_frame"] = 10**9
    raw["curriculum"]["test_set"] = None
    seed_torch(0)
    space = AEBSpace.build(validate({"name": "cost", **raw}), SeedTree(0))
    space.reset()
    for _ in range(3000):
        space.step()
    body = space.bodies[0]
    episodes_before = body.clock.episode
    start = time.perf_counter()
    for _ in range(frames):
        space.step()
    elapsed = time.perf_counter() - start
    episodes = body.clock.episode - episodes_before
    lengths = [row["length"] for row in body.finished[-max(episodes, 1):]]
    space.close()
    step_ms = 1e3 * elapsed / frames
    mean_length = float(np.mean(lengths)) if lengths else float(frames)
    return {"step_ms": step_ms, "episodes": episodes, "mean_length": mean_length,
            "episode_ms": step_ms * mean_length}


def in_process(fn, *args):
    with mp.get_context("spawn").Pool(1) as pool:
        return pool.apply(fn, args)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--episodes", type=int, default=2000, help="synthetic episodes per teacher")
    parser.add_argument("--session-frames", type=int, default=4000, help="timed env steps of the SAC session")
    parser.add_argument("--only", nargs="*", default=None, help="teacher names")
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT))
    from slm_acl.curriculum.teachers import TEACHERS

    names = [n for n in TEACHERS.names() if args.only is None or n in args.only]
    print(f"session: SAC (TeachMyAgent's configuration) on Stump Tracks, {args.session_frames} timed steps ...",
          file=sys.stderr, flush=True)
    session = in_process(time_session, args.session_frames)
    print(f"session: {session['step_ms']:.2f} ms per env step, {session['episodes']} episodes of mean length "
          f"{session['mean_length']:.0f} steps -> {session['episode_ms']:.0f} ms per episode (1 thread)")
    print()
    print("| teacher | build s | sample ms | update ms (mean) | update ms (max) | ms per episode | share | goal < 1 % |")
    print("|---|---|---|---|---|---|---|---|")
    for name in names:
        try:
            row = in_process(time_teacher, name, args.episodes)
        except Exception as err:  # one teacher failing does not hide the others
            print(f"| {name} | failed: {type(err).__name__}: {err} | | | | | | |")
            continue
        share = 100.0 * row["per_episode_ms"] / session["episode_ms"]
        print(f"| {name} | {row['build_s']:.2f} | {row['sample_ms']:.3f} | {row['update_ms']:.3f} | "
              f"{row['update_max_ms']:.1f} | {row['per_episode_ms']:.3f} | {share:.3f} % | "
              f"{'met' if share < 1.0 else 'NOT met'} |")


if __name__ == "__main__":
    main()
