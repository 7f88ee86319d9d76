"""Parkour terrain: CPPN ground and ceiling, creepers, water and clouds of one episode, in numpy (no Box2D).

ENV_FACTS.md sections 10 (ground and ceiling), 11 (creepers) and 12 (the water level and body; the water
forces live in `slm_acl.env.physics`). `box2d_build.build_parkour` turns the layout into bodies.
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np

from slm_acl.env.terrain.constants import (CEILING_CLIP_OFFSET_PX, CEILING_LIMIT_PX, CEILING_OFFSET_PX,
                                           DEFAULT_TERRAIN_CPPN_SCALE, GROUND_LIMIT_PX, TERRAIN_HEIGHT,
                                           TERRAIN_LENGTH, TERRAIN_STARTPAD, TERRAIN_STEP)
from slm_acl.env.terrain.cppn import TerrainCPPN
from slm_acl.env.terrain.stump_tracks import generate_clouds

CREEPER_HEIGHT_STD = 0.1  # std of a creeper's height around creepers_height (metres)
CREEPER_MIN_SIZE = 0.2  # lower clip of creeper heights, widths and of a movable creeper's last piece (metres)
CREEPER_PIECE_HEIGHT = 1.0  # metres per movable creeper piece
CREEPER_JOINT_LIMIT = 0.4 * math.pi  # radians, +- limit of the revolute joints between movable creeper pieces
MIN_WATER_LEVEL = 0.01  # water_level is clipped below at this, so water always exists
MIN_CREEPERS_SPACING = 0.01  # metres, lower clip of creepers_spacing


def _finite(name: str, value: float) -> float:
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"ParkourTask.{name} must be finite, got {value}")
    return value


@dataclasses.dataclass(frozen=True)
class ParkourTask:
    """One Parkour task: TeachMyAgent's `set_environment` parameters, normalised as it does.

    Creepers exist only when both creepers_width and creepers_height are set.
    """

    input_vector: tuple[float, ...]
    """the CPPN input (3 values for the shipped networks)"""
    water_level: float
    """water height as a fraction of [GROUND_LIMIT, highest ceiling point]; clipped below at 0.01"""
    creepers_width: float | None = None
    """creeper width in metres (clipped below at 0.2); None: no creepers"""
    creepers_height: float | None = None
    """mean creeper height in metres (std 0.1, clipped below at 0.2); None: no creepers"""
    creepers_spacing: float = 0.1
    """distance in metres walked along the segments between two creepers; clipped below at 0.01"""
    terrain_cppn_scale: float = DEFAULT_TERRAIN_CPPN_SCALE
    """CPPN output units per metre; also sets the ceiling offset and the ground / ceiling limits (> 1)"""

    def __post_init__(self):
        def put(name, value):
            object.__setattr__(self, name, value)

        vector = tuple(float(v) for v in np.asarray(self.input_vector, dtype=np.float64).reshape(-1))
        if not all(math.isfinite(v) for v in vector):
            raise ValueError(f"ParkourTask.input_vector must be finite, got {self.input_vector!r}")
        put("input_vector", vector)
        put("water_level", max(MIN_WATER_LEVEL, _finite("water_level", self.water_level)))
        if self.creepers_width is not None:
            put("creepers_width", _finite("creepers_width", self.creepers_width))
        if self.creepers_height is not None:
            put("creepers_height", _finite("creepers_height", self.creepers_height))
        put("creepers_spacing", max(MIN_CREEPERS_SPACING, _finite("creepers_spacing", self.creepers_spacing)))
        scale = _finite("terrain_cppn_scale", self.terrain_cppn_scale)
        if scale <= 1:
            raise ValueError(f"ParkourTask.terrain_cppn_scale must be > 1, got {scale}")
        put("terrain_cppn_scale", scale)

    @property
    def has_creepers(self) -> bool:
        return self.creepers_width is not None and self.creepers_height is not None

    @property
    def ground_limit(self) -> float:
        """Bottom of the ground's render fill and of the water body, metres (-100 at scale 10)."""
        return GROUND_LIMIT_PX / self.terrain_cppn_scale

    @property
    def ceiling_limit(self) -> float:
        """Top of the ceiling's render fill, metres (100 at scale 10)."""
        return CEILING_LIMIT_PX / self.terrain_cppn_scale


