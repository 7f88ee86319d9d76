"""Kept checkpoints (snapshots, the best policy), safe and checked loading, and resuming past a damaged file."""
from __future__ import annotations

import json
import os

import pandas as pd
import pytest
import torch
from conftest import make_raw

from slm_acl.experiment import checkpoint
from slm_acl.experiment.checkpoint import CheckpointError
from slm_acl.experiment.paths import RunPaths
from slm_acl.experiment.saved_policy import SavedSession, restore_policy
from slm_acl.experiment.session import Session
from slm_acl.spec import validate

LABEL = "a0_e0_b0"


def snapshot_raw(**meta) -> dict:
    """A linear policy on ParamPendulum, 2000 frames, an evaluation every 500 and a snapshot every 600."""
    return make_raw(agent=[{"algorithm": {"name": "TestLinear"}}],
                    meta={"seed": 3, "log_frequency": 500, "eval_frequency": 500, "snapshot_frequency": 600,
                          "tensorboard": False, **meta})


def run_session(paths: RunPaths, raw: dict) -> Session:
    session = Session(validate(raw), paths, progress=False)
    session.run_session()
    return session


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """One finished session, run once for the tests that only read it."""
    paths = RunPaths.new(tmp_path_factory.mktemp("finished"), "t")
    run_session(paths, snapshot_raw())
    return paths


