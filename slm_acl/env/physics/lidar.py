"""Lidars cast in numpy against the terrain's segments, with Box2D's ray-cast semantics.

TeachMyAgent casts its 10 rays with `world.RayCast` and a Python callback per reported fixture,
about a third of a step's time. The rays only ever see terrain (the agent's own parts are filtered
out by their collision category), and terrain is static except movable creepers, so the lab keeps
every terrain edge in arrays once per reset and intersects all rays with the nearby edges in one
vectorised computation. Semantics follow Box2D 2.3 (ENV_FACTS.md section 7):

- edge shapes (ground, ceiling) are hit from both sides;
- polygons (stumps, hexagons, creepers, water) are hit only where the ray enters them: a ray that
  starts inside a polygon does not see it;
- a ray reports the fraction (0..1) of its length to the closest hit, 1.0 when it hits nothing;
- Parkour's surface code per ray is -1 (water), +1 (creeper) or 0 for the closest hit, and a ray
  that hits nothing keeps the previous step's code until the episode is reset (TeachMyAgent's
  callbacks behave so; the lab reproduces it).
"""
from __future__ import annotations

import math
from typing import Iterable, Sequence

import Box2D
import numpy as np

from slm_acl.env.physics.userdata import Kind

LIDAR_FANS = {
    # angle of ray i from straight down, positive towards +x (forward)
    "down": lambda i: 1.5 * i / 10.0,
    "up": lambda i: 2.3 * i / 10.0 + 1.5,
    "full": lambda i: math.pi * i / 10.0,
}
SURFACE_CODE = {Kind.WATER: -1, Kind.SENSOR_GRIP_TERRAIN: 1}
SEEN_KINDS = (Kind.TERRAIN, Kind.GRIP_TERRAIN, Kind.SENSOR_GRIP_TERRAIN, Kind.WATER)
MAX_SEGMENT = 2.0  # metres: longer edges (the water's surface) are split so every edge can be culled by x


class Segments:
    """Terrain edges as arrays: start a, end b, outward normal (zero for two-sided edges), code."""

    def __init__(self, a: np.ndarray, b: np.ndarray, normal: np.ndarray, code: np.ndarray):
        self.a, self.b, self.normal, self.code = a, b, normal, code

    @classmethod
    def empty(cls) -> "Segments":
        z = np.zeros((0, 2))
        return cls(z, z, z, np.zeros(0, np.int8))

    @classmethod
    def from_fixtures(cls, fixtures: Iterable[Box2D.b2Fixture]) -> "Segments":
        a, b, normal, code = [], [], [], []
        for fixture in fixtures:
            body = fixture.body
            kind_code = SURFACE_CODE.get(body.userData.kind, 0)
            shape = fixture.shape
            transform = body.transform
            if isinstance(shape, Box2D.b2EdgeShape):
                v = [transform * shape.vertex1, transform * shape.vertex2]
                a.append(tuple(v[0]))
                b.append(tuple(v[1]))
                normal.append((0.0, 0.0))
                code.append(kind_code)
            elif isinstance(shape, Box2D.b2PolygonShape):
                verts = [tuple(transform * v) for v in shape.vertices]  # Box2D keeps them CCW
                for k, v0 in enumerate(verts):
                    v1 = verts[(k + 1) % len(verts)]
                    a.append(v0)
                    b.append(v1)
                    normal.append((v1[1] - v0[1], v0[0] - v1[0]))  # outward for CCW
                    code.append(kind_code)
        if not a:
            return cls.empty()
        return cls(np.array(a, float), np.array(b, float), np.array(normal, float), np.array(code, np.int8))

    def __len__(self) -> int:
        return len(self.code)


def edge_segments(x: np.ndarray, y: np.ndarray, code: int = 0) -> Segments:
    """The two-sided edges between consecutive points of a polyline (ground, ceiling), rounded to
    float32 as Box2D stores them."""
    points = np.stack([x, y], axis=1).astype(np.float32).astype(float)
    a, b = points[:-1], points[1:]
    return Segments(a, b, np.zeros_like(a), np.full(len(a), code, np.int8))


def polygon_segments(polygons: Sequence[np.ndarray], code: int = 0) -> Segments:
    """The one-sided edges of counter-clockwise polygons (as Box2D stores them), outward normals."""
    if not len(polygons):
        return Segments.empty()
    a = np.concatenate([np.asarray(p, float) for p in polygons])
    b = np.concatenate([np.roll(np.asarray(p, float), -1, axis=0) for p in polygons])
    e = b - a
    return Segments(a, b, np.stack([e[:, 1], -e[:, 0]], axis=1), np.full(len(a), code, np.int8))


