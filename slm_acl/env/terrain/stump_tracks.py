"""Stump Tracks terrain: the ground line and the obstacles of one episode, in pure numpy (no Box2D).

ENV_FACTS.md section 9. A state machine walks along the track from the end of the start pad: after an
obstacle comes one grass segment of length `obstacle_spacing`, after grass a new obstacle kind is drawn
uniformly among the enabled ones (stumps, hexagons, stump sequences). `box2d_build.build_stump_tracks`
turns the layout into static bodies; the renderer draws the same layout.
"""
from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import numpy as np

from slm_acl.env.terrain.constants import (CLOUD_Y, N_CLOUDS, OBSTACLE_OUTLINE_COLOR, SCALE, STUMP_COLORS,
                                           TERRAIN_HEIGHT, TERRAIN_LENGTH, TERRAIN_STARTPAD, TERRAIN_STEP)

GRASS, STUMP, HEXA, SEQ = 0, 1, 2, 3
STUMP_HEIGHT_STD = 0.1  # std of the stump heights (in TERRAIN_STEP units), fixed by set_environment
SEQ_STD = 0.1  # std of the sequence blocks' heights (steps) and widths (metres)
HEXAGON_STD = 0.1  # std of the hexagon vertex offsets (steps)
MIN_SIZE = 0.05  # lower clip of every stump / block height (steps) and width (steps or metres)
HEXAGON_X_ADVANCE = 1.0  # metres (not steps) the track advances after a hexagon
# The reference hexagon, in TERRAIN_STEP units, relative to (x, ground y); vertices 0 and 5 lie on the ground.
REFERENCE_HEXAGON = ((-0.5, 0.0), (-0.5, 0.25), (-0.25, 0.5), (0.25, 0.5), (0.5, 0.25), (0.5, 0.0))
POLY_SHAPE_SIZE = 2 * len(REFERENCE_HEXAGON)


def _pair(name: str, value) -> tuple[float, float] | None:
    if value is None:
        return None
    mean, std = (float(v) for v in value)
    if not (math.isfinite(mean) and math.isfinite(std)) or std < 0:
        raise ValueError(f"StumpTracksTask.{name} must be a finite (mean, std) pair with std >= 0, got {value!r}")
    return mean, std


def _floats(name: str, value) -> tuple[float, ...] | None:
    if value is None:
        return None
    out = tuple(float(v) for v in np.asarray(value, dtype=np.float64).reshape(-1))
    if not all(math.isfinite(v) for v in out):
        raise ValueError(f"StumpTracksTask.{name} must be finite, got {value!r}")
    return out


@dataclasses.dataclass(frozen=True)
class StumpTracksTask:
    """One Stump Tracks task: TeachMyAgent's `set_environment` parameters, normalised as it does.

    At least one obstacle kind (stump_height, poly_shape or stump_seq) must be set.
    """

    stump_height: float | None = None
    """mean stump height in TERRAIN_STEP units (std fixed at 0.1; each stump floored at 0.05, so a negative mean
    gives 0.05-high stumps, TeachMyAgent's "mostly trivial" tasks); None: no stumps"""
    obstacle_spacing: float | None = 8.0
    """length in metres of each grass segment between obstacles; None -> 8.0, clipped below at 0.01"""
    roughness: float | None = 0.0
    """grass slope noise: the slope velocity gets U(-roughness, roughness)/SCALE per grass segment; None -> 0"""
    stump_width: tuple[float, float] | None = None
    """(mean, std) of the stump width in TERRAIN_STEP units (clipped below at 0.05); None: one step"""
    stump_rot: tuple[float, float] | None = None
    """(mean, std) of the stump rotation in radians (clipped to [0, 2 pi]); None: upright stumps"""
    poly_shape: tuple[float, ...] | None = None
    """12 mean offsets (x, y per hexagon vertex, steps), clipped to [0, 4]; None: no hexagons"""
    stump_seq: tuple[float, ...] | None = None
    """flat (h1, w1, h2, w2, ...) means of a stump sequence: heights in steps, widths in metres; None: none"""

    def __post_init__(self):
        def put(name, value):
            object.__setattr__(self, name, value)

        if self.stump_height is not None:
            put("stump_height", float(self.stump_height))
            if not math.isfinite(self.stump_height):
                raise ValueError(f"StumpTracksTask.stump_height must be finite, got {self.stump_height}")
        spacing = 8.0 if self.obstacle_spacing is None else float(self.obstacle_spacing)
        if not math.isfinite(spacing):
            raise ValueError(f"StumpTracksTask.obstacle_spacing must be finite, got {self.obstacle_spacing}")
        put("obstacle_spacing", max(0.01, spacing))
        roughness = float(self.roughness) if self.roughness else 0.0
        if not math.isfinite(roughness):
            raise ValueError(f"StumpTracksTask.roughness must be finite, got {self.roughness}")
        put("roughness", roughness)
        put("stump_width", _pair("stump_width", self.stump_width))
        put("stump_rot", _pair("stump_rot", self.stump_rot))
        poly = _floats("poly_shape", self.poly_shape)
        if poly is not None:
            if len(poly) != POLY_SHAPE_SIZE:
                raise ValueError(f"StumpTracksTask.poly_shape needs {POLY_SHAPE_SIZE} values (x, y offsets of the 6 "
                                 f"hexagon vertices), got {len(poly)}")
            poly = tuple(min(4.0, max(0.0, v)) for v in poly)
        put("poly_shape", poly)
        seq = _floats("stump_seq", self.stump_seq)
        if seq is not None and len(seq) % 2:
            raise ValueError(f"StumpTracksTask.stump_seq is a flat (height, width, ...) list of pairs; got an odd "
                             f"number of values ({len(seq)})")
        put("stump_seq", seq)
        if self.stump_height is None and self.poly_shape is None and self.stump_seq is None:
            raise ValueError("StumpTracksTask needs at least one obstacle kind: set stump_height, poly_shape or "
                             "stump_seq (TeachMyAgent fails with an empty obstacle draw otherwise)")

    @property
    def obstacle_states(self) -> tuple[int, ...]:
        """The enabled obstacle states, in TeachMyAgent's numbering order: STUMP, HEXA, SEQ."""
        return tuple(s for s, on in ((STUMP, self.stump_height is not None), (HEXA, self.poly_shape is not None),
                                     (SEQ, self.stump_seq is not None)) if on)