def damage(path, how: str) -> None:
    data = path.read_bytes()
    if how == "truncate":
        path.write_bytes(data[:len(data) // 2])
    else:  # flip bytes in the middle of the archive, where torch reads tensor bytes without any check
        middle = len(data) // 2
        path.write_bytes(data[:middle] + bytes(b ^ 0xFF for b in data[middle:middle + 64]) + data[middle + 64:])


def test_snapshots_are_kept_at_each_multiple_of_snapshot_frequency(finished):
    kept = checkpoint.snapshots(finished, 0, 0)
    assert [frame for frame, _ in kept] == [1800, 1200, 600]  # newest first; the end is the last checkpoint
    for frame, path in kept:
        state = checkpoint.load(path)
        assert state["frames"] == {LABEL: frame} and not state["complete"]
    last = checkpoint.load(finished.checkpoint(0, 0))
    assert last["frames"] == {LABEL: 2000} and last["complete"]


def test_the_best_checkpoint_holds_the_best_evaluation(finished):
    evals = pd.read_csv(finished.table(0, 0, LABEL, "eval_df"))
    assert evals["frame"].tolist() == [500, 1000, 1500, 2000]
    # % mastered first, then mean return; the earliest of equals
    order = evals.sort_values(["mastered", "mean_return", "frame"], ascending=[False, False, True])
    best_row = order.iloc[0]
    record = json.loads(finished.checkpoint(0, 0, "best").with_suffix(".json").read_text())
    assert record["checkpoint"] == "t_t0_s0_ckpt_best.pt" and record["metric"] == "mastered"
    assert record["frame"] == best_row["frame"]
    assert record["score"] == pytest.approx(best_row["mastered"])
    assert record["mean_return"] == pytest.approx(best_row["mean_return"])
    best = checkpoint.load(finished.checkpoint(0, 0, "best"))
    assert best["frames"] == {LABEL: best_row["frame"]}
    assert best["best"]["record"]["frame"] == best_row["frame"]
    assert checkpoint.load(finished.checkpoint(0, 0))["best"]["record"] == best["best"]["record"]  # resume knows it


def test_without_snapshot_frequency_only_the_last_and_the_best_are_kept(tmp_path):
    paths = RunPaths.new(tmp_path, "t")
    run_session(paths, snapshot_raw(snapshot_frequency=None))
    assert sorted(p.name for p in (paths.predir / "model").iterdir()) == [
        "t_t0_s0_ckpt.pt", "t_t0_s0_ckpt_best.json", "t_t0_s0_ckpt_best.pt"]


@pytest.mark.parametrize("how", ["truncate", "flip"])
def test_a_damaged_checkpoint_is_one_error_naming_the_file(finished, tmp_path, how):
    copy = tmp_path / "copy_ckpt.pt"
    copy.write_bytes(finished.checkpoint(0, 0).read_bytes())
    damage(copy, how)
    with pytest.raises(CheckpointError, match=rf"checkpoint {copy} is damaged \(.*corrupted\)"):
        checkpoint.load(copy)


def test_a_checkpoint_holding_a_malicious_object_is_refused_and_nothing_runs(tmp_path):
    marker = tmp_path / "marker"

    class Evil:
        def __reduce__(self):
            return os.system, (f"touch {marker}",)

    path = tmp_path / "t_t0_s0_ckpt.pt"
    torch.save({"format": checkpoint.FORMAT_VERSION, "space": {"agents": [Evil()]}}, path)
    with pytest.raises(CheckpointError, match=rf"refused to load checkpoint {path}: .*posix.system"):
        checkpoint.load(path)
    assert not marker.exists()


def test_a_checkpoint_of_another_format_says_so(tmp_path):
    path = tmp_path / "old_ckpt.pt"
    torch.save({"format": 1, "git_sha": "abc123"}, path)
    with pytest.raises(CheckpointError, match=r"has format 1, this version of slm_acl reads format 2; .*abc123"):
        checkpoint.load(path)


def test_resume_falls_back_to_the_newest_snapshot_that_loads(tmp_path):
    paths = RunPaths.new(tmp_path, "t")
    raw = snapshot_raw()
    run_session(paths, raw)
    damage(paths.checkpoint(0, 0), "truncate")
    damage(paths.checkpoint(0, 0, "f1800"), "flip")
    resumed = run_session(paths, raw)
    assert resumed.resumed_from == paths.checkpoint(0, 0, "f1200")
    last = checkpoint.load(paths.checkpoint(0, 0))  # written again, whole
    assert last["complete"] and last["frames"] == {LABEL: 2000}
    episodes = pd.read_csv(paths.table(0, 0, LABEL, "session_df"))
    assert episodes["episode"].tolist() == list(range(len(episodes)))  # nothing lost or doubled
    assert episodes["frame"].iloc[-1] == 2000
    assert pd.read_csv(paths.table(0, 0, LABEL, "eval_df"))["frame"].tolist() == [500, 1000, 1500, 2000]
    assert checkpoint.load(paths.checkpoint(0, 0, "f1800"))["frames"] == {LABEL: 1800}  # taken again


def test_resume_with_no_intact_checkpoint_names_every_file_tried(tmp_path):
    paths = RunPaths.new(tmp_path, "t")
    raw = snapshot_raw()
    run_session(paths, raw)
    tried = [paths.checkpoint(0, 0)] + [p for _, p in checkpoint.snapshots(paths, 0, 0)]
    for path in tried:
        damage(path, "truncate")
    with pytest.raises(CheckpointError, match="no intact checkpoint among the 4 tried") as err:
        run_session(paths, raw)
    for path in tried:
        assert str(path) in str(err.value)


def test_the_best_checkpoint_of_a_sac_session_leaves_the_replay_buffer_out(tmp_path):
    """The best is replayed and evaluated, never resumed: it holds the policy state, not the transitions."""
    paths = RunPaths.new(tmp_path, "t")
    raw = snapshot_raw(snapshot_frequency=None)
    raw["agent"] = [{"name": "sac", "algorithm": {"name": "SAC", "batch_size": 16, "start_steps": 100,
                                                   "learning_starts": 100, "train_freq": 4},
                    "net": {"type": "MLPNet", "hid_layers": [16], "gpu": False}, "memory": {"name": "Replay"}}]
    run_session(paths, raw)
    last = checkpoint.load(paths.checkpoint(0, 0))["space"]["agents"][0]
    best = checkpoint.load(paths.checkpoint(0, 0, "best"))["space"]["agents"][0]
    assert [r["has_data"] for r in last["replays"]] == [True] and "data" in last["replays"][0]
    assert [r["has_data"] for r in best["replays"]] == [False] and "data" not in best["replays"][0]
    assert best["replays"][0]["size"] > 0 and set(best["nets"]) == set(last["nets"])
    space, _ = restore_policy(validate(raw), SavedSession(paths, 0, 0, "best"))  # what eval and enjoy do
    try:
        loaded = space.agents[0].algorithm.nets.state_dict()
        assert all(torch.equal(loaded[k], best["nets"][k]) for k in best["nets"])
    finally:
        space.close()
