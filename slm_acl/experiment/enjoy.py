"""Enjoy mode: replay a saved policy deterministically, print its returns, write a video per body.

The replay runs the session's own saved resolved spec (`RUN_DIR/{spec}_tT_sS_spec.json`): that is what
reproduces the run, whatever the spec file says today. Only what the replay uses is validated
(`replay_spec.py`): a teacher this process cannot import does not stop it. Each replay writes new videos
(`..._enjoy_000.mp4`, `_001`, ...), so replaying a session again, e.g. on another task, keeps the earlier
videos. A task given with `-s` may name only some task dims: the others take the centre of the body's task
space. An env that cannot render `rgb_array` frames is replayed without a video.
"""
from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np

from slm_acl.analysis.video import next_free, write_video
from slm_acl.aeb.space import env_maker
from slm_acl.curriculum.task_space import TaskSpace
from slm_acl.experiment.evaluation import EVAL_SEED, Evaluator
from slm_acl.experiment.paths import RunPaths
from slm_acl.experiment.saved_policy import SavedSession, restore_policy
from slm_acl.lib import logger as logging_lib
from slm_acl.spec.errors import SpecError
from slm_acl.spec.run_spec import BodyPlan
from slm_acl.spec.validate import RunSpec

ENJOY_KEYS = ("episodes", "video_episodes", "fps")

log = logging_lib.get_logger("enjoy")


def _tasks_from_sets(run: RunSpec, sets: Mapping[str, str]) -> dict[int, list[dict] | None]:
    """Task dims given with -s NAME=VALUE -> one task per body whose task space has any of those dims; its
    other dims take the centre of the task space (logged)."""
    dims = {k: v for k, v in sets.items() if k not in ENJOY_KEYS}
    if not dims:
        return {}
    out, known = {}, set()
    for plan in run.bodies:
        if plan.curriculum is None:
            continue
        space = TaskSpace.from_spec(plan.curriculum.task_space)
        known.update(space.names)
        if set(dims) & set(space.names):
            try:
                given = {k: float(v) for k, v in dims.items() if k in space.names}
            except ValueError as err:
                raise SpecError(f"-s (body {plan.label})", f"a task dim takes a number: {err}") from None
            centre = dict(zip(space.names, ((space.low + space.high) / 2).tolist()))
            filled = {k: v for k, v in centre.items() if k not in given}
            if filled:
                log.info(f"{plan.label}: task dims not given with -s take the centre of the task space: "
                         + ", ".join(f"{k}={v:g}" for k, v in filled.items()))
            out[plan.index] = [space.to_env_task(space.from_values({**filled, **given}))]
    unknown = sorted(set(dims) - known)
    if unknown:
        raise SpecError("-s", f"unknown enjoy option(s) {unknown}; valid: {', '.join(ENJOY_KEYS)} "
                        f"or task dims {sorted(known) or '(no body has a curriculum)'}")
    return out


def _video_problem(run: RunSpec, plan: BodyPlan, task: dict[str, Any] | None) -> str | None:
    """Why the body's env cannot give `rgb_array` frames for a video (None: it can).

    The env must offer the mode (`metadata["render_modes"]`, read from an env built without one, as training
    builds it) and its `render()` must be implemented: one env built with the mode renders the replay's first
    task once. A video is a side product of a replay, so this is asked before the replay, not found mid-way.
    """
    env = env_maker(run, plan)()
    try:
        modes = list(env.metadata.get("render_modes") or [])
    finally:
        env.close()
    if "rgb_array" not in modes:
        return f"it does not offer render_mode 'rgb_array' (its metadata['render_modes'] is {modes})"
    env = env_maker(run, plan, "rgb_array")()
    try:
        env.reset(seed=EVAL_SEED, options=None if task is None else {"task": task})
        env.render()
    except NotImplementedError as err:
        return f"its render() raises NotImplementedError{f': {err}' if str(err) else ''}"
    finally:
        env.close()
    return None


