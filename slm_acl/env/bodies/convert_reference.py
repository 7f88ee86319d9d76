"""Regenerate `catalog/<name>.json` from `reference.json` (the verbose TeachMyAgent description).

Kept as the record of where every catalogue number comes from:
- positions, anchors, angles and limits: the reference's metre/radian values (rounded there to 1e-6);
- box half-extents and polygon vertices: the reference's px values / SCALE, rounded to 1e-9 (which
  Box2D's float32 stores as it stores TeachMyAgent's px / SCALE), checked against its metre values;
- unset friction/restitution: Box2D defaults 0.2 / 0.0;
- the fish's draw() adds +1 m to init_y before creating its parts: the catalogue moves that metre
  from the part offsets into the fish's spawn heights, so its head sits at the spawn point;
- every body is checked against the reference's own bookkeeping (reference angles, motor order,
  observation entries, state and action sizes) before anything is written.

Run: `python -m slm_acl.env.bodies.convert_reference`.
"""
from __future__ import annotations

import json
import math
import re
from importlib import resources
from pathlib import Path

from slm_acl.env.bodies.model import (DEFAULT_FRICTION, DEFAULT_RESTITUTION, BodyDef, FixtureDef, JointDef, PartDef,
                                      SensorDef, SpawnHeights)

SCALE = 30.0
TOL = 2e-6  # the reference rounds metres to 1e-6

# Parkour's default lidar fan per body type (TeachMyAgent's run-args handler). For the amphibian the
# handler passes None, which matches no fan (stepping would fail): the intended fan is unknown in the
# source. We choose "full", the Parkour constructor's own default, which also suits a body that both
# walks and swims.
LIDAR_FANS = {"walker": "down", "climber": "up", "swimmer": "full", "amphibian": "full"}

# is_contact_critical as the reference states it -> the catalogue's rule.
CRITICAL = {"False": "never", "True": "always", "reset_on_hull_critical_contact": "hull",
            "the head body object (truthy, so effectively True)": "always"}

SPAWN_Y = {"TERRAIN_HEIGHT + AGENT_CENTER_HEIGHT": "agent_center_height",
           "TERRAIN_HEIGHT + 2 * LEG_H (old_morphology = True)": "two_leg_h"}


def _close(a: float, b: float, what: str, tol: float = TOL) -> None:
    if not math.isclose(a, b, abs_tol=tol):
        raise ValueError(f"{what}: {a} != {b}")


def _scalar_or_default(value: object, default: float) -> float:
    """A reference number, or Box2D's default where the reference says 'unset (...)'."""
    if isinstance(value, str):
        if not value.startswith("unset"):
            raise ValueError(f"unexpected fixture value {value!r}")
        return default
    return float(value)


def convert_fixture(ref: dict, where: str) -> FixtureDef:
    common = dict(shape=ref["shape"], density=float(ref["density"]),
                  friction=_scalar_or_default(ref["friction"], DEFAULT_FRICTION),
                  restitution=_scalar_or_default(ref["restitution"], DEFAULT_RESTITUTION),
                  category_bits=int(ref["categoryBits"], 16), mask_bits=int(ref["maskBits"], 16),
                  is_sensor=bool(ref["isSensor"]))
    geometry = {"box": _box, "polygon": _polygon, "circle": _circle}[ref["shape"]](ref, where)
    return FixtureDef(**common, **geometry)


def _box(ref: dict, where: str) -> dict:
    half = tuple(round(px / 2 / SCALE, 9) for px in ref["full_size_px"])
    for h, m in zip(half, ref["half_extents_m"]):
        _close(h, m, f"{where} half extents")
    return {"half_extents": half}


def _polygon(ref: dict, where: str) -> dict:
    vertices = tuple((round(x / SCALE, 9), round(y / SCALE, 9)) for x, y in ref["vertices_px"])
    for v, m in zip(vertices, ref["vertices_m"]):
        _close(v[0], m[0], f"{where} vertex x")
        _close(v[1], m[1], f"{where} vertex y")
    return {"vertices": vertices}


def _circle(ref: dict, where: str) -> dict:
    return {"radius": float(ref["radius_m"])}  # absolute metres in the source (not divided by SCALE)


def _shift(offset: list[float], dy: float) -> tuple[float, float]:
    return (float(offset[0]), round(float(offset[1]) - dy, 9))


