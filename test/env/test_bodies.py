"""The body catalogue against TeachMyAgent's reference, and the generic builder built from it.

Expected numbers come from `reference.json` directly (not from the catalogue), so a conversion or a
builder mistake shows up as a mismatch here.
"""
from __future__ import annotations

import json
import math
from importlib import resources

import Box2D
import numpy as np
import pytest

from slm_acl.env.bodies import BodyDef, body_names, load_body
from slm_acl.env.bodies import convert_reference
from slm_acl.env.bodies.builder import Embodiment
from slm_acl.env.physics.userdata import Kind
from slm_acl.env.registry import embodiment_names

REFERENCE = json.loads((resources.files("slm_acl.env.bodies") / "reference.json").read_text())["bodies"]
NAMES = sorted(REFERENCE)
TERRAIN_HEIGHT = 400 / 30 / 4
INIT_X = 14 / 30 * 20 / 2
ENVS = ("stump_tracks", "parkour")
DT, VEL_ITERS, POS_ITERS = 1 / 50, 180, 60


def ref_parts(ref: dict) -> list[dict]:
    return [p for p in ref["parts"] if p.get("in_body_parts", True)]


def ref_sensors(ref: dict) -> list[dict]:
    return [p for p in ref["parts"] if not p.get("in_body_parts", True)]


def ref_init_y(ref: dict, env: str) -> float:
    """TeachMyAgent's init_y above TERRAIN_HEIGHT (the point passed to draw()), from the spawn rules."""
    rule = ref["spawn"][f"{env}_init_y"]
    heights = {"TERRAIN_HEIGHT + AGENT_CENTER_HEIGHT": lambda: ref["dimensions"]["AGENT_CENTER_HEIGHT"]["value_m"],
               "TERRAIN_HEIGHT + 2 * LEG_H (old_morphology = True)": lambda: 2 * ref["constants_m"]["LEG_H"]}
    return heights[rule]()


def build(name: str, env: str = "parkour", world: Box2D.b2World | None = None, force: float = 0.0,
          hull_critical: bool = False) -> tuple[Box2D.b2World, Embodiment]:
    world = world or Box2D.b2World(gravity=(0, -10))
    body = load_body(name)
    return world, Embodiment.build(world, body, INIT_X, TERRAIN_HEIGHT + body.spawn_height(env), force, hull_critical)


def reference_mass(part: dict) -> float:
    """Mass Box2D gives a body made directly from the reference's fixtures (metres)."""
    world = Box2D.b2World()
    body = world.CreateDynamicBody(position=(0, 0))
    shapes = {"box": lambda f: Box2D.b2PolygonShape(box=tuple(f["half_extents_m"])),
              "polygon": lambda f: Box2D.b2PolygonShape(vertices=[tuple(v) for v in f["vertices_m"]]),
              "circle": lambda f: Box2D.b2CircleShape(radius=f["radius_m"])}
    for f in part["fixtures"]:
        body.CreateFixture(Box2D.b2FixtureDef(shape=shapes[f["shape"]](f), density=float(f["density"])))
    return body.mass


class ContactFlags(Box2D.b2ContactListener):
    """Stump Tracks' rule: parts with check_contact get has_contact on begin, lose it on end."""

    def BeginContact(self, contact):
        self._set(contact, True)

    def EndContact(self, contact):
        self._set(contact, False)

    @staticmethod
    def _set(contact, value):
        for body in (contact.fixtureA.body, contact.fixtureB.body):
            data = body.userData
            if data is not None and data.kind == Kind.BODY_OBJECT and data.check_contact:
                data.has_contact = value


def test_catalogue_lists_the_thirteen_bodies():
    assert body_names() == NAMES == embodiment_names()
    assert len(NAMES) == 13


@pytest.mark.parametrize("name", NAMES)
def test_sizes_and_counts_match_the_reference(name):
    ref = REFERENCE[name]
    obs = ref["observation"]
    _, agent = build(name)
    assert agent.state_size == obs["get_state_size"] == len(agent.state())
    assert agent.action_size == obs["get_action_size"]
    assert agent.state_size + 4 + 10 == obs["obs_size_stump_tracks"]
    assert agent.state_size + 6 + 20 == obs["obs_size_parkour"]
    assert len(agent.parts) == len(ref_parts(ref))
    assert len(agent.sensors) == len(ref_sensors(ref))
    assert len(agent.joints) == len(ref["joints"])
    assert len(agent.motors) == len(ref["motors_order"])
    assert agent.head.userData.name == ref["head_part"].split()[0]


