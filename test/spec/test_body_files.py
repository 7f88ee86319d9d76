"""Body files in a spec: a relative path means the spec file's folder, wherever the lab runs, in every place a
spec names an embodiment (bodies, benchmark patches, search values); resume compares bodies, not paths."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import make_raw

from slm_acl.env.bodies import load_body, scale_part
from slm_acl.spec.body_files import anchor_body_files, inline_bodies, map_body_files
from slm_acl.spec.errors import SpecError
from slm_acl.spec.loader import load_resolved, load_spec


def stump_raw(**overrides) -> dict:
    """A small Stump Tracks spec (Random agent and teacher)."""
    return make_raw(env=[{"name": "StumpTracks", "num_envs": 1, "max_frame": 1000, "max_t": 50}],
                    curriculum={"teacher": {"name": "Random"}, "task_space": {"stump_height": [0.0, 3.0]},
                                "success_return": 230, "test_set_size": 2}, **overrides)


def write_specs(folder: Path, raw: dict) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "specs.json"
    path.write_text(json.dumps({raw["name"]: {k: v for k, v in raw.items() if k != "name"}}))
    return path


@pytest.fixture
def layout(tmp_path, monkeypatch):
    """specs/specs.json beside specs/bodies/long.json; the lab runs in another folder."""
    body = scale_part(load_body("classic_bipedal"), "lower", 1.5)
    (tmp_path / "specs" / "bodies").mkdir(parents=True)
    (tmp_path / "specs" / "bodies" / "long.json").write_text(body.to_json())
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    return tmp_path, body


def test_every_place_that_names_an_embodiment_is_anchored_and_nothing_else(tmp_path):
    raw = {"body": {"embodiment": "a.json", "bodies": [{"embodiment": "sub/b.json"}, {"embodiment": "spider"}]},
           "env": [{"kwargs": {"file": "k.json"}}],
           "benchmark": {"criterion": {"c": {"body": {"bodies__replace": [{"embodiment": "c.json"}]}}},
                         "student": {"s": {"body": {"embodiment": "/abs/d.json"}}}},
           "search": {"body": {"embodiment__choice": ["e.json", "classic_bipedal", "${dir}/f.json"]}},
           "meta": {"note": "g.json"}}
    out = anchor_body_files(raw, tmp_path)
    folder = str(tmp_path.resolve())
    assert out["body"]["embodiment"] == f"{folder}/a.json"
    assert [b["embodiment"] for b in out["body"]["bodies"]] == [f"{folder}/sub/b.json", "spider"]
    assert out["benchmark"]["criterion"]["c"]["body"]["bodies__replace"][0]["embodiment"] == f"{folder}/c.json"
    assert out["benchmark"]["student"]["s"]["body"]["embodiment"] == "/abs/d.json"
    assert out["search"]["body"]["embodiment__choice"] == [f"{folder}/e.json", "classic_bipedal", "${dir}/f.json"]
    assert out["env"] == raw["env"] and out["meta"] == raw["meta"]  # not embodiments
    assert raw["body"]["embodiment"] == "a.json"  # a copy: the tree given is left alone
    seen = []
    map_body_files(raw, seen.append)
    assert seen == ["a.json", "sub/b.json", "c.json", "/abs/d.json", "e.json", "${dir}/f.json"]


def test_a_relative_body_path_resolves_against_the_spec_files_folder_not_the_current_one(layout):
    tmp_path, body = layout
    spec = write_specs(tmp_path / "specs", stump_raw(body={"embodiment": "bodies/long.json"}))
    run = load_spec(spec, "t")
    (plan,) = run.bodies
    assert plan.embodiment == str((tmp_path / "specs" / "bodies" / "long.json").resolve())
    assert run.raw["body"]["embodiment"] == plan.embodiment  # the resolved spec records where it was read
    assert load_body(plan.embodiment) == body


def test_benchmark_patches_and_custom_bodies_resolve_against_the_spec_file_too(layout):
    tmp_path, body = layout
    (tmp_path / "specs" / "bodies" / "short.json").write_text(scale_part(body, "leg", 0.8).to_json())
    raw = stump_raw(body={"product": "custom", "bodies": [{"agent": 0, "env": 0, "embodiment": "bodies/long.json"}]},
                    benchmark={"seeds": 1, "criterion": {
                        "short": {"body": {"bodies__replace": [{"agent": 0, "env": 0,
                                                                "embodiment": "bodies/short.json"}]}}}})
    run = load_spec(write_specs(tmp_path / "specs", raw), "t")  # validating the patch checks its body file
    folder = (tmp_path / "specs" / "bodies").resolve()
    assert run.bodies[0].embodiment == str(folder / "long.json")
    patch = run.raw["benchmark"]["criterion"]["short"]["body"]["bodies__replace"][0]
    assert patch["embodiment"] == str(folder / "short.json")


def test_a_missing_body_file_names_the_file_and_the_rule(layout):
    tmp_path, _ = layout
    spec = write_specs(tmp_path / "specs", stump_raw(body={"embodiment": "long.json"}))  # it is in bodies/
    with pytest.raises(SpecError) as err:
        load_spec(spec, "t")
    assert err.value.path == "body.embodiment"
    assert (f"body file {str((tmp_path / 'specs' / 'long.json').resolve())!r} does not exist (a relative path in a "
            "spec file is relative to the spec file's folder)") in err.value.message


def test_a_path_given_whole_by_a_placeholder_is_taken_as_given_and_one_inside_a_path_keeps_the_spec_folder(layout):
    tmp_path, body = layout
    (tmp_path / "elsewhere" / "mine.json").write_text(body.to_json())
    spec = write_specs(tmp_path / "specs", stump_raw(body={"embodiment": "${body}"}))
    assert load_spec(spec, "t", {"body": "mine.json"}).bodies[0].embodiment == "mine.json"  # the current folder
    spec = write_specs(tmp_path / "specs", stump_raw(body={"embodiment": "bodies/${which}.json"}))
    assert load_spec(spec, "t", {"which": "long"}).bodies[0].embodiment == str(
        (tmp_path / "specs" / "bodies" / "long.json").resolve())


def test_a_resolved_spec_reads_its_body_files_against_its_own_folder(layout):
    tmp_path, body = layout
    run_dir = tmp_path / "run"
    (run_dir / "bodies").mkdir(parents=True)
    (run_dir / "bodies" / "long.json").write_text(body.to_json())
    resolved = run_dir / "t_spec.json"
    resolved.write_text(json.dumps(stump_raw(body={"embodiment": "bodies/long.json"}, info={"trial": None})))
    assert load_resolved(resolved).bodies[0].embodiment == str((run_dir / "bodies" / "long.json").resolve())


def test_inlined_bodies_compare_by_what_the_files_hold(layout):
    tmp_path, body = layout
    copy = tmp_path / "copy.json"
    copy.write_text(body.to_json())
    here, there = ({"body": {"embodiment": str(p)}} for p in (tmp_path / "specs" / "bodies" / "long.json", copy))
    assert here != there and inline_bodies(here) == inline_bodies(there)
    assert inline_bodies(here)["body"]["embodiment"] == body.to_dict()
    copy.write_text(scale_part(body, "lower", 1.1).to_json())
    assert inline_bodies(here) != inline_bodies(there)
    gone = {"body": {"embodiment": "gone.json"}}
    assert inline_bodies(gone) == gone  # nothing to read: compared as the path


def test_tables_name_a_body_file_by_its_file_name_so_run_folders_compare():
    from slm_acl.env.bodies import embodiment_label

    assert embodiment_label("/data/run_a/bodies/long_shin_bipedal.json") == "long_shin_bipedal"
    assert embodiment_label("/data/run_b/bodies/long_shin_bipedal.json") == "long_shin_bipedal"
    assert embodiment_label("spider") == "spider" and embodiment_label(None) == ""
