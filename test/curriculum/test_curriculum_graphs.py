"""Curriculum graphs: the teacher's info() is logged at each evaluation and drawn over the tasks it chose."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from conftest import make_raw

from slm_acl.analysis.curriculum_graphs import VIEWS, Axes2D, draw_teacher_view
from slm_acl.analysis.graphs import pyplot
from slm_acl.experiment.paths import RunPaths
from slm_acl.experiment.trial import analyse_trial
from slm_acl.experiment.session import Session
from slm_acl.spec import validate

TEACHERS_WITH_VIEWS = [("ALP-GMM", {"fit_rate": 10}, "means"), ("Covar-GMM", {"fit_rate": 10}, "means"),
                       ("RIAC", {"max_region_size": 8}, "regions"),
                       ("ADR", {"max_reward_thr": -300.0, "min_reward_thr": -1500.0}, "low")]


@pytest.mark.parametrize("name,settings,key", TEACHERS_WITH_VIEWS)
def test_a_session_logs_the_teacher_view_and_the_trial_draws_png_and_gif(tmp_path, name, settings, key):
    raw = make_raw(curriculum={"teacher": {"name": name, **settings},
                               "task_space": {"mass": [0.5, 2.0], "length": [0.5, 1.5], "gravity": [5.0, 15.0]},
                               "success_return": -200, "test_set_size": 2},
                   meta={"seed": 3, "log_frequency": 1000, "eval_frequency": 700})
    raw["env"][0].update(max_frame=3000, max_t=20)
    run = validate(raw)
    paths = RunPaths.new(tmp_path, "t")
    Session(run, paths, progress=False).run_session()
    teacher_df = pd.read_csv(paths.table(0, 0, "a0_e0_b0", "teacher_df"))
    infos = [json.loads(s) for s in teacher_df["info"]]
    assert len(infos) >= 4 and key in infos[-1]
    analyse_trial(run, paths, 0, [0])
    png = paths.graph("t_t0_s0_a0_e0_b0_curriculum.png")
    gif = paths.graph("t_t0_s0_a0_e0_b0_curriculum.gif")
    assert png.stat().st_size > 5000 and gif.stat().st_size > 5000
    import imageio.v2 as imageio

    assert len(imageio.mimread(gif)) == len(teacher_df)  # one GIF frame per evaluation


def test_each_kind_of_view_draws_patches_in_raw_units():
    plt = pyplot()
    axes = Axes2D(0, 1, np.array([0.0, 10.0]), np.array([2.0, 20.0]))
    infos = {"means": {"means": [[0.5, 0.5]], "covariances": [[[0.01, 0], [0, 0.04]]], "alp": [1.0]},
             "mean": {"mean": [0.25, 0.75], "std": [0.1, 0.1]},
             "regions": {"regions": [{"low": [0, 0], "high": [0.5, 1], "interest": 2.0}]},
             "low": {"low": [0.25, 0.5], "high": [0.75, 1.0]}}
    assert {keys[0] for keys, _ in VIEWS} == set(infos)
    for key, info in infos.items():
        fig, ax = plt.subplots()
        assert draw_teacher_view(ax, info, axes)
        patch = ax.patches[0]
        extent = patch.get_extents().transformed(ax.transData.inverted())
        assert 0.0 <= extent.x0 and extent.x1 <= 2.0 + 1e-9 and 10.0 <= extent.y0 + 1e-9 and extent.y1 <= 20.0 + 1e-9
        plt.close(fig)
    fig, ax = plt.subplots()
    assert not draw_teacher_view(ax, {"episodes": 3}, axes) and not ax.patches
    plt.close(fig)
