"""A session: one seed of one trial, from a fresh start or from its last checkpoint.

The loop steps the AEB space; per body it logs every `log_frequency` frames, evaluates on the test
set every `eval_frequency` frames, and the session checkpoints every `checkpoint_frequency` frames.
Besides its last checkpoint it keeps snapshots every `meta.snapshot_frequency` frames and its best
policy (`best_policy.py` says how it is judged), each the session's whole state at that step, as the last
checkpoint holds it; the last keeps its own cadence.
Log lines and evaluations also go to TensorBoard (`meta.tensorboard`; experiment/tensorboard.py), and
on a terminal a progress bar shows the session's frames (lib/progress.py).
A student reset (`agent[].reset_frequency`, triggered by the AEB space) is logged and written to the
resets_df of each of the agent's bodies; the session graph draws it as a vertical line.
Resuming runs the same path as starting: a session always looks for its checkpoint first, and when its
last checkpoint is damaged it resumes from its newest snapshot that loads.

A session gets a validated `RunSpec` (pickled to its worker by the runner, never re-validated) and
writes its own resolved spec, `{spec}_t{i}_s{j}_spec.json`, once its AEB space is built, so the file
records what the session really runs: its seed and, per agent, the fast paths its algorithm chose.
"""
from __future__ import annotations

import collections
import dataclasses
import json
import logging
import math
import time
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from slm_acl.aeb.body import Body
from slm_acl.analysis.session_graphs import session_graphs
from slm_acl.aeb.space import AEBSpace, Agent
from slm_acl.aeb.student_reset import ResetEvent
from slm_acl.agent.checks import TrainStepCheck
from slm_acl.curriculum.controller import NonFiniteError
from slm_acl.curriculum.test_sets import to_json
from slm_acl.experiment import checkpoint
from slm_acl.experiment.best_policy import BestPolicy
from slm_acl.experiment.evaluation import Evaluator
from slm_acl.experiment.paths import RunPaths
from slm_acl.experiment.resolved import write_resolved_spec
from slm_acl.experiment.tensorboard import SessionBoard
from slm_acl.lib import logger as logging_lib
from slm_acl.lib.progress import FrameProgress, console_above_bars, wants_bar
from slm_acl.lib.io import atomic_copy, write_json
from slm_acl.lib.seeding import SeedTree, global_rng_states, seed_torch, set_global_rng_states
from slm_acl.lib.table import CsvTable
from slm_acl.spec.validate import RunSpec

log = logging_lib.get_logger("session")

CURRICULUM_SAMPLES = 100  # non-exploratory teacher samples stored per evaluation (curriculum plots)
RECENT_EPISODES = 2000  # flushed episode rows kept in memory for TensorBoard's curriculum image
EPISODE_COLUMNS = ["frame", "episode", "sub_env", "length", "return", "success", "truncated"]
EVAL_COLUMNS = ["frame", "episode", "mean_return", "std_return", "mastered", "n_tasks"]
EVAL_TASK_COLUMNS = ["frame", "task_index", "return", "length", "success"]
METRIC_COLUMNS = ["frame", "episode", "opt_step", "wall_time", "fps", "return_ma", "success_ma", "mastered"]
# one row per student reset of the body's agent: the body's own frame (the session graph's x), the agent's frames
# (its bodies' frames summed: what reset_frequency counts) and which multiple of reset_frequency it fell on
RESET_COLUMNS = ["frame", "agent_frame", "reset"]


@dataclasses.dataclass
class SessionResult:
    trial: int
    session: int
    frames: dict[str, int]
    return_ma: dict[str, float]
    mastered: dict[str, float]
    complete: bool
    wall_s: float = 0.0  # the session's own time, from building its space to its end (not its worker's start)