@dataclasses.dataclass(slots=True)
class Obstacle:
    """One static obstacle polygon, in world coordinates.

    kind: "stump", "hexagon" or "seq" (a block of a stump sequence).
    vertices: the polygon's points as TeachMyAgent builds them (counter-clockwise for stumps and blocks,
        any order for hexagons; Box2D keeps their convex hull).
    color1, color2: render fill and outline.
    """

    kind: str
    vertices: tuple[tuple[float, float], ...]
    color1: tuple[float, float, float]
    color2: tuple[float, float, float] = OBSTACLE_OUTLINE_COLOR


@dataclasses.dataclass(slots=True)
class StumpTracksLayout:
    """Everything a Stump Tracks episode's terrain is made of.

    x, y: the ground polyline (n,), one Box2D edge per consecutive pair. Point 2 repeats point 1 (the end of
        the start pad), TeachMyAgent's zero-length first edge.
    obstacles: stumps, hexagons and sequence blocks in generation order.
    clouds: (N_CLOUDS, 5, 2) cloud polygons (render only, half-speed parallax).
    startpad: the start pad length in TERRAIN_STEP units.
    fill_bottom: y down to which the renderer fills under the ground (0).
    """

    x: np.ndarray
    y: np.ndarray
    obstacles: list[Obstacle]
    clouds: np.ndarray
    startpad: float = TERRAIN_STARTPAD
    fill_bottom: float = 0.0


def generate_clouds(rng: np.random.Generator) -> np.ndarray:
    """The render-only clouds, (N_CLOUDS, 5, 2), drawn after the terrain (ENV_FACTS section 9, end).

    Per cloud, in TeachMyAgent's order: its x ~ U(0, TERRAIN_LENGTH)*TS, then for each of its 5 vertices an
    x and a y jitter ~ U(0, 5 TS): 11 draws per cloud, 110 in all. The draws are taken as one block of
    uniforms, which is the same stream, in the same order, as 110 scalar draws.
    """
    u = rng.random((N_CLOUDS, 11))
    a = np.arange(5)
    cx = u[:, :1] * TERRAIN_LENGTH * TERRAIN_STEP  # TeachMyAgent's U(0, 200) then * TS
    out = np.empty((N_CLOUDS, 5, 2))
    # 3.14, not pi: TeachMyAgent's cloud outline (render only).
    out[:, :, 0] = cx + 15 * TERRAIN_STEP * np.sin(3.14 * 2 * a / 5) + u[:, 1::2] * (5 * TERRAIN_STEP)
    out[:, :, 1] = CLOUD_Y + 5 * TERRAIN_STEP * np.cos(3.14 * 2 * a / 5) + u[:, 2::2] * (5 * TERRAIN_STEP)
    return out


def _rotate(poly: Sequence[tuple[float, float]], cx: float, cy: float, angle: float):
    c, s = math.cos(angle), math.sin(angle)
    return tuple((cx + (px - cx) * c - (py - cy) * s, cy + (px - cx) * s + (py - cy) * c) for px, py in poly)


