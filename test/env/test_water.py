"""Water forces: the vectorised model against a literal per-edge implementation of ENV_FACTS section 12."""
from __future__ import annotations

import math

import Box2D
import numpy as np
import pytest

from slm_acl.env.physics.userdata import Kind, UserData
from slm_acl.env.physics.water import WaterDynamics

WATER_Y = 2.0


def sutherland_hodgman(subject, clip):
    """Clip polygon `subject` by convex CCW polygon `clip` (inside: (cp2 - cp1) x (p - cp1) > 0)."""
    def inside(p, a, b):
        return (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0]) > 0

    def meet(a, b, p, q):
        dc = (a[0] - b[0], a[1] - b[1])
        dp = (p[0] - q[0], p[1] - q[1])
        n1 = a[0] * b[1] - a[1] * b[0]
        n2 = p[0] * q[1] - p[1] * q[0]
        n3 = 1.0 / (dc[0] * dp[1] - dc[1] * dp[0])
        return ((n1 * dp[0] - n2 * dc[0]) * n3, (n1 * dp[1] - n2 * dc[1]) * n3)

    out = list(subject)
    a = clip[-1]
    for b in clip:
        inp, out = out, []
        if not inp:
            break
        s = inp[-1]
        for e in inp:
            if inside(e, a, b):
                if not inside(s, a, b):
                    out.append(meet(a, b, s, e))
                out.append(e)
            elif inside(s, a, b):
                out.append(meet(a, b, s, e))
            s = e
        a = b
    return out


def literal_water_forces(part: Box2D.b2Body, water_poly, joints):
    """One Box2D call per force, edge by edge, as the facts describe them."""
    for fixture in part.fixtures:
        poly = [tuple(part.transform * v) for v in fixture.shape.vertices]
        inter = sutherland_hodgman(water_poly, poly)
        if len(inter) < 3:
            continue
        area = 0.0
        cx = cy = 0.0
        for k in range(len(inter)):
            p, q = inter[k], inter[(k + 1) % len(inter)]
            cr = p[0] * q[1] - p[1] * q[0]
            area += 0.5 * cr
            cx += 0.5 * cr * (p[0] + q[0]) / 3
            cy += 0.5 * cr * (p[1] + q[1]) / 3
        if area > 1.1920929e-07:
            part.ApplyForce((0.0, 10.0 * area), (cx / area, cy / area), True)
        for k in range(len(inter)):
            v0, v1 = inter[k], inter[(k + 1) % len(inter)]
            mid = ((v0[0] + v1[0]) / 2, (v0[1] + v1[1]) / 2)
            u = part.GetLinearVelocityFromWorldPoint(mid)
            s = math.hypot(*u)
            uh = (u[0] / s, u[1] / s) if s > 1.1920929e-07 else (u[0], u[1])
            length = math.hypot(v1[0] - v0[0], v1[1] - v0[1])
            eh = ((v1[0] - v0[0]) / length, (v1[1] - v0[1]) / length)
            n = (eh[1], -eh[0])
            d = n[0] * uh[0] + n[1] * uh[1]
            if d >= 0:
                drag = min(d * 0.25 * length * s * s, 2000)
                part.ApplyForce((-uh[0] * drag, -uh[1] * drag), mid, True)
                lift = min(d * (eh[0] * uh[0] + eh[1] * uh[1]) * 0.25 * length * s * s, 500)
                part.ApplyForce((-uh[1] * lift, uh[0] * lift), mid, True)
            for joint in joints:
                if not joint.lowerLimit < joint.angle < joint.upperLimit:
                    continue
                tau = joint.GetMotorTorque(60)
                h = part.inertia * part.angularVelocity
                r = (part.worldCenter[0] - joint.anchorB[0], part.worldCenter[1] - joint.anchorB[1])
                f = (-tau * r[1], tau * r[0])
                q = n[0] * f[0] + n[1] * f[1]
                if q > 0:
                    mag = q * 0.05 * length * (tau + h) ** 2
                    push = (min(max(-mag * f[0], -20), 20), min(max(-mag * f[1], -20), 20))
                    part.ApplyForce(push, joint.anchorB, True)


def two_part_world(seed: int):
    """A hull and a leg joined by a motorised hip, half in the water, moving and turning."""
    rng = np.random.default_rng(seed)
    world = Box2D.b2World(gravity=(0, -10))
    hull = world.CreateDynamicBody(position=(5.0, WATER_Y + rng.uniform(-0.3, 0.3)), angle=rng.uniform(-0.5, 0.5),
                                   userData=UserData(Kind.BODY_OBJECT))
    hull.CreatePolygonFixture(vertices=[(-1.0, 0.3), (0.2, 0.3), (1.13, 0.03), (1.13, -0.27), (-1.0, -0.27)],
                              density=5.0)
    leg = world.CreateDynamicBody(position=(5.0, WATER_Y - 0.7), angle=rng.uniform(-0.3, 0.3),
                                  userData=UserData(Kind.BODY_OBJECT))
    leg.CreatePolygonFixture(box=(0.13, 0.57), density=1.0)
    hip = world.CreateRevoluteJoint(bodyA=hull, bodyB=leg, anchor=(5.0, WATER_Y - 0.1), enableLimit=True,
                                    lowerAngle=-0.8, upperAngle=1.1, enableMotor=True, maxMotorTorque=80,
                                    motorSpeed=4.0)
    world.Step(1 / 50, 180, 60)  # give the motor an impulse to report
    for body in (hull, leg):
        body.linearVelocity = tuple(rng.normal(0, 2, 2))
        body.angularVelocity = float(rng.normal(0, 2))
    return world, hull, leg, hip


