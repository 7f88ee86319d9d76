"""Training speed of the flagship multi-body spec (spec/multi_body.json): one PPO agent with a
HydraMLPNet holding three embodiments in two worlds (old_classic_bipedal and spider on Stump Tracks,
fish on Parkour), 4 sub-envs each, every body with its own teacher.

Times the AEB loop with learning on (acting, env steps, teachers, storing, PPO updates) over
`--updates` full PPO iterations after one warm-up iteration, in one process pinned to one thread,
and prints frames per second summed over the bodies, split into the time spent in env stepping
and in PPO's training. `--fast-path off` runs the reference (autograd, torch-acting) path.

    .venv/bin/python bench/multi_body_fps.py [--updates 3] [--fast-path auto|off]
"""
from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS",
             "VECLIB_MAXIMUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import torch  # noqa: E402

torch.set_num_threads(1)
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from slm_acl.aeb.space import AEBSpace  # noqa: E402
from slm_acl.lib.seeding import SeedTree, seed_torch  # noqa: E402
from slm_acl.spec import validate  # noqa: E402


def build(fast_path: str | None) -> AEBSpace:
    raw = json.loads((ROOT / "spec" / "multi_body.json").read_text())["multi_body"]
    raw["name"] = "multi_body"
    if fast_path is not None:
        raw["agent"][0]["net"]["fast_path"] = fast_path
    seed_torch(0)
    space = AEBSpace.build(validate(raw), SeedTree(0))
    space.reset()
    return space


def run(updates: int, fast_path: str | None) -> dict[str, float]:
    space = build(fast_path)
    algorithm = space.agents[0].algorithm
    train = algorithm._train
    spent = {"train": 0.0}

    def timed_train(*args, **kwargs):
        start = time.perf_counter()
        try:
            return train(*args, **kwargs)
        finally:
            spent["train"] += time.perf_counter() - start

    algorithm._train = timed_train
    trained = 0
    while trained < 1:  # warm-up: one full iteration
        space.step()
        trained += bool(algorithm.trained_last_update)
    frames0 = sum(b.clock.frame for b in space.bodies)
    spent["train"] = 0.0
    start = time.perf_counter()
    trained = 0
    while trained < updates:
        space.step()
        trained += bool(algorithm.trained_last_update)
    wall = time.perf_counter() - start
    frames = sum(b.clock.frame for b in space.bodies) - frames0
    space.close()
    return {"fps": frames / wall, "wall_s": wall, "frames": frames, "train_s": spent["train"],
            "train_share": spent["train"] / wall}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--updates", type=int, default=3)
    parser.add_argument("--fast-path", choices=["auto", "off"], default=None,
                        help="net.fast_path of the agent (default: the spec's own)")
    args = parser.parse_args()
    result = run(args.updates, args.fast_path)
    print(f"multi_body (fast_path {args.fast_path or 'spec default'}): {result['fps']:,.0f} frames/s over "
          f"{result['frames']:,} frames ({result['wall_s']:.1f} s; PPO training {result['train_s']:.1f} s = "
          f"{100 * result['train_share']:.0f} %)")


if __name__ == "__main__":
    main()
