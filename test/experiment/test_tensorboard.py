"""TensorBoard logs of a session: what they hold (read back from the event files), off switch, resume, enjoy."""
from __future__ import annotations

import json
import sys

import numpy as np
import pandas as pd
import pytest
from conftest import make_raw

from slm_acl.experiment.enjoy import enjoy
from slm_acl.experiment.paths import RunPaths
from slm_acl.experiment.session import Session
from slm_acl.experiment.tensorboard import TensorBoardUnavailable
from slm_acl.spec import validate

LABEL = "a0_e0_b0"


def events(paths: RunPaths, label: str = LABEL):
    """Every scalar and image of a session body's TensorBoard run (no sampling: size guidance 0 keeps all)."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    accumulator = EventAccumulator(str(paths.tensorboard(0, 0, label)), size_guidance={"scalars": 0, "images": 0})
    accumulator.Reload()
    return accumulator


def steps(accumulator, tag: str) -> list[int]:
    return [e.step for e in accumulator.Scalars(tag)]


def values(accumulator, tag: str) -> np.ndarray:
    return np.array([e.value for e in accumulator.Scalars(tag)])


def alp_gmm_spec(**meta) -> dict:
    raw = make_raw(agent=[{"algorithm": {"name": "TestLinear"}}],
                   meta={"seed": 3, "log_frequency": 500, "eval_frequency": 1000, **meta})
    raw["curriculum"]["teacher"] = {"name": "ALP-GMM", "fit_rate": 20}
    return raw


def test_a_session_writes_its_log_lines_evaluations_teacher_and_curriculum(tmp_path):
    paths = RunPaths.new(tmp_path, "t")
    Session(validate(alp_gmm_spec()), paths, progress=False).run_session()
    tb = events(paths)
    metrics = pd.read_csv(paths.table(0, 0, LABEL, "metrics_df"))
    evals = pd.read_csv(paths.table(0, 0, LABEL, "eval_df"))
    tags = set(tb.Tags()["scalars"])
    assert {f"{LABEL}/{t}" for t in ("return", "success_rate", "fps", "train/loss", "mastered", "eval_return")} <= tags
    for tag, column in (("return", "return_ma"), ("success_rate", "success_ma"), ("fps", "fps"),
                        ("train/loss", "loss")):  # one point per log line, at its frame, with its value
        assert steps(tb, f"{LABEL}/{tag}") == metrics["frame"].tolist(), tag
        np.testing.assert_allclose(values(tb, f"{LABEL}/{tag}"), metrics[column], rtol=1e-5)
    assert steps(tb, f"{LABEL}/mastered") == evals["frame"].tolist() == [1000, 2000]
    np.testing.assert_allclose(values(tb, f"{LABEL}/mastered"), evals["mastered"])
    np.testing.assert_allclose(values(tb, f"{LABEL}/eval_return"), evals["mean_return"], rtol=1e-5)
    teacher = pd.read_csv(paths.table(0, 0, LABEL, "teacher_df"))
    infos = [json.loads(s) for s in teacher["info"]]
    assert steps(tb, f"{LABEL}/teacher/episodes") == teacher["frame"].tolist()
    np.testing.assert_allclose(values(tb, f"{LABEL}/teacher/episodes"), [i["episodes"] for i in infos])
    assert f"{LABEL}/teacher/fits" in tags and f"{LABEL}/teacher/means" not in tags  # numbers only
    images = tb.Images(f"{LABEL}/curriculum")
    assert [i.step for i in images] == [1000, 2000] and all(i.width > 200 and i.height > 200 for i in images)


def test_meta_tensorboard_false_writes_no_tb_folder(tmp_path):
    paths = RunPaths.new(tmp_path, "t")
    Session(validate(alp_gmm_spec(tensorboard=False)), paths, progress=False).run_session()
    assert paths.table(0, 0, LABEL, "metrics_df").exists()
    assert not (paths.predir / "tb").exists()


def test_without_the_tensorboard_package_a_session_names_the_way_out(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)  # `import` now raises ImportError
    with pytest.raises(TensorBoardUnavailable, match=r"pip install tensorboard.*meta\.tensorboard: false"):
        Session(validate(alp_gmm_spec()), RunPaths.new(tmp_path, "t"), progress=False).run_session()
    Session(validate(alp_gmm_spec(tensorboard=False)), RunPaths.new(tmp_path, "t"), progress=False).run_session()


class Killed(RuntimeError):
    """Stands for a kill after the checkpoint at frame 2000 and a log line at 2500 that reached TensorBoard."""


def test_a_resumed_session_replaces_the_killed_tail_without_duplicated_steps(tmp_path, monkeypatch):
    raw = alp_gmm_spec(checkpoint_frequency=1000)
    raw["env"][0]["max_frame"] = 4000
    paths = RunPaths.new(tmp_path, "t")
    log_line = Session._log

    def dying_log(self, book, agent_metrics, bar):
        log_line(self, book, agent_metrics, bar)
        if book.body.clock.frame == 2500:
            raise Killed("killed after the line at 2500")

    monkeypatch.setattr(Session, "_log", dying_log)
    with pytest.raises(Killed):
        Session(validate(raw), paths, progress=False).run_session()
    assert steps(events(paths), f"{LABEL}/return")[-1] == 2500  # the killed tail is on disk
    monkeypatch.setattr(Session, "_log", log_line)
    Session(validate(raw), paths, progress=False).run_session()
    tb = events(paths)
    metrics = pd.read_csv(paths.table(0, 0, LABEL, "metrics_df"))
    assert metrics["frame"].tolist() == list(range(500, 4001, 500))
    for tag in (f"{LABEL}/return", f"{LABEL}/fps", f"{LABEL}/train/loss"):
        assert steps(tb, tag) == metrics["frame"].tolist(), tag
    np.testing.assert_allclose(values(tb, f"{LABEL}/return"), metrics["return_ma"], rtol=1e-5)
    assert steps(tb, f"{LABEL}/mastered") == [1000, 2000, 3000, 4000]
    assert [i.step for i in tb.Images(f"{LABEL}/curriculum")] == [1000, 2000, 3000, 4000]


def test_a_fresh_start_drops_the_logs_of_an_attempt_that_never_checkpointed(tmp_path):
    paths = RunPaths.new(tmp_path, "t")
    stale = paths.tensorboard(0, 0, LABEL) / "events.out.tfevents.0.stale"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"")
    Session(validate(alp_gmm_spec()), paths, progress=False).run_session()
    assert not stale.exists() and steps(events(paths), f"{LABEL}/mastered") == [1000, 2000]


def test_enjoy_sends_its_replay_to_tensorboard_as_an_animated_gif(tmp_path):
    import io

    from PIL import Image

    paths = RunPaths.new(tmp_path, "t")
    Session(validate(alp_gmm_spec()), paths, progress=False).run_session()
    enjoy(str(paths.predir / "t_t0_s0"), {"video_episodes": "1"})
    (video,) = events(paths).Images(f"{LABEL}/enjoy")
    assert video.step == 2000  # the checkpoint's frame
    gif = Image.open(io.BytesIO(video.encoded_image_string))
    durations = []
    for k in range(gif.n_frames):  # pillow merges identical frames, adding up their durations
        gif.seek(k)
        durations.append(gif.info["duration"])
    assert gif.format == "GIF" and gif.n_frames > 10
    # one test task of max_t=50 steps at 30 fps (a GIF counts time in 10 ms steps: 30 ms a frame)
    assert sum(durations) == pytest.approx(50 * 1000 / 30, rel=0.1)