def _draw_lift(ref: dict) -> float:
    """Metres that draw() adds to init_y before creating parts (the fish: +1)."""
    note = ref["spawn"].get("draw_adjustment")
    if note is None:
        return 0.0
    if not note.startswith("draw() adds +1 m to init_y"):
        raise ValueError(f"{ref['name']}: unexpected draw adjustment {note!r}")
    return 1.0


def _water_density_offset(ref: dict) -> float | None:
    rule = ref["constructor"].get("density_rule")
    if rule is None:
        return None
    match = re.match(r"DENSITY = density(?: - ([0-9.]+))?", rule)
    if match is None:
        raise ValueError(f"{ref['name']}: unexpected density rule {rule!r}")
    return -float(match.group(1)) if match.group(1) else 0.0


def convert_part(ref: dict, lift: float) -> PartDef:
    where = f"part {ref['name']}"
    return PartDef(
        name=ref["name"], offset=_shift(ref["position"]["offset_from_init_m"], lift), angle=float(ref["angle_rad"]),
        fixtures=tuple(convert_fixture(f, where) for f in ref["fixtures"]),
        check_contact=bool(ref["user_data"]["check_contact"]),
        critical=CRITICAL[str(ref["user_data"]["is_contact_critical"])],
        receives_spawn_force="receives force_to_center" in ref["role"],
        color1=tuple(float(c) for c in ref["color1"]), color2=tuple(float(c) for c in ref["color2"]))


def convert_joint(ref: dict, lift: float) -> JointDef:
    fields: dict = {"name": ref["name"], "kind": ref["type"], "body_a": ref["bodyA"], "body_b": ref["bodyB"]}
    if "anchor_offset_from_init_m" in ref:
        fields["anchor"] = _shift(ref["anchor_offset_from_init_m"], lift)
    else:  # explicit part-local anchors (old morphologies; old_big_quadru's hip x in metres, unscaled)
        fields["local_anchor_a"] = tuple(float(v) for v in ref["localAnchorA_m"])
        fields["local_anchor_b"] = tuple(float(v) for v in ref["localAnchorB_m"])
    if ref.get("enableLimit"):
        fields.update(enable_limit=True, lower=float(ref["lowerAngle_rad"]), upper=float(ref["upperAngle_rad"]))
    if ref["enableMotor"]:
        if ref["maxMotorTorque_at_creation"] != "MOTORS_TORQUE":
            raise ValueError(f"joint {ref['name']}: unexpected creation torque {ref['maxMotorTorque_at_creation']!r}")
        motor = ref["motor_user_data"]
        if motor["check_contact"] != (motor["contact_body"] is not None):
            raise ValueError(f"joint {ref['name']}: check_contact and contact_body disagree")
        fields.update(speed_control=float(motor["speed_control"]), angle_correction=float(motor["angle_correction"]),
                      contact_part=motor["contact_body"], motor_index=int(ref["motor_index"]),
                      initial_motor_speed=float(ref["motorSpeed_at_creation"]))
    return JointDef(**fields)


def convert_sensor(part: dict, entry: dict, lift: float) -> SensorDef:
    (fixture,) = part["fixtures"]
    offset = _shift(entry["position_offset_from_init_m"], lift)
    if offset != _shift(part["position"]["offset_from_init_m"], lift):
        raise ValueError(f"sensor {part['name']}: two different positions in the reference")
    return SensorDef(name=part["name"], hand=entry["attached_to"], offset=offset, radius=float(fixture["radius_m"]),
                     density=float(fixture["density"]), category_bits=int(fixture["categoryBits"], 16),
                     mask_bits=int(fixture["maskBits"], 16), color1=tuple(float(c) for c in part["color1"]),
                     color2=tuple(float(c) for c in part["color2"]))


def _motors_torque(ref: dict) -> float:
    constructor = ref["constructor"]
    return float(constructor.get("hard_coded", constructor["defaults"])["motors_torque"])


def _spawn_heights(ref: dict, lift: float) -> SpawnHeights:
    heights = {"agent_center_height": lambda: ref["dimensions"]["AGENT_CENTER_HEIGHT"]["value_m"],
               "two_leg_h": lambda: 2 * ref["constants_m"]["LEG_H"]}
    spawn = ref["spawn"]
    return SpawnHeights(stump_tracks=round(heights[SPAWN_Y[spawn["stump_tracks_init_y"]]]() + lift, 9),
                        parkour=round(heights[SPAWN_Y[spawn["parkour_init_y"]]]() + lift, 9))


