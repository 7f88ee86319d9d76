"""scale_part: one part longer or shorter, every linked field (offsets, anchors, sizes, spawn heights) following;
the result builds, spawns on the ground and steps in Stump Tracks; the command line writes it as a body file."""
from __future__ import annotations

import dataclasses
import math

import Box2D
import gymnasium as gym
import numpy as np
import pytest

import slm_acl.env  # noqa: F401  (registers the ids)
from slm_acl.env.bodies import BodyDef, JointDef, body_names, load_body, scale_part
from slm_acl.env.bodies.__main__ import main as bodies_main
from slm_acl.env.bodies.builder import Embodiment
from slm_acl.env.terrain import constants as C

SHIN = 2 * 17 / 30  # classic_bipedal's lower leg, LEG_H = 34 px


def local(part, point) -> tuple[float, float]:
    """`point` (spawn frame) in `part`'s own frame."""
    c, s = math.cos(part.angle), math.sin(part.angle)
    dx, dy = point[0] - part.offset[0], point[1] - part.offset[1]
    return (c * dx + s * dy, -s * dx + c * dy)


def parts_of(body: BodyDef) -> dict:
    return {p.name: p for p in body.parts}


@pytest.mark.parametrize("name", body_names())
def test_factor_one_gives_back_the_body_for_every_part_of_every_catalogue_body(name):
    body = load_body(name)
    for part in body.parts:
        assert scale_part(body, part.name, 1.0, axis="y") == body
        assert scale_part(body, part.name, 1.0, axis="x") == body


def test_a_long_shin_is_longer_by_the_factor_hangs_from_the_same_knee_and_raises_the_spawn_point():
    body = load_body("classic_bipedal")
    long = scale_part(body, "lower", 1.5)
    old, new = parts_of(body), parts_of(long)
    for side in ("-1", "+1"):
        shin, longer = old[f"lower_{side}"], new[f"lower_{side}"]
        assert 2 * longer.fixtures[0].half_extents[1] == pytest.approx(1.5 * SHIN)
        assert longer.fixtures[0].half_extents[0] == shin.fixtures[0].half_extents[0]  # as thick as before
        knee = -1.233333  # the shin stretches away from its joint, which stays put
        top = shin.offset[1] + shin.fixtures[0].half_extents[1]
        assert longer.offset[1] + longer.fixtures[0].half_extents[1] - knee == pytest.approx(1.5 * (top - knee),
                                                                                             abs=1e-8)
        assert new[f"leg_{side}"] == old[f"leg_{side}"]
    assert new["hull"] == old["hull"] and long.joints == body.joints  # the knees stay where they are
    grown = 0.5 * SHIN  # to within the catalogue's 1e-6 m (the knee is stored to 6 decimals, the shin to 9)
    assert long.spawn_heights.stump_tracks == pytest.approx(body.spawn_heights.stump_tracks + grown, abs=1e-6)
    assert long.spawn_heights.parkour == pytest.approx(body.spawn_heights.parkour + grown, abs=1e-6)
    assert long.agent_center_height == pytest.approx(body.agent_center_height + grown, abs=1e-6)
    assert long.agent_height == pytest.approx(body.agent_height + grown, abs=1e-6)
    assert long.agent_width == body.agent_width
    assert long.name == body.name and long.state_size == body.state_size


def test_a_longer_thigh_moves_the_knee_and_the_shin_below_it_down_by_the_growth():
    body = load_body("classic_bipedal")
    long = scale_part(body, "leg_-1", 2.0)  # one thigh only
    old, new = parts_of(body), parts_of(long)
    drop = 2 * 17 / 30  # the thigh (34 px) doubled
    assert new["lower_-1"].offset == pytest.approx((0.0, old["lower_-1"].offset[1] - drop))
    assert new["lower_+1"] == old["lower_+1"] and new["leg_+1"] == old["leg_+1"]
    knees = {j.name: j for j in long.joints}
    assert knees["knee_-1"].anchor == pytest.approx((0.0, -0.1 - 2 * drop), abs=1e-6)
    assert knees["knee_+1"].anchor == {j.name: j for j in body.joints}["knee_+1"].anchor
    assert long.spawn_heights.stump_tracks == pytest.approx(body.spawn_heights.stump_tracks + drop, abs=1e-6)


