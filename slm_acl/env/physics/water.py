"""Water forces on the agent's parts, computed for all submerged polygons at once with numpy.

ENV_FACTS.md section 12 gives the model (after iforce2d's buoyancy tutorial, as TeachMyAgent):
for every agent fixture paired with the water, the submerged polygon gets buoyancy at its
centroid, and each of its edges gets drag, lift and a "push" from the motors of the joints that
drive the part. TeachMyAgent clips polygons and applies every edge's forces with Python loops and
one Box2D call per force; here the water is what it is in Parkour, one axis-aligned rectangle
below `water_y` spanning the track, so the submerged part of a convex polygon is the polygon
clipped by the half-plane y <= water_y (same vertices, same counter-clockwise order), and the
forces of all edges are computed in arrays and summed per body into one force at the centre of
mass plus one torque. Box2D itself accumulates ApplyForce(F, p) as F and (p - c) x F, so the
result is the same up to float rounding.

Deliberate simplification: the water's left and right ends (the first and last terrain points)
are not clipped against; parts are never there while an episode runs.
"""
from __future__ import annotations

from typing import Iterable

import Box2D
import numpy as np

from slm_acl.env.physics.userdata import Kind

EPS = 1.1920929e-07  # b2_epsilon


def clip_below(points: np.ndarray, level: float) -> np.ndarray:
    """The part of a convex CCW polygon with y <= level (CCW, possibly empty)."""
    out = []
    n = len(points)
    for k in range(n):
        p, q = points[k], points[(k + 1) % n]
        p_in, q_in = p[1] <= level, q[1] <= level
        if p_in:
            out.append(p)
        if p_in != q_in:
            f = (level - p[1]) / (q[1] - p[1])
            out.append((p[0] + f * (q[0] - p[0]), level))
    return np.array(out, dtype=float).reshape(-1, 2)


def _cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0]


