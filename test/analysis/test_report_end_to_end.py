"""A report built end to end: from tiny real train runs, through the command line, and from a campaign folder."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import matplotlib.image
import pandas as pd
import pytest
from conftest import ROOT, make_raw

from slm_acl.analysis.report.build import build_report
from slm_acl.analysis.report.collect import collect
from slm_acl.experiment import control


def train_run(tmp_path, name: str, teacher: str) -> str:
    raw = make_raw(name=name, curriculum={"teacher": {"name": teacher}, "task_space": {"mass": [0.5, 2.0],
                   "length": [0.5, 1.5]}, "success_return": -300, "test_set_size": 6},
                   meta={"seed": 3, "max_session": 2, "max_parallel": 1, "log_frequency": 500, "eval_frequency": 500})
    spec = tmp_path / f"{name}.json"
    spec.write_text(json.dumps({name: {k: v for k, v in raw.items() if k != "name"}}))
    control.run(str(spec), name, "train", data_dir=str(tmp_path / "data"))
    return str(next((tmp_path / "data").glob(f"{name}_*")))


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("runs")
    return [train_run(tmp, "rand", "Random"), train_run(tmp, "alp", "ALP-GMM")]


def test_two_train_runs_make_a_report_with_random_as_baseline(two_runs, tmp_path):
    report = build_report(two_runs, out=tmp_path / "report", at_frame=1000)
    summary = pd.read_csv(tmp_path / "report" / "summary_df.csv")
    assert sorted(summary["cell"]) == ["alp", "rand"]
    assert set(summary["n"]) == {2}
    alp = summary[summary["teacher"] == "ALP-GMM"].iloc[0]
    assert alp["criterion"] == "slm_acl/ParamPendulum-v0(mass, length)"  # same env and dims: Random is its baseline
    assert "no Random baseline" not in str(alp["note"])
    scores = pd.read_csv(tmp_path / "report" / "scores_df.csv")
    for seed in (0, 1):
        evals = pd.read_csv(next(Path(two_runs[1], "info").glob(f"alp_t0_s{seed}_a0_e0_b0_eval_df.csv")))
        session = scores[(scores["teacher"] == "ALP-GMM") & (scores["seed"] == seed)]
        assert session["score"].iloc[0] == pytest.approx(evals["mastered"].iloc[-1])  # the last evaluation
    assert (tmp_path / "report" / "summary_at_1000_df.csv").exists()
    text = (tmp_path / "report" / "report.md").read_text()
    assert "## Reading" in text and "ALP-GMM" in text and "## How this was produced" in text
    for name in ("bars", "curves", "intervals", "profiles", "tasks"):
        paths = report.figures[name]
        assert paths, f"figure {name} not drawn"
        assert matplotlib.image.imread(paths[0]).shape[0] > 100
        assert f"]({paths[0].name})" in text  # every figure is on the page


def test_report_on_the_command_line(two_runs, tmp_path):
    out = tmp_path / "cli_report"
    result = subprocess.run([sys.executable, str(ROOT / "run_lab.py"), f"report@{two_runs[0]}", two_runs[1],
                             "--out", str(out), "--at-frame", "1000"], cwd=ROOT, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    assert (out / "report.md").exists() and (out / "summary_at_1000_df.csv").exists()
    bad = subprocess.run([sys.executable, str(ROOT / "run_lab.py"), f"report@{tmp_path / 'nowhere'}"], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "nowhere" in bad.stderr and "Traceback" not in bad.stderr


def campaign_folder(tmp_path) -> str:
    """A campaign's files as benchmark mode writes them: 3 cells x 2 seeds, one cell that cannot run."""
    predir = tmp_path / "camp_2026_01_01_000000"
    (predir / "info").mkdir(parents=True)
    (predir / "camp_spec.json").write_text(json.dumps({"name": "camp"}))
    cells = [("Random", ""), ("ALP-GMM", ""), ("ADR", "ADR needs expert knowledge")]
    (predir / "info" / "camp_benchmark_cells.json").write_text(json.dumps(
        [{"cell": k, "name": f"{t}__standard__no__spec", "teacher": t, "criterion": "standard",
          "expert_knowledge": "no", "student": "spec", "error": e} for k, (t, e) in enumerate(cells)]))
    rows = []
    for k, (teacher, error) in enumerate(cells):
        (predir / f"camp_t{k}_spec.json").write_text(json.dumps({"name": "camp", "env": [{"name": "Parkour"}]}))
        for seed in range(2):
            base = {"cell": k, "teacher": teacher, "criterion": "standard", "expert_knowledge": "no",
                    "student": "spec", "seed": seed}
            if error:
                rows.append({**base, "body": "", "embodiment": "", "status": "INVALID", "frames": 0,
                             "mastered": float("nan"), "error": error})
                continue
            finals = [10.0 + seed, 20.0 + 3 * seed] if teacher == "Random" else [30.0 + seed, 45.0 + seed]
            pd.DataFrame({"frame": [500, 1000], "mastered": finals}).to_csv(
                predir / "info" / f"camp_t{k}_s{seed}_a0_e0_b0_eval_df.csv", index=False)
            rows.append({**base, "body": "a0_e0_b0", "embodiment": "fish", "status": "FINISHED", "frames": 1000,
                         "mastered": finals[-1], "error": ""})
    pd.DataFrame(rows).to_csv(predir / "info" / "camp_benchmark_df.csv", index=False)
    return str(predir)


def test_a_campaign_report_notes_invalid_cells_and_sets_published_numbers_beside(tmp_path):
    predir = campaign_folder(tmp_path)
    runs = collect([predir])
    assert runs.sources[0]["kind"] == "benchmark"
    assert set(runs.sessions["env"]) == {"Parkour", ""}
    report = build_report([predir])
    summary = report.tables.summary.set_index("teacher")
    assert "cannot run: ADR needs expert knowledge" in summary.loc["ADR", "note"]
    assert summary.loc["ALP-GMM", "mean"] == pytest.approx((45.0 + 46.0) / 2)
    assert summary.loc["ALP-GMM", "ratio_to_random"] == pytest.approx(45.5 / 21.5)
    # EK "no" is not the published table's level ("low"): nothing is set beside it
    assert report.published.empty
    low = tmp_path / "low"
    low.mkdir()
    predir_low = campaign_folder(low)
    table = pd.read_csv(f"{predir_low}/info/camp_benchmark_df.csv")
    table["expert_knowledge"] = "low"
    table.to_csv(f"{predir_low}/info/camp_benchmark_df.csv", index=False)
    published = build_report([predir_low]).published.set_index("teacher")
    assert published.loc["ALP-GMM", "published_mean"] == 36.1  # TeachMyAgent's fish, 20M frames
    assert published.loc["Random", "published_mean"] == 23.6
    assert published.loc["ALP-GMM", "lab_mean"] == pytest.approx(45.5)
    assert (predir_low and (low / "camp_2026_01_01_000000" / "report" / "published.png").exists())
