"""A body as data: frozen dataclasses for parts, fixtures, joints and grasp sensors, with strict JSON I/O.

One generic builder (`builder.py`) turns a `BodyDef` into Box2D bodies, so a new embodiment is a JSON
file, not a class. The JSON mirrors the dataclasses field for field; loading is strict (an unknown or
missing key is an error naming its path and the valid keys) because a misspelt optional key would
otherwise silently build a different robot.

Units: metres, radians, kilograms per square metre. Offsets and anchors are relative to the spawn point
(the point the env passes to `Embodiment.build`); polygon vertices and box half-extents are part-local.
"""
from __future__ import annotations

import dataclasses
import functools
import json
import math
import types
import typing
from typing import Any, Literal

from slm_acl.lib.registry import did_you_mean

Vec2 = tuple[float, float]
Color = tuple[float, float, float]

ENVS = ("stump_tracks", "parkour")

# Box2D defaults for fields TeachMyAgent leaves unset (reference `conventions.unset_fixture_fields`).
DEFAULT_FRICTION = 0.2
DEFAULT_RESTITUTION = 0.0

# Metadata flag: the field holds collision bits, written as "0x0020" for readability (ints also load).
HEX = {"hex": True}


@dataclasses.dataclass(frozen=True, kw_only=True)
class FixtureDef:
    """One Box2D fixture of a part. Exactly the geometry key of its shape is set."""

    shape: Literal["box", "polygon", "circle"]
    half_extents: Vec2 | None = None                 # box: half width, half height (Box2D SetAsBox)
    vertices: tuple[Vec2, ...] | None = None         # polygon: part-local, 3 to 8 vertices
    radius: float | None = None                      # circle centred on the part origin
    density: float
    friction: float
    restitution: float
    category_bits: int = dataclasses.field(metadata=HEX)
    mask_bits: int = dataclasses.field(metadata=HEX)
    is_sensor: bool

    def __post_init__(self) -> None:
        geometry = {"box": "half_extents", "polygon": "vertices", "circle": "radius"}
        wanted = geometry[self.shape]
        given = [key for key in geometry.values() if getattr(self, key) is not None]
        if given != [wanted]:
            raise ValueError(f"a {self.shape!r} fixture takes {wanted!r} and no other geometry; got {given or 'none'}")
        if self.vertices is not None and not 3 <= len(self.vertices) <= 8:
            raise ValueError(f"a polygon needs 3 to 8 vertices (Box2D limit); got {len(self.vertices)}")
        if self.radius is not None and self.radius <= 0:
            raise ValueError(f"radius must be > 0; got {self.radius}")
        if self.half_extents is not None and min(self.half_extents) <= 0:
            raise ValueError(f"half_extents must be > 0; got {self.half_extents}")
        if self.density < 0:
            raise ValueError(f"density must be >= 0; got {self.density}")


@dataclasses.dataclass(frozen=True, kw_only=True)
class PartDef:
    """A rigid part of the agent (a dynamic Box2D body).

    critical: whether a contact of this part ends the episode: "never", "always", or "hull", which
    follows the env's hull-critical switch (TeachMyAgent's reset_on_hull_critical_contact: on in
    Stump Tracks, off in Parkour).
    receives_spawn_force: the env's random horizontal push at creation is applied to this part.
    """

    name: str
    offset: Vec2
    angle: float
    fixtures: tuple[FixtureDef, ...]
    check_contact: bool
    critical: Literal["never", "always", "hull"]
    receives_spawn_force: bool
    color1: Color
    color2: Color

    def __post_init__(self) -> None:
        if not self.fixtures:
            raise ValueError(f"part {self.name!r} has no fixtures")