def generate_stump_tracks(rng: np.random.Generator, task: StumpTracksTask,
                          startpad: float = TERRAIN_STARTPAD) -> StumpTracksLayout:
    """Generate one Stump Tracks terrain (ground line, obstacles, clouds) from the env's generator.

    Follows TeachMyAgent's `_generate_terrain` then `_generate_clouds` (ENV_FACTS section 9):

    - the first state is drawn among the enabled obstacle kinds; states then alternate obstacle / GRASS;
    - each loop iteration appends a point whose x is the x at the start of the iteration and whose y is the
      y at its end, so the first loop point repeats the start-pad end and a grass slope lies under the
      preceding obstacle while the grass segment itself is flat;
    - GRASS: slope velocity v = 0.8 v + 0.01 sign(TERRAIN_HEIGHT - y), plus U(-roughness, roughness)/SCALE
      past the start pad (drawn even when roughness is 0); y += v; x += obstacle_spacing;
    - STUMP: height max(0.05, N(stump_height, 0.1)) steps; width one step, or max(0.05, N(w_mean, w_std))
      steps; optional rotation clip(N(r_mean, r_std), 0, 2 pi) counter-clockwise about the base midpoint;
    - HEXA: reference hexagon plus N(poly_shape, 0.1) offsets (vertices 0 and 5 keep the ground y); x += 1 m;
    - SEQ: per (h, w) pair a block of height max(0.05, N(h, 0.1)) steps and width max(0.05, N(w, 0.1)) m.

    Deviation on purpose: TeachMyAgent draws the stump widths and the hexagon offsets from numpy's global
    generator (not the env's seed); here every draw comes from `rng`, so a seed fixes the whole terrain.
    The draw order is otherwise TeachMyAgent's: state, then per stump height, width, rotation; per
    hexagon its 12 offsets; per block height then width; per grass segment its roughness draw; after the
    terrain, the 110 cloud draws. The env's next draw (the spawn force) comes after them.
    Uniform draws are written as low + (high - low) * rng.random() and normal ones as
    mean + std * rng.standard_normal(): the values numpy's `uniform` / `normal` give, at a third of the call cost.

    Args:
        rng: the env's generator.
        task: the task parameters.
        startpad: start pad length in TERRAIN_STEP units (20 for every default body; may be a float).

    Returns:
        The layout; `box2d_build.build_stump_tracks` creates its bodies.
    """
    states = task.obstacle_states
    n_states = len(states) + 1
    spacing = task.obstacle_spacing
    roughness = task.roughness
    stump_mean = task.stump_height
    width = task.stump_width
    rot = task.stump_rot
    hexa_loc = None if task.poly_shape is None else np.asarray(task.poly_shape)
    seq = task.stump_seq
    ts = TERRAIN_STEP
    stump_colors = STUMP_COLORS

    # With one obstacle kind the draw has a single outcome and numpy's `integers(1, 2)` consumes nothing, so
    # skipping the call leaves the stream unchanged (it costs as much as the rest of a grass iteration).
    state = states[0] if n_states == 2 else states[int(rng.integers(1, n_states)) - 1]
    velocity = 0.0
    y = TERRAIN_HEIGHT
    x = 0.0
    max_x = TERRAIN_LENGTH * ts
    start_x = startpad * ts
    xs = [x, start_x]
    ys = [y, y]
    x = start_x
    obstacles: list[Obstacle] = []
    while x < max_x:
        xs.append(x)
        if state == GRASS:
            velocity = 0.8 * velocity + 0.01 * ((TERRAIN_HEIGHT > y) - (TERRAIN_HEIGHT < y))
            if x > start_x:
                velocity += (-roughness + (2 * roughness) * rng.random()) / SCALE
            y += velocity
            x += spacing
            state = states[0] if n_states == 2 else states[int(rng.integers(1, n_states)) - 1]
        else:
            if state == STUMP:
                h = max(MIN_SIZE, stump_mean + STUMP_HEIGHT_STD * rng.standard_normal()) * ts
                w = ts
                if width is not None:
                    w *= max(MIN_SIZE, width[0] + width[1] * rng.standard_normal())
                poly = ((x, y), (x + w, y), (x + w, y + h), (x, y + h))
                if rot is not None:
                    angle = min(2 * math.pi, max(0.0, rot[0] + rot[1] * rng.standard_normal()))
                    poly = _rotate(poly, (x + x + w) / 2, y, angle)
                x += w
                obstacles.append(Obstacle("stump", poly, *stump_colors))
            elif state == HEXA:
                d = (hexa_loc + HEXAGON_STD * rng.standard_normal(POLY_SHAPE_SIZE)).tolist()
                last = len(REFERENCE_HEXAGON) - 1
                poly = tuple((x + bx * ts + d[2 * k] * ts,
                              y + by * ts + (d[2 * k + 1] * ts if 0 < k < last else 0.0))
                             for k, (bx, by) in enumerate(REFERENCE_HEXAGON))
                color = (1.0, min(1.0, max(0.0, d[1] / 3)), min(1.0, max(0.0, d[2 * last + 1] / 3)))
                obstacles.append(Obstacle("hexagon", poly, color))
                x += HEXAGON_X_ADVANCE
            else:  # SEQ
                for k in range(0, len(seq), 2):
                    h = max(MIN_SIZE, seq[k] + SEQ_STD * rng.standard_normal()) * ts
                    w = max(MIN_SIZE, seq[k + 1] + SEQ_STD * rng.standard_normal())
                    obstacles.append(Obstacle("seq", ((x, y), (x + w, y), (x + w, y + h), (x, y + h)),
                                              *stump_colors))
                    x += w
            state = GRASS
        ys.append(y)
    clouds = generate_clouds(rng)
    return StumpTracksLayout(np.array(xs), np.array(ys), obstacles, clouds, startpad)
