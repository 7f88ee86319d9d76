"""Expert-knowledge levels: `curriculum.expert_knowledge` resolves per body into TeachMyAgent's keys, or refuses."""
from __future__ import annotations

import copy

import pytest
from conftest import make_raw

from slm_acl.curriculum.expert_knowledge import LEVELS, Gift
from slm_acl.curriculum.teachers import TEACHERS
from slm_acl.spec import SpecError, validate
from slm_acl.spec.expert_knowledge import ENV_KNOWLEDGE, GIFTS, resolve
from slm_acl.spec.validate import expert_knowledge_record

STUMPS = {"stump_height": [0.0, 3.0], "obstacle_spacing": [0.0, 6.0]}  # TeachMyAgent's standard space
EASY = {"mean": [0.0, 6.0], "std": [0.3, 0.6]}  # its initial Gaussian there
WHOLE = {"mean": [1.5, 3.0], "std": [0.75, 1.5]}  # SPDL's whole-space target there
PPO = {"name": "ppo", "algorithm": {"name": "PPO"}, "net": {"type": "MLPNet"}, "memory": {"name": "OnPolicyBatch"}}
ORACLE = {"window_step": [0.0333, -0.0333], "reward_thr": 230}  # no level gives these


def stump_spec(name: str, level: str | None, **curriculum) -> dict:
    """One PPO body (it has V(s), for SPDL) on Stump Tracks' standard space with teacher `name` at `level`;
    `curriculum` adds or replaces curriculum keys (a whole `teacher` included)."""
    settings = ORACLE if name == "Oracle" else {}
    cur = {"teacher": {"name": name, **settings}, "task_space": copy.deepcopy(STUMPS), "test_set_size": 4,
           **curriculum}
    if level is not None:
        cur["expert_knowledge"] = level
    return make_raw(agent=[PPO], env=[{"name": "StumpTracks", "max_frame": 1000}], curriculum=cur)


def error_of(raw: dict) -> SpecError:
    with pytest.raises(SpecError) as info:
        validate(raw)
    return info.value


# ---- each level for each teacher on Stump Tracks ---------------------------------------------------------------
# (teacher, level) -> the typed curriculum's keys; teacher.* are its config's fields. Refused cells: the levels the
# teacher runs at, which the message lists.
NOTHING = {"success_return": 230.0, "initial_dist": None, "target_dist": None}
EXPECTED = {
    ("Random", "no"): NOTHING, ("Random", "low"): NOTHING, ("Random", "high"): NOTHING,
    ("RIAC", "no"): NOTHING, ("RIAC", "low"): NOTHING, ("RIAC", "high"): NOTHING,
    ("ALP-GMM", "no"): NOTHING, ("ALP-GMM", "low"): NOTHING, ("ALP-GMM", "high"): {**NOTHING, "initial_dist": EASY},
    ("Covar-GMM", "no"): NOTHING, ("Covar-GMM", "low"): NOTHING,
    ("Covar-GMM", "high"): {**NOTHING, "initial_dist": EASY},
    ("ADR", "no"): ["'low', 'high'"],
    ("ADR", "low"): {**NOTHING, "teacher.max_reward_thr": 180.0, "teacher.min_reward_thr": 0.0},
    ("ADR", "high"): {**NOTHING, "teacher.max_reward_thr": 180.0, "teacher.min_reward_thr": 0.0, "initial_dist": EASY},
    ("Self-Paced", "no"): {**NOTHING, "target_dist": WHOLE, "teacher.initial_dist_fallback": "random_subspace"},
    ("Self-Paced", "low"): {**NOTHING, "target_dist": WHOLE, "teacher.initial_dist_fallback": "random_subspace"},
    ("Self-Paced", "high"): {**NOTHING, "initial_dist": EASY, "target_dist": WHOLE,
                             "teacher.initial_dist_fallback": "none"},
    ("GoalGAN", "no"): ["'low', 'high'"],
    ("GoalGAN", "low"): {**NOTHING, "teacher.use_pretrained_samples": True},
    ("GoalGAN", "high"): {**NOTHING, "teacher.use_pretrained_samples": True, "initial_dist": EASY},
    ("Setter-Solver", "no"): ["'low', 'high'"], ("Setter-Solver", "low"): NOTHING,
    ("Setter-Solver", "high"): NOTHING,
    ("Oracle", "no"): ["'high'"], ("Oracle", "low"): ["'high'"],
    ("Oracle", "high"): {**NOTHING, "teacher.window_step": [0.0333, -0.0333], "teacher.reward_thr": 230.0},
}


def test_the_table_covers_every_teacher_at_every_level():
    assert set(EXPECTED) == {(name, level) for name in TEACHERS.names() for level in LEVELS}


