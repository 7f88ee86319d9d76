"""A session's saved policy, rebuilt: what enjoy mode replays and eval mode evaluates.

A target names a session, `data/RUN_DIR/{spec}_t{k}_s{s}` (its last checkpoint), or one of the
checkpoints it keeps beside the last: `..._ckpt_best` (its best policy) or `..._ckpt_f{frame}` (a
snapshot). The policy is rebuilt from a resolved spec, validated for what a replay uses (`replay_spec.py`
sets aside its teachers, search and benchmark blocks, which only training uses): the session's AEB space
with one synchronous sub-env per body (a replay plays on envs of its own, through `Evaluator`), every
agent's acting state loaded from the checkpoint. Optimisers and memories are not restored: nothing here trains.
"""
from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

from slm_acl.aeb.space import AEBSpace
from slm_acl.experiment import checkpoint
from slm_acl.experiment.paths import RunPaths
from slm_acl.experiment.replay_spec import load_for_replay
from slm_acl.lib import logger as logging_lib
from slm_acl.lib.io import read_json
from slm_acl.lib.seeding import SeedTree
from slm_acl.spec.errors import SpecError
from slm_acl.spec.loader import is_resolved, pick, read_spec_file
from slm_acl.spec.validate import RunSpec

TARGET = re.compile(r"^(?P<spec>.+)_t(?P<trial>\d+)_s(?P<session>\d+)(?:_ckpt_(?P<tag>best|f\d+))?$")


@dataclasses.dataclass(frozen=True)
class SavedSession:
    """A session of a run folder and which of its checkpoints: "" (the last), "best" or "f{frame}"; `mode` (enjoy,
    eval) names the command in messages and logs."""

    paths: RunPaths
    trial: int
    session: int
    tag: str = ""

    mode: str = "enjoy"

    @classmethod
    def parse(cls, target: str, mode: str) -> "SavedSession":
        """`data/RUN_DIR/SPEC_tT_sS[_ckpt_best | _ckpt_fN]`, as given after `mode@`."""
        path = Path(target)
        match = TARGET.match(path.name)
        if not match:
            raise SpecError("", f"{mode}@ expects data/RUN_DIR/SPEC_tT_sS, or one of its kept checkpoints "
                            f"data/RUN_DIR/SPEC_tT_sS_ckpt_best or ..._ckpt_f<frame>; got {target!r}")
        return cls(RunPaths(path.parent, match["spec"]), int(match["trial"]), int(match["session"]),
                   match["tag"] or "", mode)

    @property
    def prename(self) -> str:
        return self.paths.prename(self.trial, self.session)

    @property
    def checkpoint_name(self) -> str:
        """`ckpt`, `ckpt_best` or `ckpt_f{frame}`: which checkpoint, as its file name says it."""
        return "ckpt" + (f"_{self.tag}" if self.tag else "")

    @property
    def checkpoint(self) -> Path:
        return self.paths.checkpoint(self.trial, self.session, self.tag)

    def spec(self, spec_file: str | None = None, spec_name: str | None = None) -> RunSpec:
        """The spec a replay runs: the session's saved resolved spec, or a resolved spec given on purpose.

        `SPEC_FILE SPEC_NAME enjoy@...` takes the same two words as every mode. SPEC_FILE may be a file of
        named specs (`spec/demo.json`, however many specs it holds, placeholders unfilled): it then only has
        to hold the session's spec, and the replay runs the session's saved spec. SPEC_FILE may also be a
        resolved spec (`RUN_DIR/{spec}_t0_s0_spec.json`), which is replayed as given. SPEC_NAME must be the
        session's spec. Either is validated as a replay uses it (`replay_spec.load_for_replay`).
        """
        paths = self.paths
        saved = paths.spec_file(self.trial, self.session)
        if spec_name is not None and spec_name != paths.spec_name:
            raise SpecError("", f"{self.mode}@{paths.predir / self.prename} is a session of spec "
                            f"{paths.spec_name!r}, not {spec_name!r}")
        if spec_file is not None and Path(spec_file).is_file() and is_resolved(read_json(spec_file)):
            run = load_for_replay(spec_file, self.mode)
            if run.name != paths.spec_name:
                raise SpecError("", f"{spec_file} is a resolved spec of {run.name!r}, but the session belongs to "
                                f"{paths.spec_name!r}")
            return run
        if spec_file is not None:
            pick(read_spec_file(spec_file), paths.spec_name, spec_file)  # it must hold the session's spec
        if not saved.exists():
            raise SpecError("", f"no saved spec at {saved}: is {paths.predir} a run of spec {paths.spec_name!r}?")
        logging_lib.get_logger(self.mode).info(f"replaying {self.prename} with its saved spec {saved}")
        return load_for_replay(saved, self.mode)

    def load(self) -> dict[str, Any]:
        """The checkpoint's state; a missing one names those the session has."""
        path = self.checkpoint
        if not path.exists():
            kept = sorted(p.name for p in path.parent.glob(f"{self.prename}_ckpt*.pt"))
            raise SpecError("", f"no checkpoint at {path}: " + (f"the session keeps {', '.join(kept)}" if kept
                                                                else "train the session first"))
        return checkpoint.load(path)


def restore_policy(run: RunSpec, saved: SavedSession) -> tuple[AEBSpace, dict[str, Any]]:
    """The session's space with every agent's policy loaded, and the checkpoint's state (its frames, its best
    record). The caller closes the space. Its envs are built as training builds them (no render mode): a
    replay renders on envs of its own."""
    state = saved.load()
    space = AEBSpace.build(run, SeedTree(run.spec.meta.seed, saved.trial, saved.session), vector="sync", num_envs=1)
    try:
        for agent, agent_state in zip(space.agents, state["space"]["agents"]):
            agent.algorithm.load_policy_state(agent_state)
    except BaseException:
        space.close()
        raise
    return space, state
