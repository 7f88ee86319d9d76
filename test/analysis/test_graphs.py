"""The session and trial graphs: every title and label is drawn inside the figure, however long the run's name."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from slm_acl.analysis import graphs

NAMES = ["alp_gmm_ppo_stump_tracks_t0_s0 a0_e0_b0",  # the demo's session: its right-hand title used to be cut
         "a_much_longer_spec_name_from_a_benchmark_cell__ALP-GMM__mostly_unfeasible__low__sac_t12_s3 a0_e0_b0"]


@pytest.fixture
def tables(tmp_path):
    rng = np.random.default_rng(0)
    episodes = tmp_path / "session_df.csv"
    pd.DataFrame({"frame": np.arange(0, 1000, 10), "return": rng.normal(size=100)}).to_csv(episodes, index=False)
    evals = tmp_path / "eval_df.csv"
    pd.DataFrame({"frame": [500, 1000], "mean_return": [0.1, 0.2], "mastered": [10.0, 20.0]}).to_csv(evals, index=False)
    no_mastery = tmp_path / "eval_no_mastery_df.csv"
    pd.DataFrame({"frame": [500, 1000], "mean_return": [0.1, 0.2], "mastered": [np.nan, np.nan]}).to_csv(
        no_mastery, index=False)
    return episodes, evals, no_mastery


@pytest.fixture
def drawn(monkeypatch):
    """Per figure saved: its titles with their extents, the box of all it draws and its own box, in pixels."""
    from matplotlib.transforms import Bbox

    figures = []
    save = graphs.save_figure

    def measure_then_save(fig, out, tight=True):
        if tight:
            fig.tight_layout()
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        titles = [(t.get_text(), t.get_window_extent(renderer))
                  for t in [fig._suptitle, *(ax.title for ax in fig.axes)] if t is not None and t.get_text()]
        content = Bbox.from_extents(*(fig.get_tightbbox(renderer).extents * fig.dpi))  # inches -> pixels
        figures.append((titles, content, fig.bbox))
        return save(fig, out, tight=False)

    monkeypatch.setattr(graphs, "save_figure", measure_then_save)
    return figures


def inside(extent, box) -> bool:
    return box.x0 - 1 <= extent.x0 and extent.x1 <= box.x1 + 1 and box.y0 - 1 <= extent.y0 and extent.y1 <= box.y1 + 1


@pytest.mark.parametrize("name", NAMES)
def test_every_title_and_label_lies_inside_the_figure(tables, drawn, tmp_path, name):
    episodes, evals, no_mastery = tables
    assert graphs.session_graph(episodes, evals, tmp_path / "two_panels.png", name).exists()
    assert graphs.session_graph(episodes, no_mastery, tmp_path / "one_panel.png", name).exists()
    assert graphs.trial_graph([episodes, episodes], [evals, evals], tmp_path / "trial.png", name).exists()
    assert len(drawn) == 3
    for titles, content, box in drawn:
        for text, extent in titles:
            assert inside(extent, box), f"title {text!r} at {extent} runs out of the figure {box}"
        assert inside(content, box), f"the figure draws {content}, outside its own box {box}"
        assert "".join(text for text, _ in titles).replace("\n", "").count(name) == 1  # the name, once, whole
