"""Stump Tracks (and Hexagon Tracks): a walker crosses a track of procedurally placed obstacles.

Description:
    TeachMyAgent's parametric BipedalWalker: 200 terrain steps (the first 20 a flat start pad),
    grass segments of `obstacle_spacing` metres alternating with obstacles: stumps whose height is
    drawn around `stump_height` (std 0.1, in terrain steps), 12-D "Hexagon Tracks" polygons, or
    stump sequences. Any of the 13 embodiments (`body=` kwarg or a path to a JSON body file).
Action Space:
    Box(-1, 1, (motors,)): one torque/speed command per motor.
Observation Space:
    head angle, angular velocity, horizontal and vertical velocity; per motor the joint angle and
    speed (and a contact flag for feet/hands); 10 lidar fractions (down to forward-down).
Rewards:
    130 per SCALE metres the head moves forward, minus 5 |head angle| changes (unless the body opts
    out), minus 0.00035 * 80 * |a| per action entry (body-specific penalty); -100 on a fall.
Episode End:
    terminated on a critical contact (a walker's hull touching the ground), when the head goes
    behind the start, or when it passes the end of the track (x > 190 terrain steps); success when
    the episode return exceeds 230 (info["success"]).
Task parameters (`reset(options={"task": {...}})` or `set_task`):
    stump_height [-10, 10] (benchmark [0, 3]; "mostly trivial" [-3, 3]: a negative mean gives stumps floored
    at 0.05 steps), obstacle_spacing [0, 20] m (benchmark [0, 6]), roughness [0, 10], stump_width (mean, std),
    stump_rot (mean, std), poly_shape (12 values in [0, 4]), stump_seq (up to 10 values). A task naming any
    obstacle kind replaces the default's.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from slm_acl.env.box2d_base import Box2DWorldEnv
from slm_acl.env.tasks import validate_task
from slm_acl.env.terrain import constants as C
from slm_acl.env.terrain.box2d_build import build_stump_tracks
from slm_acl.env.terrain.stump_tracks import StumpTracksTask, generate_stump_tracks

OBSTACLE_KINDS = ("stump_height", "poly_shape", "stump_seq")
# stump_height is the MEAN of N(h, 0.1) stump heights floored at 0.05 steps (terrain/stump_tracks.py), so a
# negative mean is a valid task: its stumps are all 0.05 steps high, a trivial track. TeachMyAgent puts no bound
# on it (its "mostly trivial" criterion samples [-3, 3]); -10 mirrors the upper bound: below about -0.3 every
# mean gives the same floored track (P(N(-0.3, 0.1) > 0.05) ~ 2e-4), so a lower bound changes nothing physical.
STUMP_HEIGHT_RANGE = (-10.0, 10.0)


class StumpTracks(Box2DWorldEnv):
    env_key = "stump_tracks"
    task_params = {
        "stump_height": STUMP_HEIGHT_RANGE,
        "obstacle_spacing": (0.0, 20.0),
        "roughness": (0.0, 10.0),
        "stump_width": (0.0, 10.0, 2),
        "stump_rot": (0.0, 2 * math.pi, 2),
        "poly_shape": (0.0, 4.0, 12),
        "stump_seq": (0.0, 6.0, 10),
    }
    default_task = {"stump_height": 0.0, "obstacle_spacing": 6.0}
    head_entries = 4
    lidar_entries = 10
    hull_critical = True
    end_x = (C.TERRAIN_LENGTH - C.TERRAIN_END_STUMP_TRACKS) * C.TERRAIN_STEP

    def set_task(self, task: dict[str, Any]) -> None:
        """Unset parameters keep their defaults, except that naming any obstacle kind (stump_height,
        poly_shape, stump_seq) drops the default's: a Hexagon Tracks task has hexagons only."""
        checked = validate_task(task, self.task_params, type(self).__name__)
        base = dict(self.default_task)
        if any(k in checked for k in OBSTACLE_KINDS):
            for k in OBSTACLE_KINDS:
                base.pop(k, None)
        self.task = {**base, **checked}

    def _build_terrain(self, rng: np.random.Generator):
        self.layout = generate_stump_tracks(rng, StumpTracksTask(**self.task))
        return build_stump_tracks(self.world, self.layout)