@pytest.mark.parametrize("env", ENVS)
@pytest.mark.parametrize("name", NAMES)
def test_parts_start_at_the_reference_positions(name, env):
    """Spawn height and offsets together put every part where TeachMyAgent's draw() puts it
    (the fish's +1 m included)."""
    ref = REFERENCE[name]
    _, agent = build(name, env)
    origin = np.array([INIT_X, TERRAIN_HEIGHT + ref_init_y(ref, env)])
    for b2body, part in zip(agent.parts + agent.sensors, ref_parts(ref) + ref_sensors(ref)):
        assert b2body.userData.name == part["name"]
        expected = origin + part["position"]["offset_from_init_m"]
        np.testing.assert_allclose(tuple(b2body.position), expected, atol=1e-5, err_msg=part["name"])
        assert b2body.angle == pytest.approx(part["angle_rad"], abs=1e-6)


@pytest.mark.parametrize("name", NAMES)
def test_part_masses_match_the_reference_fixtures(name):
    ref = REFERENCE[name]
    _, agent = build(name)
    for b2body, part in zip(agent.parts + agent.sensors, ref_parts(ref) + ref_sensors(ref)):
        assert b2body.mass == pytest.approx(reference_mass(part), rel=5e-5), part["name"]
        fixture, ref_fixture = b2body.fixtures[0], part["fixtures"][0]
        assert fixture.filterData.categoryBits == int(ref_fixture["categoryBits"], 16)
        assert fixture.filterData.maskBits == int(ref_fixture["maskBits"], 16)
        assert fixture.sensor == ref_fixture["isSensor"]
        friction = ref_fixture["friction"]
        assert fixture.friction == pytest.approx(0.2 if isinstance(friction, str) else friction)


@pytest.mark.parametrize("name", NAMES)
def test_joints_match_the_reference(name):
    """Motor order, speed controls, angle corrections, contact parts, limits, creation speeds and torque,
    reference angles and anchors."""
    ref = REFERENCE[name]
    body = load_body(name)
    _, agent = build(name)
    by_name = {j["name"]: j for j in ref["joints"]}
    motors = [by_name[n] for n in ref["motors_order"]]
    assert [j.motor_index for j in body.motors] == list(range(len(motors)))
    for joint, jdef, jref in zip(agent.motors, body.motors, motors):
        assert jdef.name == jref["name"]
        assert joint.bodyA.userData.name == jref["bodyA"] and joint.bodyB.userData.name == jref["bodyB"]
        motor = jref["motor_user_data"]
        assert jdef.speed_control == motor["speed_control"]
        assert jdef.angle_correction == motor["angle_correction"]
        assert jdef.contact_part == motor["contact_body"]
        assert joint.motorSpeed == pytest.approx(jref["motorSpeed_at_creation"])
        assert joint.GetMaxMotorTorque() == pytest.approx(body.motors_torque)
    origin = np.array([INIT_X, TERRAIN_HEIGHT + ref_init_y(ref, "parkour")])
    for joint, jref in zip(agent.joints, ref["joints"]):
        assert (joint.bodyA.userData.name, joint.bodyB.userData.name) == (jref["bodyA"], jref["bodyB"])
        if jref["type"] == "revolute":
            assert joint.limitEnabled == jref["enableLimit"]
            assert joint.lowerLimit == pytest.approx(jref["lowerAngle_rad"], abs=1e-6)
            assert joint.upperLimit == pytest.approx(jref["upperAngle_rad"], abs=1e-6)
            assert joint.motorEnabled == jref["enableMotor"]
            assert joint.GetReferenceAngle() == pytest.approx(jref["referenceAngle_rad"], abs=1e-6)
        if "anchor_offset_from_init_m" in jref:
            expected = origin + jref["anchor_offset_from_init_m"]
            np.testing.assert_allclose(tuple(joint.anchorA), expected, atol=1e-5)
            np.testing.assert_allclose(tuple(joint.anchorB), expected, atol=1e-5)
        else:  # explicit local anchors (old bodies): the two anchors need not meet
            np.testing.assert_allclose(tuple(joint.anchorA), tuple(joint.bodyA.GetWorldPoint(jref["localAnchorA_m"])),
                                       atol=1e-5)
            np.testing.assert_allclose(tuple(joint.anchorB), tuple(joint.bodyB.GetWorldPoint(jref["localAnchorB_m"])),
                                       atol=1e-5)


