"""Training speed of the lab's PPO and SAC against Stable-Baselines3, same settings, same run.

Both sides train on BipedalWalker-v3 with learning on, each case in its own fresh process with
every thread pool pinned to `--threads` threads (1 by default), one case at a time. Reported:
env steps per second of training (acting, stepping, storing and updating), timed after warm-up.

- SAC, [400, 300] ReLU nets, batch 256, one gradient step per env step (SB3's defaults otherwise).
- SAC in TeachMyAgent's configuration: batch 1000, 0.1 gradient steps per env step
  (train_freq 10, gradient_steps 1 on both sides).
- PPO, SB3's defaults: n_steps 2048 per env, minibatch 64, 10 epochs, [64, 64] tanh, separate
  actor and critic, at num_envs 1 and 4.

SAC is compute-bound, so the bench also measures this core's float32 matmul rate (torch.mm on
the update's largest layer shape, same run) and prints two shares of it, FLOPs counted from the
layer shapes:
- training throughput: the matmul FLOPs of one SAC update as SB3 performs it, times the updates
  per second that training sustains (env steps/s x updates per step), over the matmul rate. This
  is the same work unit for both sides (the issue's "SB3 = about 68 %" is this figure), so the two
  shares compare like the speed ratio;
- the lab's update alone: the FLOPs the lab's gradient step actually does (fewer: dQ/da through the
  smaller twin only, no critic weight gradients in the actor step) over its own measured time: how
  close to the matmul rate the lab's kernels run.

    .venv/bin/python bench/speed_vs_sb3.py [--threads 1] [--only sac|sac_tma|ppo] [--quick]
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENV_ID = "BipedalWalker-v3"
OBS, ACT = 24, 4


def pin(threads: int) -> None:
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(threads)
    import torch

    torch.set_num_threads(threads)


# ---- the lab's side ------------------------------------------------------------------------
def lab_space(raw: dict):
    sys.path.insert(0, str(ROOT))
    from slm_acl.aeb.space import AEBSpace
    from slm_acl.lib.seeding import SeedTree, seed_torch
    from slm_acl.spec import validate

    seed_torch(0)
    space = AEBSpace.build(validate({"name": "bench", **raw}), SeedTree(0))
    space.reset()
    return space


def lab_sac_raw(batch: int, hid: list[int], train_freq: int, warmup: int) -> dict:
    return {"agent": [{"algorithm": {"name": "SAC", "batch_size": batch, "start_steps": warmup,
                                     "learning_starts": warmup, "train_freq": train_freq, "gradient_steps": 1},
                       "net": {"type": "MLPNet", "hid_layers": hid, "hid_layers_activation": "relu",
                               "init_fn": "default", "gpu": "auto"},
                       "memory": {"name": "Replay", "capacity": 300_000}}],
            "env": [{"name": ENV_ID, "num_envs": 1, "max_frame": 10**9}]}


def lab_sac(threads: int, batch: int, hid: list[int], train_freq: int, warmup: int, steps: int) -> dict:
    pin(threads)
    space = lab_space(lab_sac_raw(batch, hid, train_freq, warmup))
    for _ in range(warmup + 50 * train_freq):
        space.step()
    start = time.perf_counter()
    for _ in range(steps):
        space.step()
    rate = steps / (time.perf_counter() - start)
    algo = space.agents[0].algorithm
    update_s = time_gradient_steps(algo, n=max(20, steps // (10 * train_freq)))
    space.close()
    return {"steps_per_s": rate, "update_ms": 1e3 * update_s, "device": str(algo.torch_device)}


def time_gradient_steps(algo, n: int) -> float:
    import torch

    for _ in range(3):
        algo._gradient_step([0])
    if algo.torch_device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(n):
        algo._gradient_step([0])
    if algo.torch_device.type == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / n


def lab_ppo(threads: int, num_envs: int, rollouts: int) -> dict:
    pin(threads)
    raw = {"agent": [{"algorithm": {"name": "PPO", "time_horizon": 2048, "minibatch_size": 64, "training_epoch": 10},
                      "net": {"type": "MLPNet", "hid_layers": [64, 64], "hid_layers_activation": "tanh",
                              "clip_grad_val": 0.5, "gpu": False},
                      "memory": {"name": "OnPolicyBatch"}}],
           "env": [{"name": ENV_ID, "num_envs": num_envs, "max_frame": 10**9}]}
    space = lab_space(raw)
    for _ in range(2048):  # one rollout and update of warm-up
        space.step()
    start = time.perf_counter()
    for _ in range(2048 * rollouts):
        space.step()
    rate = 2048 * rollouts * num_envs / (time.perf_counter() - start)
    space.close()
    return {"steps_per_s": rate}


# ---- Stable-Baselines3's side ----------------------------------------------------------------
class _Timer:
    """An SB3 callback noting the wall time when training passes `start_at` env steps."""

    def __new__(cls, start_at: int):
        from stable_baselines3.common.callbacks import BaseCallback

        class Timer(BaseCallback):
            def __init__(self):
                super().__init__()
                self.t0 = None
                self.n0 = None

            def _on_step(self) -> bool:
                if self.t0 is None and self.num_timesteps >= start_at:
                    self.t0, self.n0 = time.perf_counter(), self.num_timesteps
                return True

        return Timer()


def sb3_sac(threads: int, batch: int, hid: list[int], train_freq: int, warmup: int, steps: int) -> dict:
    pin(threads)
    import gymnasium as gym
    from stable_baselines3 import SAC

    model = SAC("MlpPolicy", gym.make(ENV_ID), batch_size=batch, learning_starts=warmup, train_freq=train_freq,
                gradient_steps=1, buffer_size=300_000, policy_kwargs={"net_arch": hid}, device="cpu", seed=0)
    timer = _Timer(warmup + 50 * train_freq)
    model.learn(total_timesteps=warmup + 50 * train_freq + steps, callback=timer)
    rate = (model.num_timesteps - timer.n0) / (time.perf_counter() - timer.t0)
    return {"steps_per_s": rate}


def sb3_ppo(threads: int, num_envs: int, rollouts: int) -> dict:
    pin(threads)
    from stable_baselines3 import PPO
    from stable_baselines3.common.env_util import make_vec_env

    env = make_vec_env(ENV_ID, n_envs=num_envs, seed=0)
    model = PPO("MlpPolicy", env, n_steps=2048, batch_size=64, n_epochs=10, device="cpu", seed=0)
    timer = _Timer(2048 * num_envs)
    model.learn(total_timesteps=2048 * num_envs * (rollouts + 1), callback=timer)
    rate = (model.num_timesteps - timer.n0) / (time.perf_counter() - timer.t0)
    return {"steps_per_s": rate}


# ---- the core's matmul rate and the update's FLOPs -------------------------------------------
def matmul_rate(threads: int, batch: int, hid: list[int]) -> float:
    """GFLOP/s of torch.mm on the update's largest layer (batch x hid[0] @ hid[0] x hid[1])."""
    pin(threads)
    import torch

    a, b = torch.randn(batch, hid[0]), torch.randn(hid[0], hid[1])
    best = 0.0
    for _ in range(5):
        n = 200
        start = time.perf_counter()
        for _ in range(n):
            torch.mm(a, b)
        best = max(best, 2 * batch * hid[0] * hid[1] * n / (time.perf_counter() - start))
    return best / 1e9