@pytest.mark.parametrize("name, part", [("spider", "upper_leg_0"), ("spider", "middle_leg"), ("fish", "body_p1"),
                                        ("big_quadru", "leg"), ("climbing_profile_chimpanzee", "lower_arm_1"),
                                        ("profile_chimpanzee", "body"), ("wheel", "leg_left")])
def test_every_joint_keeps_its_place_on_its_parts(name, part):
    """Joint anchors in each part's own frame: unchanged on parts that only moved, stretched on the scaled ones."""
    body = load_body(name)
    scaled = scale_part(body, part, 1.7)
    old, new = parts_of(body), parts_of(scaled)
    stretched = {p for p in old if p == part or p.startswith(part + "_")}
    moved = 0
    for before, after in zip(body.joints, scaled.joints):
        for end in (before.body_a, before.body_b):
            if end not in old:
                continue  # a grasp sensor
            q0, q1 = local(old[end], before.anchor), local(new[end], after.anchor)
            if end in stretched:
                axis = 0 if end.startswith("body_p") else 1
                q0 = tuple(v * 1.7 if k == axis else v for k, v in enumerate(q0))
            assert q1 == pytest.approx(q0, abs=1e-6), (before.name, end)
        moved += before.anchor != after.anchor
    assert moved > 0
    for before, after in zip(body.sensors, scaled.sensors):  # a sensor stays on its hand
        assert local(new[after.hand], after.offset) == pytest.approx(local(old[before.hand], before.offset), abs=1e-6)


def test_an_old_morphology_keeps_its_local_anchors_on_the_unscaled_ends():
    body = load_body("old_classic_bipedal")
    scaled = scale_part(body, "leg_-1", 1.5)
    joints = {j.name: j for j in scaled.joints}
    old = {j.name: j for j in body.joints}
    assert joints["hip_-1"].local_anchor_a == old["hip_-1"].local_anchor_a  # on the hull
    assert joints["hip_-1"].local_anchor_b == pytest.approx((0.0, 1.5 * old["hip_-1"].local_anchor_b[1]))
    assert joints["knee_-1"].local_anchor_a == pytest.approx((0.0, 1.5 * old["knee_-1"].local_anchor_a[1]))
    assert joints["knee_-1"].local_anchor_b == old["knee_-1"].local_anchor_b  # on the shin, which only moved
    leg0, leg1 = parts_of(body)["leg_-1"], parts_of(scaled)["leg_-1"]
    c, s = math.cos(leg0.angle), math.sin(leg0.angle)

    def spawn(part, q):
        return (part.offset[0] + c * q[0] - s * q[1], part.offset[1] + s * q[0] + c * q[1])

    assert spawn(leg1, joints["hip_-1"].local_anchor_b) == pytest.approx(spawn(leg0, old["hip_-1"].local_anchor_b))
    assert scaled.spawn_heights.stump_tracks > body.spawn_heights.stump_tracks
    assert (scaled.spawn_heights.parkour - body.spawn_heights.parkour
            == pytest.approx(scaled.spawn_heights.stump_tracks - body.spawn_heights.stump_tracks))


@pytest.mark.parametrize("part, factor, axis, message", [
    ("shin", 1.5, None, ("classic_bipedal has no part 'shin'. Parts: hull, leg_-1, lower_-1, leg_+1, lower_+1; "
                         "families: leg, lower")),
    ("lower", 0.0, None, "factor must be a finite number > 0; got 0.0"),
    ("lower", float("nan"), None, "factor must be a finite number > 0"),
    ("lower", 1.5, "z", "axis must be one of x, y"),
])
def test_bad_requests_name_the_problem_and_the_choices(part, factor, axis, message):
    with pytest.raises(ValueError) as err:
        scale_part(load_body("classic_bipedal"), part, factor, axis)
    assert message in str(err.value)


def test_joints_that_close_a_loop_leave_nothing_beyond_a_joint():
    body = load_body("classic_bipedal")
    looped = dataclasses.replace(body, joints=body.joints + (
        JointDef(name="tie", kind="revolute", body_a="lower_-1", body_b="lower_+1", anchor=(0.0, -2.0)),))
    with pytest.raises(ValueError, match="joint 'tie' closes a loop; scaling a part needs the parts joined"):
        scale_part(looped, "leg_-1", 1.5)


