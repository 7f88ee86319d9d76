"""Terrain of Stump Tracks and Parkour: CPPN, generators (ENV_FACTS sections 9 to 12) and the Box2D builder."""
from __future__ import annotations

import math
from importlib import resources

import numpy as np
import pytest
from Box2D import b2

from slm_acl.env.physics.userdata import Kind, UserData
from slm_acl.env.terrain import (Obstacle, ParkourTask, StumpTracksLayout, StumpTracksTask, TerrainCPPN,
                                 build_parkour, build_stump_tracks, generate_parkour, generate_stump_tracks)
from slm_acl.env.terrain.box2d_build import _edge_fixture_def
from slm_acl.env.terrain.constants import (FRICTION, GROUND_COLORS, N_CLOUDS, SCALE, TERRAIN_HEIGHT,
                                           TERRAIN_LENGTH, TERRAIN_STARTPAD, TERRAIN_STEP, WATER_COLOR)
from slm_acl.env.terrain.cppn import softplus
from slm_acl.env.terrain.parkour import creeper_segments

TS = TERRAIN_STEP
MEDIUM_INPUT = (-0.15, 0.8, 0.1)  # the centre of TeachMyAgent's "medium" Parkour input space


@pytest.fixture(scope="module")
def cppn():
    return TerrainCPPN()


def parkour(cppn, seed=0, movable=False, **task):
    task = {"input_vector": MEDIUM_INPUT, "water_level": 0.3, **task}
    return generate_parkour(np.random.default_rng(seed), cppn, ParkourTask(**task), movable_creepers=movable)


# --- CPPN ---------------------------------------------------------------------------------------------------

def test_cppn_matches_a_hand_written_matrix_chain(cppn):
    ref = resources.files("slm_acl.env.terrain") / "data" / "parkour_cppn_weights.npz"
    with resources.as_file(ref) as path, np.load(path) as npz:
        w = [npz[f"same_ground_ceiling_cppn/w{i}"].astype(np.float64) for i in range(1, 6)]
    assert [a.shape for a in w] == [(4, 64), (64, 64), (64, 64), (64, 64), (64, 2)]
    v = (0.3, -0.7, 0.55)
    x = np.array([[k / 199, *v] for k in range(200)])
    h = np.tanh(x @ w[0])
    h = np.log(1 + np.exp(h @ w[1]))
    h = np.tanh(h @ w[2])
    h = np.log(1 + np.exp(h @ w[3]))
    expected = h @ w[4]
    out = cppn(v)
    assert out.shape == (200, 2)
    # float32 forward pass against a float64 reference: about 1e-5 relative
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-3 * np.abs(expected).max())
    np.testing.assert_allclose(cppn.inputs(v), x, atol=1e-7)


def test_ground_cppn_has_one_output_and_parkour_rejects_it():
    ground = TerrainCPPN("ground_cppn")
    assert ground(MEDIUM_INPUT).shape == (200, 1)
    with pytest.raises(ValueError, match="ground and ceiling"):
        generate_parkour(np.random.default_rng(0), ground, ParkourTask(MEDIUM_INPUT, 0.5))
    with pytest.raises(ValueError, match="unknown CPPN network"):
        TerrainCPPN("ceiling_cppn")


def test_cppn_checks_its_input(cppn):
    with pytest.raises(ValueError, match="3 values"):
        cppn([0.1, 0.2])
    with pytest.raises(ValueError, match="finite"):
        cppn([0.1, np.nan, 0.2])


def test_softplus_is_stable():
    x = np.array([-1000.0, -50.0, 0.0, 1.0, 50.0, 1000.0], dtype=np.float32)
    with np.errstate(over="raise", invalid="raise"):
        y = softplus(x)
    assert np.all(np.isfinite(y)) and y[0] == 0.0 and y[-1] == 1000.0 and y[1] > 0
    np.testing.assert_allclose(y[2:5], np.log1p(np.exp(x[2:5].astype(np.float64))), rtol=1e-6)


def test_different_input_vectors_give_different_terrain(cppn):
    a = parkour(cppn, input_vector=(-0.35, 0.6, -0.1))
    b = parkour(cppn, input_vector=(0.05, 1.0, 0.3))
    assert np.abs(a.ground - b.ground).max() > 0.1
    assert np.abs(a.ceiling - b.ceiling).max() > 0.1


