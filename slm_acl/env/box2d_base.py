"""What Stump Tracks and Parkour share: the Box2D world, the agent, lidars, observation and reward.

A subclass supplies the terrain (`_build_terrain`), the task parameters and the env-specific parts
of a step (`_before_world_step`, `_after_world_step`, `_extra_head_entries`, `_moving_terrain`).
The rules are TeachMyAgent's (ENV_FACTS.md sections 2-8): one world step per env step with
180 velocity and 60 position iterations, BipedalWalker's reward (130 per SCALE metres of head
progress, minus 5 |head angle| unless the body opts out, minus a torque cost; -100 and the end on
a critical contact or when the head goes behind the start), success when the episode return
exceeds 230.
"""
from __future__ import annotations

import abc
from typing import Any

import Box2D
import gymnasium as gym
import numpy as np

from slm_acl.env.bodies import load_body
from slm_acl.env.bodies.builder import Embodiment
from slm_acl.env.bodies.model import BodyDef
from slm_acl.env.display import has_display
from slm_acl.env.physics.contacts import ContactListener
from slm_acl.env.physics.lidar import Lidar, Segments
from slm_acl.env.tasks import validate_task
from slm_acl.env.terrain import constants as C

VELOCITY_ITERATIONS, POSITION_ITERATIONS = 6 * 30, 2 * 30
SUCCESS_RETURN = 230.0
FALL_REWARD = -100.0
ANGLE_OBS, ANGULAR_VELOCITY_OBS = 1.0, 2.0 / C.FPS
VX_OBS = 0.3 * (C.VIEWPORT_W / C.SCALE) / C.FPS
VY_OBS = 0.3 * (C.VIEWPORT_H / C.SCALE) / C.FPS


