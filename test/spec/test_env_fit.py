"""A spec is checked against its envs before a run: task parameters, spaces, net sizes, teacher needs.

Every check here used to run only once the vector envs existed (leaving a run folder behind); now each is a
SpecError from `validate`, naming the key path to change and the valid choices.
"""
from __future__ import annotations

import json

import pytest
from conftest import ECHO, ROOT, make_raw

import run_lab
from slm_acl.env import LAB_ENVS
from slm_acl.env.parkour import Parkour
from slm_acl.env.stump_tracks import StumpTracks
from slm_acl.spec import SpecError, env_facts, validate


def error_of(raw) -> str:
    with pytest.raises(SpecError) as info:
        validate(raw)
    return str(info.value)


def stump_tracks_raw(task_space=None, **overrides) -> dict:
    """The demo's ALP-GMM + PPO Stump Tracks spec (shortened), with its task space replaced."""
    raw = json.loads((ROOT / "spec" / "demo.json").read_text())["alp_gmm_ppo_stump_tracks"]
    raw["name"] = "alp_gmm_ppo_stump_tracks"
    raw["env"][0].update(num_envs=1, max_frame=1000)
    if task_space is not None:
        raw["curriculum"]["task_space"] = task_space
    raw.update(overrides)
    return raw


@pytest.fixture
def builds(monkeypatch):
    """Counts the env instances the validator makes (each (env, embodiment, kwargs) once per process)."""
    made = []
    real = env_facts._read_facts
    monkeypatch.setattr(env_facts, "_CACHE", {})
    monkeypatch.setattr(env_facts, "_read_facts", lambda maker: made.append(maker) or real(maker))
    return made


# ---- task spaces --------------------------------------------------------------------------------------------