@pytest.mark.parametrize("seed", range(6))
def test_vectorised_water_equals_per_edge_forces(seed):
    results = []
    for vectorised in (True, False):
        world, hull, leg, hip = two_part_world(seed)
        if vectorised:
            water = WaterDynamics()
            water.reset(WATER_Y)
            water.apply([hull.fixtures[0], leg.fixtures[0]])
        else:
            water_poly = [(0.0, -100.0), (100.0, -100.0), (100.0, WATER_Y), (0.0, WATER_Y)]  # CCW, as Box2D stores it
            literal_water_forces(hull, water_poly, [])
            literal_water_forces(leg, water_poly, [hip])
        world.Step(1 / 50, 180, 60)
        results.append([(*b.linearVelocity, b.angularVelocity) for b in (hull, leg)])
    np.testing.assert_allclose(results[0], results[1], rtol=1e-4, atol=1e-5)


def three_fixture_world(seed: int, depth: float):
    """One body with three polygons (a triangle, a box, an octagon) at `depth` around the surface:
    some fixtures fully under, some crossing, some above (clipped to nothing), joined to a hull by a motor."""
    rng = np.random.default_rng(seed)
    world = Box2D.b2World(gravity=(0, -10))
    hull = world.CreateDynamicBody(position=(3.0, WATER_Y + 1.5), userData=UserData(Kind.BODY_OBJECT))
    hull.CreatePolygonFixture(box=(0.5, 0.2), density=1.0)
    part = world.CreateDynamicBody(position=(3.0, WATER_Y + depth), angle=rng.uniform(-np.pi, np.pi),
                                   userData=UserData(Kind.BODY_OBJECT))
    part.CreatePolygonFixture(vertices=[(-0.6, -0.2), (0.0, -0.9), (0.3, 0.1)], density=1.0)
    part.CreatePolygonFixture(box=(0.2, 0.6, (0.5, 0.4), 0.3), density=2.0)
    octagon = [(0.35 * np.cos(a) - 0.4, 0.35 * np.sin(a) + 0.7) for a in np.arange(8) * np.pi / 4]
    part.CreatePolygonFixture(vertices=octagon, density=0.5)
    joint = world.CreateRevoluteJoint(bodyA=hull, bodyB=part, anchor=(3.0, WATER_Y + depth + 0.3), enableLimit=True,
                                      lowerAngle=-2.0, upperAngle=2.0, enableMotor=True, maxMotorTorque=50,
                                      motorSpeed=-3.0)
    world.Step(1 / 50, 180, 60)
    part.linearVelocity = tuple(rng.normal(0, 2, 2))
    part.angularVelocity = float(rng.normal(0, 3))
    return world, hull, part, joint


@pytest.mark.parametrize("depth", [-1.5, -0.4, 0.0, 0.5, 1.5])
@pytest.mark.parametrize("seed", range(3))
def test_vectorised_water_equals_per_edge_forces_on_a_many_polygon_body(seed, depth):
    results = []
    for vectorised in (True, False):
        world, hull, part, joint = three_fixture_world(seed, depth)
        if vectorised:
            water = WaterDynamics()
            water.reset(WATER_Y)
            water.apply(list(part.fixtures))
        else:
            water_poly = [(0.0, -100.0), (100.0, -100.0), (100.0, WATER_Y), (0.0, WATER_Y)]
            literal_water_forces(part, water_poly, [joint])
        world.Step(1 / 50, 180, 60)
        results.append([(*b.linearVelocity, b.angularVelocity) for b in (hull, part)])
    np.testing.assert_allclose(results[0], results[1], rtol=1e-4, atol=1e-5)


def test_a_light_box_floats_up_and_a_heavy_one_sinks():
    for density, rises in ((0.5, True), (3.0, False)):
        world = Box2D.b2World(gravity=(0, -10))
        box = world.CreateDynamicBody(position=(5.0, WATER_Y - 1.0), userData=UserData(Kind.BODY_OBJECT))
        box.CreatePolygonFixture(box=(0.5, 0.5), density=density)
        water = WaterDynamics()
        water.reset(WATER_Y)
        for _ in range(50):
            water.apply(box.fixtures)
            world.Step(1 / 50, 180, 60)
        assert (box.position[1] > WATER_Y - 1.0) == rises
