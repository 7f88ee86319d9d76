"""The report's figures drawn from small synthetic tables: each PNG is a real image, the radar charts are one per
(expert knowledge, student, embodiment), Welch brackets are chosen and stacked as documented, and empty, all-NaN,
one-seed and Random-less inputs draw what they can without raising."""
from __future__ import annotations

from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from slm_acl.analysis.report.figures import (BASELINE, TaskMap, bar_plots, bracket_levels, grid_steps,
                                             interval_plot, performance_profiles, radar_charts, radar_name,
                                             significant_pairs, stars, task_heatmaps)

TEACHERS = {"Random": 20.0, "ALP-GMM": 60.0, "Covar-GMM": 24.0}  # ALP-GMM is clearly better
CRITERIA = ["profiling", "rugged"]
PANEL = ["criterion", "expert_knowledge", "student", "embodiment"]


def make_sessions(seeds: int = 4, eks=("no",), teachers=TEACHERS) -> pd.DataFrame:
    rows = []
    for ek in eks:
        for criterion in CRITERIA:
            for teacher, level in teachers.items():
                for seed in range(seeds):
                    rows.append({"cell": f"{teacher}-{criterion}-{ek}", "teacher": teacher, "criterion": criterion,
                                 "expert_knowledge": ek, "student": "sac", "body": "a0_e0_b0", "embodiment": "",
                                 "seed": seed, "status": "FINISHED", "frames": 1000,
                                 "score": level + 3.0 * ((seed * 7) % 5 - 2)})
    return pd.DataFrame(rows)


def make_summary(sessions: pd.DataFrame) -> pd.DataFrame:
    """What the report's summary holds, computed the plain way (mean, SE, ratio and Welch p against Random)."""
    keys = ["teacher", *PANEL, "body"]
    out = sessions.groupby(keys, sort=False)["score"].agg(n="count", mean="mean", se="sem").reset_index()
    random = out[out["teacher"] == BASELINE].set_index(PANEL + ["body"])["mean"]
    out["ratio_to_random"] = [random.get(tuple(r[k] for k in PANEL + ["body"]), np.nan) for _, r in out.iterrows()]
    out["ratio_to_random"] = out["mean"] / out["ratio_to_random"]
    out["p_welch_vs_random"] = [_welch(sessions, r, BASELINE) for _, r in out.iterrows()]
    out["note"] = ""
    return out


def _scores(sessions: pd.DataFrame, row, teacher: str) -> np.ndarray:
    mask = (sessions["teacher"] == teacher) & np.logical_and.reduce([sessions[k] == row[k] for k in PANEL])
    return sessions.loc[mask, "score"].dropna().to_numpy(float)


def _welch(sessions: pd.DataFrame, row, other: str) -> float:
    a, b = _scores(sessions, row, row["teacher"]), _scores(sessions, row, other)
    if row["teacher"] == other or len(a) < 2 or len(b) < 2:
        return np.nan
    return float(stats.ttest_ind(a, b, equal_var=False).pvalue)