def test_a_segment_stretches_along_its_spine_a_square_head_needs_an_axis_and_a_sensor_is_not_a_part():
    millipede = load_body("millipede")
    longer = scale_part(millipede, "body_2", 1.5)  # held by the spine joint towards the head (body_3): along x
    growth = 0.5 * 20 / 30  # its polygon is 20 px long
    assert longer.agent_width == pytest.approx(millipede.agent_width + growth)
    old, new = parts_of(millipede), parts_of(longer)
    assert new["body_1"].offset[0] == pytest.approx(old["body_1"].offset[0] - growth, abs=1e-6)
    assert new["body_3"] == old["body_3"] and longer.spawn_heights == millipede.spawn_heights
    with pytest.raises(ValueError, match="'body_3' is as wide as it is long .* give the axis"):
        scale_part(millipede, "body_3", 1.5)
    assert scale_part(millipede, "body_3", 1.5, axis="x").agent_width == pytest.approx(millipede.agent_width + growth)
    with pytest.raises(ValueError, match="'hand_sensor_0' is a grasp sensor, not a part; scale its hand instead"):
        scale_part(load_body("climbing_profile_chimpanzee"), "hand_sensor_0", 1.5)


def lowest_point(agent: Embodiment) -> float:
    return min((b.transform * v)[1] for b in agent.parts for f in b.fixtures for v in f.shape.vertices)


@pytest.mark.parametrize("part, factor", [("lower", 1.5), ("leg", 0.6), ("lower", 1.0)])
def test_a_scaled_body_spawns_standing_on_the_ground_and_steps_in_stump_tracks(part, factor):
    classic = load_body("classic_bipedal")
    body = scale_part(classic, part, factor)
    for env_key in ("stump_tracks", "parkour"):  # placed as the envs place it: feet exactly on the ground
        agent = Embodiment.build(Box2D.b2World(), body, 4.0, C.TERRAIN_HEIGHT + body.spawn_height(env_key), 0.0, True)
        assert lowest_point(agent) == pytest.approx(C.TERRAIN_HEIGHT, abs=1e-5)
    settled = {}
    for name, b in (("classic", classic), ("scaled", body)):
        env = gym.make("slm_acl/StumpTracks-v0", body=b)
        obs, _ = env.reset(seed=0, options={"task": {"stump_height": 0.0}})
        settled[name] = lowest_point(env.unwrapped.agent)
        for _ in range(30):
            obs, reward, *_ = env.step(np.zeros(4, np.float32))
            assert np.isfinite(obs).all() and np.isfinite(reward)
        assert obs.shape == (24,)
        env.close()
    assert settled["scaled"] == pytest.approx(settled["classic"], abs=2e-3)  # after reset's step: as the original


def test_the_command_line_writes_a_body_file_that_the_env_takes(tmp_path, capsys):
    out = tmp_path / "bodies" / "long_shin_bipedal.json"
    assert bodies_main(["scale", "classic_bipedal", "lower", "1.5", "--out", str(out)]) == 0
    assert "lower_-1, lower_+1 x1.5" in capsys.readouterr().out
    written = load_body(str(out))
    assert written.name == "long_shin_bipedal"
    assert written == dataclasses.replace(scale_part(load_body("classic_bipedal"), "lower", 1.5),
                                          name="long_shin_bipedal")
    again = tmp_path / "longer.json"  # a body file as the source, stdout without --out
    assert bodies_main(["scale", str(out), "leg", "1.2", "--name", "tall"]) == 0
    again.write_text(capsys.readouterr().out)
    assert load_body(str(again)).name == "tall"
    env = gym.make("slm_acl/StumpTracks-v0", body=str(out))
    env.reset(seed=1)
    env.step(np.zeros(4, np.float32))
    env.close()
    assert bodies_main(["scale", "classic_bipedal", "shin", "1.5"]) == 2
    assert "error: classic_bipedal has no part 'shin'" in capsys.readouterr().err
    assert bodies_main(["scale", "classic_bipedal", "lower", "1.5", "--out", str(tmp_path / "x.txt")]) == 2
    assert "--out must name a .json file" in capsys.readouterr().err