def test_old_big_quadru_hip_anchors_are_in_metres():
    """The quirk kept from the source: hips at hull-local x = -1.2 and 0.85 m while the legs sit at
    -1.6 and +1.36 m."""
    body = load_body("old_big_quadru")
    hips = [j for j in body.joints if j.name.startswith("hip_")]
    assert sorted({j.local_anchor_a for j in hips}) == [(-1.2, -0.266667), (0.85, -0.266667)]
    legs = {p.name: p.offset[0] for p in body.parts if p.name.startswith("leg_")}
    assert sorted(set(legs.values())) == [-1.6, 1.36]


@pytest.mark.parametrize("hull_critical", [True, False])
@pytest.mark.parametrize("name", NAMES)
def test_contact_rules_follow_the_reference(name, hull_critical):
    ref = REFERENCE[name]
    _, agent = build(name, hull_critical=hull_critical)
    rules = {"False": False, "True": True, "reset_on_hull_critical_contact": hull_critical,
             "the head body object (truthy, so effectively True)": True}
    for b2body, part in zip(agent.parts, ref_parts(ref)):
        data = part["user_data"]
        assert b2body.userData.kind == Kind.BODY_OBJECT
        assert b2body.userData.check_contact == data["check_contact"], part["name"]
        assert b2body.userData.critical == rules[str(data["is_contact_critical"])], part["name"]
        assert b2body.userData.color1 == tuple(part["color1"])
    for sensor in agent.sensors:
        assert sensor.userData.kind == Kind.BODY_SENSOR and sensor.userData.check_contact
        assert not sensor.userData.critical
        assert sensor.fixtures[0].shape.radius == pytest.approx(0.05)


def test_millipede_head_is_never_critical():
    _, agent = build("millipede", hull_critical=True)
    assert agent.head.userData.name == "body_3"
    assert not any(p.userData.critical for p in agent.parts)


@pytest.mark.parametrize("name", NAMES)
def test_spawn_force_pushes_the_reference_parts(name):
    """Joint forces are internal, so after one step without gravity the agent's momentum is
    (number of pushed parts) * force * dt: 1 for most bodies, 4 for the millipede, 0 for the fish."""
    ref = REFERENCE[name]
    pushed = sum("receives force_to_center" in p["role"] for p in ref_parts(ref))
    world, agent = build(name, world=Box2D.b2World(gravity=(0, 0)), force=5.0)
    world.Step(DT, VEL_ITERS, POS_ITERS)
    momentum = sum(b.mass * b.linearVelocity.x for b in agent.parts + agent.sensors)
    assert momentum == pytest.approx(pushed * 5.0 * DT, abs=1e-4)
    assert pushed == {"fish": 0, "millipede": 4}.get(name, 1)


@pytest.mark.parametrize("name", NAMES)
def test_state_after_a_few_steps_is_finite(name):
    world, agent = build(name)
    for _ in range(5):
        agent.apply_action(np.full(agent.action_size, 0.3, dtype=np.float32))
        world.Step(DT, VEL_ITERS, POS_ITERS)
    state = agent.state()
    assert state.dtype == np.float32 and state.shape == (agent.state_size,)
    assert np.isfinite(state).all()


def test_state_reads_joints_and_contact_flags_in_motor_order():
    world, agent = build("classic_bipedal")
    world.Step(DT, VEL_ITERS, POS_ITERS)
    agent.parts[2].userData.has_contact = True  # lower_-1: the flag after knee_-1
    state = agent.state()
    hip, knee = agent.motors[0], agent.motors[1]
    np.testing.assert_allclose(state[:5], [hip.angle, hip.speed / 4, knee.angle + 1.0, knee.speed / 6, 1.0], rtol=1e-6)
    assert state[9] == 0.0


def test_climber_state_ends_with_sensor_flags():
    _, agent = build("climbing_profile_chimpanzee")
    agent.sensors[1].userData.has_contact = True
    agent.sensors[1].userData.has_joint = True
    assert agent.state()[-4:].tolist() == [0.0, 0.0, 1.0, 1.0]


@pytest.mark.parametrize("name", ["classic_bipedal", "old_classic_bipedal", "small_bipedal", "big_quadru",
                                  "old_big_quadru", "millipede", "amphibious_bipedal"])