# --- Parkour --------------------------------------------------------------------------------------------------

def test_parkour_points_start_pad_and_continuity(cppn):
    layout = parkour(cppn)
    n = TERRAIN_LENGTH + TERRAIN_STARTPAD
    assert len(layout.x) == len(layout.ground) == len(layout.ceiling) == n == 220
    np.testing.assert_allclose(layout.x, np.arange(n) * TS, atol=1e-9)
    assert np.all(layout.ground[:TERRAIN_STARTPAD] == TERRAIN_HEIGHT)
    assert np.all(layout.ceiling[:TERRAIN_STARTPAD] == TERRAIN_HEIGHT + 20.0)
    # point 20 is CPPN row 0, aligned onto the start pad exactly
    assert layout.ground[TERRAIN_STARTPAD] == TERRAIN_HEIGHT
    assert layout.ceiling[TERRAIN_STARTPAD] == TERRAIN_HEIGHT + 20.0
    assert np.ptp(layout.ground[TERRAIN_STARTPAD:]) > 0.5  # the CPPN part is not flat
    # the ground follows the CPPN scaled by 1/10
    raw = cppn(MEDIUM_INPUT)[:, 0].astype(np.float64) / 10
    np.testing.assert_allclose(layout.ground[TERRAIN_STARTPAD:], raw - raw[0] + TERRAIN_HEIGHT, atol=1e-9)
    assert layout.ground_limit == -100.0 and layout.ceiling_limit == 100.0 and layout.ceiling_offset == 20.0


@pytest.mark.parametrize("clip_px", [0.0, 150.0])
def test_parkour_ceiling_is_clipped_above_the_ground(cppn, clip_px):
    clipped = 0
    for vector in [(-1, -1, -1), (1, 1, 1), (-1, 1, 0.5), MEDIUM_INPUT]:
        layout = generate_parkour(np.random.default_rng(0), cppn, ParkourTask(vector, 0.5),
                                  ceiling_clip_offset_px=clip_px)
        assert np.all(layout.ceiling >= layout.ground + clip_px / 10)
        clipped += np.sum(layout.ceiling == layout.ground + clip_px / 10)
    assert (clipped > 0) == (clip_px > 0)  # at 15 m the clip binds somewhere; at 0 the CPPN ceiling stays above


def test_parkour_scale_changes_the_limits(cppn):
    layout = parkour(cppn, terrain_cppn_scale=20)
    assert layout.ground_limit == -50.0 and layout.ceiling_limit == 50.0 and layout.ceiling_offset == 10.0
    raw = cppn(MEDIUM_INPUT)[:, 0].astype(np.float64) / 20
    np.testing.assert_allclose(layout.ground[TERRAIN_STARTPAD:], raw - raw[0] + TERRAIN_HEIGHT, atol=1e-9)
    with pytest.raises(ValueError, match="> 1"):
        ParkourTask(MEDIUM_INPUT, 0.5, terrain_cppn_scale=1.0)


@pytest.mark.parametrize("spacing, every", [(0.1, 2), (1.0, 4)])
def test_creepers_hang_every_nth_segment(cppn, spacing, every):
    layout = parkour(cppn, creepers_width=0.25, creepers_height=2.0, creepers_spacing=spacing)
    segments = [c.segment for c in layout.creepers]
    assert segments == list(range(0, 219, every))
    for c in layout.creepers:
        i = c.segment
        assert c.x0 == layout.x[i] and c.x1 == pytest.approx(layout.x[i] + 0.25)
        assert c.top == max(layout.ceiling[i], layout.ceiling[i + 1])  # width 0.25 m: one step ahead
        assert c.height >= 0.2 and not c.movable
    heights = np.array([c.height for c in layout.creepers])
    assert abs(heights.mean() - 2.0) < 0.05 and 0.05 < heights.std() < 0.15


