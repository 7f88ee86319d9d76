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


def assert_same_edges(got: Segments, want: Segments) -> None:
    """Same edges in any order, to Box2D's float32 precision."""
    def table(segments):
        rows = np.concatenate([segments.a, segments.b, segments.normal, segments.code[:, None]], axis=1)
        return rows[np.lexsort(np.round(rows, 3).T[::-1])]

    assert len(got) == len(want)
    np.testing.assert_allclose(table(got), table(want), atol=1e-5)


STATIC_CASES = [
    ("slm_acl/StumpTracks-v0", {"stump_height": 1.5, "obstacle_spacing": 2.0, "roughness": 2.0}, {}),
    ("slm_acl/StumpTracks-v0", {"poly_shape": [1.0, 3.0] * 6, "obstacle_spacing": 3.0}, {}),
    ("slm_acl/StumpTracks-v0", {"stump_seq": [1.0, 2.0, 0.5, 2.5, 1.5] * 2, "obstacle_spacing": 3.0}, {}),
    ("slm_acl/Parkour-v0", {"input_vector": [0.2, -0.5, 0.7], "water_level": 0.4, "creepers_width": 0.4,
                            "creepers_height": 2.5, "creepers_spacing": 2.0}, {}),
    ("slm_acl/Parkour-v0", {"input_vector": [0.2, -0.5, 0.7], "water_level": 0.4, "creepers_width": 0.4,
                            "creepers_height": 2.5, "creepers_spacing": 2.0}, {"movable_creepers": True}),
]


@pytest.mark.parametrize("env_id, task, kwargs", STATIC_CASES)
def test_segments_made_while_building_equal_the_fixtures_box2d_holds(env_id, task, kwargs):
    import gymnasium as gym

    import slm_acl.env  # noqa: F401

    env = gym.make(env_id, body="classic_bipedal", **kwargs).unwrapped
    env.reset(seed=3, options={"task": task})
    static = [b for b in env.terrain.bodies if b.type == Box2D.b2_staticBody]
    assert_same_edges(env.terrain.static_segments, Segments.from_fixtures(terrain_fixtures(static)))
    moving = env.terrain.moving
    if kwargs.get("movable_creepers"):
        assert moving is not None and len(moving) > 10
        everywhere = moving.near(0.0, 1e6)
        assert_same_edges(everywhere, Segments.from_fixtures(terrain_fixtures(moving.bodies)))
    else:
        assert moving is None


def test_culled_moving_creepers_give_the_casts_all_pieces_give():
    """The lidar only looks at movable creeper pieces near the head; swinging pieces must not be missed."""
    import gymnasium as gym

    import slm_acl.env  # noqa: F401

    task = {"input_vector": [0.0, 0.8, 0.0], "water_level": 0.0, "creepers_width": 0.3, "creepers_height": 4.0,
            "creepers_spacing": 0.5}
    env = gym.make("slm_acl/Parkour-v0", body="climbing_profile_chimpanzee", movable_creepers=True).unwrapped
    env.reset(seed=0, options={"task": task})
    reference = Lidar(env.lidar_fan if hasattr(env, "lidar_fan") else env._lidar_fan(), env.lidar.length)
    reference.set_static(env.terrain.static_segments)
    rng = np.random.default_rng(0)
    seen = 0
    for _ in range(300):
        env.step(rng.uniform(-1, 1, env.action_space.shape).astype(np.float32))
        head = env.agent.head.position
        culled = env.lidar.cast(head, env.terrain.moving.near(head[0], env.lidar.length))[0].copy()
        full = reference.cast(head, Segments.from_fixtures(terrain_fixtures(env.terrain.moving.bodies)))[0]
        np.testing.assert_allclose(culled, full, atol=1e-6)  # float64 vs Box2D float32 transforms
        seen += int((reference.codes == 1).any())
    assert seen > 0  # the creepers were in sight