def test_walker_feet_touch_the_ground(name):
    """Dropped 0.2 m above a ground edge with zero torque, the lower legs' flags in state() go from 0 to
    1 (a limp walker then sags and its feet may rock on a corner, so a flag can flicker later: every
    step, the flags in state() must equal the listener's has_contact)."""
    world = Box2D.b2World(gravity=(0, -10))
    listener = ContactFlags()
    world.contactListener = listener
    ground = world.CreateStaticBody()
    ground.CreateEdgeFixture(vertices=[(-50, TERRAIN_HEIGHT), (50, TERRAIN_HEIGHT)], friction=2.5)
    body = load_body(name)
    agent = Embodiment.build(world, body, INIT_X, TERRAIN_HEIGHT + body.spawn_height("stump_tracks") + 0.2, 0.0,
                             True)
    flag_at, i = {}, 0
    for motor in body.motors:  # where each contact flag sits in the state
        i += 2
        if motor.contact_part is not None:
            flag_at[motor.contact_part] = i
            i += 1
    parts = {p.userData.name: p for p in agent.parts}
    lower = [part for part in flag_at if part.startswith("lower")]
    assert lower and not agent.state()[[flag_at[p] for p in lower]].any()
    touched = set()
    for _ in range(50):
        agent.apply_action(np.zeros(agent.action_size))
        world.Step(DT, VEL_ITERS, POS_ITERS)
        state = agent.state()
        for part, at in flag_at.items():
            assert state[at] == float(parts[part].userData.has_contact)
        touched |= {part for part in lower if state[flag_at[part]] == 1.0}
    assert touched == set(lower)


def test_apply_action_sets_motor_speed_and_torque():
    _, agent = build("classic_bipedal")
    agent.apply_action(np.array([0.5, -2.0, 0.0, -0.25], dtype=np.float32))
    assert [m.motorSpeed for m in agent.motors] == [4.0, -6.0, 0.0, -4.0 * 1.5]
    np.testing.assert_allclose([m.GetMaxMotorTorque() for m in agent.motors], [40.0, 80.0, 0.0, 20.0])


def test_apply_action_leaves_grasp_entries_to_the_env():
    _, agent = build("climbing_chest_profile_chimpanzee")
    action = np.ones(agent.action_size)
    agent.apply_action(action)
    assert len(agent.motors) == agent.action_size - 2
    assert [m.GetMaxMotorTorque() for m in agent.motors] == [100.0] * len(agent.motors)
    with pytest.raises(ValueError, match="motors"):
        agent.apply_action(np.ones(2))


def test_destroy_removes_parts_sensors_and_joints():
    world, agent = build("climbing_profile_chimpanzee")
    assert len(world.bodies) == 14 and len(world.joints) == 13
    agent.destroy()
    agent.destroy()
    assert len(world.bodies) == 0 and len(world.joints) == 0
    with pytest.raises(RuntimeError):
        agent.state()


def test_spawn_heights():
    assert load_body("old_classic_bipedal").spawn_height("stump_tracks") == pytest.approx(2 * 34 / 30)
    assert load_body("old_classic_bipedal").spawn_height("parkour") == pytest.approx(2.5)
    assert load_body("old_big_quadru").spawn_height("stump_tracks") == pytest.approx(2 * 51 / 30)
    fish = load_body("fish")
    assert fish.spawn_height("parkour") == pytest.approx(fish.agent_center_height + 1.0)
    with pytest.raises(ValueError, match="stump_tracks"):
        fish.spawn_height("lunar")


def test_body_level_numbers():
    fish, amphibian = load_body("fish"), load_body("amphibious_bipedal")
    assert (fish.survive_under_water, fish.survive_outside_water) == (None, 600)
    assert (amphibian.survive_under_water, amphibian.survive_outside_water) == (None, None)
    assert load_body("classic_bipedal").survive_under_water == 600
    assert {n: load_body(n).lidar_fan for n in ("classic_bipedal", "climbing_profile_chimpanzee", "fish",
                                                 "amphibious_bipedal")} == {
        "classic_bipedal": "down", "climbing_profile_chimpanzee": "up", "fish": "full", "amphibious_bipedal": "full"}
    for name in NAMES:
        body, ref = load_body(name), REFERENCE[name]
        assert body.torque_penalty == ref["reward"]["TORQUE_PENALTY"]["value"]
        assert body.remove_reward_on_head_angle == ref["reward"]["remove_reward_on_head_angle"]
        assert body.agent_width == ref["dimensions"]["AGENT_WIDTH"]["value_m"]
    assert load_body("old_classic_bipedal").motors_torque == 80
    assert load_body("millipede").motors_torque == 200
    assert {f.mask_bits for p in load_body("profile_chimpanzee").parts for f in p.fixtures} == {0x1}


