"""Static Box2D bodies of a Stump Tracks or Parkour layout.

Every terrain fixture has friction 2.5 (creepers and water: Box2D's default 0.2), categoryBits 0x1 and
maskBits 0xFFFF (ENV_FACTS sections 9 to 12). Each body's `userData` is a
`slm_acl.env.physics.userdata.UserData`; each fixture's `userData` is its render colours as a
(fill, outline) pair of RGB tuples, because one body carries fixtures of different colours.

Bodies, versus TeachMyAgent (one static body per ground edge, per ceiling edge, per stump and per static
creeper): here one static body holds all the ground edges, one all the ceiling edges, one all the stumps,
hexagons and sequence blocks, and one all the static creepers, one fixture per edge / polygon. Box2D
collides fixture by fixture, so the contacts are the same; building is 3 to 4x cheaper (about 1 us per
fixture instead of about 3.3 us per body). No chain shape is used: a chain's ghost vertices would change the
collisions at the joins. What changes for the rest of the env:

- several contacts can involve the same terrain body at once (two ground edges under one foot), so code that
  keeps per-contact state must key it by fixture, not by body;
- climbing's coarse overlap test (ENV_FACTS section 14) must test the AABB of the touched *fixture*
  (TeachMyAgent tests the body's first fixture, which was the touched one when a body had one fixture);
- a grasp joint to a ceiling edge or a static creeper joins the shared static body, which is the same
  physics (static bodies do not move).

Hexagons get UserData TERRAIN "grass" like the stumps: TeachMyAgent gives them no user data (their contact
handling is unknown, and its contact listener would fail on them), the lab treats them as the stumps they
stand in for.

Degenerate polygons: Box2D (pybox2d 2.3) keeps the convex hull of a polygon's vertices and rejects, with an
AssertionError, one whose hull has fewer than 3 points or an area below b2_epsilon (collinear or nearly
coincident vertices). Such an obstacle has no area to collide with; it is skipped (counted in
`TerrainBodies.skipped`). Stumps and blocks cannot be degenerate (both sides >= 0.023 m); hexagons only
with extreme offsets.
"""
from __future__ import annotations

import dataclasses

from Box2D import b2

from slm_acl.env.physics.lidar import (SURFACE_CODE, MovingPolygons, Segments, concatenate, edge_segments,
                                       polygon_segments)
from slm_acl.env.physics.userdata import Kind, UserData
from slm_acl.env.terrain.constants import (CEILING_COLOR, CREEPER_COLOR, FRICTION, GROUND_COLORS,
                                           MOVABLE_CREEPER_OUTLINE_COLOR, STUMP_COLORS, WATER_COLOR,
                                           WATER_DENSITY)
from slm_acl.env.terrain.parkour import CREEPER_JOINT_LIMIT, ParkourLayout
from slm_acl.env.terrain.stump_tracks import StumpTracksLayout

CATEGORY_BITS = 0x1  # terrain, obstacles, creepers and water
MASK_BITS = 0xFFFF
CREEPER_DENSITY = 5.0
SWING_MARGIN = 0.5  # m: joints are soft; a piece may stray a little beyond its chain's reach
_GROUND_FIXTURE_COLORS = tuple((c, c) for c in GROUND_COLORS)  # (fill, outline) for even / odd segments
_CEILING_FIXTURE_COLORS = (CEILING_COLOR, CEILING_COLOR)
_STATIC_CREEPER_COLORS = (CREEPER_COLOR, CREEPER_COLOR)
_MOVABLE_CREEPER_COLORS = (CREEPER_COLOR, MOVABLE_CREEPER_OUTLINE_COLOR)
_WATER_COLORS = (WATER_COLOR, WATER_COLOR)


