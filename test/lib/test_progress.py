"""The one progress rule: a tqdm bar when stderr is a terminal, plain log lines otherwise."""
from __future__ import annotations

import io
import logging
import sys

import pytest
from conftest import make_raw

from slm_acl.experiment.paths import RunPaths
from slm_acl.experiment.session import Session
from slm_acl.lib.progress import FrameProgress, wants_bar
from slm_acl.spec import validate

log = logging.getLogger("slm_acl.test_progress")


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_bar_when_stderr_is_a_terminal_unless_told_otherwise(monkeypatch):
    monkeypatch.setattr(sys, "stderr", Terminal())
    assert wants_bar() and not wants_bar(False)
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    assert not wants_bar() and wants_bar(True)


def test_lines_come_at_most_every_every_s_unless_forced(caplog):
    progress = FrameProgress(2_000_000, "campaign", bar=False, log=log, every_s=3600)
    with caplog.at_level(logging.INFO, logger=log.name):
        progress.update(100_000, "1/4 sessions done")  # too soon for a line
        progress.update(500_000, "2/4 sessions done", force=True)
        progress.update(2_000_000, "4/4 sessions done", force=True)
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2
    assert lines[0].startswith("campaign: 2/4 sessions done, 0.5M of 2.0M frames, ") and " ETA " in lines[0]
    assert lines[1].endswith(", done")


def test_a_bar_draws_frames_and_writes_no_lines(caplog, capsys):
    progress = FrameProgress(10_000, "t_t0_s0", initial=2_000, bar=True, log=log)
    with caplog.at_level(logging.INFO, logger=log.name):
        progress.update(6_000, "note", force=True)
    assert progress.bar.n == 6_000 and not caplog.records
    progress.close()
    err = capsys.readouterr().err
    assert "t_t0_s0" in err and "frame" in err


def test_a_resumed_run_counts_only_its_own_frames_in_the_rate(monkeypatch):
    clock = iter([100.0, 110.0])
    monkeypatch.setattr("slm_acl.lib.progress.time.perf_counter", lambda: next(clock))
    progress = FrameProgress(100_000, "x", initial=50_000, bar=False)
    progress.update(60_000)
    assert progress.rate() == pytest.approx(1_000)  # 10,000 frames in 10 s, not 60,000


@pytest.mark.parametrize("bar", [True, False])
def test_a_session_shows_a_bar_only_when_asked(tmp_path, capsys, bar):
    Session(validate(make_raw()), RunPaths.new(tmp_path, "t"), progress=bar).run_session()
    err = capsys.readouterr().err
    assert ("t_t0_s0" in err and "frame" in err) == bar


def test_console_records_go_above_the_bars_at_their_handlers_level(capsys):
    from slm_acl.lib import logger as logging_lib
    from slm_acl.lib.progress import console_above_bars

    root = logging.getLogger("slm_acl")
    saved_handlers, saved_level = list(root.handlers), root.level
    root.handlers = []
    try:
        root.setLevel(logging.INFO)
        logging_lib.add_warning_console()  # a worker with bars prints warnings only
        console = list(root.handlers)
        with console_above_bars(True):
            root.info("an info line")
            root.warning("a warning line")
        assert root.handlers == console  # the console handler is back
        err = capsys.readouterr().err
        assert "a warning line" in err and "an info line" not in err
    finally:
        root.handlers, root.level = saved_handlers, saved_level
