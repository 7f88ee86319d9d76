"""A campaign's progress: sessions done, frames, rate and ETA as one bar or as lines."""
from __future__ import annotations

import logging

from conftest import make_raw

from slm_acl.experiment.benchmark.progress import Progress
from slm_acl.experiment.paths import RunPaths
from slm_acl.experiment.runner import SessionJob
from slm_acl.spec import validate


def jobs(tmp_path, n: int) -> list[SessionJob]:
    run = validate(make_raw())  # one body of 2,000 frames
    paths = RunPaths(tmp_path, "t")
    return [SessionJob(run, paths, 0, s, 0) for s in range(n)]


def test_lines_say_sessions_frames_and_come_when_a_session_ends(tmp_path, caplog):
    todo = jobs(tmp_path, 3)
    progress = Progress(todo, total_sessions=4, done_before=1, every_s=3600, bar=False)
    with caplog.at_level(logging.INFO, logger="slm_acl.benchmark"):
        progress.evaluated(todo[0], {"body": "a0_e0_b0", "frame": 1000})  # no line: too soon
        progress.ended(todo[0], failed=False)
        progress.ended(todo[1], failed=True)
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2
    assert lines[0].startswith("benchmark: 2/4 sessions done (0 failed), 2,000 of 6,000 frames, ")
    assert lines[1].startswith("benchmark: 3/4 sessions done (1 failed), 2,000 of 6,000 frames, ")
    assert progress.line().startswith("benchmark: 3/4 sessions done (1 failed), 2,000 of 6,000 frames, ")


def test_one_bar_for_the_campaign_closes_when_its_last_session_ends(tmp_path, caplog):
    todo = jobs(tmp_path, 2)
    progress = Progress(todo, total_sessions=2, done_before=0, bar=True)
    with caplog.at_level(logging.INFO, logger="slm_acl.benchmark"):
        progress.evaluated(todo[0], {"body": "a0_e0_b0", "frame": 1000})
        assert progress.display.bar.n == 1000
        progress.ended(todo[0], failed=False)
        progress.ended(todo[1], failed=False)
    assert progress.display.bar is None and not caplog.records