@dataclasses.dataclass
class TerrainBodies:
    """The Box2D bodies and joints of one episode's terrain; `destroy()` removes them from the world.

    ground: the static body of all ground edges (one edge fixture per segment, in segment order).
    ceiling: Parkour only, the static body of all ceiling edges (fixture i = segment i).
    obstacles: Stump Tracks only, the static body of all stumps, hexagons and blocks (None if none).
    creepers: Parkour only: the static body of all static creepers (one fixture each), or every movable
        creeper piece (one dynamic body each), in creation order.
    water: Parkour only, the static water sensor body.
    joints: the movable creepers' revolute joints.
    skipped: obstacles Box2D rejected as degenerate (see the module docstring).
    static_segments: every edge the lidar can see on the static bodies, made while building from the
        same vertices Box2D holds (reading them back from the fixtures costs more than the build).
    moving: the movable creeper pieces as the lidar sees them (None without movable creepers).
    """

    world: b2.world
    ground: b2.body
    ceiling: b2.body | None = None
    obstacles: b2.body | None = None
    creepers: list = dataclasses.field(default_factory=list)
    water: b2.body | None = None
    joints: list = dataclasses.field(default_factory=list)
    skipped: int = 0
    static_segments: Segments = dataclasses.field(default_factory=Segments.empty)
    moving: MovingPolygons | None = None

    @property
    def bodies(self) -> list:
        """All bodies, in creation order."""
        out = [self.ground]
        out += [b for b in (self.ceiling, self.obstacles) if b is not None]
        out += self.creepers
        if self.water is not None:
            out.append(self.water)
        return out

    def destroy(self) -> None:
        """Destroy the joints, then the bodies (Box2D would destroy the joints with the bodies, but the Python
        joint objects would then point at freed memory). Safe to call twice."""
        if self.destroyed:
            return
        world = self.world
        for joint in self.joints:
            world.DestroyJoint(joint)
        for body in self.bodies:
            world.DestroyBody(body)
        self.joints = []
        self.creepers = []
        self.ground = self.ceiling = self.obstacles = self.water = None

    @property
    def destroyed(self) -> bool:
        return self.ground is None


def _static_body(world: b2.world, user_data: UserData) -> b2.body:
    body = world.CreateBody(b2.bodyDef(type=b2.staticBody))
    body.userData = user_data
    return body


def _edge_fixture_def() -> b2.fixtureDef:
    return b2.fixtureDef(shape=b2.edgeShape(vertices=[(0, 0), (1, 0)]), friction=FRICTION,
                         categoryBits=CATEGORY_BITS, maskBits=MASK_BITS)


def _add_edges(body: b2.body, xs: list, ys: list, colors) -> None:
    """One edge fixture per consecutive point pair; fixture i gets colors[i % len(colors)].

    The shape of one fixture definition is rewritten for each edge (Box2D copies it into the fixture).
    Zero-length edges are kept, as in TeachMyAgent (Stump Tracks' first loop point repeats the start-pad end).
    """
    fd = _edge_fixture_def()
    shape = fd.shape
    n_colors = len(colors)
    create = body.CreateFixture
    x0, y0 = xs[0], ys[0]
    for i in range(len(xs) - 1):
        x1, y1 = xs[i + 1], ys[i + 1]
        shape.vertex1 = (x0, y0)
        shape.vertex2 = (x1, y1)
        fd.userData = colors[i % n_colors]
        create(fd)
        x0, y0 = x1, y1


def build_stump_tracks(world: b2.world, layout: StumpTracksLayout) -> TerrainBodies:
    """Create a Stump Tracks layout's static bodies: one ground body (an edge fixture per segment) and one
    obstacle body (a polygon fixture per stump, hexagon or block), both UserData TERRAIN "grass"."""
    ground = _static_body(world, UserData(Kind.TERRAIN, "grass", color1=GROUND_COLORS[0], color2=GROUND_COLORS[0]))
    _add_edges(ground, layout.x.tolist(), layout.y.tolist(), _GROUND_FIXTURE_COLORS)
    out = TerrainBodies(world, ground)
    polygons = []
    if layout.obstacles:
        body = _static_body(world, UserData(Kind.TERRAIN, "grass", color1=STUMP_COLORS[0], color2=STUMP_COLORS[1]))
        fd = b2.fixtureDef(shape=b2.polygonShape(box=(1, 1)), friction=FRICTION, categoryBits=CATEGORY_BITS,
                           maskBits=MASK_BITS)
        shape = fd.shape
        for obstacle in layout.obstacles:
            try:
                shape.vertices = obstacle.vertices
            except AssertionError:  # degenerate hull: nothing to collide with (module docstring)
                out.skipped += 1
                continue
            fd.userData = (obstacle.color1, obstacle.color2)
            body.CreateFixture(fd)
            polygons.append(shape.vertices)  # Box2D's hull, counter-clockwise
        out.obstacles = body
    out.static_segments = concatenate([edge_segments(layout.x, layout.y, SURFACE_CODE.get(Kind.TERRAIN, 0)),
                                       polygon_segments(polygons, SURFACE_CODE.get(Kind.TERRAIN, 0))])
    return out


