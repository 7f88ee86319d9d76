"""The search block: every suffix, helpful errors, paths into the spec tree, applying sampled values."""
from __future__ import annotations

import math

import pytest
from conftest import make_raw

from slm_acl.spec import search_space, validate
from slm_acl.spec.errors import SpecError

TEACHER = {"name": "ALP-GMM", "fit_rate": 20}


def spec_with(search: dict, **overrides) -> dict:
    raw = make_raw(curriculum={"teacher": dict(TEACHER), "task_space": {"mass": [0.5, 2.0], "length": [0.5, 1.5]},
                               "success_return": -200, "test_set_size": 4}, **overrides)
    raw["search"] = search
    return raw


@pytest.mark.parametrize("kind, args, check", [
    ("choice", [10, 20, 30], lambda v: v in (10, 20, 30)),
    ("uniform", [0.1, 0.3], lambda v: 0.1 <= v <= 0.3),
    ("loguniform", [1e-4, 1e-2], lambda v: 1e-4 <= v <= 1e-2),
    ("randint", [10, 13], lambda v: isinstance(v, int) and 10 <= v < 13),
    ("normal", [0.5, 0.01], lambda v: abs(v - 0.5) < 0.2),
])
def test_every_sampling_suffix_becomes_a_tune_domain_with_the_right_range(kind, args, check):
    keys = search_space.parse({"curriculum": {"teacher": {f"random_task_ratio__{kind}": args}}}, make_raw())
    assert [k.name for k in keys] == ["curriculum.teacher.random_task_ratio"]
    domain = search_space.tune_space(keys)["curriculum.teacher.random_task_ratio"]
    samples = [domain.sample() for _ in range(200)]
    assert all(check(v) for v in samples)
    assert len(set(samples)) > 1


def test_grid_search_lists_every_value_and_multiplies_the_trial_count():
    keys = search_space.parse({"curriculum": {"teacher": {"fit_rate__grid_search": [20, 40, 60]}},
                               "meta": {"seed__grid_search": [1, 2]}}, make_raw())
    space = search_space.tune_space(keys)
    assert space["curriculum.teacher.fit_rate"] == {"grid_search": [20, 40, 60]}
    assert search_space.grid_size(keys) == 6


def test_unknown_suffix_names_the_key_the_closest_suffix_and_all_valid_ones():
    with pytest.raises(SpecError) as err:
        validate(spec_with({"curriculum": {"teacher": {"fit_rate__chioce": [20, 40]}}}))
    message = str(err.value)
    assert "search.curriculum.teacher.fit_rate__chioce" in message
    assert "Did you mean __choice?" in message
    for suffix in search_space.DISTRIBUTIONS:
        assert f"__{suffix}" in message


def test_a_leaf_without_a_suffix_is_an_error():
    with pytest.raises(SpecError, match="needs a suffix"):
        validate(spec_with({"curriculum": {"teacher": {"fit_rate": [20, 40]}}}))


@pytest.mark.parametrize("kind, args, message", [
    ("uniform", [0.3, 0.1], "low < high"),
    ("uniform", [0.1], "low < high"),
    ("loguniform", [0.0, 1.0], "0 < low"),
    ("randint", [1.5, 4], "integers"),
    ("normal", [0.0, -1.0], "sd > 0"),
    ("choice", [], "non-empty"),
    ("grid_search", "abc", "non-empty list"),
])
def test_bad_distribution_arguments_are_refused(kind, args, message):
    with pytest.raises(SpecError, match=message):
        validate(spec_with({"curriculum": {"teacher": {f"random_task_ratio__{kind}": args}}}))


def test_searched_values_are_validated_up_front_with_the_hyperparameter_named():
    with pytest.raises(SpecError) as err:
        validate(spec_with({"curriculum": {"teacher": {"fit_rat__choice": [20, 40]}}}))
    assert "fit_rat" in str(err.value) and "fit_rate" in str(err.value)  # unknown key, valid ones listed
    with pytest.raises(SpecError, match="fit_rate"):  # a value out of the teacher's bounds
        validate(spec_with({"curriculum": {"teacher": {"fit_rate__grid_search": [20, 0]}}}))