def _plain(value: Any) -> Any:
    """JSON for numpy values in a teacher's info()."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"teacher info holds a {type(value).__name__}, which is not JSON")


class BodyBook:
    """A body's tables and cadences inside a session."""

    def __init__(self, body: Body, agent: Agent, paths: RunPaths, trial: int, session: int,
                 agent_metric_names: Sequence[str]):
        self.body, self.agent = body, agent
        label = body.label
        task_cols = body.task_columns
        self.episodes = CsvTable(paths.table(trial, session, label, "session_df"), EPISODE_COLUMNS + task_cols)
        self.evals = CsvTable(paths.table(trial, session, label, "eval_df"), EVAL_COLUMNS)
        self.eval_tasks = CsvTable(paths.table(trial, session, label, "eval_tasks_df"), EVAL_TASK_COLUMNS)
        self.metrics = CsvTable(paths.table(trial, session, label, "metrics_df"),
                                METRIC_COLUMNS + list(agent_metric_names))
        self.curriculum = CsvTable(paths.table(trial, session, label, "curriculum_df"),
                                   ["frame", "sample"] + task_cols)
        self.teacher = CsvTable(paths.table(trial, session, label, "teacher_df"), ["frame", "info"])
        self.tables = {"session_df": self.episodes, "eval_df": self.evals, "eval_tasks_df": self.eval_tasks,
                       "metrics_df": self.metrics, "curriculum_df": self.curriculum, "teacher_df": self.teacher}
        self.resets: CsvTable | None = None  # only for an agent whose student resets (agent[].reset_frequency)
        if agent.resets is not None:
            self.resets = CsvTable(paths.table(trial, session, label, "resets_df"), RESET_COLUMNS)
            self.tables["resets_df"] = self.resets
        self.last_mastered = float("nan")
        self.last_eval_frame = -1
        self.last_log_frame, self.last_log_time = 0, time.perf_counter()
        self.recent: collections.deque = collections.deque(maxlen=RECENT_EPISODES)

    def recent_episodes(self) -> list[dict[str, Any]]:
        """The last episodes still in memory: up to RECENT_EPISODES flushed ones, then those not flushed yet."""
        return [*self.recent, *self.body.finished]

    def flush(self) -> None:
        self.recent.extend(self.body.finished)
        self.episodes.extend(self.body.finished)
        self.body.finished.clear()
        for table in self.tables.values():
            table.flush()


EvalListener = Callable[[dict[str, Any]], None]


