"""Retro mode: a run folder reduced to its info/ and spec files gets back every graph and derived table."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import imageio.v2 as imageio
import pandas as pd
import pytest
from conftest import make_raw, write_spec
from PIL import Image

from slm_acl.experiment import control
from slm_acl.experiment.benchmark import driver, tables
from slm_acl.experiment.benchmark.cells import SEED_TRIAL
from slm_acl.experiment.paths import RunPaths
from slm_acl.experiment.resolved import write_resolved_spec
from slm_acl.experiment.retro import retro
from slm_acl.experiment.session import Session
from slm_acl.spec import validate
from slm_acl.spec.errors import SpecError

LABEL = "a0_e0_b0"


def copy_of_info(predir: Path, dest: Path) -> Path:
    """What a run folder copied from another machine holds: its specs and info/ (no model/, no graph/)."""
    dest.mkdir(parents=True)
    for spec in predir.glob("*_spec.json"):
        shutil.copy2(spec, dest / spec.name)
    shutil.copytree(predir / "info", dest / "info")
    return dest


def assert_valid_images(paths: list[Path]) -> None:
    for path in paths:
        if path.suffix == ".png":
            with Image.open(path) as image:
                image.verify()
                assert image.format == "PNG" and image.size[0] > 100
        else:
            assert len(imageio.mimread(path)) >= 1


@pytest.fixture(scope="module")
def train_run(tmp_path_factory) -> Path:
    """A real train run: 2 sessions of 2000 frames on the cheap pendulum with a Random teacher, in this process."""
    tmp = tmp_path_factory.mktemp("train")
    raw = make_raw(meta={"seed": 3, "log_frequency": 500, "eval_frequency": 1000, "max_session": 2,
                         "max_parallel": 1})
    control.run(str(write_spec(tmp, raw)), "t", "train", data_dir=str(tmp / "data"))
    (predir,) = (tmp / "data").glob("t_*")
    return predir


def test_retro_rebuilds_the_graphs_and_trial_table_of_a_copied_run(train_run, tmp_path):
    copy = copy_of_info(train_run, tmp_path / "copy")
    (copy / "info" / f"t_t0_s7_{LABEL}_session_df.csv").write_text("")  # a session killed before its first flush
    result = control.run("unused.json", "t", f"retro@{copy}")

    original = sorted(p.name for p in (train_run / "graph").iterdir())
    assert len(original) == 2 * 3 + 1  # per session: session graph, curriculum PNG and GIF; the trial graph
    assert sorted(p.name for p in (copy / "graph").iterdir()) == original
    assert sorted(p.name for p in result.graphs) == original
    assert_valid_images(result.graphs)
    for name in ("t_t0_trial_df.csv",):
        pd.testing.assert_frame_equal(pd.read_csv(copy / "info" / name), pd.read_csv(train_run / "info" / name))
    metrics = "t_t0_trial_metrics.json"
    assert json.loads((copy / "info" / metrics).read_text()) == json.loads((train_run / "info" / metrics).read_text())
    assert (result.session_bodies, result.trials) == (2, 1)
    assert [line for line in result.skipped if "t_t0_s7" in line and "session_df empty" in line]
    assert (copy / "model").is_dir() and (copy / "log").is_dir()


def test_retro_draws_a_search_runs_experiment_graph_from_its_table(train_run, tmp_path):
    copy = copy_of_info(train_run, tmp_path / "copy")
    top = copy / "t_spec.json"
    raw = json.loads(top.read_text())
    raw["search"] = {"env": [{"max_t__randint": [40, 60]}]}
    top.write_text(json.dumps(raw))
    pd.DataFrame({"trial": [0, 1, 2], "status": ["TERMINATED", "TERMINATED", "ERROR"], "score": [25.0, 50.0, None],
                  "env.0.max_t": [41, 55, 47]}).to_csv(copy / "info" / "t_experiment_df.csv", index=False)
    result = retro(copy, "t")
    graph = copy / "graph" / "t_experiment_graph.png"
    assert graph in result.graphs
    assert_valid_images([graph])


def test_retro_rebuilds_a_campaigns_tables_and_graph(tmp_path):
    raw = make_raw(meta={"seed": 5, "log_frequency": 1000, "eval_frequency": 1000})
    raw["benchmark"] = {"seeds": 2, "teacher": {"Random": {"name": "Random"}, "GoalGAN": {"name": "GoalGAN"}},
                        "criterion": {"standard": {}, "no_success": {"curriculum": {"success_return": None}}}}
    campaign = validate(raw)
    paths = RunPaths.new(tmp_path / "data", campaign.name)
    write_resolved_spec(campaign, paths)
    cells = driver.lay_out(campaign, paths)  # GoalGAN without a success definition cannot run
    runnable = [c for c in cells if c.run is not None]
    pending, failed = (runnable[-1].index, 1), (runnable[0].index, 1)  # a killed campaign; a session that failed
    rows = {}
    for cell in cells:
        for seed in range(2):
            status = tables.INVALID if cell.run is None else tables.PENDING
            if cell.run is not None and (cell.index, seed) != pending:
                Session(cell.run, paths, cell.index, seed, seed_trial=SEED_TRIAL, progress=False).run_session()
                status = tables.FAILED if (cell.index, seed) == failed else tables.FINISHED
            rows[(cell.index, seed)] = tables.session_rows(paths, cell, seed, status,
                                                           "RuntimeError: boom" if status == tables.FAILED else "")
            for row in rows[(cell.index, seed)]:
                if status in (tables.FINISHED, tables.FAILED):
                    row.update(task_s=1.5 + seed, session_s=1.0 + seed)
    driver.finish(campaign.name, paths, cells, rows, 2)

    copy = copy_of_info(paths.predir, tmp_path / "copy")
    result = retro(copy, campaign.name)
    for table in ("t_benchmark_df.csv", "t_benchmark_curves_df.csv"):
        pd.testing.assert_frame_equal(pd.read_csv(copy / "info" / table), pd.read_csv(paths.info(table)))
    statuses = pd.read_csv(copy / "info" / "t_benchmark_df.csv").groupby("status").size().to_dict()
    assert statuses == {"FINISHED": 4, "FAILED": 1, "PENDING": 1, "INVALID": 2}
    graph = copy / "graph" / "t_benchmark_graph.png"
    assert graph in result.graphs
    assert_valid_images(result.graphs)
    assert (result.session_bodies, result.trials) == (5, 3)  # the cells that ran are trials


def test_a_folder_that_is_not_a_run_is_a_clear_error(tmp_path):
    (tmp_path / "info").mkdir()
    with pytest.raises(SpecError, match=r"t_spec\.json not found.*not a run of spec 't'"):
        retro(tmp_path, "t")
    with pytest.raises(SpecError, match="retro needs a run folder: retro@data/RUN_DIR"):
        control.run("unused.json", "t", "retro")