def test_the_cli_refuses_a_misspelt_task_parameter_in_one_line_and_writes_nothing(tmp_path, capsys):
    spec_file = tmp_path / "specs.json"
    raw = stump_tracks_raw({"stump_hieght": [0, 3]})
    spec_file.write_text(json.dumps({raw.pop("name"): raw}))
    data = tmp_path / "data"
    assert run_lab.main([str(spec_file), "alp_gmm_ppo_stump_tracks", "train", "--data-dir", str(data)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "curriculum.task_space.stump_hieght" in err and "Did you mean 'stump_height'?" in err
    assert "Valid: obstacle_spacing, poly_shape, roughness, stump_height, stump_rot, stump_seq, stump_width" in err
    assert not data.exists()


def test_a_lab_env_declares_its_class_task_parameters_and_a_typo_builds_no_env(builds):
    assert LAB_ENVS.get("StumpTracks").task_params == StumpTracks.task_params
    assert LAB_ENVS.get("Parkour").task_params == Parkour.task_params
    with pytest.raises(SpecError, match="stump_hieght"):
        validate(stump_tracks_raw({"stump_hieght": [0, 3]}))
    assert builds == []  # the declared parameters sufficed


def test_any_other_env_is_asked_once_and_its_facts_are_cached(builds):
    raw = make_raw(env=[{"name": ECHO, "max_frame": 100}],
                   curriculum={"teacher": {"name": "Random"}, "task_space": {"level": [0, 5]}})
    validate(raw)
    validate(raw)
    assert [m.name for m in builds] == [ECHO]
    msg = error_of(make_raw(env=[{"name": ECHO, "max_frame": 100}],
                            curriculum={"teacher": {"name": "Random"}, "task_space": {"levle": [0, 5]}}))
    assert "curriculum.task_space.levle" in msg and "Did you mean 'level'?" in msg and "Valid: level, other" in msg
    validate(make_raw(env=[{"name": ECHO, "max_frame": 100, "kwargs": {"fail_after_resets": 9}}],
                      curriculum={"teacher": {"name": "Random"}, "task_space": {"level": [0, 5]}}))
    assert [m.kwargs for m in builds] == [(), (("fail_after_resets", 9),)]  # other kwargs: another instance


def test_curriculum_on_an_env_without_task_parameters():
    msg = error_of(make_raw(env=[{"name": "Pendulum-v1", "max_frame": 100}]))
    assert "curriculum.task_space" in msg and "takes no task parameters" in msg


@pytest.mark.parametrize("task_space, path, words", [
    ({"mas": [1, 2]}, "curriculum.task_space.mas", "Valid: gravity, length, mass"),
    ({"mass": [0.1, 2.0]}, "curriculum.task_space.mass", "bounds [0.1, 2.0] of mass exceed env "
                                                         "slm_acl/ParamPendulum-v0's range [0.2, 3.0]"),
    ({"mass": [0.5, 2.0], "gravity": 30.0}, "curriculum.task_space.gravity", "fixed value 30.0 is outside env "
                                                                             "slm_acl/ParamPendulum-v0's range"),
    ({"mass": [0.5, 2.0, 2]}, "curriculum.task_space.mass", "a single number"),
])
def test_task_space_names_shapes_and_bounds_are_checked_against_the_env(task_space, path, words):
    msg = error_of(make_raw(curriculum={"teacher": {"name": "Random"}, "task_space": task_space}))
    assert path in msg and words in msg


@pytest.mark.parametrize("bounds, words", [
    ([0, 4, 5], "a vector of 12 values"),   # Hexagon Tracks' poly_shape has 12 entries
    ([0, 4], "a vector of 12 values"),
    (2.0, "give it bounds"),
    ([0, 5, 12], "exceed env StumpTracks's range [0.0, 4.0]"),
])
def test_vector_task_parameters_need_their_size(bounds, words):
    msg = error_of(stump_tracks_raw({"stump_height": [0, 3], "poly_shape": bounds}))
    assert "curriculum.task_space.poly_shape" in msg and words in msg


def test_a_body_override_is_checked_at_its_own_key_path():
    raw = make_raw()
    raw["env"].append({"name": ECHO, "max_frame": 100})
    raw["body"] = {"product": "custom", "bodies": [
        {"agent": 0, "env": 0},
        {"agent": 0, "env": 1, "curriculum": {"task_space": {"levl": [0, 1]}}}]}
    msg = error_of(raw)
    assert "body.bodies[1].curriculum.task_space.levl" in msg and "Did you mean 'level'?" in msg
    # a body that inherits the spec's task space in another env: the key to change is the spec's curriculum
    raw["body"]["bodies"][1] = {"agent": 0, "env": 1}
    msg = error_of(raw)
    assert "at curriculum.task_space.mass" in msg and "Valid: level, other" in msg


# ---- agents against their bodies --------------------------------------------------------------------------------

PPO = {"algorithm": {"name": "PPO"}, "net": {"type": "MLPNet"}, "memory": {"name": "OnPolicyBatch"}}


def test_an_algorithm_that_cannot_act_in_the_env_spaces_is_a_spec_error():
    raw = make_raw(agent=[PPO], env=[{"name": "CartPole-v1", "max_frame": 100}])
    raw.pop("curriculum")
    msg = error_of(raw)
    assert "agent[0].algorithm.name" in msg and "PPO cannot act for body a0_e0_b0" in msg and "Discrete" in msg


def test_a_net_that_does_not_fit_the_bodies_sizes_is_a_spec_error():
    raw = make_raw(agent=[PPO])
    raw["env"].append({"name": "LunarLanderContinuous-v3", "max_frame": 100})
    raw["body"] = {"product": "custom",
                   "bodies": [{"agent": 0, "env": 0}, {"agent": 0, "env": 1, "no_curriculum": True}]}
    msg = error_of(raw)
    assert "agent[0].net.type" in msg and "HydraMLPNet" in msg and "[3, 8]" in msg
    raw["agent"][0]["net"] = {"type": "HydraMLPNet"}
    validate(raw)


def test_an_embodiment_changes_the_sizes_the_net_must_fit():
    raw = stump_tracks_raw({"stump_height": [0, 3]})
    raw["env"].append(dict(raw["env"][0]))
    raw["body"] = {"product": "custom", "bodies": [{"agent": 0, "env": 0, "embodiment": "classic_bipedal"},
                                                   {"agent": 0, "env": 1, "embodiment": "spider"}]}
    msg = error_of(raw)
    assert "agent[0].net.type" in msg and "observation size, got [24, 42]" in msg


SPDL = {"teacher": {"name": "Self-Paced"}, "task_space": {"mass": [0.5, 2.0]},
        "initial_dist": {"mean": [1.0], "std": [0.1]}, "target_dist": {"mean": [1.5], "std": [0.2]}}


def test_a_teacher_that_needs_a_value_estimate_needs_an_algorithm_that_provides_one():
    validate(make_raw(agent=[PPO], curriculum=SPDL))
    raw = make_raw(curriculum=SPDL)  # the Random agent has no value estimate
    msg = error_of(raw)
    assert "curriculum.teacher.name" in msg and "algorithm Random (agent[0]) does not provide" in msg
    assert "use an algorithm that does: PPO, SAC" in msg
    raw["curriculum"]["teacher"] = {"name": "Random"}
    raw["body"] = {"product": "custom",
                   "bodies": [{"agent": 0, "env": 0, "curriculum": {"teacher": {"name": "Self-Paced"}}}]}
    assert "body.bodies[0].curriculum.teacher.name" in error_of(raw)


def test_an_env_that_cannot_be_made_is_a_spec_error_at_its_entry():
    msg = error_of(make_raw(env=[{"name": ECHO, "max_frame": 100, "kwargs": {"levels": 3}}],
                            curriculum={"teacher": {"name": "Random"}, "task_space": {"level": [0, 5]}}))
    assert "at env[0]:" in msg and "cannot make env" in msg and "levels" in msg


def test_an_embodiment_error_names_where_the_embodiment_is_written():
    raw = make_raw(body={"product": "custom", "embodiment": "spider", "bodies": [{"agent": 0, "env": 0}]})
    assert "at body.embodiment:" in error_of(raw)
    raw["body"] = {"product": "custom", "bodies": [{"agent": 0, "env": 0, "embodiment": "fish"}]}
    msg = error_of(raw)
    assert "at body.bodies[0].embodiment:" in msg and "has no embodiments" in msg


def test_searched_task_spaces_are_checked_against_the_env_at_every_grid_value():
    raw = make_raw()
    raw["search"] = {"curriculum": {"task_space": {"mass__grid_search": [[0.5, 2.0], [0.5, 9.0]]}}}
    msg = error_of(raw)
    assert "curriculum.task_space.mass" in msg and "range [0.2, 3.0]" in msg and "with the searched values" in msg