class Session:
    """One seed. `on_eval`, when given, hears every evaluation (a search reports them to Ray Tune)."""

    def __init__(self, run: RunSpec, paths: RunPaths, trial: int = 0, session: int = 0,
                 mode: str = "train", progress: bool | None = None, on_eval: EvalListener | None = None,
                 seed_trial: int | None = None):
        """`seed_trial`: the trial index the seeds derive from (default `trial`); a search gives every
        trial the same seeds (0), so trials differ only by their searched values."""
        self.run, self.paths, self.trial, self.session, self.mode = run, paths, trial, session, mode
        self.on_eval = on_eval
        self.meta = run.spec.meta
        self.prename = paths.prename(trial, session)
        self.seed_trial = trial if seed_trial is None else seed_trial
        self.seeds = SeedTree(self.meta.seed, self.seed_trial, session)
        self.progress = wants_bar(progress)
        self.board: SessionBoard | None = None  # TensorBoard (meta.tensorboard), opened when training starts
        self.ckpt_path = paths.checkpoint(trial, session)
        self.checkpoint_frequency = self.meta.checkpoint_frequency or self.meta.log_frequency
        self.resumed_from: Path | None = None  # the checkpoint file the session continued from, if any

    # ---- set-up -------------------------------------------------------------------------
    def _build(self) -> None:
        # the session's resolved spec first, so a session that fails while building still has one; it is
        # written again below with the implementations its agents chose
        write_resolved_spec(self.run, self.paths, self.trial, self.session, self.seed_trial)
        seed_torch(self.seeds.integer("torch"))
        self.space = AEBSpace.build(self.run, self.seeds)
        try:
            self._record_spec()
            self.books = [BodyBook(b, self._agent_of(b), self.paths, self.trial, self.session,
                                   self._agent_of(b).algorithm.metric_names)
                          for b in self.space.bodies]
            self.evaluators = [Evaluator(self.run, b, self._agent_of(b)) for b in self.space.bodies]
            for body, evaluator in zip(self.space.bodies, self.evaluators):  # the tasks, and how they were made
                if evaluator.test_set is not None:
                    write_json(self.paths.info(f"{self.prename}_{body.label}_test_set.json"),
                               to_json(evaluator.test_set))
        except BaseException:  # the space holds env processes: close it before the error goes up
            self.space.close()
            raise
        self.plot_rngs = [self.seeds.child(b.index).generator("curriculum_plot") for b in self.space.bodies]
        self.best = BestPolicy.for_plans([b.plan for b in self.space.bodies])
        self.checks = ([TrainStepCheck(a.algorithm) for a in self.space.agents] if self.mode == "dev" else None)

    def _record_spec(self) -> None:
        """Log which implementation each agent runs and write the session's resolved spec with it."""
        fast_path = {}
        for agent in self.space.agents:
            info = agent.algorithm.fast_path_info()
            fast_path[agent.name] = dict(info)
            chosen = ", ".join(f"{part} {impl}" for part, impl in info.items()) or "no fast path"
            log.info(f"{self.prename}: agent {agent.name!r} ({self.run.spec.agent[agent.index].algorithm.name}): "
                     f"{chosen}")
        write_resolved_spec(self.run, self.paths, self.trial, self.session, self.seed_trial,
                            info={"fast_path": fast_path})

    def _agent_of(self, body: Body) -> Agent:
        return next(a for a in self.space.agents if body in a.bodies)

    def _restore(self) -> bool:
        """Continue from the last checkpoint (or, when it is damaged, the newest snapshot that loads) if there is
        one; returns whether the session was already complete."""
        found = checkpoint.load_newest_intact(self.paths, self.trial, self.session)
        if found is None:
            for book in self.books:  # a fresh start in a folder that may hold rows of a killed attempt
                for table in book.tables.values():
                    table.truncate(0)
            return False
        self.resumed_from, state = found
        self.space.load_state_dict(state["space"])
        set_global_rng_states(state["rng"])
        for book, rows in zip(self.books, state["tables"]):
            for name, table in book.tables.items():
                table.truncate(rows.get(name, 0))  # a table newer than the checkpoint starts empty
            book.last_mastered = rows["last_mastered"]
            book.last_eval_frame = rows["last_eval_frame"]
            book.last_log_frame = book.body.clock.frame
        for rng, s in zip(self.plot_rngs, state["plot_rngs"]):
            rng.bit_generator.state = s
        self.best.load_state_dict(state.get("best"))
        log.info(f"{self.prename}: resumed from checkpoint {self.resumed_from.name} at frames "
                 f"{[b.clock.frame for b in self.space.bodies]}")
        return bool(state.get("complete"))

    # ---- the loop -----------------------------------------------------------------------
    def run_session(self) -> SessionResult:
        self._started = time.perf_counter()
        handler = logging_lib.add_file_handler(self.paths.log(f"{self.prename}.log"))
        try:
            self._build()
            try:
                complete = self._restore()
                if not complete:
                    self._train()
                self._draw_graphs()
                return self._result()
            finally:
                if self.board is not None:
                    self.board.close()
                for e in self.evaluators:
                    e.close()
                self.space.close()
        finally:
            logging_lib.remove_handler(handler)

    def _train(self) -> None:
        """The loop, with its TensorBoard writers (meta.tensorboard) and its progress: a bar on a terminal."""
        bodies = self.space.bodies
        if self.meta.tensorboard:
            self.board = SessionBoard(self.paths, self.trial, self.session, bodies)
        bar = FrameProgress(sum(b.max_frame for b in bodies), self.prename, position=self.session,
                            initial=sum(b.clock.frame for b in bodies), bar=self.progress)
        try:
            with console_above_bars(self.progress):
                self._loop(bar)
        finally:
            bar.close()

    def _loop(self, bar: FrameProgress) -> None:
        meta, space, books = self.meta, self.space, self.books
        space.reset()
        next_log = [self._next(b.clock.frame, meta.log_frequency) for b in space.bodies]
        next_eval = [self._next(b.clock.frame, meta.eval_frequency) for b in space.bodies]
        next_ckpt = self._next(min(b.clock.frame for b in space.bodies), self.checkpoint_frequency)
        every_snapshot = meta.snapshot_frequency
        next_snapshot = self._next(min(b.clock.frame for b in space.bodies), every_snapshot) if every_snapshot else None
        agents, bodies = space.agents, space.bodies
        agent_metrics: list[dict[str, float]] = [{} for _ in agents]
        while not space.done:
            if self.checks is not None:
                for check in self.checks:
                    check.before()
            step_metrics = space.step()
            if self.checks is not None:
                for check in self.checks:
                    check.after()
            for event in space.drain_reset_events():
                self._record_reset(event)
            for k, metrics in enumerate(step_metrics):
                if metrics:
                    _check_metrics(metrics, agents[k])
                    agent_metrics[k] = metrics
            evaluated = False
            for i, body in enumerate(bodies):
                frame = body.clock.frame
                if frame >= next_log[i]:
                    next_log[i] = self._next(frame, meta.log_frequency)
                    self._log(books[i], agent_metrics[agents.index(books[i].agent)], bar)
                if frame >= next_eval[i] or (body.done and books[i].last_eval_frame != frame):
                    next_eval[i] = self._next(frame, meta.eval_frequency)
                    self._evaluate(i)
                    evaluated = True
            low = min(b.clock.frame for b in bodies)
            if space.done:  # judged and checkpointed once below
                continue
            kept = ["best"] if evaluated and self.best.improved() else []
            if next_snapshot is not None and low >= next_snapshot:
                next_snapshot = self._next(low, every_snapshot)
                kept.append(f"f{low}")
            if low >= next_ckpt:
                next_ckpt = self._next(low, self.checkpoint_frequency)
                self._checkpoint(complete=False)
                self._keep(kept, complete=False, last_is_current=True)
            elif kept:  # the last checkpoint keeps its own cadence
                self._keep(kept, complete=False, last_is_current=False)
        for i, body in enumerate(bodies):  # a final evaluation at the last frame (if a kill skipped it)
            if books[i].last_eval_frame != body.clock.frame:
                self._evaluate(i)
        kept = ["best"] if self.best.improved() else []
        self._checkpoint(complete=True)
        self._keep(kept, complete=True, last_is_current=True)

    @staticmethod
    def _next(frame: int, every: int) -> int:
        return (frame // every + 1) * every

    def _log(self, book: BodyBook, agent_metrics: dict[str, float], bar: FrameProgress) -> None:
        body = book.body
        if log.isEnabledFor(logging.DEBUG):  # dev mode: every episode since the last log line
            for row in body.finished:
                log.debug(f"{self.prename} {body.label} | episode {row['episode']} | frame {row['frame']} | "
                          f"return {row['return']:.2f} | length {row['length']} | "
                          f"{'truncated' if row['truncated'] else 'terminated'}"
                          + "".join(f" | {c} {row[c]:.3g}" for c in body.task_columns))
        now = time.perf_counter()
        fps = (body.clock.frame - book.last_log_frame) / max(now - book.last_log_time, 1e-9)
        book.last_log_frame, book.last_log_time = body.clock.frame, now
        row = {"frame": body.clock.frame, "episode": body.clock.episode, "opt_step": body.clock.opt_step,
               "wall_time": round(body.clock.elapsed(), 3), "fps": round(fps, 1),
               "return_ma": body.return_ma(), "success_ma": body.success_ma(), "mastered": book.last_mastered,
               **agent_metrics}
        book.metrics.append(row)
        if self.board is not None:
            self.board.log_line(body, row, agent_metrics)
        extra = " ".join(f"{k} {v:.4g}" for k, v in agent_metrics.items())
        mastered = "" if math.isnan(book.last_mastered) else f" | mastered {book.last_mastered:.1f}%"
        log.info(f"{self.prename} {body.label} | frame {body.clock.frame}/{body.max_frame} | fps {fps:.0f} | "
                 f"episodes {body.clock.episode} | return_ma {row['return_ma']:.2f}{mastered}"
                 + (f" | {extra}" if extra else ""))
        bar.update(sum(b.clock.frame for b in self.space.bodies))

    def _record_reset(self, event: ResetEvent) -> None:
        """Log a student reset and write it to each of the agent's bodies' resets_df (checkpointed with the other
        tables, so a resumed run keeps exactly the resets before its checkpoint and redoes the ones after it)."""
        log.info(f"{self.prename}: agent {event.name!r} reset at frame {event.agent_frame} (reset {event.index}, "
                 f"every {self.run.spec.agent[event.agent].reset_frequency} frames; body frames "
                 + ", ".join(f"{label} {frame}" for label, frame in event.body_frames.items()) + ")")
        for book in self.books:
            if book.agent.index == event.agent:
                book.resets.append({"frame": event.body_frames[book.body.label], "agent_frame": event.agent_frame,
                                    "reset": event.index})

    def _evaluate(self, i: int) -> None:
        book, body = self.books[i], self.space.bodies[i]
        result = self.evaluators[i].run()
        summary = result.summary()
        book.evals.append({"frame": body.clock.frame, "episode": body.clock.episode, **summary})
        for k in range(len(result.returns)):
            book.eval_tasks.append({"frame": body.clock.frame, "task_index": k, "return": result.returns[k],
                                    "length": result.lengths[k],
                                    "success": None if result.successes is None else bool(result.successes[k])})
        since, book.last_mastered, book.last_eval_frame = book.last_eval_frame, summary["mastered"], body.clock.frame
        self.best.observe(body.label, body.clock.frame, summary)
        samples, info = [], None
        if body.controller.active:
            for k in range(CURRICULUM_SAMPLES):
                samples.append(body.controller.non_exploratory_task(self.plot_rngs[i]))
                book.curriculum.append({"frame": body.clock.frame, "sample": k,
                                        **dict(zip(body.task_columns, samples[-1]))})
            info = body.controller.teacher.info()
            book.teacher.append({"frame": body.clock.frame, "info": json.dumps(info, default=_plain)})
        if self.board is not None:
            self.board.evaluation(body, summary, info, samples, book.recent_episodes(), since)
        if self.on_eval is not None:
            self.on_eval({"session": self.session, "body": body.label, "frame": body.clock.frame,
                          "mastered": summary["mastered"], "mean_return": summary["mean_return"],
                          "return_ma": body.return_ma()})
        mastered = "" if math.isnan(summary["mastered"]) else f" | mastered {summary['mastered']:.1f}%"
        log.info(f"{self.prename} {body.label} | eval at frame {body.clock.frame} | "
                 f"mean return {summary['mean_return']:.2f} over {summary['n_tasks']} tasks{mastered}")

    def _checkpoint(self, complete: bool) -> None:
        """Write the last checkpoint, what a resume starts from."""
        checkpoint.save(self.ckpt_path, self._state(complete))

    def _state(self, complete: bool, policy_only: bool = False) -> dict[str, Any]:
        """The session's whole state, every table flushed first (what each kind of checkpoint holds);
        `policy_only`: the agents' policy states (`AEBSpace.state_dict`), for the best checkpoint."""
        for agent in self.space.agents:
            _check_finite_parameters(agent)
        for book in self.books:
            book.flush()
        if self.board is not None:  # what the checkpoint has seen is on disk: a resume purges only what follows
            self.board.flush()
        return {"space": self.space.state_dict(policy_only), "rng": global_rng_states(), "complete": complete,
                "tables": [{**{n: t.flushed for n, t in b.tables.items()}, "last_mastered": b.last_mastered,
                            "last_eval_frame": b.last_eval_frame}
                           for b in self.books],
                "plot_rngs": [r.bit_generator.state for r in self.plot_rngs],
                "frames": {b.label: b.clock.frame for b in self.space.bodies}, "best": self.best.state_dict()}

    def _keep(self, tags: Sequence[str], complete: bool, last_is_current: bool) -> None:
        """Write the session's state now to each kept checkpoint: `best` (its record beside it as
        `..._ckpt_best.json`, for reading: the record inside the checkpoint is the one that counts) or `f{frame}`
        (a snapshot at that frame, the least of the bodies' frames). `last_is_current`: the last checkpoint was
        just written at this step, so a snapshot is a copy of its file. A snapshot is a resume fallback and holds
        the whole state; the best is only replayed and evaluated, so it holds the policy state (no replay buffer)."""
        if not tags:
            return
        state = None if last_is_current else self._state(complete)
        for tag in tags:
            kept = self.paths.checkpoint(self.trial, self.session, tag)
            if tag == "best":
                checkpoint.save(kept, self._state(complete, policy_only=True))
            elif state is None:
                atomic_copy(self.ckpt_path, kept)
            else:
                checkpoint.save(kept, state)
            if tag == "best":
                record = self.best.record
                write_json(kept.with_suffix(".json"), {"checkpoint": kept.name, **record})
                log.info(f"{self.prename}: best policy so far at frame {record['frame']} ({record['metric']} "
                         f"{record['score']:.4g}): {kept.name}")
            else:
                log.info(f"{self.prename}: snapshot {kept.name}")

    def _draw_graphs(self) -> None:
        """Session and curriculum graphs; a graph that fails is logged, the session's data is already safe."""
        try:
            session_graphs([(b.plan, self.paths.body_files(self.trial, self.session, b.label))
                            for b in self.space.bodies])
        except Exception as err:  # noqa: BLE001 - never lose a finished session to a plotting error
            log.warning(f"{self.prename}: graphs not drawn: {type(err).__name__}: {err}")

    def _result(self) -> SessionResult:
        bodies = self.space.bodies
        return SessionResult(self.trial, self.session, {b.label: b.clock.frame for b in bodies},
                             {b.label: b.return_ma() for b in bodies},
                             {b.label: bk.last_mastered for b, bk in zip(bodies, self.books)},
                             complete=all(b.done for b in bodies), wall_s=time.perf_counter() - self._started)


def _check_metrics(metrics: dict[str, float], agent: Agent) -> None:
    """Training metrics must be declared (metrics_df's columns) and finite."""
    undeclared = sorted(set(metrics) - set(agent.algorithm.metric_names))
    if undeclared:
        raise ValueError(f"agent {agent.name!r} ({type(agent.algorithm).__name__}) returned training metrics "
                         f"{undeclared} missing from its metric_names {agent.algorithm.metric_names}; "
                         "declare them (they are metrics_df's columns)")
    bad = {k: v for k, v in metrics.items() if isinstance(v, float) and not math.isfinite(v)}
    if bad:
        raise NonFiniteError(f"agent {agent.name!r} reported non-finite training metrics {bad} at frame "
                             f"{agent.bodies[0].clock.frame}; the last good checkpoint is kept")


def _check_finite_parameters(agent: Agent) -> None:
    for name, tensor in agent.algorithm.named_parameters():
        if not bool(np.isfinite(tensor.detach().cpu().numpy()).all()):
            raise NonFiniteError(f"agent {agent.name!r} has non-finite weights in {name!r}; "
                                 "not overwriting the last good checkpoint")