def test_creeper_counter_and_minimum_sizes(cppn):
    dx = [0.0] + [TS] * 218
    assert creeper_segments(219, 0.1, dx)[:4] == [0, 2, 4, 6]
    assert creeper_segments(219, 1.0, dx)[:3] == [0, 4, 8]
    assert creeper_segments(219, 5.0, dx)[:2] == [0, 1 + math.ceil(5.0 / TS)]
    layout = parkour(cppn, creepers_width=0.0, creepers_height=-3.0, creepers_spacing=0.0)
    assert len(layout.creepers) == 110  # spacing clipped to 0.01
    assert all(c.height == 0.2 and c.x1 - c.x0 == pytest.approx(0.2) for c in layout.creepers)
    assert parkour(cppn, creepers_width=0.25).creepers == []  # both width and height are needed


def test_movable_creepers_pieces_and_joint_points(cppn):
    layout = parkour(cppn, movable=True, creepers_width=0.5, creepers_height=2.5, creepers_spacing=1.0)
    for c in layout.creepers:
        assert len(c.pieces) == math.ceil(c.height) == len(c.anchors)
        lengths = [top - bottom for top, bottom in c.pieces]
        assert lengths[:-1] == pytest.approx([1.0] * (len(lengths) - 1))
        assert lengths[-1] == pytest.approx(max(0.2, c.height % 1) if c.height % 1 else 1.0)
        np.testing.assert_allclose([b for _, b in c.pieces[:-1]], [t for t, _ in c.pieces[1:]])  # they touch
        assert c.pieces[0][0] == c.top
        for (top, _), (ax, ay) in zip(c.pieces, c.anchors):
            assert ay == top and ax == pytest.approx((c.x0 + c.x1) / 2)
        # width 0.5 m spans one step: the creeper top is the higher ceiling point of the two
        assert c.top == max(layout.ceiling[c.segment], layout.ceiling[c.segment + 1])


@pytest.mark.parametrize("level", [0.0, 0.3, 1.0])
def test_water_level(cppn, level):
    layout = parkour(cppn, water_level=level)
    expected = -100.0 + max(0.01, level) * (layout.ceiling.max() + 100.0)
    assert layout.water_y == pytest.approx(expected, abs=1e-12)
    x_last = layout.x[-1]
    np.testing.assert_allclose(layout.water, [(0, -100), (0, expected), (x_last, expected), (x_last, -100)])


def test_parkour_seeding(cppn):
    kw = dict(creepers_width=0.25, creepers_height=2.0)
    a, b, c = parkour(cppn, 1, **kw), parkour(cppn, 1, **kw), parkour(cppn, 2, **kw)
    assert a.creepers == b.creepers and np.array_equal(a.clouds, b.clouds)
    assert a.creepers != c.creepers and not np.array_equal(a.clouds, c.clouds)
    # the terrain's draws (creeper heights, then clouds) come before the env's next draw
    rng = np.random.default_rng(5)
    generate_parkour(rng, cppn, ParkourTask(MEDIUM_INPUT, 0.3, **kw))
    ref = np.random.default_rng(5)
    ref.standard_normal(len(a.creepers))
    ref.random(11 * N_CLOUDS)
    assert rng.random() == ref.random()


# --- Stump Tracks ---------------------------------------------------------------------------------------------

def stumps(seed=0, **task):
    return generate_stump_tracks(np.random.default_rng(seed), StumpTracksTask(**task))


def test_stump_tracks_flat_ground_and_point_convention():
    layout = stumps(stump_height=1.0, obstacle_spacing=2.0)
    assert np.all(layout.y == TERRAIN_HEIGHT)  # roughness 0
    start = TERRAIN_STARTPAD * TS
    assert layout.x[0] == 0 and layout.x[1] == start and layout.x[2] == start  # repeated first loop point
    assert layout.x.max() < TERRAIN_LENGTH * TS <= layout.x[-1] + 2.0  # the last advance crosses the end
    assert layout.clouds.shape == (N_CLOUDS, 5, 2)


def test_stump_heights_follow_the_task_and_spacing_is_exact():
    layout = stumps(stump_height=1.3, obstacle_spacing=0.3)
    assert {o.kind for o in layout.obstacles} == {"stump"} and len(layout.obstacles) > 100
    v = np.array([o.vertices for o in layout.obstacles])  # (n, 4, 2)
    heights = (v[:, 2, 1] - v[:, 0, 1]) / TS
    assert abs(heights.mean() - 1.3) < 0.03 and 0.07 < heights.std() < 0.13
    np.testing.assert_allclose(v[:, 1, 0] - v[:, 0, 0], TS)  # one step wide
    np.testing.assert_allclose(v[1:, 0, 0] - v[:-1, 1, 0], 0.3)  # grass of obstacle_spacing metres between
    assert v[0, 0, 0] == TERRAIN_STARTPAD * TS  # the first obstacle stands at the end of the start pad