@pytest.mark.parametrize("teacher, level", sorted(EXPECTED))
def test_each_level_of_each_teacher_on_stump_tracks(teacher, level):
    expected = EXPECTED[(teacher, level)]
    raw = stump_spec(teacher, level)
    if isinstance(expected, list):  # refused: the message names key path, teacher, level and what would work
        err = error_of(raw)
        assert err.path == "curriculum.expert_knowledge"
        assert f"teacher {teacher} cannot run at expert-knowledge level {level!r}" in err.message
        assert f"use a level where it runs ({expected[0]})" in err.message and "remove expert_knowledge" in err.message
        return
    curriculum = validate(raw).bodies[0].curriculum
    assert curriculum.expert_knowledge == level
    for key, value in expected.items():
        head, _, field = key.partition(".")
        got = getattr(curriculum.teacher.config, field) if field else getattr(curriculum, head)
        assert got == value, key


def test_the_spec_keeps_the_level_and_the_record_says_what_it_set():
    raw = stump_spec("ADR", "high")
    run = validate(copy.deepcopy(raw))
    assert run.raw == raw  # the saved tree keeps the level: a search or a cell re-resolves from it
    assert run.spec.curriculum.initial_dist == EASY  # the typed view is resolved
    assert expert_knowledge_record(run) == {"a0_e0_b0": {
        "level": "high", "from": "curriculum.expert_knowledge", "env": "StumpTracks", "teacher": "ADR",
        "set": {"success_return": 230.0, "teacher.min_reward_thr": 0.0, "teacher.max_reward_thr": 180.0,
                "initial_dist": EASY},
        "explicit": [], "notes": [], "source": ENV_KNOWLEDGE.get("StumpTracks").source}}
    assert expert_knowledge_record(validate(stump_spec("ADR", None, success_return=230,
                                                       teacher={"name": "ADR", "max_reward_thr": 1,
                                                                "min_reward_thr": 0}))) == {}


def test_a_resolved_spec_validates_to_the_same_curriculum_as_its_level():
    """A benchmark cell re-run alone: the record's keys written by hand give the same typed curriculum."""
    run = validate(stump_spec("GoalGAN", "high"))
    explicit = stump_spec("GoalGAN", None)
    for key, value in expert_knowledge_record(run)["a0_e0_b0"]["set"].items():
        head, _, field = key.partition(".")
        (explicit["curriculum"][head] if field else explicit["curriculum"])[field or head] = value
    resolved = validate(explicit).bodies[0].curriculum
    assert resolved.teacher == run.bodies[0].curriculum.teacher
    assert resolved.initial_dist == run.bodies[0].curriculum.initial_dist == EASY


# ---- other task spaces: mean height 0 (clipped into the bounds), spacing at its upper bound, std 10% of range --

@pytest.mark.parametrize("height, spacing, mean, std", [
    ([-3.0, 3.0], [0.0, 6.0], [0.0, 6.0], [0.6, 0.6]),  # mostly trivial: 0 is the middle of the space
    ([0.0, 9.0], [0.0, 6.0], [0.0, 6.0], [0.9, 0.6]),  # mostly unfeasible
    ([1.0, 3.0], [2.0, 4.0], [1.0, 4.0], [0.2, 0.2]),  # 0 outside the range: the nearest bound
])
def test_the_easy_gaussian_follows_the_task_space(height, spacing, mean, std):
    raw = stump_spec("ALP-GMM", "high")
    raw["curriculum"]["task_space"] = {"stump_height": height, "obstacle_spacing": spacing}
    assert validate(raw).bodies[0].curriculum.initial_dist == {"mean": mean, "std": std}


def test_a_task_dim_with_no_easy_value_is_refused_naming_it():
    raw = stump_spec("ALP-GMM", "high")
    raw["curriculum"]["task_space"]["roughness"] = [0.0, 2.0]
    err = error_of(raw)
    assert err.path == "curriculum.expert_knowledge" and "['roughness']" in err.message
    assert "set curriculum.initial_dist explicitly" in err.message
    raw["curriculum"]["initial_dist"] = {"mean": [0.0, 6.0, 0.0], "std": [0.3, 0.6, 0.2]}  # explicit: fine
    assert validate(raw).bodies[0].curriculum.initial_dist["mean"] == [0.0, 6.0, 0.0]


def test_hexagon_tracks_dims_get_teachmyagents_raw_std():
    space = {"poly_shape": [0.0, 4.0, 12]}
    got = resolve({"teacher": {"name": "ALP-GMM"}, "task_space": space, "expert_knowledge": "high"},
                  "StumpTracks", "curriculum", "curriculum.expert_knowledge")
    assert got.curriculum["initial_dist"] == {"mean": [0.0] * 12, "std": [0.1] * 12}


