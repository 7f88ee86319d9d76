"""A session whose student forgets: resets logged, written to resets_df, drawn on the session graph, and a run
killed around a reset boundary resumes with each reset exactly once."""
from __future__ import annotations

import logging

import pandas as pd
import pytest
from conftest import make_raw

from slm_acl.aeb.space import AEBSpace
from slm_acl.analysis import graphs
from slm_acl.experiment import checkpoint
from slm_acl.experiment.paths import RunPaths
from slm_acl.experiment.session import RESET_COLUMNS, Session
from slm_acl.spec import validate

LABEL = "a0_e0_b0"


def spec(reset_frequency: int | None = 500):
    agent = {"name": "p", "algorithm": {"name": "PPO", "time_horizon": 16, "minibatch_size": 16, "training_epoch": 1},
             "net": {"type": "MLPNet", "hid_layers": [8], "gpu": False}, "memory": {"name": "OnPolicyBatch"},
             "reset_frequency": reset_frequency}
    return validate(make_raw(agent=[agent],
                             env=[{"name": "slm_acl/ParamPendulum-v0", "num_envs": 2, "max_frame": 1200, "max_t": 50}],
                             meta={"seed": 2, "log_frequency": 250, "eval_frequency": 600,
                                   "checkpoint_frequency": 250}))


def reset_lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if " reset at frame " in r.getMessage()]


def test_resets_are_logged_tabled_and_drawn_on_the_session_graph(tmp_path, monkeypatch, caplog):
    caplog.set_level(logging.INFO, logger="slm_acl")
    drawn = {}
    real_save = graphs.save_figure

    def keep_lines(fig, out, tight=True):
        drawn[out.name] = [[line.get_xdata()[0] for line in axis.get_lines() if line.get_linestyle() == "--"]
                           for axis in fig.axes]
        legend = fig.axes[0].get_legend()
        drawn[out.name + " legend"] = [t.get_text() for t in legend.get_texts()] if legend else []
        return real_save(fig, out, tight)

    monkeypatch.setattr(graphs, "save_figure", keep_lines)
    paths = RunPaths.new(tmp_path, "t")
    Session(spec(), paths, progress=False).run_session()
    resets = pd.read_csv(paths.table(0, 0, LABEL, "resets_df"))
    assert list(resets.columns) == RESET_COLUMNS
    assert resets.to_dict("list") == {"frame": [500, 1000], "agent_frame": [500, 1000], "reset": [1, 2]}
    assert [line.split(": ", 1)[1].split(" (")[0] for line in reset_lines(caplog)] == [
        "agent 'p' reset at frame 500", "agent 'p' reset at frame 1000"]
    (graph,) = [name for name in drawn if name.endswith("session_graph.png")]
    assert drawn[graph] == [[500, 1000]] * 2  # both panels: returns and % mastered
    assert drawn[graph + " legend"].count("student reset") == 1


def test_a_session_without_reset_frequency_writes_no_resets_table(tmp_path):
    paths = RunPaths.new(tmp_path, "t")
    Session(spec(None), paths, progress=False).run_session()
    assert paths.table(0, 0, LABEL, "session_df").exists()
    assert not paths.table(0, 0, LABEL, "resets_df").exists()


class Killed(Exception):
    """Stands for a kill -9 at a chosen frame (a real one is tested in test_session.py)."""


@pytest.mark.parametrize("kill_at,checkpoint_frame,resumed_resets", [
    (480, 250, [500, 1000]),  # killed before the reset at 500, last checkpoint before it: the reset comes once
    (620, 500, [1000]),  # the checkpoint at 500 was written right after that reset: it must not come again
])
def test_a_run_killed_around_a_reset_resumes_with_each_reset_exactly_once(tmp_path, monkeypatch, caplog,
                                                                           kill_at, checkpoint_frame, resumed_resets):
    caplog.set_level(logging.INFO, logger="slm_acl")
    paths = RunPaths.new(tmp_path, "t")
    real_step = AEBSpace.step

    def step_until_killed(space):
        if space.bodies[0].clock.frame >= kill_at:
            raise Killed
        return real_step(space)

    monkeypatch.setattr(AEBSpace, "step", step_until_killed)
    with pytest.raises(Killed):
        Session(spec(), paths, progress=False).run_session()
    killed = checkpoint.load(paths.checkpoint(0, 0))
    assert killed["frames"][LABEL] == checkpoint_frame and not killed["complete"]
    monkeypatch.setattr(AEBSpace, "step", real_step)
    caplog.clear()
    Session(spec(), paths, progress=False).run_session()
    assert [int(line.rsplit("reset at frame ", 1)[1].split(" ")[0]) for line in reset_lines(caplog)] == resumed_resets
    resets = pd.read_csv(paths.table(0, 0, LABEL, "resets_df"))
    assert resets.to_dict("list") == {"frame": [500, 1000], "agent_frame": [500, 1000], "reset": [1, 2]}
    done = checkpoint.load(paths.checkpoint(0, 0))
    assert done["complete"] and done["space"]["student_resets"] == [{"frequency": 500, "last_index": 2}]