def _macs(dims: list[int]) -> int:
    return sum(i * o for i, o in zip(dims[:-1], dims[1:]))


def sac_step_flops(batch: int, hid: list[int], obs: int = OBS, act: int = ACT, critic_grads_in_actor_step: bool = False,
                   min_q_input_grads_only: bool = False) -> float:
    """Matmul FLOPs of one SAC gradient step (2 per multiply-add).

    Per sample, with A = the actor's layer MACs and Q = one Q net's:
      target: actor forward + twin target-Q forward                                  A + 2Q
      critic: twin Q forward, backward weight grads + input grads but the first layer 2Q + 2Q + 2Q'
      actor:  actor forward, twin Q forward, Q input grads (all layers), actor backward
              (weight grads + input grads but the first layer)                         A + 2Q + 2Q + A + A'
    where Q' and A' are the layer MACs without the first layer. `critic_grads_in_actor_step` adds
    the 2Q of critic weight gradients that SB3's actor backward also forms (and then discards).
    `min_q_input_grads_only` (the lab's hand-written step, agent/fast/sac.py): the Q input gradients of the
    actor step go through the twin that is the minimum for each sample only, and at the first layer
    only to the action columns: Q' + act x hid[0] instead of 2Q.
    """
    actor, q = [obs, *hid, 2 * act], [obs + act, *hid, 1]
    a, q1, a_rest, q_rest = _macs(actor), _macs(q), _macs(actor[1:]), _macs(q[1:])
    per_sample = (a + 2 * q1) + (2 * q1 + 2 * q1 + 2 * q_rest) + (a + 2 * q1 + 2 * q1 + a + a_rest)
    if critic_grads_in_actor_step:
        per_sample += 2 * q1
    if min_q_input_grads_only:
        per_sample -= 2 * q1 - (q_rest + act * hid[0])
    return 2.0 * per_sample * batch