# ---- Parkour: TeachMyAgent gives it no initial distribution --------------------------------------------------

PARKOUR_SPACE = {"input_vector": [[-0.35, 0.05], [0.6, 1.0], [-0.1, 0.3]], "water_level": [0.0, 1.0],
                 "creepers_width": 0.25}


def parkour(teacher: str, level: str) -> dict:
    return resolve({"teacher": {"name": teacher}, "task_space": PARKOUR_SPACE, "expert_knowledge": level},
                   "Parkour", "curriculum", "curriculum.expert_knowledge").curriculum


def test_parkour_at_high_gives_no_initial_distribution_as_teachmyagent():
    raw = make_raw(agent=[PPO], env=[{"name": "Parkour", "max_frame": 1000}], body={"embodiment": "fish"},
                   curriculum={"teacher": {"name": "ALP-GMM"}, "task_space": PARKOUR_SPACE, "test_set_size": 4,
                               "expert_knowledge": "high"})
    run = validate(raw)
    assert run.bodies[0].curriculum.initial_dist is None and run.bodies[0].curriculum.success_return == 230.0
    assert "env Parkour has no initial distribution" in expert_knowledge_record(run)["a0_e0_b0"]["notes"][0]
    adr = parkour("ADR", "high")  # thresholds, random start
    assert adr["teacher"] == {"name": "ADR", "min_reward_thr": 0.0, "max_reward_thr": 180.0}
    assert "initial_dist" not in adr
    spdl = parkour("Self-Paced", "high")  # the whole space over Parkour's 4 dims, a random sub-space start
    assert spdl["target_dist"] == {"mean": [-0.15, 0.8, 0.1, 0.5], "std": [0.1, 0.1, 0.1, 0.25]}
    assert spdl["teacher"]["initial_dist_fallback"] == "random_subspace"
    assert parkour("GoalGAN", "high")["teacher"] == {"name": "GoalGAN", "use_pretrained_samples": True}


def test_each_body_resolves_for_its_own_env():
    """One default curriculum, a Stump Tracks body and a Parkour body with its own task space."""
    raw = make_raw(env=[{"name": "StumpTracks", "max_frame": 1000}, {"name": "Parkour", "max_frame": 1000}],
                   body={"product": "custom", "embodiment": "fish",
                         "bodies": [{"agent": 0, "env": 0}, {"agent": 0, "env": 1,
                                                             "curriculum": {"task_space": PARKOUR_SPACE}}]},
                   curriculum={"teacher": {"name": "ALP-GMM"}, "task_space": STUMPS, "test_set_size": 4,
                               "expert_knowledge": "high"})
    stumps, parkour_body = validate(raw).bodies
    assert stumps.curriculum.initial_dist == EASY and parkour_body.curriculum.initial_dist is None


def test_a_bodys_own_level_is_named_by_its_path():
    raw = stump_spec("ALP-GMM", "low")
    raw["env"].append({"name": "StumpTracks", "max_frame": 1000})
    raw["body"] = {"product": "custom", "bodies": [
        {"agent": 0, "env": 0}, {"agent": 0, "env": 1, "curriculum": {"teacher": {"name": "ADR"},
                                                                      "expert_knowledge": "no"}}]}
    err = error_of(raw)
    assert err.path == "body.bodies[1].curriculum.expert_knowledge"
    assert "teacher ADR cannot run at expert-knowledge level 'no' (body.bodies[1], env[1] StumpTracks)" in err.message
    raw["body"]["bodies"][1]["curriculum"]["expert_knowledge"] = "low"
    run = validate(raw)
    assert run.bodies[0].curriculum.teacher.name == "ALP-GMM"
    assert run.bodies[1].curriculum.teacher.config.max_reward_thr == 180.0
    assert expert_knowledge_record(run)["a0_e1_b0"]["from"] == "body.bodies[1].curriculum.expert_knowledge"


# ---- explicit keys win ------------------------------------------------------------------------------------------

def test_explicit_keys_override_the_level_key_by_key():
    own = {"mean": [0.5, 5.0], "std": [0.2, 0.4]}
    raw = stump_spec("ADR", "high", initial_dist=own, success_return=200,
                     teacher={"name": "ADR", "max_reward_thr": 150})
    run = validate(raw)
    curriculum = run.bodies[0].curriculum
    assert curriculum.initial_dist == own and curriculum.success_return == 200
    assert (curriculum.teacher.config.max_reward_thr, curriculum.teacher.config.min_reward_thr) == (150, 0.0)
    record = expert_knowledge_record(run)["a0_e0_b0"]
    assert record["set"] == {"teacher.min_reward_thr": 0.0}
    assert sorted(record["explicit"]) == ["initial_dist", "success_return", "teacher.max_reward_thr"]