def test_roughness_and_stump_width_and_rotation():
    layout = stumps(stump_height=1.0, obstacle_spacing=1.0, roughness=5.0, stump_width=(2.0, 0.0),
                    stump_rot=(0.5, 0.0))
    assert np.ptp(layout.y) > 0.01
    v = np.array([o.vertices for o in layout.obstacles])
    side = np.hypot(*(v[:, 1] - v[:, 0]).T)
    np.testing.assert_allclose(side, 2 * TS)  # width 2 steps
    angle = np.arctan2(*(v[:, 1] - v[:, 0])[:, ::-1].T)
    np.testing.assert_allclose(angle, 0.5)  # rotated counter-clockwise
    np.testing.assert_allclose((v[:, 0, 1] + v[:, 1, 1]) / 2, layout.y[2::2][:len(v)])  # about the base middle


def test_hexagon_tracks():
    shape = [0.5, 0.2] * 6
    layout = stumps(poly_shape=shape, obstacle_spacing=2.0)
    assert {o.kind for o in layout.obstacles} == {"hexagon"}
    v = np.array([o.vertices for o in layout.obstacles])  # (n, 6, 2)
    assert v.shape[1:] == (6, 2)
    y0 = TERRAIN_HEIGHT
    assert np.all(v[:, 0, 1] == y0) and np.all(v[:, 5, 1] == y0)  # the two ground vertices stay on the ground
    d = (v[:, 1:5, 1] - y0) / TS - np.array([0.25, 0.5, 0.5, 0.25])  # offsets of the lifted vertices
    assert abs(d.mean() - 0.2) < 0.03
    steps = np.diff(layout.x[2:])  # hexagon, grass, hexagon, ...: 1 m, then obstacle_spacing
    np.testing.assert_allclose(steps[0::2], 1.0)
    np.testing.assert_allclose(steps[1::2], 2.0)
    d0 = (v[:, 0, 0] - layout.x[2::2][:len(v)]) / TS + 0.5  # vertex 0's x = x + (-0.5 + d0) TS
    assert abs(d0.mean() - 0.5) < 0.03
    for o in layout.obstacles:
        assert o.color1[0] == 1.0 and 0 <= o.color1[1] <= 1 and 0 <= o.color1[2] <= 1
    with pytest.raises(ValueError, match="12 values"):
        StumpTracksTask(poly_shape=[1.0] * 11)
    assert StumpTracksTask(poly_shape=[-1.0, 9.0] * 6).poly_shape == (0.0, 4.0) * 6  # clipped to [0, 4]


def test_stump_sequence():
    seq = [1.0, 0.5, 2.0, 1.5]
    layout = stumps(stump_seq=seq, obstacle_spacing=3.0)
    assert {o.kind for o in layout.obstacles} == {"seq"}
    v = np.array([o.vertices for o in layout.obstacles]).reshape(-1, 2, 4, 2)  # (groups, blocks, 4, 2)
    np.testing.assert_allclose(v[:, 1, 0, 0], v[:, 0, 1, 0])  # blocks of a sequence touch
    widths = v[:, :, 1, 0] - v[:, :, 0, 0]  # metres
    heights = (v[:, :, 2, 1] - v[:, :, 0, 1]) / TS  # steps
    np.testing.assert_allclose(widths.mean(axis=0), [0.5, 1.5], atol=0.08)
    np.testing.assert_allclose(heights.mean(axis=0), [1.0, 2.0], atol=0.08)
    with pytest.raises(ValueError, match="odd"):
        StumpTracksTask(stump_seq=[1.0, 0.5, 2.0])


def test_mixed_obstacle_kinds_are_all_drawn():
    layout = stumps(stump_height=1.0, poly_shape=[0.0] * 12, stump_seq=[1.0, 1.0], obstacle_spacing=0.5)
    assert {o.kind for o in layout.obstacles} == {"stump", "hexagon", "seq"}


