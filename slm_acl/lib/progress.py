"""Progress of a long run towards its frame budget, shown one way: a bar on a terminal, log lines elsewhere.

The one rule of the lab: when stderr is a terminal, a tqdm bar (frames, frames per second, ETA); when it
is not (a log file, CI, a Ray worker's captured stderr), no bar, only plain log lines, since a bar's
carriage returns turn a log file into one long line. `FrameProgress` applies the rule for every mode:
a session (one bar per session position, its log lines are its own), the benchmark (one bar for the
campaign, or a line when a session ends and at most every `every_s` seconds) and a search (one bar over
its trials). Frames per second and the ETA count only the frames done since the display started, so a
resumed run's checkpointed frames do not flatter the rate.
"""
from __future__ import annotations

import contextlib
import logging
import sys
import time
from typing import Any


def wants_bar(requested: bool | None = None) -> bool:
    """Whether progress is a bar: `requested` when given, else whether stderr is a terminal."""
    if requested is not None:
        return requested
    isatty = getattr(sys.stderr, "isatty", None)
    return bool(isatty and isatty())


def count(n: float) -> str:
    """Frames in a line: `1.2M` from 100k on, `12,345` below."""
    return f"{n / 1e6:.1f}M" if n >= 1e5 else f"{n:,.0f}"


class FrameProgress:
    """Frames done of `total`: a tqdm bar on a terminal, else a log line to `log` (none when `log` is None:
    the caller's own log lines are the progress, as a session's are).

    Args:
        total: the frame budget.
        name: the bar's label and the lines' prefix.
        initial: frames already done when the display starts (a resumed run).
        position: the bar's row (sessions of a trial, each its own row).
        bar: force a bar (True) or lines (False); None decides by `wants_bar`.
        log: where lines go; None writes no lines.
        every_s: a line at most this often, unless an update is forced (a session ended).
    """

    def __init__(self, total: int, name: str, initial: int = 0, position: int = 0, bar: bool | None = None,
                 log: logging.Logger | None = None, every_s: float = 60.0):
        self.total, self.name, self.log, self.every_s = int(total), name, log, every_s
        self.initial = self.done = int(initial)
        self.note = ""
        self.start = self.last_line = time.perf_counter()
        self.bar: Any = None
        if wants_bar(bar):
            from tqdm import tqdm

            self.bar = tqdm(total=self.total, initial=self.done, desc=name, unit="frame", unit_scale=True,
                            position=position, leave=False, dynamic_ncols=True)

    def update(self, done: int, note: str = "", force: bool = False) -> None:
        """Frames done so far (absolute, not an increment) and a note (e.g. sessions done)."""
        self.done, self.note = int(done), note
        if self.bar is not None:
            self.bar.update(self.done - self.bar.n)
            if note:
                self.bar.set_postfix_str(note, refresh=False)
        elif self.log is not None and (force or time.perf_counter() - self.last_line >= self.every_s):
            self.last_line = time.perf_counter()
            self.log.info(self.line())

    def rate(self) -> float:
        """Frames per second since the display started."""
        return (self.done - self.initial) / max(time.perf_counter() - self.start, 1e-9)

    def line(self) -> str:
        """`NAME: NOTE, 1.2M of 24.0M frames, 3,000 frames/s, ETA 20 min`."""
        rate, left = self.rate(), max(self.total - self.done, 0)
        eta = "done" if not left else (f"ETA {left / rate / 60:.0f} min" if rate > 0 else "ETA -")
        note = f"{self.note}, " if self.note else ""
        return f"{self.name}: {note}{count(self.done)} of {count(self.total)} frames, {rate:,.0f} frames/s, {eta}"

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class _AboveBars(logging.Handler):
    """A console handler's records written with tqdm.write, which prints above the bars and redraws them."""

    def emit(self, record: logging.LogRecord) -> None:
        from tqdm import tqdm

        try:
            tqdm.write(self.format(record), file=sys.stderr)
        except Exception:  # noqa: BLE001 - logging's own contract: report, never raise
            self.handleError(record)


@contextlib.contextmanager
def console_above_bars(active: bool):
    """While bars are shown, the lab's console log records go through tqdm.write (above the bars, which stay
    whole), each console handler keeping its level and format; log files are untouched. Does nothing when
    `active` is false. (tqdm's own `logging_redirect_tqdm` drops the handler's level: a worker that prints
    only warnings would print every INFO line.)"""
    root = logging.getLogger("slm_acl")
    consoles = [h for h in root.handlers if getattr(h, "_slm_console", False)] if active else []
    swapped = []
    for handler in consoles:
        above = _AboveBars(handler.level)
        above.setFormatter(handler.formatter)
        swapped.append((handler, above))
        root.removeHandler(handler)
        root.addHandler(above)
    try:
        yield
    finally:
        for handler, above in swapped:
            root.removeHandler(above)
            root.addHandler(handler)