def test_a_path_that_leaves_the_spec_tree_is_an_error():
    with pytest.raises(SpecError, match="unknown key 'curiculum'. Did you mean 'curriculum'?"):
        validate(spec_with({"curiculum": {"teacher": {"fit_rate__choice": [20]}}}))
    with pytest.raises(SpecError, match="lists 2 entries"):
        validate(spec_with({"agent": [{}, {"algorithm": {"x__choice": [1]}}]}))


def test_a_section_left_at_its_defaults_can_be_searched():
    raw = spec_with({"curriculum": {"reward_bounds__choice": [[-100, 100], [-200, 300]]}})
    keys = search_space.parse(validate(raw).spec.search, search_space.without_search(raw))
    assert keys[0].name == "curriculum.reward_bounds"


def test_settings_of_the_search_itself_cannot_be_searched():
    for block in ({"meta": {"num_threads__choice": [1, 2]}}, {"meta": {"max_session__choice": [1, 2]}},
                  {"meta": {"resources": {"cpu__choice": [1, 2]}}}):
        with pytest.raises(SpecError, match="cannot be searched"):
            validate(spec_with(block))
    validate(spec_with({"meta": {"seed__grid_search": [1, 2]}}))  # seeds and cadences can


def test_continuous_distributions_are_checked_with_floats():
    """A uniform over an integer setting would fail in every trial: it fails at load time instead."""
    with pytest.raises(SpecError, match="max_t"):
        validate(spec_with({"env": [{"max_t__uniform": [40, 60]}]}))
    validate(spec_with({"env": [{"max_t__randint": [40, 60]}]}))


def test_asha_refuses_a_searched_horizon():
    raw = spec_with({"env": [{"max_frame__choice": [1000, 2000]}]}, meta={"search_scheduler": {"name": "ASHA"}})
    with pytest.raises(SpecError, match="horizon"):
        validate(raw)


def test_lists_in_the_block_line_up_with_the_spec_lists_and_apply_sets_them():
    raw = spec_with({"env": [{"max_t__choice": [40, 60]}], "curriculum": {"teacher": {"fit_rate__choice": [30]}}})
    run = validate(raw)
    keys = search_space.parse(run.spec.search, search_space.without_search(raw))
    assert sorted(k.name for k in keys) == ["curriculum.teacher.fit_rate", "env.0.max_t"]
    applied = search_space.apply(raw, {"env.0.max_t": 60, "curriculum.teacher.fit_rate": 30})
    assert "search" not in applied and "search" in raw  # a copy; the original is untouched
    assert applied["env"][0]["max_t"] == 60 and applied["curriculum"]["teacher"]["fit_rate"] == 30
    assert validate(applied).spec.env[0].max_t == 60


def test_optuna_refuses_what_it_cannot_sample():
    for block in ({"curriculum": {"teacher": {"fit_rate__grid_search": [20, 40]}}},
                  {"curriculum": {"teacher": {"random_task_ratio__normal": [0.2, 0.01]}}}):
        with pytest.raises(SpecError, match="cannot be sampled by meta.search_algorithm 'optuna'"):
            validate(spec_with(block, meta={"seed": 1, "search_algorithm": "optuna"}))


def test_meta_resources_and_scheduler_are_checked():
    with pytest.raises(SpecError, match="gpu"):
        validate(make_raw(meta={"resources": {"gpu": -1}}))
    with pytest.raises(SpecError, match="whole number of GPUs"):
        validate(make_raw(meta={"resources": {"gpu": 1.5}}))
    with pytest.raises(SpecError, match="ASHA"):
        validate(make_raw(meta={"search_scheduler": {"name": "Hyperband"}}))
    meta = validate(make_raw(meta={"resources": {"cpu": 0.5}, "search_scheduler": {"name": "ASHA"}})).spec.meta
    assert math.isclose(meta.resources.cpu, 0.5) and meta.search_scheduler.reduction_factor == 3
