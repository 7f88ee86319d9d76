"""Enjoy mode: replay a saved policy deterministically, print its returns, write a video per body."""
from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Mapping

import numpy as np

from slm_acl.aeb.space import AEBSpace
from slm_acl.analysis.video import write_video
from slm_acl.curriculum.task_space import TaskError, TaskSpace
from slm_acl.experiment import checkpoint
from slm_acl.experiment.evaluation import Evaluator
from slm_acl.experiment.paths import RunPaths
from slm_acl.lib.seeding import SeedTree
from slm_acl.spec.errors import SpecError
from slm_acl.spec.loader import load_resolved
from slm_acl.spec.validate import RunSpec

SESSION_NAME = re.compile(r"^(?P<spec>.+)_t(?P<trial>\d+)_s(?P<session>\d+)$")
ENJOY_KEYS = ("episodes", "video_episodes", "fps")


def parse_session_dir(target: str) -> tuple[RunPaths, int, int]:
    """`data/RUN_DIR/SPEC_t0_s0` -> (paths, trial, session)."""
    path = Path(target)
    match = SESSION_NAME.match(path.name)
    if not match:
        raise SpecError("", f"enjoy@ expects data/RUN_DIR/SPEC_tT_sS, got {target!r}")
    return RunPaths(path.parent, match["spec"]), int(match["trial"]), int(match["session"])


def _tasks_from_sets(run: RunSpec, sets: Mapping[str, str]) -> dict[int, list[dict] | None]:
    """Task dims given with -s NAME=VALUE -> one task per body whose task space has those dims."""
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
                raw = space.from_values({k: float(v) for k, v in dims.items()})
            except (TaskError, ValueError) as err:
                raise SpecError(f"-s (body {plan.label})", str(err)) from None
            out[plan.index] = [space.to_env_task(raw)]
    unknown = sorted(set(dims) - known)
    if unknown:
        raise SpecError("-s", f"unknown enjoy option(s) {unknown}; valid: {', '.join(ENJOY_KEYS)} "
                        f"or task dims {sorted(known) or '(no body has a curriculum)'}")
    return out


def enjoy(target: str, sets: Mapping[str, str] | None = None, spec_file: str | None = None) -> dict[str, dict]:
    sets = dict(sets or {})
    paths, trial, session = parse_session_dir(target)
    spec_path = Path(spec_file) if spec_file else paths.spec_file(trial, session)
    run = load_resolved(spec_path)
    ckpt = paths.checkpoint(trial, session)
    if not ckpt.exists():
        raise SpecError("", f"no checkpoint at {ckpt}: train the session first")
    state = checkpoint.load(ckpt)
    space = AEBSpace.build(run, SeedTree(run.spec.meta.seed, trial, session), render_mode="rgb_array",
                           vector="sync", num_envs=1)
    report: dict[str, dict] = {}
    try:
        for agent, agent_state in zip(space.agents, state["space"]["agents"]):
            agent.algorithm.load_policy_state(agent_state)
        given = _tasks_from_sets(run, sets)
        episodes = int(sets["episodes"]) if "episodes" in sets else None
        video_episodes = int(sets.get("video_episodes", 3))
        for body in space.bodies:
            agent = next(a for a in space.agents if body in a.bodies)
            evaluator = Evaluator(run, body, agent, render_mode="rgb_array", num_envs=1)
            tasks = given.get(body.index, evaluator.tasks)
            if episodes is not None:
                tasks = (tasks * math.ceil(episodes / len(tasks)))[:episodes]
            result = evaluator.run(tasks, record_tasks=video_episodes)
            evaluator.close()
            frames = [f for k in sorted(result.frames) for f in result.frames[k] if f is not None]
            video = None
            if frames:
                video = write_video(paths.video(f"{paths.prename(trial, session)}_{body.label}_enjoy.mp4"),
                                    frames, fps=int(sets.get("fps", 30)))
            summary = result.summary()
            report[body.label] = {**summary, "returns": result.returns.tolist(), "video": str(video) if video else None}
            mastered = "" if math.isnan(summary["mastered"]) else f", mastered {summary['mastered']:.1f}%"
            shown = np.round(result.returns[:10], 2).tolist()
            more = f" ... ({len(result.returns) - 10} more)" if len(result.returns) > 10 else ""
            print(f"{body.label}: {summary['n_tasks']} episodes, mean return {summary['mean_return']:.2f} "
                  f"+- {summary['std_return']:.2f}{mastered}; returns {shown}{more}"
                  + (f"; video {video}" if video else ""))
    finally:
        space.close()
    return report