def make_pairs(sessions: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for keys, panel in sessions.groupby(PANEL):
        teachers = list(dict.fromkeys(panel["teacher"]))
        for i, a in enumerate(teachers):
            for b in teachers[i + 1:]:
                row = dict(zip(PANEL, keys), teacher=a)
                rows.append({**dict(zip(PANEL, keys)), "teacher_a": a, "teacher_b": b,
                             "p_welch": _welch(sessions, row, b)})
    return pd.DataFrame(rows)


def assert_image(path: Path | None, min_side: int = 200) -> np.ndarray:
    """The PNG at `path`, read back: an RGB(A) image of some size that is not one flat colour."""
    assert path is not None and Path(path).exists()
    image = mpimg.imread(path)
    assert image.ndim == 3 and image.shape[2] in (3, 4)
    assert min(image.shape[:2]) >= min_side
    assert image[..., :3].std() > 0.01, "the image is blank"
    return image


# ------------------------------------------------------------------------------------------ brackets and stars

def test_stars_thresholds():
    assert [stars(p) for p in (0.2, 0.05, 0.049, 0.004, 0.0009, np.nan, None)] == ["", "", "*", "**", "***", "",
                                                                                   ""]


def test_significant_pairs_keeps_only_p_below_005():
    pairs = pd.DataFrame({"teacher_a": ["A", "A", "B", "C"], "teacher_b": ["B", "C", "C", "D"],
                          "p_welch": [0.2, 0.004, np.nan, 0.0001]})
    assert significant_pairs(pairs) == [("A", "C", "**"), ("C", "D", "***")]
    assert significant_pairs(pairs.iloc[:1]) == []
    assert significant_pairs(pairs.iloc[:0]) == [] and significant_pairs(None) == []


def test_bracket_levels_never_overlap():
    spans = [(0, 3), (0, 1), (2, 3), (1, 2), (0, 2)]
    levels = bracket_levels(spans)
    assert levels[1] == 0 and levels[2] == 0  # disjoint short brackets share the lowest level
    assert levels[3] == 1  # touches both at their ends
    for i, (a, b) in enumerate(spans):
        for j, (c, d) in enumerate(spans[:i]):
            if a <= d and c <= b:
                assert levels[i] != levels[j], (spans[i], spans[j])
    assert levels[0] > max(levels[1], levels[2], levels[3])  # the widest sits over those it spans
    assert bracket_levels([]) == []


# ------------------------------------------------------------------------------------------------ radar charts

def test_radar_one_chart_per_ek_level(tmp_path):
    sessions = make_sessions(eks=("no", "low", "high"))
    written = radar_charts(make_summary(sessions), tmp_path, "camp")
    assert sorted(p.name for p in written) == ["camp_radar_high_sac.png", "camp_radar_low_sac.png",
                                               "camp_radar_no_sac.png"]
    for path in written:
        assert_image(path)


def test_radar_with_one_criterion_and_names_sanitised(tmp_path):
    sessions = make_sessions()
    sessions = sessions[sessions["criterion"] == CRITERIA[0]].assign(embodiment="old classic/1")
    written = radar_charts(make_summary(sessions), tmp_path, "c")
    assert [p.name for p in written] == ["c_radar_no_sac_old_classic_1.png"]
    assert_image(written[0])
    assert radar_name("s t", ["", "sac", "x.y"]) == "s_t_radar_sac_x_y.png"


def test_radar_without_random_or_ratio_draws_nothing(tmp_path):
    sessions = make_sessions()
    summary = make_summary(sessions[sessions["teacher"] != BASELINE])
    assert summary["ratio_to_random"].isna().all()
    assert radar_charts(summary, tmp_path, "c") == []
    assert radar_charts(pd.DataFrame(), tmp_path, "c") == []
    assert radar_charts(None, tmp_path, "c") == []
    assert not list(tmp_path.iterdir())


# --------------------------------------------------------------------------------------------------- bar plots

def test_bar_plots_with_brackets(tmp_path):
    sessions = make_sessions()
    pairs = make_pairs(sessions)
    assert significant_pairs(pairs[pairs["criterion"] == CRITERIA[0]]), "the fixture must hold a bracket"
    image = assert_image(bar_plots(sessions, make_summary(sessions), pairs, tmp_path / "bars.png", "t"))
    assert image.shape[1] > image.shape[0]  # two panels side by side


def test_bar_plots_without_random_one_seed_and_no_pairs(tmp_path):
    sessions = make_sessions(seeds=1)
    sessions = sessions[sessions["teacher"] != BASELINE]
    summary = make_summary(sessions)
    assert summary["se"].isna().all()
    assert_image(bar_plots(sessions, summary, None, tmp_path / "bars.png", "t"))
    assert radar_charts(summary, tmp_path, "c") == []


def test_bar_plots_nothing_to_draw(tmp_path):
    sessions = make_sessions().assign(score=np.nan)
    summary = make_summary(sessions)
    assert bar_plots(sessions, summary, make_pairs(sessions), tmp_path / "a.png", "t") is None
    assert bar_plots(pd.DataFrame(), pd.DataFrame(), pd.DataFrame(), tmp_path / "b.png", "t") is None
    assert not list(tmp_path.iterdir())


# ---------------------------------------------------------------------------------- intervals and profiles

def make_intervals() -> pd.DataFrame:
    rows = []
    for k, group in enumerate(["Random | no | sac", "ALP-GMM | no | sac", "Covar-GMM | no | sac"]):
        for metric in ("mean", "IQM", "median"):
            rows.append({"group": group, "metric": metric, "estimate": 20.0 + 15 * k, "low": 15.0 + 15 * k,
                         "high": 26.0 + 15 * k})
    rows[-1].update(low=np.nan, high=np.nan)  # one interval not computable: the estimate alone
    return pd.DataFrame(rows)


def test_interval_plot(tmp_path):
    image = assert_image(interval_plot(make_intervals(), tmp_path / "iv.png", "t"))
    assert image.shape[1] > 2 * image.shape[0]  # three metric panels in a row
    only_iqm = make_intervals().query("metric == 'IQM'")
    assert_image(interval_plot(only_iqm, tmp_path / "iqm.png", "t"))


def test_interval_plot_nothing_to_draw(tmp_path):
    assert interval_plot(make_intervals().assign(estimate=np.nan), tmp_path / "a.png", "t") is None
    assert interval_plot(pd.DataFrame(), tmp_path / "b.png", "t") is None
    assert interval_plot(make_intervals().assign(metric="max"), tmp_path / "c.png", "t") is None


def make_profiles() -> pd.DataFrame:
    tau = np.linspace(0, 100, 21)
    rows = []
    for k, group in enumerate(["Random | no | sac", "ALP-GMM | no | sac"]):
        fraction = np.clip(1 - tau / (40 + 40 * k), 0, 1)
        rows.append(pd.DataFrame({"group": group, "tau": tau, "fraction": fraction,
                                  "low": np.clip(fraction - 0.1, 0, 1), "high": np.clip(fraction + 0.1, 0, 1)}))
    return pd.concat(rows, ignore_index=True)


def test_performance_profiles(tmp_path):
    profiles = make_profiles()
    profiles.loc[3, ["low", "high"]] = np.nan
    assert_image(performance_profiles(profiles, tmp_path / "pp.png", "t"))
    assert performance_profiles(profiles.assign(fraction=np.nan), tmp_path / "a.png", "t") is None
    assert performance_profiles(pd.DataFrame(), tmp_path / "b.png", "t") is None


# ----------------------------------------------------------------------------------------------- task heatmaps

def _grid_map(title: str, skill: float) -> TaskMap:
    heights, spacings = np.meshgrid(np.linspace(0, 3, 10), np.linspace(0, 6, 10))
    tasks = np.column_stack([heights.ravel(), spacings.ravel()])
    mastered = np.clip(skill - tasks[:, 0] / 3 + tasks[:, 1] / 12, 0, 1)
    return TaskMap(title, ["stump_height", "obstacle_spacing"], tasks, mastered)


def test_grid_steps():
    assert grid_steps(_grid_map("g", 0.5).tasks) == pytest.approx((3 / 9, 6 / 9))
    assert grid_steps(np.array([[0.0, 0.0], [1.0, 0.0], [2.0, 0.0]])) == (1.0, 1.0)
    assert grid_steps(np.array([[0.0, 0.0], [1.0, 0.0], [3.0, 0.0]])) is None  # uneven
    assert grid_steps(np.array([[0.0, 0.0], [1.0, 1.0], [0.3, 0.7]])) is None  # scattered


def test_task_heatmaps_grid_scatter_and_one_dim(tmp_path):
    rng = np.random.default_rng(0)
    scattered = TaskMap("Covar-GMM (4 dims)", ["a", "b", "c", "d"], rng.uniform(size=(50, 4)),
                        rng.uniform(size=50))
    one_dim = TaskMap("1-D", ["mass"], np.linspace(0.5, 2, 8)[:, None], np.linspace(0, 1, 8))
    with_nan = _grid_map("with NaN", 0.2)
    with_nan.mastered[:5] = np.nan
    maps = [_grid_map("Random", 0.2), _grid_map("ALP-GMM", 0.8), scattered, one_dim, with_nan]
    image = assert_image(task_heatmaps(maps, tmp_path / "maps.png", "t"))
    assert image.shape[0] > 450  # five panels: two rows


def test_task_heatmap_grid_tiles(tmp_path):
    """Regular grid: the squares tile, so the plot area is filled with colour, not a white background."""
    task_map = _grid_map("Random", 0.5)
    image = assert_image(task_heatmaps([task_map], tmp_path / "one.png", "t"))
    h, w = image.shape[:2]
    centre = image[int(h * 0.35):int(h * 0.65), int(w * 0.3):int(w * 0.55), :3]
    white = (centre > 0.97).all(axis=-1).mean()
    assert white < 0.1, f"{white:.0%} of the panel's centre is white"


def test_task_heatmaps_nothing_to_draw(tmp_path):
    empty = TaskMap("empty", ["a", "b"], np.empty((0, 2)), np.empty(0))
    assert task_heatmaps([], tmp_path / "a.png", "t") is None
    assert task_heatmaps([empty], tmp_path / "b.png", "t") is None
    assert not list(tmp_path.iterdir())
