"""Bodies travel with the run: a run keeps a copy of every body file its specs name, so replay, evaluation and
resume work from any directory, even after the original body file is gone."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import make_raw

from slm_acl.aeb.space import env_maker
from slm_acl.env.bodies import load_body, scale_part
from slm_acl.experiment.control import run as run_mode
from slm_acl.experiment.paths import RunPaths
from slm_acl.experiment.run_bodies import keep_bodies
from slm_acl.experiment.saved_policy import SavedSession
from slm_acl.spec.errors import SpecError

LONG_SHIN = scale_part(load_body("classic_bipedal"), "lower", 1.5)


def test_keep_bodies_copies_once_names_the_copy_relative_to_the_run_and_never_overwrites(tmp_path):
    paths = RunPaths(tmp_path / "run", "t")
    source = tmp_path / "mine" / "long.json"
    source.parent.mkdir()
    source.write_text(LONG_SHIN.to_json())
    raw = {"body": {"embodiment": str(source)}, "search": {"body": {"embodiment__choice": [str(source), "spider"]}}}
    kept = keep_bodies(raw, paths)
    assert kept["body"]["embodiment"] == "bodies/long.json"
    assert kept["search"]["body"]["embodiment__choice"] == ["bodies/long.json", "spider"]
    assert load_body(str(paths.body("long.json"))) == LONG_SHIN
    assert keep_bodies({"embodiment": str(paths.body("long.json"))}, paths) == {"embodiment": "bodies/long.json"}
    source.write_text(scale_part(LONG_SHIN, "lower", 1.2).to_json())  # edited during the run: a second copy
    renamed = keep_bodies(raw, paths)["body"]["embodiment"]
    assert renamed.startswith("bodies/long_") and renamed.endswith(".json") and renamed != "bodies/long.json"
    assert load_body(str(paths.body("long.json"))) == LONG_SHIN
    assert load_body(str(paths.predir / renamed)) == scale_part(LONG_SHIN, "lower", 1.2)
    source.unlink()
    with pytest.raises(FileNotFoundError, match="body file .*long.json' does not exist, so run .* cannot keep"):
        keep_bodies(raw, paths)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A short Stump Tracks run of a spec that names its body by a path relative to the spec file."""
    root = tmp_path_factory.mktemp("bodies")
    (root / "specs" / "bodies").mkdir(parents=True)
    body_file = root / "specs" / "bodies" / "long_shin_bipedal.json"
    body_file.write_text(LONG_SHIN.to_json())
    raw = make_raw(env=[{"name": "StumpTracks", "num_envs": 1, "max_frame": 2000, "max_t": 100}],
                   body={"embodiment": "bodies/long_shin_bipedal.json"},
                   curriculum={"teacher": {"name": "Random"}, "task_space": {"stump_height": [0.0, 1.0]},
                               "success_return": 230, "test_set_size": 2},
                   meta={"seed": 3, "log_frequency": 1000, "eval_frequency": 1000, "tensorboard": False})
    spec = root / "specs" / "specs.json"
    spec.write_text(json.dumps({"t": {k: v for k, v in raw.items() if k != "name"}}))
    run_mode(str(spec), "t", "train", data_dir=str(root / "data"))
    return spec, body_file, next((root / "data").glob("t_*"))


def test_the_run_keeps_the_body_and_its_resolved_specs_name_the_copy(trained):
    _, _, run_dir = trained
    assert load_body(str(run_dir / "bodies" / "long_shin_bipedal.json")) == LONG_SHIN
    for name in ("t_spec.json", "t_t0_spec.json", "t_t0_s0_spec.json"):
        assert json.loads((run_dir / name).read_text())["body"]["embodiment"] == "bodies/long_shin_bipedal.json"


def test_resume_from_another_directory_compares_the_bodies_not_their_paths(trained, tmp_path, monkeypatch):
    spec, body_file, run_dir = trained
    monkeypatch.chdir(tmp_path)
    result = run_mode(str(spec), "t", f"train@{run_dir}")  # finished: nothing left to run, but the specs agree
    assert [s.session for s in result.sessions] == [0]
    original = body_file.read_text()
    body_file.write_text(scale_part(LONG_SHIN, "lower", 1.1).to_json())
    try:
        with pytest.raises(SpecError, match=r"differs from the saved one at .*body\.embodiment\.parts\[2\]\.fixtures"):
            run_mode(str(spec), "t", f"train@{run_dir}")
    finally:
        body_file.write_text(original)


def test_enjoy_and_eval_replay_the_kept_body_after_the_file_is_gone_from_another_directory(trained, tmp_path,
                                                                                          monkeypatch):
    spec, body_file, run_dir = trained
    moved = tmp_path / "moved.json"
    shutil.move(body_file, moved)
    monkeypatch.chdir(tmp_path)
    try:
        session = run_dir / "t_t0_s0"
        report = run_mode(str(spec), "t", f"enjoy@{session}", {"episodes": "1", "video_episodes": "1"})
        assert set(report) == {"a0_e0_b0"}
        assert sorted(p.name for p in (run_dir / "video").glob("*_enjoy_*.mp4")) == ["t_t0_s0_a0_e0_b0_enjoy_000.mp4"]
        evaluated = run_mode(str(spec), "t", f"eval@{session}", {"test_set": "uniform", "test_set_size": "2"})
        assert Path(evaluated["folder"]).is_dir()
        replay = SavedSession.parse(str(session), "enjoy").spec()
        (plan,) = replay.bodies
        assert plan.embodiment == str((run_dir / "bodies" / "long_shin_bipedal.json").resolve())
        env = env_maker(replay, plan)()
        assert env.unwrapped.body_def == LONG_SHIN  # the very body it trained
        env.close()
    finally:
        shutil.move(moved, body_file)