def test_stump_tracks_seeding_and_no_global_rng():
    task = dict(stump_height=1.0, poly_shape=[1.0] * 12, stump_width=(1.0, 0.3), obstacle_spacing=1.0, roughness=2)
    np.random.seed(0)
    state = np.random.get_state()[1].copy()
    a, b, c = stumps(7, **task), stumps(7, **task), stumps(8, **task)
    assert np.array_equal(np.random.get_state()[1], state)  # numpy's global generator is never drawn from
    assert np.array_equal(a.x, b.x) and np.array_equal(a.y, b.y) and a.obstacles == b.obstacles
    assert np.array_equal(a.clouds, b.clouds)
    assert not (len(a.x) == len(c.x) and np.array_equal(a.x, c.x) and a.obstacles == c.obstacles)


def test_stump_tracks_task_needs_an_obstacle():
    with pytest.raises(ValueError, match="at least one obstacle kind"):
        StumpTracksTask(obstacle_spacing=2.0)
    task = StumpTracksTask(stump_height=1.0, obstacle_spacing=None, roughness=None)
    assert task.obstacle_spacing == 8.0 and task.roughness == 0.0
    assert StumpTracksTask(stump_height=1.0, obstacle_spacing=-3).obstacle_spacing == 0.01


# --- Box2D ------------------------------------------------------------------------------------------------------

def check_terrain_fixture(fixture, sensor=False):
    assert fixture.filterData.categoryBits == 0x1 and fixture.filterData.maskBits == 0xFFFF
    assert fixture.sensor == sensor
    if not sensor:
        assert fixture.friction == pytest.approx(FRICTION)
    color1, color2 = fixture.userData
    assert len(color1) == len(color2) == 3


def test_build_stump_tracks_fixtures_user_data_and_destroy():
    world = b2.world()
    layout = stumps(stump_height=1.0, poly_shape=[1.0] * 12, obstacle_spacing=1.0)
    terrain = build_stump_tracks(world, layout)
    assert len(world.bodies) == 2 and terrain.skipped == 0
    ground, obstacles = terrain.ground, terrain.obstacles
    assert isinstance(ground.userData, UserData) and ground.userData.kind == Kind.TERRAIN
    assert obstacles.userData.kind == Kind.TERRAIN  # hexagons too (TeachMyAgent gives them no user data)
    assert len(ground.fixtures) == len(layout.x) - 1 and len(obstacles.fixtures) == len(layout.obstacles)
    assert all(b.type == b2.staticBody for b in world.bodies)
    edges = sorted(ground.fixtures, key=lambda f: (f.shape.vertex1[0], f.shape.vertex2[0]))
    for f in ground.fixtures + obstacles.fixtures:
        check_terrain_fixture(f)
    assert edges[-1].shape.vertex2[0] == pytest.approx(layout.x[-1])
    assert {f.userData[0] for f in ground.fixtures} == set(GROUND_COLORS)
    terrain.destroy()
    assert len(world.bodies) == 0
    terrain.destroy()  # twice is harmless


def test_degenerate_obstacle_is_skipped():
    world = b2.world()
    layout = StumpTracksLayout(np.array([0.0, 1.0]), np.array([0.0, 0.0]), [
        Obstacle("hexagon", ((0.0, 0.0), (1.0, 0.0), (2.0, 0.0), (3.0, 0.0)), (1.0, 0.0, 0.0)),
        Obstacle("hexagon", ((0.0, 0.0), (1.0, 0.0), (0.5, 1e-8)), (1.0, 0.0, 0.0)),
        Obstacle("stump", ((0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)), (1.0, 1.0, 1.0))], np.zeros((0, 5, 2)))
    terrain = build_stump_tracks(world, layout)
    assert terrain.skipped == 2 and len(terrain.obstacles.fixtures) == 1


