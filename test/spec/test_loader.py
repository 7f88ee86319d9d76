"""One loader for every mode: spec file -> pick -> ${var} -> (dev caps) -> validate; saved specs read back;
a validated RunSpec and a SpecError survive pickling (they travel to worker processes and Ray tasks)."""
from __future__ import annotations

import json
import pickle

import pytest
from conftest import ROOT, make_raw, write_spec

from slm_acl.spec import RunSpec, SpecError, load_resolved, load_spec
from slm_acl.spec.loader import DEV_MAX_FRAME


def test_placeholders_filled_typed_and_unfilled_is_error(tmp_path):
    raw = make_raw()
    raw["env"][0]["max_frame"] = "${frames}"
    raw["env"][0]["name"] = "slm_acl/${env}-v0"
    path = write_spec(tmp_path, raw)
    run = load_spec(path, "t", {"frames": "3e3", "env": "ParamPendulum"})
    assert run.spec.env[0].max_frame == 3000 and run.spec.env[0].name == "slm_acl/ParamPendulum-v0"
    with pytest.raises(SpecError, match=r"unfilled placeholder.*\$\{frames\}.*env\[0\]\.max_frame"):
        load_spec(path, "t", {"env": "ParamPendulum"})
    with pytest.raises(SpecError, match="-s typo given"):
        load_spec(path, "t", {"frames": "10", "env": "ParamPendulum", "typo": "1"})


def test_unknown_spec_name_lists_specs(tmp_path):
    path = write_spec(tmp_path, make_raw())
    with pytest.raises(SpecError, match=r"no spec named 'u' in .*spec.json. Specs there: t"):
        load_spec(path, "u")
    with pytest.raises(SpecError, match=r"no spec named 't2' in .*spec.json. Did you mean 't'\? Specs there: t"):
        load_spec(path, "t2")


def test_dev_caps_one_short_session_and_shows_them_in_the_resolved_tree(tmp_path):
    raw = make_raw(meta={"max_session": 4})
    raw["env"] = [{"name": "slm_acl/ParamPendulum-v0", "max_frame": 1e6},
                  {"name": "slm_acl/ParamPendulum-v0", "max_frame": 500}]
    path = write_spec(tmp_path, raw)
    full = load_spec(path, "t")
    assert full.spec.meta.max_session == 4 and [e.max_frame for e in full.spec.env] == [1_000_000, 500]
    dev = load_spec(path, "t", dev=True)
    assert dev.spec.meta.max_session == 1 and [e.max_frame for e in dev.spec.env] == [DEV_MAX_FRAME, 500]
    assert dev.raw["meta"]["max_session"] == 1 and dev.raw["env"][0]["max_frame"] == DEV_MAX_FRAME
    assert full.raw["meta"]["max_session"] == 4  # the caps patch a copy


def test_dev_caps_are_applied_after_substitution_and_before_validation(tmp_path):
    raw = make_raw()
    raw["env"][0]["max_frame"] = "${frames}"
    path = write_spec(tmp_path, raw)
    assert load_spec(path, "t", {"frames": "5e6"}, dev=True).spec.env[0].max_frame == DEV_MAX_FRAME
    with pytest.raises(SpecError, match=r"env\[0\]\.max_frame.*>= 1"):  # still validated
        load_spec(path, "t", {"frames": "0"}, dev=True)


def test_a_resolved_spec_reads_back_without_its_info(tmp_path):
    run = load_spec(write_spec(tmp_path, make_raw()), "t")
    saved = tmp_path / "t_spec.json"
    saved.write_text(json.dumps({**run.raw, "info": {"git_sha": "abc", "predir": "data/x"}}))
    again = load_resolved(saved)
    assert "info" not in again.raw and again.spec.info == {}
    assert again.bodies == run.bodies and again.spec.agent == run.spec.agent
    with pytest.raises(SpecError, match="is not a resolved spec"):
        load_resolved(tmp_path / "spec.json")  # a file of named specs
    with pytest.raises(SpecError, match="does not exist"):
        load_resolved(tmp_path / "none.json")


def test_a_run_spec_round_trips_through_pickle():
    run = load_spec(ROOT / "spec" / "multi_body.json", "multi_body")
    assert len(run.bodies) > 1 and len({p.embodiment for p in run.bodies}) > 1  # a real multi-body spec
    back = pickle.loads(pickle.dumps(run))
    assert isinstance(back, RunSpec) and back is not run
    assert back.raw == run.raw and back.bodies == run.bodies and back.spec == run.spec
    assert [p.curriculum.teacher.cls for p in back.bodies if p.curriculum] == \
        [p.curriculum.teacher.cls for p in run.bodies if p.curriculum]


def test_a_spec_error_round_trips_through_pickle():
    err = pickle.loads(pickle.dumps(SpecError("a.b", "msg")))
    assert isinstance(err, SpecError) and (err.path, err.message) == ("a.b", "msg")
    assert str(err) == "spec error at a.b: msg"
    assert str(pickle.loads(pickle.dumps(SpecError("", "whole spec")))) == "spec error: whole spec"
