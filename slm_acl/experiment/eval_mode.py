"""Eval mode: a saved policy evaluated on any test set, with the tables and a picture of every task.

`SPEC_FILE SPEC_NAME eval@data/RUN_DIR/{spec}_tT_sS` evaluates the session's last checkpoint (or a kept
one: `..._ckpt_best`, `..._ckpt_f{frame}`) on each body's own test set, or on the one given with `-s`:
a shipped set (`-s test_set=stump_tracks_grid_100`) or a generated one (`-s test_set=uniform
-s test_set_size=50 [-s test_set_seed=7]`). The policy is deterministic unless `-s deterministic=false`.
The policy is rebuilt as enjoy mode rebuilds it (the session's saved resolved spec, `saved_policy.py`)
and played by the session's own `Evaluator`: same env seeds, same `success_return`, and by default as
many sub-envs as training had, so the last checkpoint on the session's own set gives its last eval_df row.

Written to `RUN_DIR/eval/{session}_{checkpoint}_{test_set}[_stochastic]/`, per body: `{body}_eval_df.csv`
and `{body}_eval_tasks_df.csv` (a session's columns, at the checkpoint's frame), `{body}_test_set.json`;
then `tasks.png` (every test task on its first two task-space axes, coloured by return, mastered ones
outlined) and `eval.json` (the checkpoint, its frames, the options, each body's summary).
"""
from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any, Mapping

import pandas as pd

from slm_acl.analysis.eval_graph import TaskReturns, task_returns_graph
from slm_acl.curriculum.task_space import TaskError, TaskSpace
from slm_acl.curriculum.test_sets import TestSet, test_set_for_curriculum, to_json
from slm_acl.experiment.evaluation import EvalResult, Evaluator
from slm_acl.experiment.saved_policy import SavedSession, restore_policy
from slm_acl.experiment.session import EVAL_COLUMNS, EVAL_TASK_COLUMNS
from slm_acl.lib import logger as logging_lib
from slm_acl.lib.config import param
from slm_acl.lib.io import write_json, write_text
from slm_acl.spec import schema
from slm_acl.spec.errors import SpecError
from slm_acl.spec.model import check_test_set
from slm_acl.spec.run_spec import BodyPlan

log = logging_lib.get_logger("eval")


@dataclasses.dataclass(frozen=True)
class EvalOptions:
    """What `-s` may set in eval mode (null: as the session had it)."""

    test_set: str | None = param(None, doc="a shipped test set, or 'uniform' / 'grid' generated over each body's "
                                           "task space (null: each body's own test set)", check=check_test_set)
    test_set_size: int | None = param(None, ge=1, doc="tasks in a generated test set (null: the session's)")
    test_set_seed: int | None = param(None, ge=0, doc="seed of a generated 'uniform' test set (null: the session's)")
    deterministic: bool = param(True, doc="act with the policy's mean action (false: sample actions)")
    num_envs: int | None = param(None, ge=1, doc="sub-envs playing the test set at once (null: the session's)")

    @classmethod
    def from_sets(cls, sets: Mapping[str, str]) -> "EvalOptions":
        """`-s KEY=VALUE` (text, read as JSON where it parses: `false`, `50`), checked like a spec."""
        raw = {}
        for key, value in sets.items():
            try:
                raw[key] = json.loads(value)
            except json.JSONDecodeError:
                raw[key] = value
        try:
            return schema.build(cls, raw, "-s")
        except SpecError as err:  # "-s test_sett", as it was typed
            raise SpecError(err.path.replace("-s.", "-s ", 1), err.message) from None

    @property
    def overrides(self) -> dict[str, Any]:
        """The curriculum keys `-s` set."""
        return {k: getattr(self, k) for k in ("test_set", "test_set_size", "test_set_seed")
                if getattr(self, k) is not None}


def evaluate_saved(target: str, sets: Mapping[str, str] | None = None, spec_file: str | None = None,
                   spec_name: str | None = None) -> dict[str, Any]:
    """Evaluate the saved policy `target` and write its tables and picture (see the module docstring).

    Args:
        target: `data/RUN_DIR/{spec}_tT_sS`, or `..._ckpt_best` / `..._ckpt_f{frame}`.
        sets: the `-s` options, `EvalOptions`.
        spec_file, spec_name: the command line's SPEC_FILE SPEC_NAME (as enjoy mode takes them).

    Returns:
        `eval.json`'s content, with `folder` the folder written.
    """
    options = EvalOptions.from_sets(sets or {})
    saved = SavedSession.parse(target, "eval")
    run = saved.spec(spec_file, spec_name)
    test_sets = {plan.label: _test_set(plan, options) for plan in run.bodies}
    if options.overrides and all(plan.curriculum is None for plan in run.bodies):
        raise SpecError("-s", f"{', '.join(options.overrides)} given, but no body of {saved.prename} has a "
                        "curriculum (its evaluations play default episodes)")
    space, state = restore_policy(run, saved)
    results: dict[str, tuple[Evaluator, EvalResult]] = {}
    try:
        for body in space.bodies:
            agent = next(a for a in space.agents if body in a.bodies)
            evaluator = Evaluator(run, body, agent, num_envs=options.num_envs or run.spec.env[body.plan.e].num_envs,
                                  test_set=test_sets[body.label], deterministic=options.deterministic)
            try:
                results[body.label] = (evaluator, evaluator.run())
            finally:
                evaluator.close()
    finally:
        space.close()
    return _write(saved, state, options, results)