def in_process(fn, *args) -> dict | float:
    """Run one case in a fresh spawned process (its own thread pools, nothing shared)."""
    with mp.get_context("spawn").Pool(1) as pool:
        return pool.apply(fn, args)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--only", choices=["sac", "sac_tma", "ppo"], action="append")
    parser.add_argument("--quick", action="store_true", help="fewer timed steps (noisier)")
    args = parser.parse_args()
    only = set(args.only or ["sac", "sac_tma", "ppo"])
    t = args.threads
    sac_steps, ppo_rollouts = (300, 1) if args.quick else (1500, 3)
    import torch

    print(f"# speed_vs_sb3: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"threads per side {t}, torch {torch.__version__}, env {ENV_ID}")
    rows = []
    if "sac" in only or "sac_tma" in only:
        for name, batch, freq in (("sac", 256, 1), ("sac_tma", 1000, 10)):
            if name not in only:
                continue
            hid = [400, 300]
            steps = sac_steps * freq // (10 if freq > 1 else 1)
            rate = in_process(matmul_rate, t, batch, hid)
            ours = in_process(lab_sac, t, batch, hid, freq, 1000, steps)
            sb3 = in_process(sb3_sac, t, batch, hid, freq, 1000, steps)
            sb3_flops, lab_flops = (sac_step_flops(batch, hid, critic_grads_in_actor_step=True),
                                     sac_step_flops(batch, hid, min_q_input_grads_only=True))
            throughput = {side: r["steps_per_s"] / freq * sb3_flops / (rate * 1e9) for side, r in
                          (("lab", ours), ("SB3", sb3))}
            kernel_share = lab_flops / (ours["update_ms"] / 1e3) / (rate * 1e9)
            print(f"\n## SAC batch {batch}, [400, 300], {1 / freq:g} gradient steps per env step")
            print(f"matmul rate of this core: {rate:.1f} GFLOP/s; one update as SB3 does it = {sb3_flops / 1e9:.3f} "
                  f"GFLOP, as the lab does it = {lab_flops / 1e9:.3f} GFLOP")
            print(f"training throughput in SB3-update FLOPs: lab {100 * throughput['lab']:.0f} %, "
                  f"SB3 {100 * throughput['SB3']:.0f} % of the matmul rate")
            print(f"lab gradient step alone: {ours['update_ms']:.2f} ms = {100 * kernel_share:.0f} % of the matmul rate "
                  f"(device {ours['device']})")
            rows.append((f"SAC b{batch} x{1 / freq:g}", ours["steps_per_s"], sb3["steps_per_s"]))
    if "ppo" in only:
        for n in (1, 4):
            ours = in_process(lab_ppo, t, n, ppo_rollouts)
            sb3 = in_process(sb3_ppo, t, n, ppo_rollouts)
            rows.append((f"PPO num_envs {n}", ours["steps_per_s"], sb3["steps_per_s"]))
    print("\n| case | slm_acl steps/s | SB3 steps/s | ratio |\n|---|---|---|---|")
    for name, ours, theirs in rows:
        print(f"| {name} | {ours:.1f} | {theirs:.1f} | {ours / theirs:.2f}x |")


if __name__ == "__main__":
    main()