def concatenate(parts: Sequence[Segments]) -> Segments:
    parts = [p for p in parts if len(p)]
    if not parts:
        return Segments.empty()
    return Segments(*(np.concatenate([getattr(p, k) for p in parts]) for k in ("a", "b", "normal", "code")))


class MovingPolygons:
    """Terrain polygons on dynamic bodies (Parkour's movable creeper pieces), one polygon per body.

    Their local vertices are read once. A piece can only move so far from where it was built:
    `swing[i]` bounds how far any point of piece i can get from its rest position (a hanging chain's
    depth below its ceiling anchor). A cast then reads the transforms of the pieces whose rest span,
    widened by their swing, comes within the lidar's reach, and builds their edges in arrays, instead
    of walking every piece's fixtures through pybox2d at every step.
    """

    def __init__(self, bodies: Sequence[Box2D.b2Body], code: int, swing: Sequence[float]):
        self.bodies = list(bodies)
        self.code = code
        local = [np.array(body.fixtures[0].shape.vertices, float) for body in self.bodies]
        if len({len(v) for v in local}) > 1:
            raise ValueError("MovingPolygons needs polygons with the same number of vertices")
        self.local = np.stack(local) if local else np.zeros((0, 4, 2))  # (P, V, 2)
        rest = np.array([(*body.position, body.angle) for body in self.bodies]).reshape(-1, 3)
        rest_x = self._world(rest, self.local)[..., 0] if local else np.zeros((0, 4))
        swing = np.asarray(swing, float)
        self._lo, self._hi = rest_x.min(axis=1) - swing, rest_x.max(axis=1) + swing

    def __len__(self) -> int:
        return len(self.bodies)

    @staticmethod
    def _world(pose: np.ndarray, local: np.ndarray) -> np.ndarray:
        c, s = np.cos(pose[:, 2])[:, None], np.sin(pose[:, 2])[:, None]
        return np.stack([c * local[..., 0] - s * local[..., 1] + pose[:, 0:1],
                         s * local[..., 0] + c * local[..., 1] + pose[:, 1:2]], axis=-1)

    def near(self, x: float, radius: float) -> Segments:
        """Edges, in world coordinates, of every piece that may come within `radius` of x."""
        close = np.flatnonzero((self._hi >= x - radius) & (self._lo <= x + radius))
        if not len(close):
            return Segments.empty()
        bodies = self.bodies
        pose = np.array([(*bodies[i].position, bodies[i].angle) for i in close.tolist()])
        world = self._world(pose, self.local[close])
        a = world.reshape(-1, 2)
        b = np.roll(world, -1, axis=1).reshape(-1, 2)
        e = b - a
        return Segments(a, b, np.stack([e[:, 1], -e[:, 0]], axis=1), np.full(len(a), self.code, np.int8))


def terrain_fixtures(bodies: Iterable[Box2D.b2Body]) -> list[Box2D.b2Fixture]:
    """The fixtures a lidar sees: every fixture of a body whose user data is a terrain kind."""
    return [f for body in bodies if body.userData is not None and body.userData.kind in SEEN_KINDS
            for f in body.fixtures]


def split_long(segments: Segments, max_length: float = MAX_SEGMENT) -> Segments:
    """Cut edges longer than `max_length` into equal pieces (same normal and code): a ray hits the
    pieces exactly where it hit the whole edge, and short edges let a cast look only near the head."""
    length = np.hypot(*(segments.b - segments.a).T)
    pieces = np.maximum(1, np.ceil(length / max_length)).astype(int)
    if (pieces == 1).all():
        return segments
    idx = np.repeat(np.arange(len(pieces)), pieces)
    k = np.concatenate([np.arange(p) for p in pieces])
    f0, f1 = (k / pieces[idx])[:, None], ((k + 1) / pieces[idx])[:, None]
    span = segments.b[idx] - segments.a[idx]
    return Segments(segments.a[idx] + f0 * span, segments.a[idx] + f1 * span, segments.normal[idx], segments.code[idx])


