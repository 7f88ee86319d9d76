"""Enjoy mode from the command line: SPEC_FILE SPEC_NAME as in every mode, a new video per replay."""
from __future__ import annotations

import json

import imageio.v2 as imageio
import pytest
from conftest import make_raw

import run_lab


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A spec file of two specs (one with an unfilled ${frames}) and a finished session of the first."""
    root = tmp_path_factory.mktemp("enjoy")
    sized = make_raw(meta={"seed": 3, "log_frequency": 500, "eval_frequency": 1000})
    sized["env"][0].update(num_envs=1, max_frame="${frames}")
    other = make_raw(meta={"seed": 4})
    specs = root / "specs.json"
    specs.write_text(json.dumps({name: {k: v for k, v in raw.items() if k != "name"}
                                 for name, raw in {"walk": sized, "other": other}.items()}))
    data = root / "data"
    assert run_lab.main([str(specs), "walk", "train", "-s", "frames=1000", "--data-dir", str(data)]) == 0
    (run,) = data.glob("walk_*")
    return specs, run


def test_enjoy_takes_a_spec_file_of_several_specs_and_each_replay_keeps_its_video(trained, capsys):
    specs, run = trained
    session = f"enjoy@{run / 'walk_t0_s0'}"
    for _ in range(2):  # the spec file's ${frames} stays unfilled: the replay runs the session's saved spec
        assert run_lab.main([str(specs), "walk", session, "-s", "video_episodes=1"]) == 0
    assert capsys.readouterr().out.count("mean return") == 2
    resolved = run / "walk_t0_s0_spec.json"  # the README's form: the session's own resolved spec
    assert run_lab.main([str(resolved), "walk", session, "-s", "video_episodes=1", "-s", "episodes=1"]) == 0
    videos = sorted(p.name for p in (run / "video").iterdir())
    assert videos == [f"walk_t0_s0_a0_e0_b0_enjoy_{k:03d}.mp4" for k in range(3)]
    assert all(len(imageio.mimread(run / "video" / v, memtest=False)) == 50 for v in videos)  # one task, max_t 50


def test_enjoy_refuses_a_spec_that_is_not_the_sessions(trained, tmp_path, capsys):
    specs, run = trained
    assert run_lab.main([str(specs), "other", f"enjoy@{run / 'walk_t0_s0'}"]) == 2
    assert "is a session of spec 'walk', not 'other'" in capsys.readouterr().err
    elsewhere = tmp_path / "elsewhere.json"
    elsewhere.write_text(json.dumps({"other": {}}))
    assert run_lab.main([str(elsewhere), "walk", f"enjoy@{run / 'walk_t0_s0'}"]) == 2
    assert "no spec named 'walk'" in capsys.readouterr().err