@dataclasses.dataclass(slots=True)
class Creeper:
    """One creeper hanging from the ceiling at terrain segment `segment`, from x0 to x1.

    top: y of its top, max of the ceiling at both ends of its span; height: its drawn height.
    pieces: movable creepers only: (top, bottom) of each dynamic piece, from the ceiling down; empty for a
        static creeper (one rectangle from top to top - height).
    anchors: movable creepers only: the revolute joint point of each piece (at its top, mid-width); piece 0
        is jointed to the ceiling edge of `segment`, piece k to piece k - 1.
    """

    segment: int
    x0: float
    x1: float
    top: float
    height: float
    pieces: tuple[tuple[float, float], ...] = ()
    anchors: tuple[tuple[float, float], ...] = ()

    @property
    def movable(self) -> bool:
        return bool(self.pieces)


@dataclasses.dataclass(slots=True)
class ParkourLayout:
    """Everything a Parkour episode's terrain is made of.

    x, ground, ceiling: the (n,) terrain points (n = 220 with the default start pad); one ground and one
        ceiling edge per consecutive pair.
    creepers: in segment order.
    water_y: the water surface; water: its (4, 2) polygon from GROUND_LIMIT to water_y over the whole track.
    ground_limit, ceiling_limit: render fill bounds (and the water's bottom); ceiling_offset: the start-pad
        ceiling's height above TERRAIN_HEIGHT (climbers hang from TERRAIN_HEIGHT + ceiling_offset at reset).
    clouds: (N_CLOUDS, 5, 2) render-only cloud polygons.
    """

    x: np.ndarray
    ground: np.ndarray
    ceiling: np.ndarray
    creepers: list[Creeper]
    water_y: float
    water: np.ndarray
    ground_limit: float
    ceiling_limit: float
    ceiling_offset: float
    clouds: np.ndarray
    startpad: int = TERRAIN_STARTPAD


def terrain_xs(startpad: int = TERRAIN_STARTPAD) -> np.ndarray:
    """Parkour's point abscissae: 0, TS, 2 TS, ... while x < (TERRAIN_LENGTH + startpad) TS, by repeated
    addition as TeachMyAgent accumulates them (220 points with the default start pad)."""
    max_x = TERRAIN_LENGTH * TERRAIN_STEP + startpad * TERRAIN_STEP
    xs = []
    x = 0.0
    while x < max_x:
        xs.append(x)
        x += TERRAIN_STEP
    return np.array(xs)


def creeper_segments(n_segments: int, spacing: float, dx: np.ndarray) -> list[int]:
    """Segments that get a creeper: a distance counter starts at `spacing`; at segment i, if it is >= spacing
    a creeper hangs there and it restarts at 0, otherwise it grows by dx[i] = x_i - x_{i-1}.

    Spacing 0.1 gives every 2nd segment, 1.0 every 4th (ENV_FACTS section 11).
    """
    out = []
    counter = spacing
    for i in range(n_segments):
        if counter >= spacing:
            out.append(i)
            counter = 0.0
        else:
            counter += dx[i]
    return out