def convert_body(ref: dict) -> BodyDef:
    """One reference entry -> BodyDef, checked against the reference's own bookkeeping."""
    lift = _draw_lift(ref)
    sensor_entries = {s["name"]: s for s in ref.get("sensors", [])}
    parts = tuple(convert_part(p, lift) for p in ref["parts"] if p.get("in_body_parts", True))
    sensors = tuple(convert_sensor(p, sensor_entries[p["name"]], lift)
                    for p in ref["parts"] if not p.get("in_body_parts", True))
    survival = ref["survival"]
    dims = ref["dimensions"]
    body = BodyDef(
        name=ref["name"], body_type=ref["body_type"], motors_torque=_motors_torque(ref),
        torque_penalty=float(ref["reward"]["TORQUE_PENALTY"]["value"]),
        remove_reward_on_head_angle=bool(ref["reward"]["remove_reward_on_head_angle"]),
        head=ref["head_part"].split()[0],
        agent_width=dims["AGENT_WIDTH"]["value_m"], agent_height=dims["AGENT_HEIGHT"]["value_m"],
        agent_center_height=dims["AGENT_CENTER_HEIGHT"]["value_m"], spawn_heights=_spawn_heights(ref, lift),
        survive_under_water=survival.get("nb_steps_can_survive_under_water"),
        survive_outside_water=survival.get("nb_steps_can_survive_outside_water"),
        lidar_fan=LIDAR_FANS[ref["body_type"]], water_density_offset=_water_density_offset(ref),
        parts=parts, joints=tuple(convert_joint(j, lift) for j in ref["joints"]), sensors=sensors)
    check_against_reference(body, ref)
    return body


def check_against_reference(body: BodyDef, ref: dict) -> None:
    """The reference states motor order, observation entries, reference angles and sizes separately
    from the joints: the converted body must agree with all of them."""
    obs = ref["observation"]
    motors = body.motors
    if [m.name for m in motors] != ref["motors_order"]:
        raise ValueError(f"{body.name}: motor order differs from motors_order")
    for motor, entry in zip(motors, obs["motor_entries_in_order"]):
        expected = [f"angle({motor.name}) + {motor.angle_correction}", f"speed({motor.name}) / {motor.speed_control:g}"]
        if motor.contact_part is not None:
            expected.append(f"1.0 if {motor.contact_part}.has_contact else 0.0")
        if entry["joint"] != motor.name or entry["entries"] != expected:
            raise ValueError(f"{body.name}: observation entries of {motor.name}: {entry['entries']} != {expected}")
    angles = {p.name: p.angle for p in body.parts} | {s.name: 0.0 for s in body.sensors}
    for joint, jref in zip(body.joints, ref["joints"]):
        if "referenceAngle_rad" in jref:
            _close(angles[joint.body_b] - angles[joint.body_a], jref["referenceAngle_rad"],
                   f"{joint.name} referenceAngle")
    sizes = {"get_state_size": body.state_size, "get_action_size": body.action_size,
             "obs_size_stump_tracks": body.state_size + 4 + 10, "obs_size_parkour": body.state_size + 6 + 20}
    for key, value in sizes.items():
        if obs[key] != value:
            raise ValueError(f"{body.name}: {key} {value} != reference {obs[key]}")


def load_reference(path: Path | None = None) -> dict:
    if path is None:
        return json.loads((resources.files("slm_acl.env.bodies") / "reference.json").read_text())
    return json.loads(Path(path).read_text())


def main(reference: Path | None = None, out_dir: Path | None = None) -> list[Path]:
    """Rewrite the catalogue (one JSON file per body) from the reference; returns the files written."""
    out_dir = Path(out_dir) if out_dir is not None else Path(__file__).parent / "catalog"
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, ref in load_reference(reference)["bodies"].items():
        body = convert_body(ref)
        if BodyDef.from_json(body.to_json()) != body:
            raise ValueError(f"{name}: JSON round trip changes the body")
        path = out_dir / f"{name}.json"
        path.write_text(body.to_json())
        written.append(path)
    return written


if __name__ == "__main__":
    for p in main():
        print(p)