def test_merged_bodies_collide_like_one_body_per_fixture():
    """One body holding all edge / polygon fixtures gives the same motion as TeachMyAgent's one body each."""
    layout = stumps(3, stump_height=0.5, obstacle_spacing=0.5, roughness=10.0)

    def run(merged):
        world = b2.world()
        if merged:
            build_stump_tracks(world, layout)
        else:
            fd = _edge_fixture_def()
            for x0, y0, x1, y1 in zip(layout.x[:-1], layout.y[:-1], layout.x[1:], layout.y[1:]):
                fd.shape.vertices = [(x0, y0), (x1, y1)]
                world.CreateStaticBody(fixtures=fd)
            pfd = b2.fixtureDef(shape=b2.polygonShape(box=(1, 1)), friction=FRICTION)
            for o in layout.obstacles:
                pfd.shape.vertices = o.vertices
                world.CreateStaticBody(fixtures=pfd)
        bodies = []
        for k in range(3):
            body = world.CreateDynamicBody(position=(8.5 + 0.6 * k, 4.5), linearVelocity=(5.0, 0.0))
            if k == 1:
                body.CreateCircleFixture(radius=0.25, density=1.0, friction=0.5)
            else:
                body.CreatePolygonFixture(box=(0.2, 0.1), density=1.0, friction=0.5)
            bodies.append(body)
        out = []
        for _ in range(200):
            world.Step(1 / 50, 180, 60)
            out.append([(*b.position, b.angle) for b in bodies])
        return np.array(out)

    merged, separate = run(True), run(False)
    assert np.ptp(merged[:, :, 0]) > 0.5  # they moved over the terrain
    np.testing.assert_allclose(merged, separate, atol=1e-9)


@pytest.mark.parametrize("movable", [False, True])
def test_build_parkour_fixtures_user_data_and_destroy(cppn, movable):
    world = b2.world()
    layout = parkour(cppn, movable=movable, creepers_width=0.25, creepers_height=1.5, creepers_spacing=1.0)
    terrain = build_parkour(world, layout)
    n_segments = len(layout.x) - 1
    assert terrain.ground.userData.kind == Kind.TERRAIN and len(terrain.ground.fixtures) == n_segments
    assert terrain.ceiling.userData.kind == Kind.GRIP_TERRAIN and len(terrain.ceiling.fixtures) == n_segments
    for f in terrain.ground.fixtures + terrain.ceiling.fixtures:
        check_terrain_fixture(f)
    water = terrain.water
    assert water.userData.kind == Kind.WATER and len(water.fixtures) == 1
    check_terrain_fixture(water.fixtures[0], sensor=True)
    assert water.fixtures[0].density == 1.0 and water.fixtures[0].userData[0] == WATER_COLOR
    n_creepers = len(layout.creepers)
    assert n_creepers == 55
    if movable:
        n_pieces = sum(len(c.pieces) for c in layout.creepers)
        assert len(terrain.creepers) == n_pieces == len(terrain.joints) == len(world.joints)
        assert all(b.type == b2.dynamicBody for b in terrain.creepers)
        assert terrain.joints[0].bodyA == terrain.ceiling and terrain.joints[1].bodyA == terrain.creepers[0]
        assert terrain.joints[0].limitEnabled and terrain.joints[0].limits[1] == pytest.approx(0.4 * math.pi)
        fixtures = [b.fixtures[0] for b in terrain.creepers]
    else:
        assert len(terrain.creepers) == 1 and len(terrain.creepers[0].fixtures) == n_creepers
        fixtures = terrain.creepers[0].fixtures
    assert all(b.userData.kind == Kind.SENSOR_GRIP_TERRAIN for b in terrain.creepers)
    for f in fixtures:
        check_terrain_fixture(f, sensor=True)
        assert f.density == 5.0
    assert len(world.bodies) == 3 + len(terrain.creepers)
    for _ in range(5):
        world.Step(1 / 50, 180, 60)
    terrain.destroy()
    assert len(world.bodies) == 0 and len(world.joints) == 0


def test_clouds(cppn):
    clouds = parkour(cppn).clouds
    assert clouds.shape == (N_CLOUDS, 5, 2)
    a = np.arange(5)
    jitter_y = clouds[:, :, 1] - (400 / SCALE * 3 / 4 + 5 * TS * np.cos(3.14 * 2 * a / 5))
    assert np.all((jitter_y >= 0) & (jitter_y <= 5 * TS)) and jitter_y.std() > 0.5
    centre_x = clouds[:, :, 0] - 15 * TS * np.sin(3.14 * 2 * a / 5)  # cloud x + jitter in [0, 5 TS]
    assert np.all(np.ptp(centre_x, axis=1) <= 5 * TS)
    assert np.all((centre_x >= 0) & (centre_x <= TERRAIN_LENGTH * TS + 5 * TS))
