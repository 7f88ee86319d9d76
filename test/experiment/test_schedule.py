"""config/experiments.json: a schedule of {spec_file: {spec_name: mode}} run in order by `python run_lab.py`."""
from __future__ import annotations

import json

import pytest
from conftest import ECHO, ROOT, make_raw

import run_lab
from slm_acl.experiment import control
from slm_acl.spec.errors import SpecError


def write_specs(tmp_path, **specs) -> str:
    path = tmp_path / "specs.json"
    path.write_text(json.dumps({name: {k: v for k, v in raw.items() if k != "name"} for name, raw in specs.items()}))
    return str(path)


def write_schedule(tmp_path, schedule: dict) -> str:
    path = tmp_path / "experiments.json"
    path.write_text(json.dumps(schedule))
    return str(path)


def test_the_shipped_schedule_is_valid():
    entries = control.read_schedule(ROOT / "config" / "experiments.json")
    assert entries and all(entry.mode for entry in entries)


def test_the_schedule_runs_every_entry_in_order(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    specs = write_specs(tmp_path, first=make_raw(), second=make_raw(meta={"seed": 9}))
    schedule = write_schedule(tmp_path, {specs: {"first": "train", "second": "train"}})
    assert run_lab.main(["--schedule", schedule, "--data-dir", str(tmp_path / "data")]) == 0
    runs = sorted((tmp_path / "data").iterdir(), key=lambda p: p.stat().st_mtime)
    assert [p.name.split("_")[0] for p in runs] == ["first", "second"]
    for run in runs:
        assert list(run.glob("info/*_trial_metrics.json"))


def test_a_bad_entry_anywhere_stops_the_schedule_before_anything_runs(tmp_path):
    specs = write_specs(tmp_path, first=make_raw())
    for schedule, message in [({specs: {"first": "train", "scond": "train"}}, "no spec named 'scond'"),
                              ({specs: {"first": "trian"}}, "Did you mean 'train'"),
                              ({str(tmp_path / "none.json"): {"first": "train"}}, "does not exist"),
                              ({specs: ["first"]}, "expected {spec_name: mode}")]:
        with pytest.raises(SpecError, match=message):
            control.run_schedule(write_schedule(tmp_path, schedule), data_dir=str(tmp_path / "data"))
        assert not (tmp_path / "data").exists()


def test_a_failing_experiment_is_reported_and_the_next_one_still_runs(tmp_path):
    failing = make_raw(env=[{"name": ECHO, "num_envs": 1, "max_frame": 500, "kwargs": {"fail_after_resets": 3}}],
                       curriculum={"teacher": {"name": "Random"}, "task_space": {"level": [0.0, 10.0]}})
    specs = write_specs(tmp_path, failing=failing, fine=make_raw())
    schedule = write_schedule(tmp_path, {specs: {"failing": "train", "fine": "train"}})
    with pytest.raises(control.ScheduleError, match="1 of 2 .*failing train: .*failing on reset 3"):
        control.run_schedule(schedule, data_dir=str(tmp_path / "data"))
    (fine,) = (tmp_path / "data").glob("fine_*")
    assert list(fine.glob("info/*_trial_metrics.json"))


def test_set_values_reach_every_scheduled_spec_that_has_the_placeholder(tmp_path, monkeypatch):
    """`--schedule FILE -s frames=N`: a spec with ${frames} gets it, a spec without it runs as written."""
    monkeypatch.chdir(tmp_path)
    sized = make_raw()
    sized["env"][0]["max_frame"] = "${frames}"
    specs = write_specs(tmp_path, sized=sized, fixed=make_raw(meta={"seed": 9}))
    schedule = write_schedule(tmp_path, {specs: {"sized": "train", "fixed": "train"}})
    entries = control.read_schedule(schedule, {"frames": "1000"})
    assert [dict(e.sets) for e in entries] == [{"frames": "1000"}, {}]
    data = tmp_path / "data"
    assert run_lab.main(["--schedule", schedule, "-s", "frames=1000", "--data-dir", str(data)]) == 0
    (run,) = data.glob("sized_*")
    assert json.loads((run / "sized_spec.json").read_text())["env"][0]["max_frame"] == 1000
    assert list(data.glob("fixed_*/info/*_trial_metrics.json"))


def test_a_schedule_needs_its_placeholders_filled_and_its_set_values_used(tmp_path):
    sized = make_raw()
    sized["env"][0]["max_frame"] = "${frames}"
    specs = write_specs(tmp_path, sized=sized)
    schedule = write_schedule(tmp_path, {specs: {"sized": "train"}})
    with pytest.raises(SpecError, match=r"unfilled placeholder\(s\) \$\{frames\}"):
        control.read_schedule(schedule)
    with pytest.raises(SpecError, match="-s seeds given, but no spec scheduled in .* has such a placeholder"):
        control.read_schedule(schedule, {"frames": "1000", "seeds": "2"})
