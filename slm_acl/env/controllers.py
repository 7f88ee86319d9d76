"""Scripted controllers for the Box2D worlds: baselines and smoke tests that need an agent that moves.

`BipedWalkerController` walks a two-legged walker (classic_bipedal, old_classic_bipedal, and any body
with the same motor layout) forward on flat Stump Tracks, from the observation alone. Tuned on flat
terrain (stump_height 0, roughness 0); it is not meant to cross real obstacles.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from slm_acl.env.bodies import BodyDef, load_body
from slm_acl.env.box2d_base import ANGULAR_VELOCITY_OBS, VX_OBS

# Observation layout of a biped in Stump Tracks (BipedalWalker's): 4 head entries, then per leg
# (hip angle, hip speed, knee angle, knee speed, lower-leg contact), then 10 lidar fractions.
_HULL_ANGLE, _HULL_ANGULAR_VELOCITY, _VX = 0, 1, 2
_LEG_BASE, _LEG_STRIDE = 4, 5
_HIP, _HIP_SPEED, _KNEE, _KNEE_SPEED, _CONTACT = range(5)


@dataclasses.dataclass(frozen=True)
class WalkerGains:
    """Targets and gains of `BipedWalkerController`.

    Angles are in radians. Thigh angles are world angles (hull angle + hip joint angle; positive = the
    leg swung forward); knee angles are joint angles (the body's limits are [-1.6, -0.1], more negative
    = more bent). Gains map an error to an action entry (a motor's torque fraction, signed), per rad or
    per rad/s. Defaults tuned for classic_bipedal on flat Stump Tracks; they also walk old_classic_bipedal.
    """

    hull_lean: float = -0.1
    """hull angle the stance hip holds (negative: nose down, leaning into the walk)"""
    hull_kp: float = 4.0
    hull_kd: float = 0.5
    swing_kp: float = 1.5
    swing_kd: float = 0.07
    knee_kp: float = 1.1
    knee_kd: float = 0.07
    swing_thigh_early: float = 0.53
    """swing thigh target while the swing knee is folded (lifting the foot forward)"""
    swing_thigh_late: float = 0.18
    """swing thigh target once the knee unfolds (reaching for the ground)"""
    target_speed: float = 1.25
    """forward speed (m/s) at which the foot is placed at the nominal thigh targets"""
    speed_gain: float = 0.12
    """extra swing thigh angle per m/s above target_speed: faster -> longer step (brakes)"""
    stance_gain: float = 0.1
    """extra swing thigh angle per rad the stance thigh points back (hips ahead of the stance foot)"""
    swing_knee_early: float = -1.6
    swing_knee_late: float = -0.13
    stance_knee: float = -0.42
    early_swing_steps: int = 19
    """env steps after a leg switch during which the swing leg is folded"""
    min_swing_steps: int = 17
    """a touchdown before this many steps does not end the swing (the foot is just leaving the ground)"""
    max_swing_steps: int = 60
    """the legs switch after this many steps even without a touchdown"""


class BipedWalkerController:
    """A SIMBICON-style walking controller (Yin, Loken & van de Panne 2007) for two-legged walkers.

    One leg swings while the other supports. The swing leg's thigh follows a world-frame target (a
    folded-knee early phase then a reaching late phase) shifted by balance feedback: the foot lands
    further ahead when the walker goes faster than `target_speed` or its hips have passed far over the
    stance foot. The stance hip keeps the hull at `hull_lean`: it applies the torque the hull needs
    minus what the swing hip already exerts on it (each hip's torque acts on the hull with the opposite
    sign). Knees follow PD targets per role. The legs switch when the swing foot touches down (after
    `min_swing_steps`) or after `max_swing_steps`.

    Every command is a PD term (kp * error - kd * rate) clipped to [-1, 1]: the body's motors turn the
    sign into the motor speed and the magnitude into the torque fraction. Call `reset()` at the start
    of each episode, then `act(obs)` (or `controller(obs)`) per step.
    """

    def __init__(self, gains: WalkerGains | None = None, body: str | BodyDef = "classic_bipedal"):
        self.gains = gains or WalkerGains()
        body_def = body if isinstance(body, BodyDef) else load_body(body)
        motors = body_def.motors
        layout_ok = (len(motors) == 4 and body_def.state_size == 10
                     and all(m.contact_part is None for m in motors[0::2])
                     and all(m.contact_part is not None for m in motors[1::2]))
        if not layout_ok:
            raise ValueError(f"BipedWalkerController needs a biped whose motors are (hip, knee with a contact "
                             f"flag) per leg; {body_def.name!r} has motors {[m.name for m in motors]}")
        self._hip_speed_scale = float(motors[0].speed_control)  # observation speed -> rad/s
        self._knee_speed_scale = float(motors[1].speed_control)
        self._knee_correction = float(motors[1].angle_correction)  # observation angle - joint angle
        self.reset()

    def reset(self) -> None:
        """Start of an episode: leg 0 swings first."""
        self.swing_leg = 0
        self.steps_in_swing = 0

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        return self.act(obs)

    def act(self, obs: np.ndarray) -> np.ndarray:
        """The action (4 entries in [-1, 1]: hip 0, knee 0, hip 1, knee 1) for one observation."""
        g = self.gains
        obs = np.asarray(obs, dtype=np.float64)
        hull = obs[_HULL_ANGLE]
        hull_rate = obs[_HULL_ANGULAR_VELOCITY] / ANGULAR_VELOCITY_OBS
        vx = obs[_VX] / VX_OBS

        self.steps_in_swing += 1
        swing_contact = obs[self._leg(self.swing_leg) + _CONTACT] > 0.5
        if (swing_contact and self.steps_in_swing >= g.min_swing_steps) or self.steps_in_swing >= g.max_swing_steps:
            self.swing_leg, self.steps_in_swing = 1 - self.swing_leg, 0
        swing, stance = self._leg(self.swing_leg), self._leg(1 - self.swing_leg)
        early = self.steps_in_swing < g.early_swing_steps

        # Swing hip: world-frame thigh target with speed and stance-position feedback.
        swing_thigh = hull + obs[swing + _HIP]
        swing_thigh_rate = hull_rate + obs[swing + _HIP_SPEED] * self._hip_speed_scale
        stance_thigh = hull + obs[stance + _HIP]
        target = ((g.swing_thigh_early if early else g.swing_thigh_late)
                  + g.speed_gain * (vx - g.target_speed) - g.stance_gain * stance_thigh)
        swing_hip = g.swing_kp * (target - swing_thigh) - g.swing_kd * swing_thigh_rate
        # Stance hip: the hull gets minus the sum of both hip torques.
        hull_torque = g.hull_kp * (g.hull_lean - hull) - g.hull_kd * hull_rate
        stance_hip = -hull_torque - swing_hip

        action = np.empty(4, dtype=np.float64)
        action[self._motor(swing)] = swing_hip
        action[self._motor(stance)] = stance_hip
        swing_knee_target = g.swing_knee_early if early else g.swing_knee_late
        for leg, knee_target in ((swing, swing_knee_target), (stance, g.stance_knee)):
            knee = obs[leg + _KNEE] - self._knee_correction
            knee_rate = obs[leg + _KNEE_SPEED] * self._knee_speed_scale
            action[self._motor(leg) + 1] = g.knee_kp * (knee_target - knee) - g.knee_kd * knee_rate
        return np.clip(action, -1.0, 1.0).astype(np.float32)

    @staticmethod
    def _leg(k: int) -> int:
        """Index of leg k's first observation entry."""
        return _LEG_BASE + _LEG_STRIDE * k

    @staticmethod
    def _motor(leg_base: int) -> int:
        """Action index of the hip of the leg whose observation starts at leg_base (its knee is next)."""
        return 2 * ((leg_base - _LEG_BASE) // _LEG_STRIDE)


__all__ = ["BipedWalkerController", "WalkerGains"]