def build_parkour(world: b2.world, layout: ParkourLayout) -> TerrainBodies:
    """Create a Parkour layout's bodies: the ground (TERRAIN "grass") and ceiling (GRIP_TERRAIN "rock") edge
    bodies, the creepers (SENSOR_GRIP_TERRAIN "creeper", sensors of density 5: one static body for all static
    creepers, or per movable creeper a chain of dynamic pieces jointed to the ceiling) and the water
    (WATER, a sensor of density 1)."""
    xs = layout.x.tolist()
    ground = _static_body(world, UserData(Kind.TERRAIN, "grass", color1=GROUND_COLORS[0], color2=GROUND_COLORS[0]))
    _add_edges(ground, xs, layout.ground.tolist(), _GROUND_FIXTURE_COLORS)
    ceiling = _static_body(world, UserData(Kind.GRIP_TERRAIN, "rock", color1=CEILING_COLOR, color2=CEILING_COLOR))
    _add_edges(ceiling, xs, layout.ceiling.tolist(), (_CEILING_FIXTURE_COLORS,))
    out = TerrainBodies(world, ground, ceiling=ceiling)

    static_creepers, pieces, swing = [], [], []
    if layout.creepers:
        fd = b2.fixtureDef(shape=b2.polygonShape(box=(1, 1)), density=CREEPER_DENSITY, isSensor=True,
                           categoryBits=CATEGORY_BITS, maskBits=MASK_BITS)
        shape = fd.shape
        static_body = piece_def = joint_def = None
        for creeper in layout.creepers:
            x0, x1 = creeper.x0, creeper.x1
            if not creeper.pieces:
                if static_body is None:
                    static_body = _static_body(world, UserData(Kind.SENSOR_GRIP_TERRAIN, "creeper",
                                                               color1=CREEPER_COLOR, color2=CREEPER_COLOR))
                    out.creepers.append(static_body)
                top, bottom = creeper.top, creeper.top - creeper.height
                shape.vertices = ((x0, top), (x1, top), (x1, bottom), (x0, bottom))
                fd.userData = _STATIC_CREEPER_COLORS
                static_body.CreateFixture(fd)
                static_creepers.append(shape.vertices)
                continue
            if piece_def is None:
                piece_def = b2.bodyDef(type=b2.dynamicBody)
                joint_def = b2.revoluteJointDef(enableLimit=True, lowerAngle=-CREEPER_JOINT_LIMIT,
                                                upperAngle=CREEPER_JOINT_LIMIT, referenceAngle=0.0)
            previous = ceiling
            fd.userData = _MOVABLE_CREEPER_COLORS
            for (top, bottom), anchor in zip(creeper.pieces, creeper.anchors):
                # World-coordinate vertices on a body at the origin, as TeachMyAgent builds them.
                shape.vertices = ((x1, bottom), (x1, top), (x0, top), (x0, bottom))
                piece = world.CreateBody(piece_def)
                piece.userData = UserData(Kind.SENSOR_GRIP_TERRAIN, "creeper", color1=CREEPER_COLOR,
                                          color2=MOVABLE_CREEPER_OUTLINE_COLOR)
                piece.CreateFixture(fd)
                out.creepers.append(piece)
                pieces.append(piece)
                swing.append(creeper.top - bottom + SWING_MARGIN)
                # What revoluteJointDef(anchor=...) computes: both bodies sit at the origin with angle 0, so
                # the world anchor is also each body's local anchor and the reference angle is 0.
                joint_def.bodyA, joint_def.bodyB = previous, piece
                joint_def.localAnchorA = joint_def.localAnchorB = anchor
                out.joints.append(world.CreateJoint(joint_def))
                previous = piece

    water = _static_body(world, UserData(Kind.WATER, "water", color1=WATER_COLOR, color2=WATER_COLOR))
    water.CreateFixture(b2.fixtureDef(shape=b2.polygonShape(vertices=layout.water.tolist()), density=WATER_DENSITY,
                                      isSensor=True, categoryBits=CATEGORY_BITS, maskBits=MASK_BITS,
                                      userData=_WATER_COLORS))
    out.water = water
    creeper_code = SURFACE_CODE.get(Kind.SENSOR_GRIP_TERRAIN, 0)
    out.static_segments = concatenate([
        edge_segments(layout.x, layout.ground, SURFACE_CODE.get(Kind.TERRAIN, 0)),
        edge_segments(layout.x, layout.ceiling, SURFACE_CODE.get(Kind.GRIP_TERRAIN, 0)),
        polygon_segments(static_creepers, creeper_code),
        polygon_segments([water.fixtures[0].shape.vertices], SURFACE_CODE.get(Kind.WATER, 0))])
    if pieces:
        out.moving = MovingPolygons(pieces, creeper_code, swing)
    return out