class Lidar:
    """A fan of rays from the head; `cast` returns (fractions, surface codes) for the current step.

    Per cast, for ray direction d and edge a->b with e = b - a and w = a - origin, the ray meets the
    edge at t = (w x e) / (d x e) along the ray and s = (w x d) / (d x e) along the edge; a hit needs
    0 <= t, s <= 1 and, for polygon edges, a ray entering the polygon (d . outward normal < 0). The
    comparisons are done after multiplying through by |d x e| (no division by zero, no warnings).
    """

    def __init__(self, fan: str, length: float, n_rays: int = 10):
        if fan not in LIDAR_FANS:
            raise ValueError(f"unknown lidar fan {fan!r}; valid: {sorted(LIDAR_FANS)}")
        angles = np.array([LIDAR_FANS[fan](i) for i in range(n_rays)])
        self.length = length
        self.rays = np.stack([np.sin(angles), -np.cos(angles)], axis=1) * length  # (n, 2)
        self._dx, self._dy = self.rays[:, :1].copy(), self.rays[:, 1:].copy()  # (n, 1) each
        self._rows = np.arange(n_rays)
        self.codes = np.zeros(n_rays)
        self.set_static(Segments.empty())

    def set_static(self, segments: Segments) -> None:
        """The static terrain of this episode (call at reset): also clears the surface codes."""
        segments = split_long(segments) if len(segments) else segments
        lo = np.minimum(segments.a[:, 0], segments.b[:, 0])
        order = np.argsort(lo, kind="stable")
        a, b, normal = segments.a[order], segments.b[order], segments.normal[order]
        self._lo = lo[order]
        self._reach = float(np.abs(b[:, 0] - a[:, 0]).max()) if len(order) else 0.0
        self._ax, self._ay = a[:, 0].copy(), a[:, 1].copy()
        e = b - a
        self._ex, self._ey = e[:, 0].copy(), e[:, 1].copy()
        self._perp = np.stack([e[:, 1], -e[:, 0]])        # (2, m): d . perp = d x e
        self._normal = normal.T.copy()                      # (2, m)
        self._two_sided = (normal == 0).all(axis=1)
        self._code = segments.code[order].astype(float)
        self.codes[:] = 0.0

    def cast(self, origin: Sequence[float], moving: Segments | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Fractions and codes of every ray from `origin`; `moving` adds this step's moving edges."""
        x, y = float(origin[0]), float(origin[1])
        lo = int(np.searchsorted(self._lo, x - self.length - self._reach))
        hi = int(np.searchsorted(self._lo, x + self.length, side="right"))
        wx, wy = self._ax[lo:hi] - x, self._ay[lo:hi] - y
        ex, ey = self._ex[lo:hi], self._ey[lo:hi]
        perp, normal, two_sided, code = self._perp[:, lo:hi], self._normal[:, lo:hi], self._two_sided[lo:hi], \
            self._code[lo:hi]
        if moving is not None and len(moving):
            e = moving.b - moving.a
            wx, wy = np.concatenate([wx, moving.a[:, 0] - x]), np.concatenate([wy, moving.a[:, 1] - y])
            ex, ey = np.concatenate([ex, e[:, 0]]), np.concatenate([ey, e[:, 1]])
            perp = np.concatenate([perp, np.stack([e[:, 1], -e[:, 0]])], axis=1)
            normal = np.concatenate([normal, moving.normal.T], axis=1)
            two_sided = np.concatenate([two_sided, (moving.normal == 0).all(axis=1)])
            code = np.concatenate([code, moving.code.astype(float)])
        fractions = np.ones(len(self._rows))
        if len(code) == 0:
            return fractions, self.codes
        rays = self.rays
        denom = rays @ perp                                  # (n, m) d x e
        sign = np.where(denom < 0, -1.0, 1.0)
        size = denom * sign                                  # |d x e|
        t_num = (wx * ey - wy * ex) * sign                   # t * |d x e|
        s_num = (wy * self._dx - wx * self._dy) * -sign      # s * |d x e|
        hit = (t_num >= 0) & (t_num <= size) & (s_num >= 0) & (s_num <= size) & (size > 0)
        hit &= two_sided | ((rays @ normal) < 0)
        t = np.divide(t_num, size, out=np.full(size.shape, np.inf), where=hit)
        closest = t.argmin(axis=1)
        best = t[self._rows, closest]
        found = best <= 1.0
        fractions[found] = best[found]
        self.codes[found] = code[closest[found]]
        return fractions, self.codes
