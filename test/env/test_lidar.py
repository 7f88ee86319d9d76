"""The numpy lidar against Box2D's own ray casts on random terrain."""
from __future__ import annotations

import math

import Box2D
import numpy as np
import pytest

from slm_acl.env.physics.lidar import Lidar, Segments, terrain_fixtures
from slm_acl.env.physics.userdata import Kind, UserData


class ClosestHit(Box2D.b2RayCastCallback):
    """Box2D's reference answer: the closest fixture of category 1 along the ray."""

    def __init__(self):
        super().__init__()
        self.fraction, self.kind = 1.0, None

    def ReportFixture(self, fixture, point, normal, fraction):  # noqa: N802
        if fixture.filterData.categoryBits & 0x1 == 0:
            return -1.0
        self.fraction, self.kind = fraction, fixture.body.userData.kind
        return fraction


def random_world(rng: np.random.Generator) -> tuple[Box2D.b2World, list[Box2D.b2Body]]:
    world = Box2D.b2World(gravity=(0, -10))
    bodies = []
    xs = np.arange(0, 40, 0.46667)
    ys = 3.3 + np.cumsum(rng.normal(0, 0.15, len(xs)))
    ground = world.CreateStaticBody(userData=UserData(Kind.TERRAIN))
    for k in range(len(xs) - 1):
        ground.CreateEdgeFixture(vertices=[(xs[k], ys[k]), (xs[k + 1], ys[k + 1])])
    ceiling = world.CreateStaticBody(userData=UserData(Kind.GRIP_TERRAIN))
    for k in range(len(xs) - 1):
        ceiling.CreateEdgeFixture(vertices=[(xs[k], ys[k] + 6), (xs[k + 1], ys[k + 1] + 6)])
    stumps = world.CreateStaticBody(userData=UserData(Kind.TERRAIN))
    creepers = world.CreateStaticBody(userData=UserData(Kind.SENSOR_GRIP_TERRAIN))
    for k in range(3, len(xs) - 3, 5):
        h = rng.uniform(0.1, 1.5)
        stumps.CreatePolygonFixture(vertices=[(xs[k], ys[k]), (xs[k] + 0.4, ys[k]), (xs[k] + 0.4, ys[k] + h),
                                              (xs[k], ys[k] + h)])
        creepers.CreatePolygonFixture(box=(0.12, 0.8, (xs[k + 2], ys[k + 2] + 5), 0.0), isSensor=True)
    water_y = 3.3 + rng.uniform(-0.5, 2.0)
    water = world.CreateStaticBody(userData=UserData(Kind.WATER))
    water.CreatePolygonFixture(vertices=[(0, -100), (0, water_y), (40, water_y), (40, -100)], isSensor=True)
    bodies += [ground, ceiling, stumps, creepers, water]
    return world, bodies


@pytest.mark.parametrize("fan", ["down", "up", "full"])
def test_numpy_lidar_matches_box2d_ray_casts(fan):
    rng = np.random.default_rng(0)
    for _ in range(5):
        world, bodies = random_world(rng)
        lidar = Lidar(fan, 160 / 30)
        lidar.set_static(Segments.from_fixtures(terrain_fixtures(bodies)))
        for _ in range(60):
            origin = (rng.uniform(2, 38), rng.uniform(2.5, 9.0))
            fractions, codes = lidar.cast(origin)
            for i in range(10):
                callback = ClosestHit()
                p2 = (origin[0] + lidar.rays[i, 0], origin[1] + lidar.rays[i, 1])
                world.RayCast(callback, origin, p2)
                assert fractions[i] == pytest.approx(callback.fraction, abs=2e-5)
                if callback.kind is not None:
                    expected = {Kind.WATER: -1, Kind.SENSOR_GRIP_TERRAIN: 1}.get(callback.kind, 0)
                    assert codes[i] == expected


def test_a_ray_that_hits_nothing_keeps_its_last_surface_code_until_reset():
    world = Box2D.b2World()
    water = world.CreateStaticBody(userData=UserData(Kind.WATER))
    water.CreatePolygonFixture(vertices=[(0, -100), (0, 1), (100, 1), (100, -100)], isSensor=True)
    lidar = Lidar("down", 160 / 30)
    lidar.set_static(Segments.from_fixtures(terrain_fixtures([water])))
    fractions, codes = lidar.cast((5.0, 3.0))
    assert fractions[0] == pytest.approx(2 / (160 / 30)) and codes[0] == -1
    fractions, codes = lidar.cast((5.0, 30.0))  # far above: nothing in range
    assert fractions[0] == 1.0 and codes[0] == -1
    inside, _ = lidar.cast((5.0, 0.0))  # starting inside the water: Box2D does not report it
    assert inside[0] == 1.0
    lidar.set_static(Segments.from_fixtures(terrain_fixtures([water])))
    assert (lidar.codes == 0).all()


def test_fans_have_ten_rays_at_the_documented_angles():
    down = Lidar("down", 1.0)
    assert down.rays[0] == pytest.approx([0.0, -1.0])
    assert down.rays[9] == pytest.approx([math.sin(1.35), -math.cos(1.35)])
    with pytest.raises(ValueError, match="valid: \\['down', 'full', 'up'\\]"):
        Lidar("sideways", 1.0)
