"""Each student learns: PPO and SAC on Pendulum-v1, through the lab's own loop, in well under a minute.

A uniformly random policy scores about -1200 per Pendulum episode (-1400 to -1150 in the first
episodes below); a swing-up controller about -150. Checked on seeds 0-3 at these budgets: PPO's
last 20 episodes -522 to -252 after 60k frames, SAC's last 10 episodes -337 to -160 after 6k frames.
The thresholds leave room for other machines' floating point, and still fail for a student that
does not learn (or learns from the wrong sign, a broken bootstrap or a detached actor).
"""
from __future__ import annotations

import numpy as np
import pytest

from slm_acl.aeb.space import AEBSpace
from slm_acl.lib.seeding import SeedTree, seed_torch
from slm_acl.spec import validate

CASES = {
    "PPO": ({"name": "PPO", "time_horizon": 256, "minibatch_size": 64, "training_epoch": 10, "gamma": 0.9,
             "lam": 0.95},
            {"type": "MLPNet", "hid_layers": [64, 64], "hid_layers_activation": "tanh", "optim": {"lr": 1e-3}},
            {"name": "OnPolicyBatch"}, 4, 60_000, 20, -700.0),
    "SAC": ({"name": "SAC", "batch_size": 128, "start_steps": 500, "learning_starts": 500},
            {"type": "MLPNet", "hid_layers": [64, 64], "hid_layers_activation": "relu", "optim": {"lr": 1e-3}},
            {"name": "Replay", "capacity": 20_000}, 1, 6_000, 10, -600.0),
}


@pytest.mark.parametrize("algorithm", list(CASES))
def test_student_learns_pendulum(algorithm):
    algo, net, memory, num_envs, frames, last, threshold = CASES[algorithm]
    raw = {"name": f"learn_{algorithm}", "agent": [{"algorithm": algo, "net": net, "memory": memory}],
           "env": [{"name": "Pendulum-v1", "num_envs": num_envs, "max_frame": frames}], "meta": {"seed": 0}}
    seed_torch(0)
    space = AEBSpace.build(validate(raw), SeedTree(0, 0, 0))
    try:
        space.reset()
        body = space.bodies[0]
        while not space.done:
            space.step()
        returns = [row["return"] for row in body.finished]  # every episode, in order (no session flushes them)
    finally:
        space.close()
    first, final = float(np.mean(returns[:5])), float(np.mean(returns[-last:]))
    assert first < -1000, f"the first episodes should be random-like, got {first:.0f}"
    assert final > threshold, f"{algorithm}: mean of the last {last} episodes {final:.0f} <= {threshold:.0f}"
