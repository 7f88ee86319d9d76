"""Every class of spec error names the bad key path and what is allowed."""
from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import ROOT, make_raw, write_spec

from slm_acl.spec import SpecError, validate


def error_of(raw) -> str:
    with pytest.raises(SpecError) as info:
        validate(raw)
    return str(info.value)


def test_valid_spec_builds_typed_sections():
    run = validate(make_raw())
    assert run.spec.env[0].num_envs == 2
    assert run.spec.curriculum.teacher.name == "Random"
    assert [p.label for p in run.bodies] == ["a0_e0_b0"]


def test_unknown_key_names_path_and_closest_key():
    raw = make_raw(meta={"sed": 1})
    msg = error_of(raw)
    assert "meta.sed" in msg and "unknown key 'sed'. Did you mean 'seed'? Valid keys here: " in msg


def test_unknown_nested_key_in_algorithm_config():
    raw = make_raw(agent=[{"algorithm": {"name": "TestLinear", "lrr": 0.1}}])
    msg = error_of(raw)
    assert "agent[0].algorithm.lrr" in msg and "'lr'" in msg


@pytest.mark.parametrize("section, value, path, allowed", [
    ("meta", {"seed": -1}, "meta.seed", ">= 0"),
    ("meta", {"log_frequency": "often"}, "meta.log_frequency", "integer"),
    ("meta", {"max_session": 1.5}, "meta.max_session", "integer"),
])
def test_wrong_type_or_range_names_value_and_allowed(section, value, path, allowed):
    msg = error_of(make_raw(**{section: value}))
    assert path in msg and allowed in msg and str(list(value.values())[0]) in msg


def test_env_num_envs_out_of_range():
    raw = make_raw(env=[{"name": "Pendulum-v1", "num_envs": 0, "max_frame": 10}])
    raw.pop("curriculum")
    msg = error_of(raw)
    assert "env[0].num_envs" in msg and "got 0" in msg and ">= 1" in msg


def test_bad_literal_lists_choices():
    msg = error_of(make_raw(body={"product": "innr"}))
    assert "body.product" in msg and "'outer', 'inner', 'custom'" in msg and "'inner'" in msg


@pytest.mark.parametrize("overrides, path, listing", [
    ({"agent": [{"algorithm": {"name": "Randm"}}]}, "agent[0].algorithm.name", "Random"),
    ({"curriculum": {"teacher": {"name": "ALP-GMMM"}, "task_space": {"mass": [1, 2]}}},
     "curriculum.teacher.name", "Random"),
    ({"agent": [{"algorithm": {"name": "Random"}, "net": {"type": "MLPNett"}}]}, "agent[0].net.type", "MLPNet"),
    ({"agent": [{"algorithm": {"name": "Random"}, "memory": {"name": "Replayy"}}]}, "agent[0].memory.name",
     "Registered memorys"),
    ({"body": {"embodiment": "spidr"}}, "body.embodiment", "spider"),
])
def test_unknown_names_list_registered(overrides, path, listing):
    msg = error_of(make_raw(**overrides))
    assert path in msg and listing in msg


def test_unknown_env_suggests_and_lists():
    raw = make_raw(env=[{"name": "LunarLanderContinous-v3", "max_frame": 10}])
    msg = error_of(raw)
    assert "env[0].name" in msg and "Did you mean 'LunarLanderContinuous-v3'" in msg
    assert "any registered Gymnasium id" in msg


def test_embodiment_on_plain_gym_env_is_an_error():
    msg = error_of(make_raw(body={"embodiment": "spider"}))
    assert "body.embodiment" in msg and "has no embodiments" in msg


def test_missing_required_key():
    raw = make_raw()
    del raw["env"][0]["max_frame"]
    msg = error_of(raw)
    assert "env[0].max_frame" in msg and "missing required key" in msg


def test_bad_task_space_and_test_set():
    msg = error_of(make_raw(curriculum={"teacher": {"name": "Random"}, "task_space": {"mass": [2, 1]}}))
    assert "curriculum.task_space" in msg and "low < high" in msg
    msg = error_of(make_raw(curriculum={"teacher": {"name": "Random"}, "task_space": {"mass": [1, 2]},
                                        "test_set": "stump_tracks_grid"}))
    assert "curriculum.test_set" in msg and "stump_tracks_grid_100" in msg


def test_inner_needs_equal_agents_and_envs():
    raw = make_raw(body={"product": "inner"})
    raw["agent"].append({"algorithm": {"name": "Random"}})
    msg = error_of(raw)
    assert "body.product" in msg and "2 agents and 1 envs" in msg


def test_custom_body_indices_checked():
    msg = error_of(make_raw(body={"product": "custom", "bodies": [{"agent": 0, "env": 3}]}))
    assert "body.bodies[0].env" in msg and "1 env(s)" in msg


def test_net_given_to_algorithm_without_nets():
    raw = make_raw(agent=[{"algorithm": {"name": "Random"}, "net": {"type": "MLPNet"}}])
    assert "takes no net" in error_of(raw)


def test_cli_spec_error_exit_code_2_without_traceback(tmp_path):
    raw = make_raw(meta={"sed": 1})
    path = write_spec(tmp_path, raw)
    out = subprocess.run([sys.executable, str(ROOT / "run_lab.py"), str(path), "t", "train",
                          "--data-dir", str(tmp_path / "data")], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 2
    assert "meta.sed" in out.stderr and "Traceback" not in out.stderr
    assert not (tmp_path / "data").exists()  # nothing started
