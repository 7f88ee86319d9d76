"""Parkour: CPPN-generated ground and ceiling, water, creepers; walkers, climbers and swimmers.

Description:
    TeachMyAgent's parametric Parkour (ENV_FACTS.md sections 4, 5, 10-15): a 200-step CPPN terrain
    after a 20-step start pad, with a ceiling above it, optional creepers hanging from the ceiling
    (static, or chains of movable pieces), and water up to a task-chosen level with buoyancy, drag,
    lift and motor push. Climbers grasp the ceiling and creepers with their hands' sensors; bodies
    drown (or a fish dries out) after 600 steps in the wrong medium, then their actions are ignored.
Action Space:
    Box(-1, 1, (motors + grasp sensors,)): motor commands, then one grasp command per hand (> 0: hold).
Observation Space:
    head angle, angular velocity, horizontal and vertical velocity, under-water flag, dead flag; per
    motor angle and speed (and contact flag); per grasp sensor contact and joint flags; 10 lidar
    fractions and their 10 surface codes (-1 water, +1 creeper, 0 otherwise).
Rewards:
    As Stump Tracks (BipedalWalker's), with no hull-contact death for walkers; -100 when a critical part
    (a chimpanzee's head) touches terrain or the head goes behind the start.
Episode End:
    terminated on a critical contact or when the head passes x = 215 terrain steps; death does not
    end an episode. info["success"] when the return exceeds 230.
Task parameters:
    input_vector (3 values in [-1, 1]; benchmark "medium" [[-0.35, 0.05], [0.6, 1], [-0.1, 0.3]]),
    water_level [0, 1], creepers_width, creepers_height, creepers_spacing (creepers need both width and
    height), terrain_cppn_scale (default 10).
"""
from __future__ import annotations

import numpy as np

from slm_acl.env.bodies.model import BodyDef
from slm_acl.env.box2d_base import Box2DWorldEnv
from slm_acl.env.physics.climbing import Grasping
from slm_acl.env.physics.lidar import Segments
from slm_acl.env.physics.water import WaterDynamics
from slm_acl.env.terrain import constants as C
from slm_acl.env.terrain.box2d_build import build_parkour
from slm_acl.env.terrain.cppn import TerrainCPPN
from slm_acl.env.terrain.parkour import ParkourTask, generate_parkour


class Parkour(Box2DWorldEnv):
    env_key = "parkour"
    task_params = {
        "input_vector": (-1.0, 1.0, 3),
        "water_level": (0.0, 1.0),
        "creepers_width": (0.0, 5.0),
        "creepers_height": (0.0, 10.0),
        "creepers_spacing": (0.0, 10.0),
        "terrain_cppn_scale": (1.01, 100.0),
    }
    default_task = {"input_vector": [-0.15, 0.8, 0.1], "water_level": 0.0}  # the "medium" box's centre, dry
    head_entries = 6
    lidar_entries = 20
    hull_critical = False
    end_x = (C.TERRAIN_LENGTH + C.TERRAIN_STARTPAD - C.TERRAIN_END_PARKOUR) * C.TERRAIN_STEP

    def __init__(self, body: str | BodyDef = "classic_bipedal", render_mode: str | None = None,
                 lidars_type: str | None = None, movable_creepers: bool = False, water_clip: float = 20.0):
        self._lidars_type = lidars_type
        super().__init__(body, render_mode)
        self.movable_creepers = movable_creepers
        self.cppn = TerrainCPPN()
        self.water = WaterDynamics(density=C.WATER_DENSITY, max_push=water_clip)
        self.grasping: Grasping | None = None
        self.n_motors = len(self.body_def.motors)
        self.under_water_steps = self.outside_water_steps = 0
        self.dead = False

    # ---- hooks of the shared world --------------------------------------------------------------
    def _prepare_body(self, body: BodyDef) -> BodyDef:
        return body.at_water_density(C.WATER_DENSITY)

    def _lidar_fan(self) -> str:
        return self._lidars_type or self.body_def.lidar_fan

    def _build_terrain(self, rng: np.random.Generator):
        task = ParkourTask(**self.task)
        self.layout = generate_parkour(rng, self.cppn, task, movable_creepers=self.movable_creepers)
        terrain = build_parkour(self.world, self.layout)
        self.water.reset(self.layout.water_y)
        self.under_water_steps = self.outside_water_steps = 0
        self.dead = False
        return terrain

    def _moving_terrain(self, x: float) -> Segments | None:
        moving = self.terrain.moving
        return None if moving is None else moving.near(x, C.LIDAR_RANGE)

    def _after_spawn(self) -> np.ndarray:
        """Climbers start hanging from the start-pad ceiling: sensors moved up to it, the body lifted by
        the same amount, then 5 steps holding on; everyone then plays one step (ENV_FACTS section 4)."""
        action = np.zeros(self.action_space.shape, np.float32)
        if self.body_def.body_type == "climber":
            self.grasping = Grasping(self.world, self.agent.sensors, self.body_def.sensors[0].radius)
            action[self.n_motors:] = 1.0
            target = C.TERRAIN_HEIGHT + self.layout.ceiling_offset
            lift = target - self.agent.sensors[-1].position[1]
            for sensor in self.agent.sensors:
                sensor.position = (sensor.position[0], target)
            for part in self.agent.parts:
                part.position = (part.position[0], part.position[1] + lift)
            for _ in range(C.NB_FIRST_STEPS_HANG):
                self._advance(action)
        else:
            self.grasping = None
        obs = self._advance(action)[0]
        self.under_water_steps = self.outside_water_steps = 0
        return obs

    def _before_world_step(self, action: np.ndarray) -> np.ndarray:
        body = self.body_def
        self.dead = bool((body.survive_outside_water is not None
                          and self.outside_water_steps > body.survive_outside_water)
                         or (body.survive_under_water is not None
                             and self.under_water_steps > body.survive_under_water))
        if self.dead:
            action = np.zeros_like(action)
        if self.grasping is not None:
            self.grasping.before_step(action[self.n_motors:])
        return action

    def _after_world_step(self) -> None:
        if self.grasping is not None:
            self.grasping.after_step()
        if self.listener.water_fixtures:
            self.water.apply(self.listener.water_fixtures)

    def _extra_head_entries(self, obs: np.ndarray) -> None:
        under = self.agent.head.position[1] <= self.layout.water_y
        if not self.dead:
            if under:
                self.under_water_steps += 1
                self.outside_water_steps = 0
            else:
                self.outside_water_steps += 1
                self.under_water_steps = 0
        obs[4] = 1.0 if under else 0.0
        obs[5] = 1.0 if self.dead else 0.0

    def _destroy(self) -> None:
        if self.grasping is not None:
            self.grasping.forget()
        super()._destroy()