@dataclasses.dataclass(frozen=True, kw_only=True)
class JointDef:
    """A revolute joint between two parts, or a weld (a climber's hand to its grasp sensor).

    The anchor is either one world point (`anchor`, offset from the spawn point; Box2D converts it
    to both local anchors) or two explicit part-local anchors (`local_anchor_a`, `local_anchor_b`),
    which TeachMyAgent's old bodies use and which need not meet at creation (the solver pulls the
    parts together in the first steps). In both cases the reference angle is angle(B) - angle(A)
    at creation, as pybox2d sets it.

    A motorised revolute joint sets speed_control, angle_correction, motor_index and
    initial_motor_speed; contact_part names the part whose contact flag follows the motor's entries
    in the state (or None).
    """

    name: str
    kind: Literal["revolute", "weld"]
    body_a: str
    body_b: str
    anchor: Vec2 | None = None
    local_anchor_a: Vec2 | None = None
    local_anchor_b: Vec2 | None = None
    enable_limit: bool = False
    lower: float | None = None
    upper: float | None = None
    speed_control: float | None = None
    angle_correction: float | None = None
    contact_part: str | None = None
    motor_index: int | None = None
    initial_motor_speed: float | None = None

    MOTOR_FIELDS: typing.ClassVar[tuple[str, ...]] = ("speed_control", "angle_correction", "motor_index",
                                                      "initial_motor_speed")

    @property
    def is_motor(self) -> bool:
        return self.speed_control is not None

    def __post_init__(self) -> None:
        n_local = (self.local_anchor_a is not None) + (self.local_anchor_b is not None)
        if (self.anchor is not None, n_local) not in ((True, 0), (False, 2)):
            raise ValueError(f"joint {self.name!r}: give either 'anchor' or both 'local_anchor_a' and 'local_anchor_b'")
        limits = (self.lower, self.upper)
        motor = [getattr(self, key) for key in self.MOTOR_FIELDS]
        if self.kind == "weld":
            if self.enable_limit or limits != (None, None) or any(v is not None for v in motor) or self.contact_part:
                raise ValueError(f"weld joint {self.name!r} takes no limits and no motor")
            return
        if self.enable_limit and (None in limits or self.lower > self.upper):
            raise ValueError(f"joint {self.name!r}: enable_limit needs lower <= upper; got {limits}")
        if not self.enable_limit and limits != (None, None):
            raise ValueError(f"joint {self.name!r}: lower/upper given without enable_limit")
        if any(v is None for v in motor) and any(v is not None for v in motor):
            raise ValueError(f"joint {self.name!r}: a motor needs all of {', '.join(self.MOTOR_FIELDS)}")
        if self.contact_part is not None and not self.is_motor:
            raise ValueError(f"joint {self.name!r}: contact_part is only for motors")
        if self.is_motor and self.speed_control <= 0:
            raise ValueError(f"joint {self.name!r}: speed_control must be > 0")


@dataclasses.dataclass(frozen=True, kw_only=True)
class SensorDef:
    """A climber's grasp sensor: a small sensor circle welded to a hand (the weld is a JointDef).

    The radius is absolute (0.05 m in TeachMyAgent, not scaled like the other sizes). Sensors are not
    parts: they are created right after their hand, never receive the spawn force, and are moved
    separately by Parkour's initial hang.
    """

    name: str
    hand: str
    offset: Vec2
    radius: float
    density: float
    category_bits: int = dataclasses.field(metadata=HEX)
    mask_bits: int = dataclasses.field(metadata=HEX)
    color1: Color
    color2: Color


@dataclasses.dataclass(frozen=True, kw_only=True)
class SpawnHeights:
    """Height of the spawn point above TERRAIN_HEIGHT, per env."""

    stump_tracks: float
    parkour: float