def _test_set(plan: BodyPlan, options: EvalOptions) -> TestSet | None:
    """The body's test set with `-s`'s keys over its curriculum's (None: the Evaluator's own, unchanged)."""
    if plan.curriculum is None or not options.overrides:
        return None
    curriculum = dataclasses.replace(plan.curriculum, **options.overrides)
    space = TaskSpace.from_spec(curriculum.task_space)
    try:
        test_set = test_set_for_curriculum(space, curriculum.test_set, curriculum.test_set_size,
                                           curriculum.test_set_seed)
    except (TaskError, ValueError) as err:
        raise SpecError(f"-s test_set (body {plan.label})", str(err)) from None
    known = set(space.names) | set(space.fixed)
    if not set(test_set.columns) <= known:
        raise SpecError(f"-s test_set (body {plan.label})", f"test set {test_set.name!r} has tasks over "
                        f"{list(test_set.columns)}, but the body's task space has {sorted(known)}")
    return test_set


def _write(saved: SavedSession, state: Mapping[str, Any], options: EvalOptions,
           results: Mapping[str, tuple[Evaluator, EvalResult]]) -> dict[str, Any]:
    names = list(dict.fromkeys(e.test_set.name if e.test_set is not None else f"{len(r.returns)}_default_episodes"
                               for e, r in results.values()))
    name = f"{saved.prename}_{saved.checkpoint_name}_{'+'.join(names)}"
    folder = saved.paths.evaluation(name + ("" if options.deterministic else "_stochastic"))
    folder.mkdir(parents=True, exist_ok=True)
    episodes = [b["clock"]["episode"] for b in state["space"]["bodies"]]  # the bodies, in the space's order
    report: dict[str, Any] = {"session": saved.prename, "checkpoint": str(saved.checkpoint),
                              "frames": dict(state["frames"]), "deterministic": options.deterministic,
                              "options": dataclasses.asdict(options), "bodies": {}}
    panels = []
    for k, (label, (evaluator, result)) in enumerate(results.items()):
        frame = state["frames"][label]
        summary = result.summary()
        _write_csv(folder / f"{label}_eval_df.csv", EVAL_COLUMNS,
                   [{"frame": frame, "episode": episodes[k], **summary}])
        _write_csv(folder / f"{label}_eval_tasks_df.csv", EVAL_TASK_COLUMNS,
                   [{"frame": frame, "task_index": i, "return": result.returns[i], "length": result.lengths[i],
                     "success": None if result.successes is None else bool(result.successes[i])}
                    for i in range(len(result.returns))])
        test_set = evaluator.test_set
        if test_set is not None:
            write_json(folder / f"{label}_test_set.json", to_json(test_set))
            panels.append(TaskReturns(f"{label}: {test_set.name}", list(test_set.columns), test_set.tasks,
                                      result.returns, result.successes))
        report["bodies"][label] = {**summary, "test_set": None if test_set is None else test_set.name,
                                   "success_return": evaluator.success_return}
        mastered = "" if math.isnan(summary["mastered"]) else f", mastered {summary['mastered']:.1f}%"
        print(f"{label}: {summary['n_tasks']} tasks of {report['bodies'][label]['test_set'] or 'default episodes'}, "
              f"mean return {summary['mean_return']:.2f} +- {summary['std_return']:.2f}{mastered}")
    picture = task_returns_graph(panels, folder / "tasks.png",
                                 f"{saved.prename} {saved.checkpoint_name}"
                                 + ("" if options.deterministic else " (stochastic policy)"))
    report["picture"] = None if picture is None else str(picture)
    report["folder"] = str(folder)
    write_json(folder / "eval.json", report)
    log.info(f"eval of {saved.checkpoint.name} written to {folder}")
    return report


def _write_csv(path: Path, columns: list[str], rows: list[dict[str, Any]]) -> None:
    """A table with a session's columns, replacing any earlier evaluation's (atomically)."""
    write_text(path, pd.DataFrame(rows, columns=columns).to_csv(index=False))