def _video_to_tensorboard(paths: RunPaths, trial: int, session: int, label: str, frames: list[np.ndarray], fps: int,
                          frame: int) -> None:
    """The replay in the session's TensorBoard run of the body (`{label}/enjoy`, at the checkpoint's frame); the
    video file is written already, so a missing tensorboard package costs a warning, not the replay."""
    from slm_acl.experiment.tensorboard import TensorBoardUnavailable, add_video

    try:
        add_video(paths.tensorboard(trial, session, label), f"{label}/enjoy", frames, fps, frame)
    except TensorBoardUnavailable as err:
        log.warning(f"{label}: video not sent to TensorBoard: {err}")


def enjoy(target: str, sets: Mapping[str, str] | None = None, spec_file: str | None = None,
          spec_name: str | None = None) -> dict[str, dict]:
    """Replay session `target` (`data/RUN_DIR/SPEC_tT_sS`) from its checkpoint; one new video per body.

    Args:
        target: the session's folder name under its run folder.
        sets: enjoy options (`episodes`, `video_episodes`, `fps`) and task dims (`mass=1.2`).
        spec_file, spec_name: the command line's SPEC_FILE SPEC_NAME (see `SavedSession.spec`).

    Returns:
        Per body label: the evaluation summary, the returns and the video written (None without frames).
    """
    sets = dict(sets or {})
    saved = SavedSession.parse(target, "enjoy")  # the session's last checkpoint, or a kept one (_ckpt_best ...)
    paths, trial, session = saved.paths, saved.trial, saved.session
    run = saved.spec(spec_file, spec_name)
    space, state = restore_policy(run, saved)
    report: dict[str, dict] = {}
    try:
        given = _tasks_from_sets(run, sets)
        episodes = int(sets["episodes"]) if "episodes" in sets else None
        video_episodes = int(sets.get("video_episodes", 3))
        for body in space.bodies:
            agent = next(a for a in space.agents if body in a.bodies)
            evaluator = Evaluator(run, body, agent, num_envs=1)
            tasks = given.get(body.index, evaluator.tasks)
            if episodes is not None:
                tasks = (tasks * math.ceil(episodes / len(tasks)))[:episodes]
            problem = _video_problem(run, body.plan, tasks[0]) if video_episodes > 0 else None
            if problem is not None:
                log.warning(f"{body.label}: no video: env {run.spec.env[body.plan.e].name} cannot render frames, "
                            f"{problem}; replaying without one")
            filming = video_episodes > 0 and problem is None
            if filming:  # the same evaluation, on envs built to render
                evaluator = Evaluator(run, body, agent, render_mode="rgb_array", num_envs=1)
            try:
                result = evaluator.run(tasks, record_tasks=video_episodes if filming else 0)
            finally:
                evaluator.close()
            frames = [f for k in sorted(result.frames) for f in result.frames[k] if f is not None]
            video = None
            if frames:
                name = f"{paths.prename(trial, session)}_{body.label}_enjoy.mp4"
                video = write_video(next_free(paths.video(name)), frames, fps=int(sets.get("fps", 30)))
                log.info(f"{body.label}: video written to {video}")
                if run.spec.meta.tensorboard:
                    _video_to_tensorboard(paths, trial, session, body.label, frames, int(sets.get("fps", 30)),
                                          state["frames"][body.label])
            summary = result.summary()
            report[body.label] = {**summary, "returns": result.returns.tolist(), "video": str(video) if video else None}
            mastered = "" if math.isnan(summary["mastered"]) else f", mastered {summary['mastered']:.1f}%"
            shown = np.round(result.returns[:10], 2).tolist()
            more = f" ... ({len(result.returns) - 10} more)" if len(result.returns) > 10 else ""
            print(f"{body.label}: {summary['n_tasks']} episodes, mean return {summary['mean_return']:.2f} "
                  f"+- {summary['std_return']:.2f}{mastered}; returns {shown}{more}")
    finally:
        space.close()
    return report