def test_an_explicit_null_is_kept_too():
    raw = stump_spec("ALP-GMM", "high", initial_dist=None)
    assert validate(raw).bodies[0].curriculum.initial_dist is None


def test_an_explicit_initial_dist_at_low_replaces_spdls_random_start():
    own = {"mean": [0.5, 5.0], "std": [0.2, 0.4]}
    curriculum = validate(stump_spec("Self-Paced", "low", initial_dist=own)).bodies[0].curriculum
    assert curriculum.initial_dist == own and curriculum.teacher.config.initial_dist_fallback == "none"


def test_explicit_keys_do_not_lift_a_refusal():
    raw = stump_spec("ADR", "no", teacher={"name": "ADR", "max_reward_thr": 180, "min_reward_thr": 0})
    assert "cannot run at expert-knowledge level 'no'" in error_of(raw).message


def test_adr_thresholds_follow_explicit_reward_bounds():
    config = validate(stump_spec("ADR", "low", reward_bounds=[-150, 350])).bodies[0].curriculum.teacher.config
    assert (config.max_reward_thr, config.min_reward_thr) == (0.66, 0.3)


def test_adr_with_success_signal_needs_explicit_rates():
    raw = stump_spec("ADR", "low", teacher={"name": "ADR", "signal": "success"})
    err = error_of(raw)
    assert err.path == "curriculum.expert_knowledge" and "teacher.signal 'success'" in err.message
    raw["curriculum"]["teacher"].update(max_reward_thr=0.8, min_reward_thr=0.2)
    assert validate(raw).bodies[0].curriculum.teacher.config.max_reward_thr == 0.8


# ---- envs without data, bad levels ------------------------------------------------------------------------------

def test_an_env_without_data_is_refused_naming_env_and_level():
    raw = make_raw(curriculum={"teacher": {"name": "ALP-GMM"}, "task_space": {"mass": [0.5, 2.0]},
                               "test_set_size": 4, "success_return": -200, "expert_knowledge": "high"})
    err = error_of(raw)
    assert err.path == "curriculum.expert_knowledge"
    assert "level 'high'" in err.message and "env 'slm_acl/ParamPendulum-v0' has none" in err.message
    assert f"data for: {', '.join(ENV_KNOWLEDGE.names())}" in err.message
    raw["curriculum"]["expert_knowledge"] = "no"  # needs nothing from the env once success_return is explicit
    assert validate(raw).bodies[0].curriculum.initial_dist is None
    del raw["curriculum"]["success_return"]
    assert "takes success_return" in error_of(raw).message


def test_a_gymnasium_id_of_a_lab_env_finds_its_data():
    got = resolve({"teacher": {"name": "Random"}, "task_space": STUMPS, "expert_knowledge": "low"},
                  "slm_acl/StumpTracks-v0", "curriculum", "curriculum.expert_knowledge")
    assert got.curriculum["success_return"] == 230.0


def test_an_unknown_level_lists_the_levels():
    err = error_of(stump_spec("Random", "medium"))
    assert err.path == "curriculum.expert_knowledge" and "allowed values: 'no', 'low', 'high'" in err.message


def test_every_gift_a_teacher_declares_has_a_resolver():
    assert set(GIFTS) == set(Gift)
    for name, cls in TEACHERS.items():
        assert cls.expert_knowledge is not None and set(cls.expert_knowledge) == set(LEVELS), name
        for grant in cls.expert_knowledge.values():
            assert (grant.refused is None) or not grant.gifts, name


def test_a_teacher_without_levels_is_refused(monkeypatch):
    monkeypatch.setattr(TEACHERS.get("RIAC"), "expert_knowledge", None)
    err = error_of(stump_spec("RIAC", "low"))
    assert err.path == "curriculum.expert_knowledge" and "teacher RIAC declares no expert-knowledge levels" in \
        err.message


def test_needs_that_depend_on_the_settings_are_checked_in_the_spec():
    """ADR's success signal needs success_return; SPDL's random start waives initial_dist, not target_dist."""
    adr = stump_spec("ADR", None, teacher={"name": "ADR", "signal": "success", "max_reward_thr": 0.8,
                                           "min_reward_thr": 0.2})
    assert error_of(adr).path == "curriculum.success_return"
    spdl = stump_spec("Self-Paced", None, teacher={"name": "Self-Paced", "initial_dist_fallback": "random_subspace"})
    assert error_of(spdl).path == "curriculum.target_dist"
    spdl["curriculum"]["target_dist"] = WHOLE
    assert validate(spdl).bodies[0].curriculum.initial_dist is None