def _unit(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors and lengths; a vector shorter than b2_epsilon is left as is (as b2Vec2.Normalize)."""
    length = np.hypot(v[:, 0], v[:, 1])
    safe = np.where(length < EPS, 1.0, length)
    return v / safe[:, None], length


class WaterDynamics:
    """Buoyancy, drag, lift and motor push (TeachMyAgent's parameters as defaults)."""

    def __init__(self, density: float = 1.0, drag_mod: float = 0.25, lift_mod: float = 0.25,
                 push_mod: float = 0.05, max_drag: float = 2000.0, max_lift: float = 500.0,
                 max_push: float = 20.0, gravity_y: float = -10.0, inv_dt: float = 60.0):
        self.density, self.drag_mod, self.lift_mod, self.push_mod = density, drag_mod, lift_mod, push_mod
        self.max_drag, self.max_lift, self.max_push = max_drag, max_lift, max_push
        self.gravity_y = gravity_y
        self.inv_dt = inv_dt  # the push reads motor torques with inverse time step 60 (TeachMyAgent's value)
        self.level = -np.inf
        self._local: dict[Box2D.b2Fixture, np.ndarray] = {}
        self._driving: dict[Box2D.b2Body, list[Box2D.b2RevoluteJoint]] = {}

    def reset(self, level: float) -> None:
        """A new episode: the water's surface height, and forget cached shapes (fixtures were rebuilt)."""
        self.level = float(level)
        self._local.clear()
        self._driving.clear()

    def _polygon(self, fixture: Box2D.b2Fixture) -> np.ndarray:
        local = self._local.get(fixture)
        if local is None:
            local = self._local[fixture] = np.array(fixture.shape.vertices, dtype=float)
        return local

    def _joints_driving(self, body: Box2D.b2Body) -> list[Box2D.b2RevoluteJoint]:
        joints = self._driving.get(body)
        if joints is None:
            joints = self._driving[body] = [edge.joint for edge in body.joints
                                            if isinstance(edge.joint, Box2D.b2RevoluteJoint)
                                            and edge.joint.bodyB == body]
        return joints

    def apply(self, fixtures: Iterable[Box2D.b2Fixture]) -> None:
        """Apply this step's water forces to the bodies of `fixtures` (the parts paired with the water)."""
        bodies: list[Box2D.b2Body] = []
        index: dict[Box2D.b2Body, int] = {}
        v0s, v1s, owners, areas, centroids, area_owner = [], [], [], [], [], []
        for fixture in fixtures:
            body = fixture.body
            if body.userData is None or body.userData.kind != Kind.BODY_OBJECT:
                continue
            b = index.get(body)
            if b is None:
                b = index[body] = len(bodies)
                bodies.append(body)
            x, y = body.position
            angle = body.angle
            c, s = np.cos(angle), np.sin(angle)
            local = self._polygon(fixture)
            world = local @ np.array([[c, s], [-s, c]]) + (x, y)
            poly = clip_below(world, self.level)
            if len(poly) < 3:
                continue
            nxt = np.roll(poly, -1, axis=0)
            cross = _cross(poly, nxt)
            area = 0.5 * cross.sum()
            if area > EPS:
                areas.append(area)
                centroids.append((cross[:, None] * (poly + nxt)).sum(axis=0) / (6.0 * area))
                area_owner.append(b)
            v0s.append(poly)
            v1s.append(nxt)
            owners.append(np.full(len(poly), b))
        if not bodies:
            return
        kin = np.array([(*body.worldCenter, *body.linearVelocity, body.angularVelocity, body.inertia)
                        for body in bodies])  # (B, 6): cx, cy, vx, vy, w, I
        force = np.zeros((len(bodies), 2))
        torque = np.zeros(len(bodies))
        if areas:
            self._buoyancy(np.array(areas), np.array(centroids), np.array(area_owner), kin, force, torque)
        if v0s:
            v0, v1, owner = np.concatenate(v0s), np.concatenate(v1s), np.concatenate(owners)
            self._edges(v0, v1, owner, kin, force, torque)
            self._push(v0, v1, owner, bodies, kin, force, torque)
        for body, f, t in zip(bodies, force.tolist(), torque.tolist()):
            body.ApplyForceToCenter(f, True)
            body.ApplyTorque(t, True)

    # ---- the three kinds of force, accumulated per body as (force, torque about the centre) -----
    def _buoyancy(self, area, centroid, owner, kin, force, torque) -> None:
        lift = -self.density * area * self.gravity_y  # (0, rho * A * -g) at the centroid
        np.add.at(force[:, 1], owner, lift)
        np.add.at(torque, owner, (centroid[:, 0] - kin[owner, 0]) * lift)

    def _edges(self, v0, v1, owner, kin, force, torque) -> None:
        """Drag and lift on every edge that leads into the flow."""
        mid = 0.5 * (v0 + v1)
        rel = mid - kin[owner, 0:2]
        w = kin[owner, 4]
        vel = kin[owner, 2:4] + np.stack([-w * rel[:, 1], w * rel[:, 0]], axis=1)  # part velocity at mid
        u_hat, speed = _unit(vel)
        e_hat, length = _unit(v1 - v0)
        normal = np.stack([e_hat[:, 1], -e_hat[:, 0]], axis=1)
        dot = (normal * u_hat).sum(axis=1)
        leading = dot >= 0
        base = self.density * length * speed * speed
        drag = np.minimum(dot * self.drag_mod * base, self.max_drag)
        lift = np.minimum(dot * (e_hat * u_hat).sum(axis=1) * self.lift_mod * base, self.max_lift)
        f = (-u_hat * drag[:, None] + np.stack([-u_hat[:, 1], u_hat[:, 0]], axis=1) * lift[:, None])
        f[~leading] = 0.0
        np.add.at(force, owner, f)
        np.add.at(torque, owner, _cross(rel, f))

    def _push(self, v0, v1, owner, bodies, kin, force, torque) -> None:
        """Motors pushing against the water: per edge and per joint that drives the part (bodyB)."""
        rows = []  # (edge index, tau, anchor x, anchor y) for every (edge, driving joint in its limits)
        for b, body in enumerate(bodies):
            for joint in self._joints_driving(body):
                angle = joint.angle
                if not joint.lowerLimit < angle < joint.upperLimit:
                    continue
                tau = joint.GetMotorTorque(self.inv_dt)
                ax, ay = joint.anchorB
                for e in np.flatnonzero(owner == b):
                    rows.append((e, tau, ax, ay))
        if not rows:
            return
        table = np.array(rows)
        edge, tau, anchor = table[:, 0].astype(int), table[:, 1], table[:, 2:4]
        b = owner[edge]
        e_hat, length = _unit(v1[edge] - v0[edge])
        normal = np.stack([e_hat[:, 1], -e_hat[:, 0]], axis=1)
        r = kin[b, 0:2] - anchor
        f = np.stack([-tau * r[:, 1], tau * r[:, 0]], axis=1)
        q = (normal * f).sum(axis=1)
        momentum = kin[b, 5] * kin[b, 4]  # I * w
        magnitude = q * self.push_mod * length * self.density * (tau + momentum) ** 2
        push = np.clip(magnitude[:, None] * -f, -self.max_push, self.max_push)
        push[q <= 0] = 0.0
        np.add.at(force, b, push)
        np.add.at(torque, b, _cross(anchor - kin[b, 0:2], push))
