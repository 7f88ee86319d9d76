"""TensorBoard logs of a session, written at the session's own hooks (log line, evaluation, checkpoint, end).

Layout: `RUN_DIR/tb/{spec}_t{k}_s{s}/{body}/`, one TensorBoard run per body of each session, with tags
prefixed by the body's label, so `tensorboard --logdir RUN_DIR` (or a folder of runs) shows one chart
per body and quantity with a line per session, trial or campaign cell. Per body, at its frame:

- every log line: `{body}/return` (moving average over 100 episodes), `{body}/success_rate` (same window;
  none without a success return), `{body}/fps`, `{body}/train/{metric}` (the algorithm's losses and
  diagnostics: metrics_df's columns);
- every evaluation: `{body}/mastered` (% of the test set), `{body}/eval_return`, `{body}/teacher/{key}`
  (every number in the teacher's `info()`) and the image `{body}/curriculum` (the tasks trained on since the
  previous evaluation, the teacher's non-exploratory samples and view, as in the curriculum GIF);
- enjoy mode: `{body}/enjoy` (the replay as an animated GIF, at the checkpoint's frame).

Nothing is written per step: a log line costs a few scalars and an evaluation one small figure
(`curriculum_frame`), both at cadences of thousands of frames. Writers are flushed at every checkpoint,
so what a checkpoint has seen is on disk, and closed at the session's end.

Resume: a resumed body's writer starts with `purge_step` = its checkpoint frame + 1 (the rows at the
checkpoint frame were written before it), so TensorBoard drops the killed tail and shows the resumed
run in its place. One run per body because bodies of one session can reach a checkpoint at different
frames (other `num_envs` or `max_frame`) and TensorBoard purges a whole run at one step. A fresh start
(a body at frame 0) removes the folder a killed attempt may have left, as the session's tables are cut.

Videos: `SummaryWriter.add_video` encodes its GIF with moviepy's `moviepy.editor`, which moviepy 2
no longer has; `add_video` here encodes the GIF with imageio (already a dependency) and writes the same
image summary TensorBoard's Images tab plays.
"""
from __future__ import annotations

import io
import math
import shutil
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from slm_acl.aeb.body import Body
from slm_acl.experiment.paths import RunPaths

LINE_SCALARS = {"return_ma": "return", "success_ma": "success_rate", "fps": "fps"}  # metrics_df column -> tag
EVAL_SCALARS = {"mastered": "mastered", "mean_return": "eval_return"}  # evaluation summary key -> tag
MAX_VIDEO_FRAMES = 300  # an enjoy GIF keeps every k-th frame, at half resolution, to stay a few MB


class TensorBoardUnavailable(ImportError):
    """TensorBoard logging is on (the default) but the tensorboard package cannot be imported."""


def _writer_classes() -> tuple[type, type]:
    """torch's SummaryWriter and FileWriter, or an error that names the two ways out."""
    try:
        from torch.utils.tensorboard import SummaryWriter
        from torch.utils.tensorboard.writer import FileWriter
    except ImportError as err:
        raise TensorBoardUnavailable(
            f"TensorBoard logging needs the tensorboard package ({err}); install it with "
            "`.venv/bin/pip install tensorboard`, or turn the logs off with meta.tensorboard: false") from None
    return SummaryWriter, FileWriter


def _scalar(value: Any) -> float | None:
    """A finite number as a float; None for anything else (NaN before the first success, lists, text)."""
    if isinstance(value, (bool, np.bool_)):
        return float(value)
    if isinstance(value, (int, float, np.integer, np.floating)) and math.isfinite(float(value)):
        return float(value)
    return None