class Box2DWorldEnv(gym.Env, abc.ABC):
    """A parametric Box2D world with one embodiment."""

    metadata = {"render_modes": ["rgb_array", "human"], "render_fps": C.FPS}
    env_key: str  # "stump_tracks" or "parkour": selects per-env body facts (spawn height)
    task_params: dict[str, tuple]
    default_task: dict[str, Any]
    head_entries: int  # observation entries about the head before the motor entries
    lidar_entries: int  # 10 fractions (+ 10 surface codes in Parkour)
    hull_critical: bool  # Stump Tracks: the hull of walkers dies on contact; Parkour: it does not
    end_x: float  # the episode ends when the head passes this x

    def __init__(self, body: str | BodyDef = "classic_bipedal", render_mode: str | None = None):
        if render_mode == "human":
            from slm_acl.env.render import check_display  # lazy: Pillow and matplotlib only when rendering

            check_display()
        elif not has_display():  # "human" is offered where a window can open (env checkers try every mode)
            self.metadata = {**self.metadata, "render_modes": ["rgb_array"]}
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode {render_mode!r} is not supported; valid: {self.metadata['render_modes']}")
        self.render_mode = render_mode
        self.body_def = self._prepare_body(body if isinstance(body, BodyDef) else load_body(body))
        self.world = Box2D.b2World(gravity=(0, -10))
        self.listener = ContactListener(climber=self.body_def.body_type == "climber")
        self.world.contactListener = self.listener
        self.agent: Embodiment | None = None
        self.terrain = None
        self.lidar = Lidar(self._lidar_fan(), C.LIDAR_RANGE)
        self.task = dict(self.default_task)
        self.prev_shaping: float | None = None
        self.episodic_return = 0.0
        n_obs = self.head_entries + self.body_def.state_size + self.lidar_entries
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, (n_obs,), np.float32)
        self.action_space = gym.spaces.Box(-1.0, 1.0, (self.body_def.action_size,), np.float32)
        self._torque_cost = self.body_def.torque_penalty * 80.0
        self._head_angle_weight = 0.0 if self.body_def.remove_reward_on_head_angle else 5.0
        self._obs = np.zeros(n_obs, np.float32)
        self._renderer = None  # a WorldRenderer, made by the first render() call
        self._window = None  # "human" mode's matplotlib window

    # ---- the task ---------------------------------------------------------------------------
    def set_task(self, task: dict[str, Any]) -> None:
        """Task parameters for the next episodes (unset ones keep their defaults)."""
        self.task = {**self.default_task, **validate_task(task, self.task_params, type(self).__name__)}

    # ---- gymnasium API ------------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        if options and "task" in options:
            self.set_task(options["task"])
        self._destroy()
        self.listener.reset()
        self.terrain = self._build_terrain(self.np_random)
        self.lidar.set_static(self.terrain.static_segments)
        spawn_force = float(self.np_random.uniform(-C.INITIAL_RANDOM, C.INITIAL_RANDOM))
        x = C.TERRAIN_STEP * C.TERRAIN_STARTPAD / 2
        y = C.TERRAIN_HEIGHT + self.body_def.spawn_height(self.env_key)
        self.agent = Embodiment.build(self.world, self.body_def, x, y, spawn_force, self.hull_critical)
        self.prev_shaping = None
        obs = self._after_spawn()
        self.episodic_return = 0.0
        if self.render_mode == "human":
            self.render()
        return obs, {"task": dict(self.task)}

    def step(self, action):
        action = np.asarray(action, dtype=np.float32)
        if action.shape != self.action_space.shape:
            raise ValueError(f"action of shape {action.shape}; this body takes {self.action_space.shape}")
        obs, reward, terminated = self._advance(action)
        self.episodic_return += reward
        info = {"success": self.episodic_return > SUCCESS_RETURN}
        if self.render_mode == "human":
            self.render()
        return obs, reward, terminated, False, info

    def render(self) -> np.ndarray | None:
        """The world as a (RENDERING_VIEWER_H, RENDERING_VIEWER_W, 3) uint8 array for render_mode="rgb_array";
        in "human" mode the frame goes to a window (step and reset call this themselves, as Gymnasium's
        envs do) and None is returned. Nothing is drawn or kept per step unless this is called."""
        if self.render_mode is None:
            example = (f'gym.make("{self.spec.id}", render_mode="rgb_array")' if self.spec is not None
                       else f'{type(self).__name__}(..., render_mode="rgb_array")')
            gym.logger.warn(f"render() was called without a render_mode: build the env with one, e.g. {example}")
            return None
        if self.agent is None:
            raise gym.error.ResetNeeded("call reset() before render()")
        if self._renderer is None:
            from slm_acl.env.render import WorldRenderer

            self._renderer = WorldRenderer()
        frame = self._renderer.render(self)
        if self.render_mode == "human":
            if self._window is None:
                from slm_acl.env.render import HumanWindow

                self._window = HumanWindow(self.metadata["render_fps"], type(self).__name__)
            self._window.show(frame)
            return None
        return frame

    def lidar_fractions(self) -> np.ndarray:
        """The lidar fractions of the last observation (0..1 of the ray length to the closest hit, 1 for none);
        what the renderer draws, read without casting again."""
        n = self.head_entries + self.agent.state_size
        return self._obs[n:n + C.NB_LIDAR].copy()

    def close(self) -> None:
        self._destroy()
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None
        if self._window is not None:
            self._window.close()
            self._window = None

    # ---- one step -------------------------------------------------------------------------------
    def _advance(self, action: np.ndarray) -> tuple[np.ndarray, float, bool]:
        action = self._before_world_step(action)
        self.agent.apply_action(action)
        self.world.Step(1.0 / C.FPS, VELOCITY_ITERATIONS, POSITION_ITERATIONS)
        self._after_world_step()
        head = self.agent.head
        pos, vel = head.position, head.linearVelocity
        x, angle = pos[0], head.angle
        obs = self._obs
        obs[0] = angle * ANGLE_OBS
        obs[1] = head.angularVelocity * ANGULAR_VELOCITY_OBS
        obs[2] = vel[0] * VX_OBS
        obs[3] = vel[1] * VY_OBS
        self._extra_head_entries(obs)
        n = self.head_entries + self.agent.state_size
        obs[self.head_entries:n] = self.agent.state()
        fractions, codes = self.lidar.cast(pos, self._moving_terrain(x))
        obs[n:n + 10] = fractions
        if self.lidar_entries > 10:
            obs[n + 10:n + 20] = codes
        shaping = 130.0 * x / C.SCALE - self._head_angle_weight * abs(angle)
        reward = 0.0 if self.prev_shaping is None else shaping - self.prev_shaping
        self.prev_shaping = shaping
        reward -= self._torque_cost * float(np.clip(np.abs(action), 0.0, 1.0).sum())
        terminated = False
        if self.listener.critical_contact or x < 0:
            reward, terminated = FALL_REWARD, True
        elif x > self.end_x:
            terminated = True
        return obs.copy(), float(reward), terminated

    # ---- hooks ----------------------------------------------------------------------------------
    def _prepare_body(self, body: BodyDef) -> BodyDef:
        return body

    def _lidar_fan(self) -> str:
        return "down"

    @abc.abstractmethod
    def _build_terrain(self, rng: np.random.Generator):
        """Generate this episode's terrain from `self.task` and build it; returns an object with
        `bodies` (the static bodies) and `destroy()`."""

    def _after_spawn(self) -> np.ndarray:
        """Steps played at reset; returns the first observation (one step with a zero action)."""
        return self._advance(np.zeros(self.action_space.shape, np.float32))[0]

    def _before_world_step(self, action: np.ndarray) -> np.ndarray:
        return action

    def _after_world_step(self) -> None:
        pass

    def _extra_head_entries(self, obs: np.ndarray) -> None:
        pass

    def _moving_terrain(self, x: float) -> Segments | None:
        """Edges of moving terrain the lidar may see from head position x this step."""
        return None

    def _destroy(self) -> None:
        """Remove agent and terrain. The listener is detached meanwhile: Box2D reports the ending
        contacts of bodies being destroyed, whose user data pybox2d is already releasing."""
        self.world.contactListener = None
        if self.agent is not None:
            self.agent.destroy()
            self.agent = None
        if self.terrain is not None:
            self.terrain.destroy()
            self.terrain = None
        self.world.contactListener = self.listener
