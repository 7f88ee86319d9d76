"""The lab's Gymnasium ids, registered by `import slm_acl` with lazy entry points.

`import slm_acl; gymnasium.make("slm_acl/StumpTracks-v0", body="spider")` works as it does for minigrid
and highway-env: the package's `__init__` calls `register_envs`, and each id names its class by an
`"module:Class"` string that Gymnasium imports only at `make`. So importing the package costs Gymnasium
alone; Box2D and the worlds load when a world is made, and torch never does (no env needs it). This
module sits outside `slm_acl.env` on purpose: importing anything below `slm_acl.env` runs that package's
`__init__`, which loads the worlds to fill the lab's own registry (`LAB_ENVS`).
"""
from __future__ import annotations

import gymnasium as gym

# id -> (entry point, default episode cap). The worlds' cap is TeachMyAgent's training protocol's 2000
# steps (their gym ids have none); a spec's `max_t` replaces it.
GYM_IDS: dict[str, tuple[str, int]] = {
    "slm_acl/ParamPendulum-v0": ("slm_acl.env.param_pendulum:ParamPendulum", 200),
    "slm_acl/StumpTracks-v0": ("slm_acl.env.stump_tracks:StumpTracks", 2000),
    "slm_acl/Parkour-v0": ("slm_acl.env.parkour:Parkour", 2000),
}


def register_envs() -> None:
    """Register every id of `GYM_IDS` that Gymnasium does not know yet (importing twice is harmless)."""
    for env_id, (entry_point, max_episode_steps) in GYM_IDS.items():
        if env_id not in gym.registry:
            gym.register(id=env_id, entry_point=entry_point, max_episode_steps=max_episode_steps)