@dataclasses.dataclass(frozen=True, kw_only=True)
class BodyDef:
    """A whole embodiment: parts (in creation order), joints (in creation order), grasp sensors, and the
    per-body numbers the envs read (torque, reward flags, sizes, spawn, survival, lidar fan).

    water_density_offset: None for bodies with fixed densities (walkers, climbers). For swimmers and
    amphibians TeachMyAgent derives densities from the water density the env passes (1.0 in both envs):
    the fish uses (rho - 0.01) for every part, the amphibian 1.25*rho for the hull and 0.25*rho for the
    legs. The catalogue stores the densities at rho = 1.0 (so nothing changes with the envs' value) and
    this offset (-0.01 fish, 0.0 amphibian); `at_water_density` rescales for another rho.
    """

    name: str
    body_type: Literal["walker", "swimmer", "climber", "amphibian"]
    motors_torque: float
    torque_penalty: float
    remove_reward_on_head_angle: bool
    head: str
    agent_width: float
    agent_height: float
    agent_center_height: float
    spawn_heights: SpawnHeights
    survive_under_water: int | None
    survive_outside_water: int | None
    lidar_fan: Literal["down", "up", "full"]
    water_density_offset: float | None
    parts: tuple[PartDef, ...]
    joints: tuple[JointDef, ...]
    sensors: tuple[SensorDef, ...]

    def __post_init__(self) -> None:
        _check_references(self)

    # ---- derived numbers ------------------------------------------------------------------------
    @property
    def motors(self) -> tuple[JointDef, ...]:
        """The motorised joints in motor (= action = observation) order."""
        return tuple(sorted((j for j in self.joints if j.is_motor), key=lambda j: j.motor_index))

    @property
    def action_size(self) -> int:
        return len(self.motors) + len(self.sensors)

    @property
    def state_size(self) -> int:
        motors = self.motors
        return 2 * len(motors) + sum(j.contact_part is not None for j in motors) + 2 * len(self.sensors)

    def spawn_height(self, env: str) -> float:
        """Height of the spawn point above TERRAIN_HEIGHT in `env` ("stump_tracks" or "parkour")."""
        if env not in ENVS:
            raise ValueError(f"unknown env {env!r}; spawn heights exist for {', '.join(ENVS)}")
        return getattr(self.spawn_heights, env)

    def at_water_density(self, rho: float) -> BodyDef:
        """This body with its part densities derived from water density `rho` (see the class doc)."""
        if self.water_density_offset is None:
            return self
        scale = (rho + self.water_density_offset) / (1.0 + self.water_density_offset)
        parts = tuple(dataclasses.replace(p, fixtures=tuple(dataclasses.replace(f, density=f.density * scale)
                                                            for f in p.fixtures)) for p in self.parts)
        return dataclasses.replace(self, parts=parts)

    # ---- JSON -----------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        return _dump(self)

    def to_json(self) -> str:
        return _format(self.to_dict()) + "\n"

    @classmethod
    def from_dict(cls, data: Any, source: str = "body") -> BodyDef:
        """Strictly validated: errors name the key path inside `source` and the valid keys."""
        return _load(cls, data, source)

    @classmethod
    def from_json(cls, text: str, source: str = "body") -> BodyDef:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            raise ValueError(f"{source}: not valid JSON: {err}") from None
        return cls.from_dict(data, source)


def _check_references(body: BodyDef) -> None:
    """Cross-field rules of a BodyDef: names exist and are unique, motors are numbered 0..n-1, sensors
    are welded to their hands, contact flags come from parts whose contacts are tracked."""
    part_names = [p.name for p in body.parts]
    sensor_names = [s.name for s in body.sensors]
    every = part_names + sensor_names
    duplicates = sorted({n for n in every if every.count(n) > 1})
    if duplicates:
        raise ValueError(f"duplicate part/sensor names: {', '.join(duplicates)}")
    parts = {p.name: p for p in body.parts}
    if body.head not in parts:
        raise ValueError(f"head {body.head!r} is not a part; parts: {', '.join(part_names)}")
    joint_names = [j.name for j in body.joints]
    duplicates = sorted({n for n in joint_names if joint_names.count(n) > 1})
    if duplicates:
        raise ValueError(f"duplicate joint names: {', '.join(duplicates)}")
    for j in body.joints:
        for end in (j.body_a, j.body_b):
            if end not in every:
                raise ValueError(f"joint {j.name!r}: {end!r} is not a part or sensor; known: {', '.join(every)}")
        if j.contact_part is not None and not (j.contact_part in parts and parts[j.contact_part].check_contact):
            raise ValueError(f"joint {j.name!r}: contact_part {j.contact_part!r} must be a part with check_contact")
    indices = sorted(j.motor_index for j in body.joints if j.is_motor)
    if indices != list(range(len(indices))):
        raise ValueError(f"motor_index values must be 0..{len(indices) - 1} once each; got {indices}")
    welds = {(j.body_a, j.body_b) for j in body.joints if j.kind == "weld"}
    for s in body.sensors:
        if s.hand not in parts:
            raise ValueError(f"sensor {s.name!r}: hand {s.hand!r} is not a part")
        if (s.hand, s.name) not in welds:
            raise ValueError(f"sensor {s.name!r} needs a weld joint with body_a {s.hand!r} and body_b {s.name!r}")