class SessionBoard:
    """The TensorBoard writers of one session's bodies; the session calls it at its existing hooks."""

    def __init__(self, paths: RunPaths, trial: int, session: int, bodies: Sequence[Body]):
        """A body at frame 0 starts afresh; any other resumes from its checkpoint's frame."""
        summary_writer, _ = _writer_classes()
        self.title = paths.prename(trial, session)
        self.writers: dict[str, Any] = {}
        for body in bodies:
            body_folder = paths.tensorboard(trial, session, body.label)
            frame = body.clock.frame
            if frame == 0:
                shutil.rmtree(body_folder, ignore_errors=True)
            self.writers[body.label] = summary_writer(str(body_folder), purge_step=frame + 1 if frame else None)

    def log_line(self, body: Body, row: dict[str, Any], agent_metrics: dict[str, float]) -> None:
        """A log line's scalars: `row` is the body's metrics_df row, `agent_metrics` the algorithm's part of it."""
        writer, step = self.writers[body.label], body.clock.frame
        scalars = {tag: row.get(column) for column, tag in LINE_SCALARS.items()}
        scalars.update({f"train/{name}": value for name, value in agent_metrics.items()})
        self._scalars(writer, body.label, scalars, step)

    def evaluation(self, body: Body, summary: dict[str, float], teacher_info: dict[str, Any] | None,
                   samples: Sequence[np.ndarray], episodes: Sequence[dict[str, Any]], since: int) -> None:
        """An evaluation's scalars and, for a taught body, its curriculum image.

        Args:
            summary: the evaluation's summary (mastered, mean_return, ...).
            teacher_info: the teacher's `info()` (None without a curriculum).
            samples: the teacher's non-exploratory samples, raw tasks.
            episodes: training episode rows (frame and task columns), those after `since` are drawn.
            since: the frame of the body's previous evaluation (-1 before the first).
        """
        writer, step = self.writers[body.label], body.clock.frame
        scalars = {tag: summary.get(key) for key, tag in EVAL_SCALARS.items()}
        scalars.update({f"teacher/{key}": value for key, value in (teacher_info or {}).items()})
        self._scalars(writer, body.label, scalars, step)
        if body.controller.active and body.task_columns:
            image = _curriculum_image(body, teacher_info, samples, episodes, since,
                                      f"{self.title} {body.label}: frames {max(since, 0)}-{step}")
            writer.add_image(f"{body.label}/curriculum", image, step, dataformats="HWC")

    @staticmethod
    def _scalars(writer: Any, label: str, scalars: dict[str, Any], step: int) -> None:
        for tag, value in scalars.items():
            number = _scalar(value)
            if number is not None:
                writer.add_scalar(f"{label}/{tag}", number, step)

    def flush(self) -> None:
        for writer in self.writers.values():
            writer.flush()

    def close(self) -> None:
        for writer in self.writers.values():
            writer.close()
        self.writers.clear()


def _curriculum_image(body: Body, info: dict[str, Any] | None, samples: Sequence[np.ndarray],
                      episodes: Sequence[dict[str, Any]], since: int, title: str) -> np.ndarray:
    import pandas as pd

    from slm_acl.analysis.curriculum_graphs import curriculum_frame

    columns = body.task_columns
    recent = pd.DataFrame([r for r in episodes if r["frame"] > since], columns=["frame", *columns])
    drawn = pd.DataFrame(np.asarray(samples, dtype=np.float64).reshape(-1, len(columns)), columns=columns)
    space = body.controller.task_space
    shuffled = body.plan.curriculum is not None and body.plan.curriculum.shuffle_dimensions
    return curriculum_frame(recent, columns, drawn, info, space.low, space.high,
                            (float(max(since, 0)), float(body.clock.frame)), title, shuffled)


def add_video(folder: Path, tag: str, frames: Sequence[np.ndarray], fps: int, step: int) -> None:
    """An animated GIF image summary (what TensorBoard's `add_video` writes) in a new event file of `folder`.

    Long replays keep every k-th frame (at most MAX_VIDEO_FRAMES) at half resolution, played k times slower
    per frame so the GIF lasts as long as the replay.
    """
    import imageio.v2 as imageio
    from tensorboard.compat.proto.summary_pb2 import Summary

    _, file_writer = _writer_classes()
    stride = max(1, math.ceil(len(frames) / MAX_VIDEO_FRAMES))
    kept = [np.ascontiguousarray(f[::2, ::2, :3]) for f in frames[::stride]]
    buffer = io.BytesIO()
    imageio.mimwrite(buffer, kept, format="GIF", duration=1000 * stride / max(fps, 1), loop=0)  # ms
    height, width = kept[0].shape[:2]
    image = Summary.Image(height=height, width=width, colorspace=3, encoded_image_string=buffer.getvalue())
    writer = file_writer(str(folder))
    try:
        writer.add_summary(Summary(value=[Summary.Value(tag=tag, image=image)]), step)
    finally:
        writer.close()
