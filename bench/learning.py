"""Do the lab's students learn as well as the reference implementations? (not a test: minutes to hours)

Each case trains a shipped spec for several seeds (the trial's sessions, run in parallel) and
reports the mean deterministic evaluation return over the last `--last` evaluations per seed,
against the goal:

| case    | spec                                    | frames | goal  | reference                           |
|---------|-----------------------------------------|--------|-------|-------------------------------------|
| ppo_llc | spec/ppo.json ppo_lunar_continuous      | 1M     | >=200 | AllenAct reaches 200 at 1.2M        |
| sac_llc | spec/sac.json sac_lunar_continuous      | 300k   | >=200 | RL Zoo SAC 260 at 500k              |
| sac_bw  | spec/sac.json sac_bipedal_walker        | 500k   | >=250 | RL Zoo SAC 297.7 at 500k            |

Runs go to `--out` (default data/bench_learning/CASE). A killed bench resumes: run it again and
each unfinished run continues from its checkpoints (the lab's own `train@`).

    .venv/bin/python bench/learning.py [--cases ppo_llc sac_llc sac_bw] [--seeds 3] [--last 3]
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from slm_acl.experiment import control  # noqa: E402
from slm_acl.experiment.paths import RunPaths  # noqa: E402

CASES = {
    "ppo_llc": ("spec/ppo.json", "ppo_lunar_continuous", 200.0),
    "sac_llc": ("spec/sac.json", "sac_lunar_continuous", 200.0),
    "sac_bw": ("spec/sac.json", "sac_bipedal_walker", 250.0),
}


def prepare(case: str, seeds: int, out: Path) -> tuple[Path, str]:
    """The case's spec with `seeds` sessions, written next to its runs (so a resume finds it again)."""
    spec_file, name, _ = CASES[case]
    raw = json.loads((ROOT / spec_file).read_text())[name]
    raw["meta"].update(max_session=seeds, max_parallel=min(seeds, 2))
    out.mkdir(parents=True, exist_ok=True)
    path = out / "spec.json"
    path.write_text(json.dumps({name: raw}, indent=1))
    return path, name


def run_case(case: str, seeds: int, out: Path) -> Path:
    spec_path, name = prepare(case, seeds, out)
    previous = sorted(p for p in out.glob(f"{name}_*") if p.is_dir())
    if previous:
        control.run(str(spec_path), name, f"train@{previous[-1]}", data_dir=str(out))
        return previous[-1]
    control.run(str(spec_path), name, "train", data_dir=str(out))
    return sorted(p for p in out.glob(f"{name}_*") if p.is_dir())[-1]


def summarise(case: str, predir: Path, seeds: int, last: int) -> list[dict]:
    _, name, goal = CASES[case]
    paths = RunPaths(predir, name)
    rows = []
    for s in range(seeds):
        evals = pd.read_csv(paths.table(0, s, "a0_e0_b0", "eval_df"))
        reached = evals.loc[evals["mean_return"] >= goal, "frame"]
        rows.append({"case": case, "seed": s, "frames": int(evals["frame"].iloc[-1]),
                     "final": float(evals["mean_return"].tail(last).mean()), "best": float(evals["mean_return"].max()),
                     "first_at_goal": int(reached.iloc[0]) if len(reached) else None, "goal": goal})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", nargs="+", choices=list(CASES), default=list(CASES))
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--last", type=int, default=3, help="evaluations averaged for the final score")
    parser.add_argument("--out", default="data/bench_learning")
    parser.add_argument("--report-only", action="store_true", help="summarise existing runs, train nothing")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="[%(asctime)s %(levelname)s %(name)s] %(message)s", datefmt="%H:%M:%S")
    rows = []
    for case in args.cases:
        out = Path(args.out) / case
        if args.report_only:
            predir = sorted(p for p in out.glob(f"{CASES[case][1]}_*") if p.is_dir())[-1]
        else:
            predir = run_case(case, args.seeds, out)
        rows += summarise(case, predir, args.seeds, args.last)
    table = pd.DataFrame(rows)
    print("\n| case | seed | frames | mean of last evals | best eval | first eval >= goal at |\n|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['case']} | {r['seed']} | {r['frames']} | {r['final']:.1f} | {r['best']:.1f} | {r['first_at_goal']} |")
    for case, group in table.groupby("case", sort=False):
        goal = group["goal"].iloc[0]
        mean = group["final"].mean()
        print(f"{case}: mean over {len(group)} seeds {mean:.1f} ± {group['final'].std(ddof=0):.1f} "
              f"(goal >= {goal:g}: {'met' if mean >= goal else 'NOT met'}); seeds at goal "
              f"{int((group['final'] >= goal).sum())}/{len(group)}")


if __name__ == "__main__":
    main()