# ---- generic strict (de)serialisation of the dataclasses above -------------------------------------

@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _load(cls: type, data: Any, path: str) -> Any:
    fields = dataclasses.fields(cls)
    valid = [f.name for f in fields]
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected an object with keys {', '.join(valid)}; got {type(data).__name__}")
    for key in data:
        if key not in valid:
            raise ValueError(f"{path}.{key}: unknown key.{did_you_mean(key, valid)} Valid keys: {', '.join(valid)}")
    required = [f.name for f in fields if f.default is dataclasses.MISSING]
    for key in required:
        if key not in data:
            raise ValueError(f"{path}.{key}: missing key. Required keys: {', '.join(required)}; "
                             f"optional: {', '.join(k for k in valid if k not in required) or 'none'}")
    hints = _hints(cls)
    kwargs = {f.name: _convert(hints[f.name], data[f.name], f"{path}.{f.name}", f.metadata)
              for f in fields if f.name in data}
    try:
        return cls(**kwargs)
    except ValueError as err:
        raise ValueError(f"{path}: {err}") from None


def _convert(tp: Any, value: Any, path: str, metadata: Any = None) -> Any:
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        (inner,) = [a for a in args if a is not type(None)]
        return _convert(inner, value, path, metadata)
    if origin is Literal:
        if value not in args:
            raise ValueError(f"{path}: {value!r} is not one of {', '.join(map(repr, args))}")
        return value
    if origin is tuple:
        if not isinstance(value, list):
            raise ValueError(f"{path}: expected a list; got {type(value).__name__}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_convert(args[0], v, f"{path}[{i}]") for i, v in enumerate(value))
        if len(value) != len(args):
            raise ValueError(f"{path}: expected {len(args)} numbers; got {len(value)}")
        return tuple(_convert(a, v, f"{path}[{i}]") for i, (a, v) in enumerate(zip(args, value)))
    if dataclasses.is_dataclass(tp):
        return _load(tp, value, path)
    return _SCALARS[tp](value, path, metadata or {})


def _to_bool(value: Any, path: str, metadata: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{path}: expected true or false; got {value!r}")
    return value


def _to_int(value: Any, path: str, metadata: Any) -> int:
    if metadata.get("hex") and isinstance(value, str):
        try:
            return int(value, 16)
        except ValueError:
            raise ValueError(f"{path}: expected an integer or a hex string like '0x0020'; got {value!r}") from None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{path}: expected an integer; got {value!r}")
    return value


def _to_float(value: Any, path: str, metadata: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{path}: expected a finite number; got {value!r}")
    return float(value)


def _to_str(value: Any, path: str, metadata: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{path}: expected a non-empty string; got {value!r}")
    return value


_SCALARS = {bool: _to_bool, int: _to_int, float: _to_float, str: _to_str}


def _dump(obj: Any, metadata: Any = None) -> Any:
    """Dataclass -> JSON-ready dict; optional fields left at their default are omitted."""
    if dataclasses.is_dataclass(obj):
        out = {}
        for f in dataclasses.fields(obj):
            value = getattr(obj, f.name)
            if f.default is not dataclasses.MISSING and value == f.default:
                continue
            out[f.name] = _dump(value, f.metadata)
        return out
    if isinstance(obj, tuple):
        return [_dump(v) for v in obj]
    if metadata and metadata.get("hex"):
        return f"0x{obj:04X}"
    return obj


def _format(obj: Any, indent: int = 0) -> str:
    """JSON with objects expanded and lists of numbers (or of number pairs) kept on one line."""
    pad, inner = "  " * indent, "  " * (indent + 1)
    if isinstance(obj, dict):
        if not obj:
            return "{}"
        items = [f"{inner}{json.dumps(k)}: {_format(v, indent + 1)}" for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(obj, list):
        if not any(isinstance(v, dict) or isinstance(v, list) and any(isinstance(w, (dict, list)) for w in v)
                   for v in obj):
            return json.dumps(obj)
        return "[\n" + ",\n".join(inner + _format(v, indent + 1) for v in obj) + "\n" + pad + "]"
    return json.dumps(obj)
