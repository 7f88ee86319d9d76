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

import dataclasses
from typing import Iterable

import Box2D
import numpy as np

from slm_acl.env.physics.userdata import Kind

EPS = 1.1920929e-07  # b2_epsilon
MAX_VERTICES = 8  # b2_maxPolygonVertices


class WaterDynamics:
    """Buoyancy, drag, lift and motor push (TeachMyAgent's parameters as defaults).

    Per episode it learns, fixture by fixture as parts first touch the water, each part polygon's
    local vertices (padded to Box2D's 8), its body and the revolute joints that drive that body.
    Per step it reads one transform and velocity per wet body and one torque per driving joint;
    the rest is arithmetic on fixed-shape (polygons, edges) arrays, without compaction: clipping a
    convex polygon by the surface turns each of its edges into at most one edge of the submerged
    polygon (p->q, p->crossing or crossing->q) and adds one surface edge from the crossing where
    the outline leaves the water to the one where it comes back. Sums over edges (area, centroid,
    forces) do not depend on their order, so masked edges simply contribute zero.
    """

    def __init__(self, density: float = 1.0, drag_mod: float = 0.25, lift_mod: float = 0.25,
                 push_mod: float = 0.05, max_drag: float = 2000.0, max_lift: float = 500.0,
                 max_push: float = 20.0, gravity_y: float = -10.0, inv_dt: float = 60.0):
        self.density, self.drag_mod, self.lift_mod, self.push_mod = density, drag_mod, lift_mod, push_mod
        self.max_drag, self.max_lift, self.max_push = max_drag, max_lift, max_push
        self.gravity_y = gravity_y
        self.inv_dt = inv_dt  # the push reads motor torques with inverse time step 60 (TeachMyAgent's value)
        self.reset(-np.inf)

    def reset(self, level: float) -> None:
        """A new episode: the water's surface height, and forget cached shapes (fixtures were rebuilt)."""
        self.level = float(level)
        self._row: dict[Box2D.b2Fixture, int] = {}  # fixture -> row of the polygon tables; -1: no water forces
        self._polygons: list[tuple[np.ndarray, np.ndarray, np.ndarray, int]] = []  # (local, local next, valid, body)
        self._bodies: list[Box2D.b2Body] = []
        self._body_index: dict[Box2D.b2Body, int] = {}
        self._joints: list[list[tuple[Box2D.b2RevoluteJoint, float, float]]] = []  # per body: (joint, lower, upper)
        self._groups: dict[tuple[int, ...], _WetGroup] = {}

    def apply(self, fixtures: Iterable[Box2D.b2Fixture]) -> None:
        """Apply this step's water forces to the bodies of `fixtures` (the parts paired with the water)."""
        rows = []
        for fixture in fixtures:
            row = self._row.get(fixture)
            if row is None:
                row = self._register(fixture)
            if row >= 0:
                rows.append(row)
        if not rows:
            return
        key = tuple(rows)
        group = self._groups.get(key)
        if group is None:
            group = self._groups[key] = self._group(rows)
        # per body: centre of mass, velocity, position, (angle, angular velocity), as complex numbers
        state = np.array([(*body.worldCenter, *body.linearVelocity, *body.position, body.angle, body.angularVelocity)
                          for body in group.bodies]).view(complex)[group.owner]  # (F, 4): per polygon
        edges = self._submerged_edges(group, state)
        if edges is None:
            return
        v0, v1 = edges
        centre, velocity, omega = state[:, 0:1], state[:, 1:2], state[:, 3:4].imag
        e = v1 - v0  # masked edges are 0 -> 0 and contribute nothing below
        arm = 0.5 * (v0 + v1) - centre  # edge middles relative to the centre
        force, torque = self._buoyancy(v0, v1, centre)
        drag_lift = self._drag_and_lift(e, velocity + 1j * omega * arm)
        force += drag_lift.sum(axis=1)
        torque += (arm.conj() * drag_lift).imag.sum(axis=1)
        if group.joints:
            push, push_torque = self._push(group, e, state)
            force += push
            torque += push_torque
        per_body = group.body_of_polygon @ np.stack([force, torque], axis=1)
        for body, (f, t) in zip(group.bodies, per_body.tolist()):
            body.ApplyForceToCenter((f.real, f.imag), True)
            body.ApplyTorque(t.real, True)

    # ---- what is learnt once per fixture and per set of wet fixtures -----------------------------
    def _register(self, fixture: Box2D.b2Fixture) -> int:
        """Learn a fixture the first time it touches the water; returns its row (-1: no water forces)."""
        body, shape = fixture.body, fixture.shape
        if body.userData is None or body.userData.kind != Kind.BODY_OBJECT \
                or not isinstance(shape, Box2D.b2PolygonShape):
            self._row[fixture] = -1
            return -1
        b = self._body_index.get(body)
        if b is None:
            b = self._body_index[body] = len(self._bodies)
            self._bodies.append(body)
            self._joints.append([(edge.joint, edge.joint.lowerLimit, edge.joint.upperLimit) for edge in body.joints
                                 if isinstance(edge.joint, Box2D.b2RevoluteJoint) and edge.joint.bodyB == body])
        vertices = np.array(shape.vertices, dtype=float)
        n = len(vertices)
        local = np.zeros((2, MAX_VERTICES), complex)  # vertex p and its successor q
        local[0, :n] = vertices[:, 0] + 1j * vertices[:, 1]
        local[1, :n] = np.roll(local[0, :n], -1)
        valid = np.zeros((2, MAX_VERTICES), bool)
        valid[:, :n] = True
        self._polygons.append((local, valid, b))
        row = self._row[fixture] = len(self._polygons) - 1
        return row

    def _group(self, rows: list[int]) -> "_WetGroup":
        """Tables for a set of wet polygons. Driving joints are laid out in layers: layer k holds, for
        each polygon, the k-th joint driving its body (or none), so the push is (layers, F, V + 1)."""
        polygons = [self._polygons[r] for r in rows]
        body_ids, owner = np.unique([p[2] for p in polygons], return_inverse=True)
        joints, joint_bodies = [], []
        for body_id in body_ids:
            for joint, lower, upper in self._joints[body_id]:
                joints.append((joint, lower, upper))
                joint_bodies.append(self._bodies[body_id])
        first = np.cumsum([0] + [len(self._joints[b]) for b in body_ids])
        layers = max((len(self._joints[b]) for b in body_ids), default=0)
        joint_of_polygon = np.full((layers, len(polygons)), -1)
        for f, b in enumerate(owner):
            count = first[b + 1] - first[b]
            joint_of_polygon[:count, f] = np.arange(first[b], first[b + 1])
        return _WetGroup(
            bodies=[self._bodies[b] for b in body_ids], owner=owner,
            body_of_polygon=(owner[None, :] == np.arange(len(body_ids))[:, None]).astype(float),
            local=np.stack([p[0] for p in polygons]), valid=np.stack([p[1] for p in polygons]),
            joints=joints, joint_inertia=np.array([body.inertia for body in joint_bodies]),
            joint_of_polygon=joint_of_polygon)

    # ---- geometry ------------------------------------------------------------------------------
    def _submerged_edges(self, group: "_WetGroup", state: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """The submerged polygons as (F, V + 1) directed complex edges v0 -> v1, zeros where there is
        no edge; None when nothing is wet."""
        level = self.level
        world = group.local * np.exp(1j * state[:, 3:4].real)[:, :, None] + state[:, 2:3, None]  # (F, 2, V)
        below = (world.imag <= level) & group.valid
        p, q = world[:, 0], world[:, 1]
        p_in, q_in = below[:, 0], below[:, 1]
        crossing = p_in ^ q_in
        wet = p_in.sum(axis=1) + crossing.sum(axis=1) >= 3
        if not wet.any():
            return None
        leaves = crossing & p_in
        edge = q - p
        meet = p + (level - p.imag) / np.where(crossing, edge.imag, 1.0) * edge
        v0 = np.empty((len(p), MAX_VERTICES + 1), complex)
        v1 = np.empty_like(v0)
        v0[:, :-1] = np.where(p_in, p, meet)
        v1[:, :-1] = np.where(q_in, q, meet)
        v0[:, -1] = (meet * leaves).sum(axis=1)  # the surface edge, from where the outline leaves the water
        v1[:, -1] = (meet * (crossing & q_in)).sum(axis=1)  # to where it comes back
        mask = np.empty(v0.shape, bool)
        mask[:, :-1] = p_in | q_in
        mask[:, -1] = leaves.any(axis=1)
        mask &= wet[:, None]
        v0 *= mask
        v1 *= mask
        return v0, v1

    # ---- the three kinds of force ----------------------------------------------------------------
    def _buoyancy(self, v0: np.ndarray, v1: np.ndarray, centre: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(0, rho * A * -g) at the centroid of every submerged polygon with a positive area: per
        polygon the complex force and its torque about the centre."""
        cross = (v0.conj() * v1).imag
        area = 0.5 * cross.sum(axis=1)
        wet = area > EPS
        area = np.where(wet, area, 1.0)
        lift = np.where(wet, -self.density * self.gravity_y * area, 0.0)
        arm = (cross * (v0.real + v1.real)).sum(axis=1) / (6.0 * area) - centre[:, 0].real
        return 1j * lift, arm * lift + 0j

    def _drag_and_lift(self, e: np.ndarray, u: np.ndarray) -> np.ndarray:
        """Drag and lift on every edge e that leads into the flow u (the part's velocity at the edge's
        middle): the complex force per edge."""
        speed = np.abs(u)
        u_hat = u / np.where(speed < EPS, 1.0, speed)  # as b2Vec2.Normalize: tiny vectors stay as they are
        length = np.abs(e)
        flow = e.conj() * u_hat  # length * (e_hat . u_hat, e_hat x u_hat)
        dot_length = np.maximum(-flow.imag, 0.0)  # length * outward normal (e_y, -e_x) . u_hat, leading edges only
        base = dot_length * (self.density * speed * speed)
        drag = np.minimum(self.drag_mod * base, self.max_drag)
        lift = np.minimum((self.lift_mod / np.where(length < EPS, 1.0, length)) * base * flow.real, self.max_lift)
        return u_hat * (1j * lift - drag)

    def _push(self, group: "_WetGroup", e: np.ndarray, state: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Motors pushing against the water, per edge and per joint that drives the part (its bodyB):
        per polygon the complex force and its torque about the centre (it acts at the joint's anchor)."""
        readings = [(lower < joint.angle < upper, joint.GetMotorTorque(self.inv_dt), *joint.anchorB)
                    for joint, lower, upper in group.joints]
        table = np.array(readings + [(False, 0.0, 0.0, 0.0)])  # a last row for "no joint"
        push = np.zeros(len(e), complex)
        torque = np.zeros(len(e))
        for layer in group.joint_of_polygon:
            active, tau = table[layer, 0], table[layer, 1]
            at = table[layer, 2] + 1j * table[layer, 3]
            inertia = np.append(group.joint_inertia, 0.0)[layer]
            f = 1j * tau * (state[:, 0] - at) * active  # tau times the arm turned a quarter, per polygon
            q_length = np.maximum(-(e.conj() * f[:, None]).imag, 0.0)  # length * outward normal . f, if > 0
            magnitude = q_length * (self.push_mod * self.density * (tau + inertia * state[:, 3].imag) ** 2)[:, None]
            fx = np.minimum(np.maximum(magnitude * -f.real[:, None], -self.max_push), self.max_push)
            fy = np.minimum(np.maximum(magnitude * -f.imag[:, None], -self.max_push), self.max_push)
            layer_push = fx.sum(axis=1) + 1j * fy.sum(axis=1)
            push += layer_push
            torque += ((at - state[:, 0]).conj() * layer_push).imag
        return push, torque


@dataclasses.dataclass
class _WetGroup:
    """What stays the same while the same fixtures are wet: bodies, polygon tables, driving joints."""
    bodies: list
    owner: np.ndarray             # (F,) body of each polygon (index into bodies)
    body_of_polygon: np.ndarray   # (B, F) one-hot: sums per polygon -> per body
    local: np.ndarray             # (F, 2, V) complex local vertices p and their successors q
    valid: np.ndarray             # (F, 2, V) real vertices (the rest is padding)
    joints: list                  # (joint, lower limit, upper limit) of every driving joint
    joint_inertia: np.ndarray     # (J,) rotational inertia of the body each joint drives
    joint_of_polygon: np.ndarray  # (layers, F): the k-th joint driving polygon f's body, -1: none