def test_water_density_rule():
    fish, amphibian = load_body("fish"), load_body("amphibious_bipedal")
    assert fish.at_water_density(1.0) == fish
    assert {f.density for p in fish.parts for f in p.fixtures} == {0.99}
    assert [f.density for p in fish.at_water_density(2.0).parts for f in p.fixtures] == pytest.approx([1.99] * 5)
    densities = [p.fixtures[0].density for p in amphibian.at_water_density(2.0).parts]
    assert densities == pytest.approx([2.5, 0.5, 0.5, 0.5, 0.5])
    walker = load_body("classic_bipedal")
    assert walker.at_water_density(2.0) is walker


@pytest.mark.parametrize("name", NAMES)
def test_json_round_trip(name):
    body = load_body(name)
    assert BodyDef.from_json(body.to_json()) == body
    assert BodyDef.from_dict(json.loads(body.to_json())).to_dict() == body.to_dict()


def test_catalogue_is_what_the_converter_writes(tmp_path):
    written = convert_reference.main(out_dir=tmp_path)
    assert sorted(p.stem for p in written) == NAMES
    folder = resources.files("slm_acl.env.bodies") / "catalog"
    for path in written:
        assert path.read_text() == (folder / path.name).read_text(), path.name


def test_user_body_file_loads_and_builds(tmp_path):
    data = json.loads(load_body("classic_bipedal").to_json())
    data["name"] = "heavy_bipedal"
    data["motors_torque"] = 120
    data["parts"][0]["fixtures"][0]["density"] = 10.0
    path = tmp_path / "heavy_bipedal.json"
    path.write_text(json.dumps(data))
    body = load_body(str(path))
    world = Box2D.b2World(gravity=(0, -10))
    agent = Embodiment.build(world, body, INIT_X, 6.0, 0.0, True)
    assert agent.head.mass == pytest.approx(2 * reference_mass(REFERENCE["classic_bipedal"]["parts"][0]), rel=5e-5)
    assert [m.GetMaxMotorTorque() for m in agent.motors] == [120.0] * 4
    world.Step(DT, VEL_ITERS, POS_ITERS)
    assert np.isfinite(agent.state()).all()


def test_misspelt_and_missing_keys_are_named():
    data = json.loads(load_body("classic_bipedal").to_json())
    fixture = data["parts"][1]["fixtures"][0]
    fixture["densty"] = fixture.pop("density")
    message = r"parts\[1\]\.fixtures\[0\]\.densty: unknown key\. Did you mean 'density'\?"
    with pytest.raises(ValueError, match=message) as err:
        BodyDef.from_dict(data, source="mine.json")
    assert "mine.json" in str(err.value) and "mask_bits" in str(err.value)
    fixture["density"] = fixture.pop("densty")
    del data["joints"][0]["body_b"]
    with pytest.raises(ValueError, match=r"joints\[0\]\.body_b: missing key"):
        BodyDef.from_dict(data)


def test_invalid_values_are_named():
    data = json.loads(load_body("classic_bipedal").to_json())
    data["parts"][0]["critical"] = "sometimes"
    with pytest.raises(ValueError, match=r"parts\[0\]\.critical: 'sometimes' is not one of"):
        BodyDef.from_dict(data)
    data["parts"][0]["critical"] = "hull"
    data["joints"][1]["contact_part"] = "leg_-1"  # no check_contact on the upper leg
    with pytest.raises(ValueError, match="contact_part 'leg_-1' must be a part with check_contact"):
        BodyDef.from_dict(data)


def test_unknown_body_name_lists_the_catalogue():
    with pytest.raises(ValueError, match="classic_bipedal.*json file") as err:
        load_body("clasic_bipedal")
    assert "Did you mean 'classic_bipedal'" in str(err.value)
    with pytest.raises(ValueError, match="does not exist"):
        load_body("/nonexistent/body.json")


def test_sensors_are_welded_at_the_hand_tips():
    _, agent = build("climbing_profile_chimpanzee")
    welds = [j for j in agent.joints if isinstance(j, Box2D.b2WeldJoint)]
    assert [(w.bodyA.userData.name, w.bodyB.userData.name) for w in welds] == [("hand_0", "hand_sensor_0"),
                                                                                ("hand_1", "hand_sensor_1")]
    for weld in welds:
        assert math.dist(tuple(weld.anchorB), tuple(weld.bodyB.position)) < 1e-6