def generate_parkour(rng: np.random.Generator, cppn: TerrainCPPN, task: ParkourTask, *,
                     movable_creepers: bool = False, startpad: int = TERRAIN_STARTPAD,
                     ceiling_offset_px: float = CEILING_OFFSET_PX,
                     ceiling_clip_offset_px: float = CEILING_CLIP_OFFSET_PX) -> ParkourLayout:
    """Generate one Parkour terrain from the env's generator, CPPN and task (ENV_FACTS sections 10 to 12).

    - Heights: the CPPN output for task.input_vector, divided by terrain_cppn_scale; the ground is shifted to
      start at TERRAIN_HEIGHT, the ceiling to start at TERRAIN_HEIGHT + ceiling_offset.
    - Points: the first `startpad` points are the flat start pad (ground TERRAIN_HEIGHT, ceiling
      TERRAIN_HEIGHT + ceiling_offset); point startpad + j takes CPPN row j, with the ceiling kept at least
      ceiling_clip_offset above the ground. The profile is continuous at point `startpad`.
    - Creepers (both creepers_width and creepers_height set): at the segments `creeper_segments` picks, in
      order, each with height max(0.2, N(creepers_height, 0.1)) from `rng` (the only terrain draws).
    - Water: water_y = GROUND_LIMIT + water_level * (max(ceiling) - GROUND_LIMIT).
    - Clouds after the terrain (110 draws), so the env's spawn-force draw comes after them.

    The shifts are written (h - h[0]) + target, so that point `startpad` equals the start-pad height exactly
    (TeachMyAgent's h + (target - h[0]) can be one ulp off).

    Args:
        rng: the env's generator.
        cppn: the env's CPPN; it must have two outputs (ground, ceiling).
        task: the task parameters.
        movable_creepers: the env constructor's flag: creepers as chains of dynamic 1 m pieces.
        startpad: start pad length in TERRAIN_STEP units (an integer: it indexes the points).
        ceiling_offset_px, ceiling_clip_offset_px: the env constructor's ceiling offsets, in px (/ scale).

    Returns:
        The layout; `box2d_build.build_parkour` creates its bodies.
    """
    if cppn.output_dim < 2:
        raise ValueError(f"Parkour needs a CPPN with ground and ceiling outputs; {cppn.network!r} has "
                         f"{cppn.output_dim} (use 'same_ground_ceiling_cppn')")
    if int(startpad) != startpad or startpad < 1:
        raise ValueError(f"Parkour's start pad must be a positive whole number of steps, got {startpad}")
    startpad = int(startpad)
    scale = task.terrain_cppn_scale
    ceiling_offset = ceiling_offset_px / scale
    clip_offset = ceiling_clip_offset_px / scale
    out = cppn(task.input_vector).astype(np.float64) / scale
    ground_cppn = (out[:, 0] - out[0, 0]) + TERRAIN_HEIGHT
    ceiling_cppn = (out[:, 1] - out[0, 1]) + (TERRAIN_HEIGHT + ceiling_offset)

    xs = terrain_xs(startpad)
    n = len(xs)
    if n - startpad > len(ground_cppn):
        raise ValueError(f"the track has {n - startpad} points after the start pad but the CPPN gives "
                         f"{len(ground_cppn)} (x_dim must be TERRAIN_LENGTH = {TERRAIN_LENGTH})")
    ground = np.empty(n)
    ceiling = np.empty(n)
    ground[:startpad] = TERRAIN_HEIGHT
    ceiling[:startpad] = TERRAIN_HEIGHT + ceiling_offset
    g = ground_cppn[:n - startpad]
    ground[startpad:] = g
    ceiling[startpad:] = np.maximum(ceiling_cppn[:n - startpad], g + clip_offset)

    creepers: list[Creeper] = []
    if task.has_creepers:
        dx = np.diff(xs, prepend=xs[0]).tolist()
        width = max(CREEPER_MIN_SIZE, task.creepers_width)
        step_size = max(1, math.floor(width / TERRAIN_STEP))
        ceiling_list = ceiling.tolist()
        x_list = xs.tolist()
        mean = task.creepers_height
        for i in creeper_segments(n - 1, task.creepers_spacing, dx):
            height = max(CREEPER_MIN_SIZE, mean + CREEPER_HEIGHT_STD * rng.standard_normal())
            top = max(ceiling_list[i], ceiling_list[min(i + step_size, n - 1)])
            x0 = x_list[i]
            pieces: tuple = ()
            anchors: tuple = ()
            if movable_creepers:
                pieces_list, anchors_list = [], []
                last = height // 1  # the piece that takes the remainder (TeachMyAgent compares w == height // 1)
                for w in range(math.ceil(height)):
                    h = max(CREEPER_MIN_SIZE, height % 1) if w == last else CREEPER_PIECE_HEIGHT
                    pieces_list.append((top - w * CREEPER_PIECE_HEIGHT, top - w * CREEPER_PIECE_HEIGHT - h))
                    anchors_list.append((x0 + width / 2, top - w * CREEPER_PIECE_HEIGHT))
                pieces, anchors = tuple(pieces_list), tuple(anchors_list)
            creepers.append(Creeper(i, x0, x0 + width, top, height, pieces, anchors))

    ground_limit = task.ground_limit
    water_y = ground_limit + task.water_level * (float(ceiling.max()) - ground_limit)
    x_first, x_last = float(xs[0]), float(xs[-1])
    water = np.array([(x_first, ground_limit), (x_first, water_y), (x_last, water_y), (x_last, ground_limit)])
    clouds = generate_clouds(rng)
    return ParkourLayout(xs, ground, ceiling, creepers, water_y, water, ground_limit, task.ceiling_limit,
                         ceiling_offset, clouds, startpad)
